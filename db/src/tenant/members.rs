use domain::{Email, Role, UserId};
use time::OffsetDateTime;

use crate::{Db, RepoError, TenantScope};

#[derive(Debug, Clone)]
pub struct MemberSummary {
    pub user_id: UserId,
    pub name: String,
    pub email: Email,
    pub role: Role,
    pub last_sign_in_at: Option<OffsetDateTime>,
}

/// The scope's workspace team, owners first.
pub async fn list(db: &Db, scope: &TenantScope) -> Result<Vec<MemberSummary>, RepoError> {
    let mut tx = scope.begin(db).await?;
    let rows = sqlx::query!(
        "SELECT id, name, email, role, last_sign_in_at FROM users WHERE tenant_id = $1
         ORDER BY CASE role WHEN 'OWNER' THEN 0 WHEN 'ADMIN' THEN 1 ELSE 2 END, name, id",
        scope.tenant_id().as_uuid()
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.into_iter()
        .map(|r| {
            Ok(MemberSummary {
                user_id: UserId::from_uuid(r.id),
                name: r.name,
                email: Email::parse(&r.email).map_err(|_| RepoError::corrupt("users.email"))?,
                role: r
                    .role
                    .parse()
                    .map_err(|_| RepoError::corrupt("users.role"))?,
                last_sign_in_at: r.last_sign_in_at,
            })
        })
        .collect()
}
