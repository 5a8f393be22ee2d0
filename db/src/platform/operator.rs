//! Operator actions run from the server's command line, outside any request. Each one names
//! its tenant explicitly and runs inside that tenant's transaction like any request would.

use domain::{Email, PersonName, Role, UserId};

use crate::scope::begin_for_tenant;
use crate::{Db, RepoError, Tenant, TenantScope};

/// Adds a member to `tenant` (until invitations exist, this is how a team grows from the
/// command line). An email already in this workspace is `Conflict { field: "email" }`; a
/// workspace at its plan's member limit is `LimitReached`, as for an invitation.
pub async fn add_member(
    db: &Db,
    tenant: &Tenant,
    email: &Email,
    name: &PersonName,
    role: Role,
    password_hash: &str,
) -> Result<UserId, RepoError> {
    let id = uuid::Uuid::new_v4();
    let mut tx = begin_for_tenant(db, tenant).await?;
    crate::tenant::plan::reserve(&mut tx, tenant.id(), domain::LimitKind::Members, 1).await?;
    sqlx::query!(
        "INSERT INTO users (tenant_id, id, email, name, password_hash, role) VALUES ($1, $2, $3, $4, $5, $6)",
        tenant.id().as_uuid(),
        id,
        email.as_str(),
        name.as_str(),
        password_hash,
        role.as_str()
    )
    .execute(&mut *tx)
    .await?;
    super::directory::list_member(&mut tx, db, id, email.as_str()).await?;
    tx.commit().await?;
    Ok(UserId::from_uuid(id))
}

/// The workspace's longest-standing owner, as a scope: whom an operator's command acts for
/// when it needs a member (an API token made from the command line is that owner's).
pub async fn first_owner(db: &Db, tenant: &Tenant) -> Result<Option<TenantScope>, RepoError> {
    let mut tx = begin_for_tenant(db, tenant).await?;
    let owner = sqlx::query_scalar!(
        "SELECT id FROM users
          WHERE tenant_id = $1 AND role = 'OWNER' AND removed_at IS NULL
          ORDER BY created_at, id
          LIMIT 1",
        tenant.id().as_uuid()
    )
    .fetch_optional(&mut *tx)
    .await?;
    crate::scope::end_read(tx);
    match owner {
        Some(id) => TenantScope::for_member(db, tenant, UserId::from_uuid(id)).await,
        None => Ok(None),
    }
}
