//! The background worker's side of an export: claim a job, find whose scope it runs in,
//! record progress, finish or fail it.

use std::time::Duration;

use domain::{ExportId, TenantId};

use super::ExportKind;
use crate::platform::doorbells::{claim_elsewhere, Queue};
use crate::scope::{begin_for_tenant, begin_for_tenant_id, end_read};
use crate::{Db, RepoError, Tenant, TenantScope};

/// A claimed job, as the worker sees it before it has a scope.
pub struct ClaimedJob {
    pub tenant_id: TenantId,
    pub id: ExportId,
}

/// Claims the oldest waiting export of any workspace (or one whose worker stopped sending
/// heartbeats `stale_after_secs` ago). The one read across tenants, through a database
/// function that returns only the tenant and job ids; then, if none waits there, in the
/// databases of the dedicated workspaces that queued one (`doorbells`).
pub async fn claim_next(db: &Db, stale_after_secs: f64) -> Result<Option<ClaimedJob>, RepoError> {
    let row = sqlx::query!(
        r#"SELECT tenant_id AS "tenant_id!", id AS "id!" FROM claim_export_job($1)"#,
        stale_after_secs
    )
    .fetch_optional(&mut *db.platform().await?)
    .await?;
    let claimed = match row {
        Some(r) => Some((TenantId::from_uuid(r.tenant_id), r.id)),
        None => claim_elsewhere(db, Queue::Exports, stale_after_secs).await?,
    };
    Ok(claimed.map(|(tenant_id, id)| ClaimedJob {
        tenant_id,
        id: ExportId::from_uuid(id),
    }))
}

/// What the worker needs to run a claimed job: its kind and who asked (whose scope it runs
/// in). Read inside the job's own tenant transaction.
pub async fn job_for_worker(
    db: &Db,
    tenant: &Tenant,
    id: ExportId,
) -> Result<(ExportKind, domain::UserId), RepoError> {
    let mut tx = begin_for_tenant(db, tenant).await?;
    let row = sqlx::query!(
        "SELECT kind, requested_by FROM export_jobs WHERE tenant_id = $1 AND id = $2",
        tenant.id().as_uuid(),
        id.as_uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(RepoError::NotFound)?;
    end_read(tx);
    Ok((
        ExportKind::parse(&row.kind)?,
        domain::UserId::from_uuid(row.requested_by),
    ))
}

/// Marks a claimed job failed when no scope can be built for it (its requester was removed
/// or its workspace is gone): runs in the job's tenant transaction, touches only that job.
pub async fn fail_unscoped(
    db: &Db,
    tenant_id: TenantId,
    id: ExportId,
    reason: &str,
) -> Result<(), RepoError> {
    let mut tx = begin_for_tenant_id(db, tenant_id).await?;
    mark_failed(&mut tx, tenant_id, id, reason).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn fail(
    db: &Db,
    scope: &TenantScope,
    id: ExportId,
    reason: &str,
) -> Result<(), RepoError> {
    fail_unscoped(db, scope.tenant_id(), id, reason).await
}

async fn mark_failed(
    conn: &mut sqlx::PgConnection,
    tenant_id: TenantId,
    id: ExportId,
    reason: &str,
) -> Result<(), RepoError> {
    // Like `finish`, only a job still waiting or running: a worker that gives up late must
    // not turn an export another worker already finished into a failure.
    sqlx::query!(
        "UPDATE export_jobs SET status = 'failed', error = $3, finished_at = now()
          WHERE tenant_id = $1 AND id = $2 AND status IN ('queued', 'running')",
        tenant_id.as_uuid(),
        id.as_uuid(),
        reason
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records how far a running job has come; doubles as its heartbeat. The worker's own
/// bookkeeping in the job's workspace, outside the requester's share of connections: a
/// whole-workspace export holds one place for its snapshot while it records progress, and a
/// workspace whose share is one connection would otherwise wait on itself.
pub async fn record_progress(
    db: &Db,
    scope: &TenantScope,
    id: ExportId,
    rows_done: i64,
    rows_total: i64,
) -> Result<(), RepoError> {
    let mut tx = scope.begin_outside_share(db).await?;
    sqlx::query!(
        "UPDATE export_jobs SET rows_done = $3, rows_total = $4, heartbeat_at = now()
          WHERE tenant_id = $1 AND id = $2 AND status = 'running'",
        scope.tenant_id().as_uuid(),
        id.as_uuid(),
        rows_done,
        rows_total
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Stores a finished job's file, served for `keep_for` from now.
pub async fn finish(
    db: &Db,
    scope: &TenantScope,
    id: ExportId,
    rows: i64,
    content: &[u8],
    keep_for: Duration,
) -> Result<(), RepoError> {
    let mut tx = scope.begin(db).await?;
    sqlx::query!(
        "UPDATE export_jobs
            SET status = 'done', rows_done = $3, rows_total = $3, content = $4, finished_at = now(),
                heartbeat_at = now(), expires_at = now() + make_interval(secs => $5)
          WHERE tenant_id = $1 AND id = $2 AND status = 'running'",
        scope.tenant_id().as_uuid(),
        id.as_uuid(),
        rows,
        content,
        keep_for.as_secs_f64()
    )
    .execute(&mut *tx)
    .await?;
    if tx.is_dedicated() {
        // The discarding pass reads the control database: it must know when to look in this
        // one (the earliest expiry of the files it holds).
        sqlx::query!(
            "UPDATE tenants
                SET export_files_until = least(export_files_until,
                                               now() + make_interval(secs => $2))
              WHERE id = $1",
            scope.tenant_id().as_uuid(),
            keep_for.as_secs_f64()
        )
        .execute(tx.control(db).await?)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Discards the files of every workspace's exports that have expired, and returns how many.
/// Through a database function that returns the count only (the worker learns no tenant).
/// Then in the databases of the dedicated workspaces whose files' time has come
/// (`tenants.export_files_until`); one that fails to answer is tried on the next pass.
pub async fn discard_expired(db: &Db) -> Result<i64, RepoError> {
    // Through a connection that is committed (`done`): behind a transaction-pooling proxy it
    // is a transaction, which a drop would roll back.
    let mut conn = db.platform().await?;
    let mut discarded = sqlx::query_scalar!(r#"SELECT discard_expired_exports() AS "discarded!""#)
        .fetch_one(&mut *conn)
        .await?;
    conn.done().await?;
    let due = sqlx::query_scalar!(
        "SELECT id FROM tenants
          WHERE export_files_until <= now() ORDER BY export_files_until LIMIT 100"
    )
    .fetch_all(&mut *db.platform().await?)
    .await?;
    for tenant in due {
        let tenant_id = TenantId::from_uuid(tenant);
        match discard_in_own_database(db, tenant_id).await {
            Ok(files) => discarded += files,
            Err(err) => {
                tracing::warn!(tenant = %tenant_id, error = %err, "could not discard expired exports in the workspace's own database");
                // Tried again later, behind the others, which it must not hold up.
                let mut conn = db.platform().await?;
                sqlx::query!(
                    "UPDATE tenants SET export_files_until = now() + interval '10 minutes'
                      WHERE id = $1 AND export_files_until <= now()",
                    tenant
                )
                .execute(&mut *conn)
                .await?;
                conn.done().await?;
            }
        }
    }
    Ok(discarded)
}

/// Discards `tenant`'s expired files in its own database and moves its mark to when the next
/// one expires (none: cleared). The mark's row is locked first: an export finishing meanwhile
/// waits to set its own expiry until this has read what is left, so it is never lost.
async fn discard_in_own_database(db: &Db, tenant: TenantId) -> Result<i64, RepoError> {
    let mut tx = begin_for_tenant_id(db, tenant).await?;
    sqlx::query!(
        "SELECT export_files_until FROM tenants WHERE id = $1 FOR UPDATE",
        tenant.as_uuid()
    )
    .fetch_optional(tx.control(db).await?)
    .await?;
    let files = sqlx::query_scalar!(r#"SELECT discard_expired_exports() AS "discarded!""#)
        .fetch_one(&mut *tx)
        .await?;
    let next = sqlx::query_scalar!(
        "SELECT min(expires_at) FROM export_jobs WHERE tenant_id = $1 AND content IS NOT NULL",
        tenant.as_uuid()
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE tenants SET export_files_until = $2 WHERE id = $1",
        tenant.as_uuid(),
        next
    )
    .execute(tx.control(db).await?)
    .await?;
    tx.commit().await?;
    Ok(files)
}
