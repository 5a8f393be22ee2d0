//! The background worker's side of an export: claim a job, find whose scope it runs in,
//! record progress, finish or fail it.

use domain::{ExportId, TenantId};

use super::ExportKind;
use crate::scope::{begin_for_tenant, end_read};
use crate::{Db, RepoError, Tenant, TenantScope};

/// A claimed job, as the worker sees it before it has a scope.
pub struct ClaimedJob {
    pub tenant_id: TenantId,
    pub id: ExportId,
}

/// Claims the oldest waiting export of any workspace (or one whose worker stopped sending
/// heartbeats `stale_after_secs` ago). The one read across tenants, through a database
/// function that returns only the tenant and job ids.
pub async fn claim_next(db: &Db, stale_after_secs: f64) -> Result<Option<ClaimedJob>, RepoError> {
    let row = sqlx::query!(
        r#"SELECT tenant_id AS "tenant_id!", id AS "id!" FROM claim_export_job($1)"#,
        stale_after_secs
    )
    .fetch_optional(&mut *db.platform().await?)
    .await?;
    Ok(row.map(|r| ClaimedJob {
        tenant_id: TenantId::from_uuid(r.tenant_id),
        id: ExportId::from_uuid(r.id),
    }))
}

/// What the worker needs to run a claimed job: its kind and who asked (whose scope it runs
/// in). Read inside the job's own tenant transaction.
pub async fn job_for_worker(
    db: &Db,
    tenant: &Tenant,
    id: ExportId,
) -> Result<(ExportKind, domain::UserId), RepoError> {
    let mut tx = begin_for_tenant(db, tenant.id()).await?;
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
    let mut tx = begin_for_tenant(db, tenant_id).await?;
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

/// Records how far a running job has come; doubles as its heartbeat.
pub async fn record_progress(
    db: &Db,
    scope: &TenantScope,
    id: ExportId,
    rows_done: i64,
    rows_total: i64,
) -> Result<(), RepoError> {
    let mut tx = scope.begin(db).await?;
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

pub async fn finish(
    db: &Db,
    scope: &TenantScope,
    id: ExportId,
    rows: i64,
    content: &[u8],
) -> Result<(), RepoError> {
    let mut tx = scope.begin(db).await?;
    sqlx::query!(
        "UPDATE export_jobs
            SET status = 'done', rows_done = $3, rows_total = $3, content = $4, finished_at = now(),
                heartbeat_at = now()
          WHERE tenant_id = $1 AND id = $2 AND status = 'running'",
        scope.tenant_id().as_uuid(),
        id.as_uuid(),
        rows,
        content
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
