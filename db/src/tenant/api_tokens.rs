//! API tokens: made, listed and revoked by a workspace's owners and admins. Only a digest of
//! each secret is stored; what a token may do is `TenantScope::for_api_token`.

use domain::{ApiTokenId, ApiTokenRole, LimitKind, Role, TokenName};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::caches::{announce, Change};
use crate::scope::end_read;
use crate::{Db, RepoError, TenantScope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub name: String,
    pub role: ApiTokenRole,
    pub prefix: String,
    /// The creator's name.
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// A token about to be stored: the secret itself was shown to its creator and is gone.
#[derive(Debug, Clone)]
pub struct NewApiToken<'a> {
    pub name: &'a TokenName,
    pub role: ApiTokenRole,
    pub prefix: &'a str,
    /// Hex SHA-256 of the whole secret.
    pub digest: &'a str,
    pub expires_at: Option<OffsetDateTime>,
}

/// OWNER and ADMIN only. Counts against the plan's `max_api_tokens` (tokens neither revoked
/// nor expired), checked under the limit's lock in this transaction.
pub async fn create(
    db: &Db,
    scope: &TenantScope,
    token: &NewApiToken<'_>,
) -> Result<ApiTokenId, RepoError> {
    scope.require(Role::Admin)?;
    let id = Uuid::new_v4();
    let mut tx = scope.begin(db).await?;
    super::plan::reserve(&mut tx, scope.tenant_id(), LimitKind::ApiTokens, 1).await?;
    sqlx::query!(
        "INSERT INTO api_tokens (tenant_id, id, name, role, prefix, secret_digest, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        scope.tenant_id().as_uuid(),
        id,
        token.name.as_str(),
        token.role.as_str(),
        token.prefix,
        token.digest,
        scope.member().user_id.as_uuid(),
        token.expires_at
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ApiTokenId::from_uuid(id))
}

/// The workspace's tokens, newest first, revoked ones included (so a leaked prefix can still
/// be looked up). OWNER and ADMIN only.
pub async fn list(db: &Db, scope: &TenantScope) -> Result<Vec<ApiToken>, RepoError> {
    scope.require(Role::Admin)?;
    let mut tx = scope.begin(db).await?;
    let rows = sqlx::query!(
        "SELECT t.id, t.name, t.role, t.prefix, u.name AS created_by, t.created_at, t.expires_at,
                t.last_used_at, t.revoked_at
           FROM api_tokens t JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.created_by
          WHERE t.tenant_id = $1
          ORDER BY t.created_at DESC, t.id DESC
          LIMIT 500",
        scope.tenant_id().as_uuid()
    )
    .fetch_all(&mut *tx)
    .await?;
    end_read(tx);
    rows.into_iter()
        .map(|r| {
            Ok(ApiToken {
                id: ApiTokenId::from_uuid(r.id),
                name: r.name,
                role: r
                    .role
                    .parse()
                    .map_err(|_| RepoError::corrupt("api_tokens.role"))?,
                prefix: r.prefix,
                created_by: r.created_by,
                created_at: r.created_at,
                expires_at: r.expires_at,
                last_used_at: r.last_used_at,
                revoked_at: r.revoked_at,
            })
        })
        .collect()
}

/// OWNER and ADMIN only. The token stops working on its next call, on every server process:
/// the revocation is announced with the commit, and every process forgets the token (see
/// `caches`). Revoking twice keeps the first time.
pub async fn revoke(db: &Db, scope: &TenantScope, id: ApiTokenId) -> Result<(), RepoError> {
    scope.require(Role::Admin)?;
    let mut tx = scope.begin(db).await?;
    let digest = sqlx::query_scalar!(
        "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now())
          WHERE tenant_id = $1 AND id = $2
          RETURNING secret_digest",
        scope.tenant_id().as_uuid(),
        id.as_uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(RepoError::NotFound)?;
    let change = Change::ApiToken(digest);
    announce(tx.control(db).await?, &change).await?;
    tx.commit().await?;
    db.forget_everywhere(&[change]).await;
    Ok(())
}
