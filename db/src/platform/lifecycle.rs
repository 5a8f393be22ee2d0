//! A workspace from its owner's "delete" to its erasure: closed at once, kept for a grace
//! period during which the console can restore it (`console::set_status` back to active), then
//! erased by [`crate::platform::purge`] and marked purged, its slug given back.

use std::time::Duration;

use domain::{Email, Role, TenantStatus};
use serde_json::json;
use time::OffsetDateTime;

use crate::platform::console::{audit, commit_announced, lock_tenant, Actor};
use crate::platform::tenants::TenantRow;
use crate::scope::begin_in_control;
use crate::{Db, RepoError, Tenant, TenantScope};

/// The start of the placeholder slug a purged workspace keeps; no registration may take one.
pub const PURGED_SLUG_PREFIX: &str = "purged-";

/// What the owners are told: when the data goes, and who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledDeletion {
    pub delete_after: OffsetDateTime,
    pub owners: Vec<Email>,
}

/// Closes the scope's workspace at once (every session ends; every request, API token,
/// invitation and password reset is refused like a suspended workspace's) and schedules its
/// erasure after `grace`. OWNER only; a workspace that is not active is a `Conflict` (a
/// second request, or one racing a suspension).
pub async fn schedule_deletion(
    db: &Db,
    scope: &TenantScope,
    grace: Duration,
) -> Result<ScheduledDeletion, RepoError> {
    scope.require(Role::Owner)?;
    let tenant_id = scope.tenant_id();
    // Whom to tell: read where the workspace's members live, before the registry changes.
    let mut home = scope.begin(db).await?;
    let owners = sqlx::query_scalar!(
        "SELECT email FROM users
          WHERE tenant_id = $1 AND role = 'OWNER' AND removed_at IS NULL
          ORDER BY email",
        tenant_id.as_uuid()
    )
    .fetch_all(&mut *home)
    .await?
    .into_iter()
    .map(|e| Email::parse(&e).map_err(|_| RepoError::corrupt("users.email")))
    .collect::<Result<Vec<_>, _>>()?;
    crate::scope::end_read(home);
    let mut tx = begin_in_control(db, tenant_id).await?;
    let before = lock_tenant(&mut tx, tenant_id).await?;
    if before.status != TenantStatus::Active.as_db() {
        return Err(RepoError::Conflict { field: "status" });
    }
    let delete_after = sqlx::query_scalar!(
        r#"UPDATE tenants SET status = 'deleting',
                  delete_after = now() + make_interval(secs => $2::double precision)
            WHERE id = $1
        RETURNING delete_after AS "delete_after!""#,
        tenant_id.as_uuid(),
        grace.as_secs_f64()
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM tower_sessions.session WHERE tenant_id = $1",
        tenant_id.as_uuid()
    )
    .execute(&mut *tx)
    .await?;

    // The owner by id, not email: the audit log outlives the purge and keeps no personal data.
    audit(
        &mut tx,
        Actor::System("workspace owner"),
        "schedule_deletion",
        Some(tenant_id),
        json!({ "status": before.status }),
        json!({
            "status": "deleting",
            "delete_after": delete_after.to_string(),
            "by_user": scope.member().user_id.to_string(),
        }),
    )
    .await?;
    commit_announced(db, tx, tenant_id).await?;
    Ok(ScheduledDeletion {
        delete_after,
        owners,
    })
}

/// Workspaces whose grace period is over, and suspended ones the console asked to purge
/// now, oldest date first.
pub async fn due_for_purge(db: &Db) -> Result<Vec<Tenant>, RepoError> {
    let rows = sqlx::query_as!(
        TenantRow,
        "SELECT id, slug, name, plan_code, status, currency, placement_cluster, placement_database, placement_state FROM tenants
          WHERE status IN ('deleting', 'suspended') AND delete_after <= now()
          ORDER BY delete_after, id"
    )
    .fetch_all(&mut *db.platform().await?)
    .await?;
    rows.into_iter().map(Tenant::try_from).collect()
}

/// After a verified erasure: the workspace is marked purged and its slug given back (the row
/// keeps a placeholder slug that registration refuses, [`PURGED_SLUG_PREFIX`] and a digest of
/// its id).
pub(crate) async fn mark_purged(db: &Db, tenant: &Tenant) -> Result<(), RepoError> {
    let mut tx = begin_in_control(db, tenant.id()).await?;
    let marked = sqlx::query!(
        "UPDATE tenants
            SET status = 'purged', purged_at = now(), delete_after = NULL,
                slug = 'purged-' || substr(md5(id::text), 1, 32)
          WHERE id = $1 AND status <> 'active' AND purge_started_at IS NOT NULL",
        tenant.id().as_uuid()
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if marked != 1 {
        return Err(RepoError::Conflict { field: "status" });
    }
    commit_announced(db, tx, tenant.id()).await
}
