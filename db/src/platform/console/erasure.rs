//! The console's side of erasing a workspace: asking for a purge now rather than after the
//! grace period, and reading how the last purge ended.
//!
//! The console never erases anything itself. Erasing deletes orders and their history, which
//! only the owner role may, and the web server holds no owner credentials: a console that
//! could erase would make every web process a key to every workspace's data. So "purge now"
//! makes the workspace due at once, audited with its reason, and the purge job (`server
//! tenant purge-due`, as the owner role) erases it on its next run.

use domain::{TenantId, TenantStatus};
use serde_json::json;
use time::OffsetDateTime;

use super::changes::{audit, commit_announced, lock_tenant};
use super::{Actor, ConsoleScope};
use crate::scope::begin_in_control;
use crate::{Db, RepoError};

/// Makes a closed workspace (suspended, or deleted by its owner and in its grace period) due
/// for purging now: its `delete_after` becomes now, its status stays, so that cancelling
/// brings it back as it was (reactivating a suspended one, restoring a deleted one, both clear
/// the date). An active workspace is `Conflict { field: "purge" }`: it must be closed first,
/// so that nobody is working in it when it goes; one whose purge has begun or ended is
/// `Conflict { field: "status" }`.
pub async fn request_purge(
    db: &Db,
    scope: &ConsoleScope,
    tenant_id: TenantId,
    reason: &str,
) -> Result<(), RepoError> {
    let mut tx = begin_in_control(db, tenant_id).await?;
    let before = lock_tenant(&mut tx, tenant_id).await?;
    before.refuse_if_erased()?;
    if before.status == TenantStatus::Active.as_db() {
        return Err(RepoError::Conflict { field: "purge" });
    }
    let was = sqlx::query!(
        "UPDATE tenants t SET delete_after = now()
           FROM (SELECT delete_after FROM tenants WHERE id = $1) old
          WHERE t.id = $1
         RETURNING old.delete_after",
        tenant_id.as_uuid()
    )
    .fetch_one(&mut *tx)
    .await?;
    audit(
        &mut tx,
        Actor::Console(scope),
        "request_purge",
        Some(tenant_id),
        json!({ "status": before.status, "delete_after": was.delete_after.map(|at| at.to_string()) }),
        json!({ "status": before.status, "reason": reason }),
    )
    .await?;
    commit_announced(db, tx, tenant_id).await
}

/// How a workspace's last purge ended, as its audit entry recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeOutcome {
    pub at: OffsetDateTime,
    pub rows_removed: i64,
    /// The scan after it found no row of the workspace in any table.
    pub verified: bool,
    /// Where rows remained, with how many (empty when verified).
    pub remaining: Vec<(String, i64)>,
}

/// The workspace's most recent purge, if it had one.
pub async fn last_purge(
    db: &Db,
    _scope: &ConsoleScope,
    tenant_id: TenantId,
) -> Result<Option<PurgeOutcome>, RepoError> {
    let row = sqlx::query!(
        r#"SELECT at, after FROM console_audit
            WHERE target_tenant_id = $1 AND action = 'purge'
            ORDER BY at DESC, id DESC
            LIMIT 1"#,
        tenant_id.as_uuid()
    )
    .fetch_optional(&mut *db.platform().await?)
    .await?;
    Ok(row.map(|r| {
        let after = r.after.unwrap_or_default();
        PurgeOutcome {
            at: r.at,
            rows_removed: after["rows_removed"].as_i64().unwrap_or_default(),
            verified: after["verified"].as_bool().unwrap_or(false),
            remaining: after["remaining"]
                .as_array()
                .map(|tables| {
                    tables
                        .iter()
                        .map(|t| {
                            (
                                t["table"].as_str().unwrap_or_default().to_owned(),
                                t["rows"].as_i64().unwrap_or_default(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }))
}
