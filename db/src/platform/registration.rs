use domain::{Email, PersonName, Slug, TenantId, UserId, WorkspaceName};

use crate::platform::tenants::TenantRow;
use crate::scope::set_tenant;
use crate::{Db, RepoError, Tenant};

/// Everything a new workspace needs; the password arrives already hashed.
pub struct NewWorkspace<'a> {
    pub name: &'a WorkspaceName,
    pub slug: &'a Slug,
    pub owner_name: &'a PersonName,
    pub owner_email: &'a Email,
    pub owner_password_hash: &'a str,
    /// Digest of a single-use sign-in ticket for the owner, stored in the same transaction so
    /// a workspace never exists without the hand-off its creator was promised.
    pub welcome_ticket_digest: Option<&'a str>,
}

/// Long enough for a browser to follow the redirect, short enough to be useless in a log.
const WELCOME_TICKET_SECS: i64 = 120;

/// Creates the tenant and its OWNER in one transaction. Two registrations racing for one slug
/// meet at the unique constraint: one commits, the other gets `Conflict { field: "slug" }`.
pub async fn register(db: &Db, new: NewWorkspace<'_>) -> Result<(Tenant, UserId), RepoError> {
    // Taken for good: the placeholder of a purged workspace.
    if new
        .slug
        .as_str()
        .starts_with(super::lifecycle::PURGED_SLUG_PREFIX)
    {
        return Err(RepoError::Conflict { field: "slug" });
    }
    let tenant_id = TenantId::from_uuid(uuid::Uuid::new_v4());
    let user_id = UserId::from_uuid(uuid::Uuid::new_v4());
    let mut tx = db.begin().await?;
    let tenant: Tenant = sqlx::query_as!(
        TenantRow,
        "INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $3)
         RETURNING id, slug, name, plan_code, status, currency,
                   placement_cluster, placement_database, placement_state",
        tenant_id.as_uuid(),
        new.slug.as_str(),
        new.name.as_str()
    )
    .fetch_one(&mut *tx)
    .await?
    .try_into()?;
    // From here on the transaction acts as the new tenant, so RLS checks the owner's row too.
    set_tenant(&mut tx, tenant_id).await?;
    sqlx::query!(
        "INSERT INTO users (tenant_id, id, email, name, password_hash, role)
         VALUES ($1, $2, $3, $4, $5, 'OWNER')",
        tenant_id.as_uuid(),
        user_id.as_uuid(),
        new.owner_email.as_str(),
        new.owner_name.as_str(),
        new.owner_password_hash
    )
    .execute(&mut *tx)
    .await?;
    if let Some(digest) = new.welcome_ticket_digest {
        super::auth::insert_ticket(
            &mut tx,
            tenant_id,
            user_id,
            super::auth::TicketPurpose::Welcome,
            digest,
            WELCOME_TICKET_SECS,
        )
        .await?;
    }
    tx.commit().await?;
    Ok((tenant, user_id))
}
