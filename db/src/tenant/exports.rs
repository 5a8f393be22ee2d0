//! CSV exports: requested by a member, run by a background worker inside the same tenant's
//! scope (the requester's), downloaded by members of that tenant only.

use domain::{ExportId, Feature, Money, TenantId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::scope::begin_for_tenant;
use crate::scope::end_read;
use crate::{Db, Refusal, RepoError, Tenant, TenantScope};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Products,
    Orders,
}

impl ExportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportKind::Products => "products",
            ExportKind::Orders => "orders",
        }
    }

    fn parse(raw: &str) -> Result<Self, RepoError> {
        match raw {
            "products" => Ok(ExportKind::Products),
            "orders" => Ok(ExportKind::Orders),
            _ => Err(RepoError::corrupt("export_jobs.kind")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl ExportStatus {
    fn parse(raw: &str) -> Result<Self, RepoError> {
        match raw {
            "queued" => Ok(ExportStatus::Queued),
            "running" => Ok(ExportStatus::Running),
            "done" => Ok(ExportStatus::Done),
            "failed" => Ok(ExportStatus::Failed),
            _ => Err(RepoError::corrupt("export_jobs.status")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportJob {
    pub id: ExportId,
    pub kind: ExportKind,
    pub status: ExportStatus,
    pub requested_by: String,
    pub rows_done: i64,
    pub rows_total: Option<i64>,
    pub error: Option<String>,
    pub size_bytes: Option<i64>,
    pub created_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
}

/// More than this many exports waiting or running for one workspace is refused: one person
/// clicking fast must not fill the queue for everyone.
const MAX_PENDING_PER_TENANT: i64 = 3;

/// Queues an export. Gated by the plan (`csv_export`), checked in this same transaction.
pub async fn request(
    db: &Db,
    scope: &TenantScope,
    kind: ExportKind,
) -> Result<ExportId, RepoError> {
    let tenant = scope.tenant_id().as_uuid();
    let mut tx = scope.begin(db).await?;
    super::plan::require_feature_in(&mut tx, scope.tenant_id(), Feature::CsvExport).await?;
    // Serialises requests per tenant so the pending count below cannot be raced past.
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('export:' || $1::uuid::text, 0))",
        tenant
    )
    .execute(&mut *tx)
    .await?;
    let pending = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM export_jobs WHERE tenant_id = $1 AND status IN ('queued', 'running')"#,
        tenant
    )
    .fetch_one(&mut *tx)
    .await?;
    if pending >= MAX_PENDING_PER_TENANT {
        return Err(RepoError::Refused(Refusal::TooManyPendingExports));
    }
    let id = Uuid::new_v4();
    sqlx::query!(
        "INSERT INTO export_jobs (tenant_id, id, kind, requested_by) VALUES ($1, $2, $3, $4)",
        tenant,
        id,
        kind.as_str(),
        scope.member().user_id.as_uuid()
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ExportId::from_uuid(id))
}

/// The workspace's most recent exports, newest first, without their content.
pub async fn recent(db: &Db, scope: &TenantScope, limit: i64) -> Result<Vec<ExportJob>, RepoError> {
    let mut tx = scope.begin(db).await?;
    let rows = sqlx::query!(
        r#"SELECT j.id, j.kind, j.status, u.name AS requested_by, j.rows_done, j.rows_total, j.error,
                  octet_length(j.content)::int8 AS size_bytes, j.created_at, j.finished_at
             FROM export_jobs j
             JOIN users u ON u.tenant_id = j.tenant_id AND u.id = j.requested_by
            WHERE j.tenant_id = $1
            ORDER BY j.created_at DESC, j.id DESC
            LIMIT $2"#,
        scope.tenant_id().as_uuid(),
        limit.clamp(1, 100)
    )
    .fetch_all(&mut *tx)
    .await?;
    end_read(tx);
    rows.into_iter()
        .map(|r| {
            Ok(ExportJob {
                id: ExportId::from_uuid(r.id),
                kind: ExportKind::parse(&r.kind)?,
                status: ExportStatus::parse(&r.status)?,
                requested_by: r.requested_by,
                rows_done: r.rows_done,
                rows_total: r.rows_total,
                error: r.error,
                size_bytes: r.size_bytes,
                created_at: r.created_at,
                finished_at: r.finished_at,
            })
        })
        .collect()
}

pub struct ExportFile {
    pub kind: ExportKind,
    pub created_at: OffsetDateTime,
    pub content: Vec<u8>,
}

/// A finished export's file. Another workspace's export id is `NotFound`, like one that does
/// not exist; so is one that is not finished.
pub async fn download(db: &Db, scope: &TenantScope, id: ExportId) -> Result<ExportFile, RepoError> {
    let mut tx = scope.begin(db).await?;
    let row = sqlx::query!(
        r#"SELECT kind, created_at, content AS "content!" FROM export_jobs
            WHERE tenant_id = $1 AND id = $2 AND status = 'done' AND content IS NOT NULL"#,
        scope.tenant_id().as_uuid(),
        id.as_uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(RepoError::NotFound)?;
    end_read(tx);
    Ok(ExportFile {
        kind: ExportKind::parse(&row.kind)?,
        created_at: row.created_at,
        content: row.content,
    })
}

// -------------------------------------------------------------------------- the worker --

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

/// One product as an export row.
#[derive(Debug, Clone)]
pub struct ProductRecord {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub stock: i32,
    pub archived: bool,
    pub created_at: OffsetDateTime,
}

pub async fn count_rows(db: &Db, scope: &TenantScope, kind: ExportKind) -> Result<i64, RepoError> {
    let mut tx = scope.begin(db).await?;
    let tenant = scope.tenant_id().as_uuid();
    let count = match kind {
        ExportKind::Products => {
            sqlx::query_scalar!(
                r#"SELECT count(*) AS "n!" FROM products WHERE tenant_id = $1"#,
                tenant
            )
            .fetch_one(&mut *tx)
            .await?
        }
        ExportKind::Orders => {
            sqlx::query_scalar!(
                r#"SELECT count(*) AS "n!" FROM order_lines WHERE tenant_id = $1"#,
                tenant
            )
            .fetch_one(&mut *tx)
            .await?
        }
    };
    end_read(tx);
    Ok(count)
}

/// Products in creation order, `limit` at a time after `after` (created_at, id).
pub async fn product_batch(
    db: &Db,
    scope: &TenantScope,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<(Vec<ProductRecord>, Option<(OffsetDateTime, Uuid)>), RepoError> {
    let mut tx = scope.begin(db).await?;
    let rows = sqlx::query!(
        r#"SELECT id, sku, name, description, price_minor, stock, archived_at IS NOT NULL AS "archived!", created_at
             FROM products
            WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::uuid))
            ORDER BY created_at, id
            LIMIT $4"#,
        scope.tenant_id().as_uuid(),
        after.map(|a| a.0),
        after.map(|a| a.1),
        limit
    )
    .fetch_all(&mut *tx)
    .await?;
    end_read(tx);
    let next = rows.last().map(|r| (r.created_at, r.id));
    Ok((
        rows.into_iter()
            .map(|r| ProductRecord {
                sku: r.sku,
                name: r.name,
                description: r.description,
                price: Money::from_minor(r.price_minor),
                stock: r.stock,
                archived: r.archived,
                created_at: r.created_at,
            })
            .collect(),
        next,
    ))
}

/// One order line with its order's figures, as an export row.
#[derive(Debug, Clone)]
pub struct OrderLineRecord {
    pub number: i64,
    pub created_at: OffsetDateTime,
    pub status: String,
    pub created_by: String,
    pub order_total: Money,
    pub line_no: i32,
    pub sku: String,
    pub product_name: String,
    pub quantity: i32,
    pub unit_price: Money,
}

/// Order lines by order number then line, for the orders whose number is above `after`,
/// `orders` orders at a time. Returns the last order number seen.
pub async fn order_batch(
    db: &Db,
    scope: &TenantScope,
    after: i64,
    orders: i64,
) -> Result<(Vec<OrderLineRecord>, Option<i64>), RepoError> {
    let mut tx = scope.begin(db).await?;
    let rows = sqlx::query!(
        r#"WITH batch AS (
               SELECT id, number, created_at, status, created_by, total_minor FROM orders
                WHERE tenant_id = $1 AND number > $2
                ORDER BY number LIMIT $3)
           SELECT b.number, b.created_at, b.status, u.name AS created_by, b.total_minor,
                  l.line_no, l.sku, l.product_name, l.quantity, l.unit_price_minor
             FROM batch b
             JOIN order_lines l ON l.tenant_id = $1 AND l.order_id = b.id
             JOIN users u ON u.tenant_id = $1 AND u.id = b.created_by
            ORDER BY b.number, l.line_no"#,
        scope.tenant_id().as_uuid(),
        after,
        orders
    )
    .fetch_all(&mut *tx)
    .await?;
    end_read(tx);
    let last = rows.last().map(|r| r.number);
    Ok((
        rows.into_iter()
            .map(|r| OrderLineRecord {
                number: r.number,
                created_at: r.created_at,
                status: r.status,
                created_by: r.created_by,
                order_total: Money::from_minor(r.total_minor),
                line_no: r.line_no,
                sku: r.sku,
                product_name: r.product_name,
                quantity: r.quantity,
                unit_price: Money::from_minor(r.unit_price_minor),
            })
            .collect(),
        last,
    ))
}
