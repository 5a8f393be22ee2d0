//! Erasing a workspace's data: every row that carries its id, from every table that has a
//! `tenant_id` column, found in PostgreSQL's catalog rather than listed here, so a table that a
//! later migration adds is erased without anyone remembering it. Then a scan of the same
//! tables proves that no row of the workspace is left.
//!
//! Only a closed workspace is erased (suspended, or deleted by its owner: either has already
//! ended its sessions and refuses every request), and only through the owner role: the application role may not delete
//! orders or their history. The owner is held to the tenant policies like every role (forced
//! row-level security), so each transaction pins the workspace as its tenant and cannot reach
//! another's rows even through a mistake in a statement here.
//!
//! Rows go in batches, children before the tables they reference, each batch a transaction of
//! its own: no long lock on a table every workspace shares, and an erasure stopped at any
//! point (a kill, a lost connection) is finished by running it again.

use domain::{TenantId, TenantStatus};
use serde_json::json;
use sqlx::Row;

use crate::catalog::tenant_tables;
use crate::platform::console::{audit, lock_tenant, Actor};
use crate::scope::{begin_for_tenant, begin_for_tenant_id, begin_in_control};
use crate::{Db, RepoError, Tenant};

/// Rows deleted per transaction.
pub const PURGE_BATCH: i64 = 1000;

/// What one erasure removed, table by table (in the order it went through them), and what
/// the scan after it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeReport {
    pub removed: Vec<(String, u64)>,
    /// False when a batch budget ran out first: running the erasure again goes on from there.
    pub finished: bool,
    /// Tables where rows of the workspace remain, with how many (empty: none anywhere).
    pub remaining: Vec<(String, i64)>,
}

impl PurgeReport {
    pub fn rows_removed(&self) -> u64 {
        self.removed.iter().map(|(_, n)| n).sum()
    }

    pub fn verified(&self) -> bool {
        self.finished && self.remaining.is_empty()
    }
}

/// Deletes the workspace's rows, table by table in [`tenant_tables`] order, at most
/// `max_batches` batches in all when given (so a test can stop it half-way), and returns
/// what each table lost. Refuses a workspace that is not suspended.
pub async fn remove_rows(
    db: &Db,
    tenant: &Tenant,
    max_batches: Option<u64>,
) -> Result<(Vec<(String, u64)>, bool), RepoError> {
    begin_purge(db, tenant).await?;
    let mut removed = Vec::new();
    let mut batches = 0u64;
    for table in tenant_tables(db).await? {
        let statement = format!(
            "DELETE FROM {t} WHERE tenant_id = $1 AND ctid = ANY (ARRAY (
                 SELECT ctid FROM {t} WHERE tenant_id = $1 LIMIT $2))",
            t = table.quoted()
        );
        let mut from_table = 0u64;
        loop {
            if max_batches.is_some_and(|max| batches >= max) {
                removed.push((table.qualified(), from_table));
                return Ok((removed, false));
            }
            let mut tx = begin_for_tenant(db, tenant).await?;
            let done = sqlx::query(&statement)
                .bind(tenant.id().as_uuid())
                .bind(PURGE_BATCH)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            batches += 1;
            from_table += done;
            if done < PURGE_BATCH as u64 {
                break;
            }
        }
        removed.push((table.qualified(), from_table));
    }
    // Platform rows that name the workspace inside a key rather than in a tenant_id column:
    // the password-reset throttle counts per "<workspace id>:<email>".
    let mut tx = begin_in_control(db, tenant.id()).await?;
    let keys = sqlx::query!(
        "DELETE FROM rate_limit_events WHERE starts_with(key, $1 || ':')",
        tenant.id().to_string()
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    removed.push((RATE_LIMIT_KEYS.to_owned(), keys));
    Ok((removed, true))
}

/// How the report names the throttle rows keyed by the workspace.
const RATE_LIMIT_KEYS: &str = "public.rate_limit_events (keys naming it)";

/// Checks, on the registry row as it is now (not as the caller loaded it), that the workspace
/// is closed, and marks its purge as begun. Both under the row's lock, which the console's
/// status change takes too: a restore that commits first makes this refuse, and once this has
/// committed the console refuses to restore.
async fn begin_purge(db: &Db, tenant: &Tenant) -> Result<(), RepoError> {
    // Its rows are in a database of its own, which this handle does not reach: erasing it is
    // dropping that database (`purge_dedicated`, given the cluster's owner role).
    if tenant.placement().dedicated().is_some() {
        return Err(RepoError::Refused(crate::Refusal::DedicatedDatabase));
    }
    mark_purge_started(db, tenant).await
}

async fn mark_purge_started(db: &Db, tenant: &Tenant) -> Result<(), RepoError> {
    let mut tx = begin_in_control(db, tenant.id()).await?;
    let state = lock_tenant(&mut tx, tenant.id()).await?;
    // Only a closed workspace: it has no session left and serves no request.
    if state.status == TenantStatus::Active.as_db() {
        return Err(RepoError::Conflict { field: "status" });
    }
    sqlx::query!(
        "UPDATE tenants SET purge_started_at = coalesce(purge_started_at, now()) WHERE id = $1",
        tenant.id().as_uuid()
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The verification scan: every tenant table that still holds a row of the workspace, with
/// how many, counted in one transaction.
pub async fn remaining_rows(db: &Db, tenant_id: TenantId) -> Result<Vec<(String, i64)>, RepoError> {
    let tables = tenant_tables(db).await?;
    let mut tx = begin_for_tenant_id(db, tenant_id).await?;
    let mut remaining = Vec::new();
    for table in tables {
        let count: i64 = sqlx::query(&format!(
            "SELECT count(*) FROM {} WHERE tenant_id = $1",
            table.quoted()
        ))
        .bind(tenant_id.as_uuid())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        if count > 0 {
            remaining.push((table.qualified(), count));
        }
    }
    let keys = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM rate_limit_events WHERE starts_with(key, $1 || ':')"#,
        tenant_id.to_string()
    )
    .fetch_one(&mut *tx)
    .await?;
    if keys > 0 {
        remaining.push((RATE_LIMIT_KEYS.to_owned(), keys));
    }
    tx.commit().await?;
    Ok(remaining)
}

/// Erases a closed (suspended, or deleted by its owner) workspace's data, scans for what is
/// left, and records both in the console's audit log (who asked, why, the rows removed per
/// table, the scan's verdict). When the scan finds nothing, the workspace is marked purged and
/// its slug given back; its registry row stays, since the audit log names it.
pub async fn purge(
    db: &Db,
    tenant: &Tenant,
    requested_by: &str,
    reason: &str,
) -> Result<PurgeReport, RepoError> {
    crate::platform::moves::refuse_if_moving(db, tenant.id()).await?;
    purge_recording(db, tenant, requested_by, reason, None).await
}

/// [`purge`] for a workspace with a database of its own, on `home` (its cluster, with the
/// owner role): drops that database, then erases what the control database keeps of it
/// (sessions, the directory, its overrides, its registry row's placement) as for a shared
/// one, and records the dropped database in the audit row. Running it again after a stop
/// goes on where it was.
pub async fn purge_dedicated(
    db: &Db,
    tenant: &Tenant,
    home: &super::provision::Destination,
    requested_by: &str,
    reason: &str,
) -> Result<PurgeReport, RepoError> {
    let Some(placed) = tenant.placement().dedicated().cloned() else {
        return purge(db, tenant, requested_by, reason).await;
    };
    if placed.cluster != home.cluster() {
        return Err(RepoError::Invalid { field: "cluster" });
    }
    // Not beside a provisioning run, which could make the database again behind the drop, nor
    // while a move keeps a copy elsewhere.
    let run = super::provision::RunLock::take(db, tenant.id()).await?;
    if let Err(moving) = crate::platform::moves::refuse_if_moving(db, tenant.id()).await {
        run.release().await?;
        return Err(moving);
    }
    let outcome = purge_dedicated_locked(db, tenant, &placed, home, requested_by, reason).await;
    run.release().await?;
    outcome
}

async fn purge_dedicated_locked(
    db: &Db,
    tenant: &Tenant,
    placed: &crate::DatabaseKey,
    home: &super::provision::Destination,
    requested_by: &str,
    reason: &str,
) -> Result<PurgeReport, RepoError> {
    mark_purge_started(db, tenant).await?;
    home.drop_database(&placed.database).await?;
    // Its data is gone: the registry stops naming the database (`server migrate` would look
    // for it) or marking work waiting there, and the rest is erased from the control
    // database like a shared workspace's.
    let mut tx = begin_in_control(db, tenant.id()).await?;
    sqlx::query!(
        "UPDATE tenants
            SET placement_cluster = NULL, placement_database = NULL, placement_state = NULL,
                exports_waiting_since = NULL, imports_waiting_since = NULL,
                export_files_until = NULL
          WHERE id = $1",
        tenant.id().as_uuid()
    )
    .execute(&mut *tx)
    .await?;
    crate::platform::console::commit_announced(db, tx, tenant.id()).await?;
    let now_shared = crate::platform::tenants::find_by_id(db, tenant.id())
        .await?
        .ok_or(RepoError::NotFound)?;
    let dropped = format!("{}/{}", placed.cluster, placed.database);
    purge_recording(db, &now_shared, requested_by, reason, Some(&dropped)).await
}

async fn purge_recording(
    db: &Db,
    tenant: &Tenant,
    requested_by: &str,
    reason: &str,
    dropped_database: Option<&str>,
) -> Result<PurgeReport, RepoError> {
    let started = time::OffsetDateTime::now_utc();
    let (removed, finished) = remove_rows(db, tenant, None).await?;
    let remaining = remaining_rows(db, tenant.id()).await?;
    let report = PurgeReport {
        removed,
        finished,
        remaining,
    };
    let mut tx = begin_in_control(db, tenant.id()).await?;
    audit(
        &mut tx,
        Actor::System(requested_by),
        "purge",
        Some(tenant.id()),
        json!({ "slug": tenant.slug().as_str(), "reason": reason, "started_at": started.to_string() }),
        json!({
            "rows_removed": report.rows_removed(),
            "tables": report.removed.iter().filter(|(_, n)| *n > 0).map(|(t, n)| json!({ "table": t, "rows": n })).collect::<Vec<_>>(),
            "verified": report.verified(),
            "dropped_database": dropped_database,
            "remaining": report.remaining.iter().map(|(t, n)| json!({ "table": t, "rows": n })).collect::<Vec<_>>(),
            "finished_at": time::OffsetDateTime::now_utc().to_string(),
        }),
    )
    .await?;
    tx.commit().await?;
    if report.verified() {
        crate::platform::lifecycle::mark_purged(db, tenant).await?;
    }
    Ok(report)
}
