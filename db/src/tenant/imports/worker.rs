//! The background worker's side of an import: claim one, find whose scope it runs in, fail
//! it when it cannot go on. Applying goes through [`super::apply_batch`], as in a request.

use domain::{ImportId, TenantId, UserId};

use crate::platform::doorbells::{claim_elsewhere, Queue};
use crate::scope::{begin_for_tenant, begin_for_tenant_id, end_read};
use crate::{Db, RepoError, Tenant, TenantScope};

/// A claimed import, as the worker sees it before it has a scope.
pub struct ClaimedImport {
    pub tenant_id: TenantId,
    pub id: ImportId,
}

/// Claims the oldest waiting import of any workspace (or one whose worker stopped sending
/// heartbeats `stale_after_secs` ago), through the one database function that reads across
/// tenants for imports and returns only the tenant and the import id; then, if none waits
/// there, in the databases of the dedicated workspaces that started one (`doorbells`).
pub async fn claim_next(
    db: &Db,
    stale_after_secs: f64,
) -> Result<Option<ClaimedImport>, RepoError> {
    let row = sqlx::query!(
        r#"SELECT tenant_id AS "tenant_id!", id AS "id!" FROM claim_import_job($1)"#,
        stale_after_secs
    )
    .fetch_optional(&mut *db.platform().await?)
    .await?;
    let claimed = match row {
        Some(r) => Some((TenantId::from_uuid(r.tenant_id), r.id)),
        None => claim_elsewhere(db, Queue::Imports, stale_after_secs).await?,
    };
    Ok(claimed.map(|(tenant_id, id)| ClaimedImport {
        tenant_id,
        id: ImportId::from_uuid(id),
    }))
}

/// Who started a claimed import (whose scope it runs in), read in its own tenant's
/// transaction. `None` when nobody did (it was never started: nothing to run).
pub async fn job_for_worker(
    db: &Db,
    tenant: &Tenant,
    id: ImportId,
) -> Result<Option<UserId>, RepoError> {
    let mut tx = begin_for_tenant(db, tenant).await?;
    let applied_by = sqlx::query_scalar!(
        "SELECT applied_by FROM product_imports WHERE tenant_id = $1 AND id = $2",
        tenant.id().as_uuid(),
        id.as_uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(RepoError::NotFound)?;
    end_read(tx);
    Ok(applied_by.map(UserId::from_uuid))
}

/// Marks an import failed when no scope can be built for it (who started it was removed,
/// or the workspace was suspended); touches only that import, in its tenant's transaction.
/// What was written stays written, and starting it again resumes after it.
pub async fn fail_unscoped(
    db: &Db,
    tenant_id: TenantId,
    id: ImportId,
    reason: &str,
) -> Result<(), RepoError> {
    let mut tx = begin_for_tenant_id(db, tenant_id).await?;
    sqlx::query!(
        "UPDATE product_imports SET status = 'failed', error = $3, finished_at = now()
          WHERE tenant_id = $1 AND id = $2 AND status IN ('queued', 'running')",
        tenant_id.as_uuid(),
        id.as_uuid(),
        reason
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn fail(
    db: &Db,
    scope: &TenantScope,
    id: ImportId,
    reason: &str,
) -> Result<(), RepoError> {
    fail_unscoped(db, scope.tenant_id(), id, reason).await
}
