//! The background worker that turns queued export jobs into CSV files and whole-workspace
//! archives (`archive`). Each job runs inside the scope of the member who asked for it,
//! through the same repository functions and tenant transactions as a request, so row-level
//! security applies to it as to them. Finished files are kept for the configured time, then
//! discarded.

mod archive;

use std::sync::Arc;
use std::time::Duration;

use db::tenant::exports::{self, ExportKind};
use db::{Db, RepoError, TenantScope};
use domain::{Currency, ExportId};
use tokio::sync::Notify;
use tracing::Instrument;

/// Rows read per repository call; progress is recorded after each batch.
const PRODUCT_BATCH: i64 = 1000;
const ORDER_BATCH: i64 = 500;
/// A running job whose heartbeat is older than this was abandoned by a dead worker.
const STALE_AFTER_SECS: f64 = 120.0;
/// How often the worker discards expired files (a scan of every workspace's jobs).
const DISCARD_EVERY: Duration = Duration::from_secs(600);

/// Wakes the worker when a job is queued, so exports start at once instead of at the next
/// poll. Cloned into the services every request sees.
#[derive(Clone)]
pub struct ExportQueue {
    wake: Arc<Notify>,
    /// Jobs this process's worker ran, for the metrics.
    ran: Arc<std::sync::atomic::AtomicU64>,
    /// How long a finished file is served.
    keep_for: Duration,
}

impl ExportQueue {
    pub fn new(keep_for: Duration) -> Self {
        Self {
            wake: Arc::default(),
            ran: Arc::default(),
            keep_for,
        }
    }

    pub fn jobs_run(&self) -> u64 {
        self.ran.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// Runs forever: claims and runs jobs one after another, then sleeps until woken or until
    /// `poll` passes (jobs queued by another server process, or left by a dead worker).
    pub async fn run(self, db: Db, poll: Duration) {
        let mut discarded_at: Option<std::time::Instant> = None;
        loop {
            if discarded_at.is_none_or(|at| at.elapsed() >= DISCARD_EVERY) {
                match exports::discard_expired(&db).await {
                    Ok(0) => {}
                    Ok(files) => tracing::info!(files, "expired export files discarded"),
                    Err(err) => tracing::warn!(error = %err, "discarding expired exports failed"),
                }
                discarded_at = Some(std::time::Instant::now());
            }
            match run_next(&db, self.keep_for).await {
                Ok(true) => {
                    self.ran.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    continue;
                }
                Ok(false) => {}
                Err(err) => tracing::warn!(error = %err, "export worker could not claim a job"),
            }
            let _ = tokio::time::timeout(poll, self.wake.notified()).await;
        }
    }
}

/// Claims one job and runs it to the end, its file to be kept for `keep_for`. Returns whether
/// there was a job.
pub async fn run_next(db: &Db, keep_for: Duration) -> Result<bool, RepoError> {
    let Some(job) = exports::claim_next(db, STALE_AFTER_SECS).await? else {
        return Ok(false);
    };
    let span = tracing::info_span!("export", tenant = %job.tenant_id, job = %job.id);
    // `instrument`, not `span.enter()`: a guard held across awaits would tag whatever other
    // task runs on this thread meanwhile with this workspace.
    run_claimed(db, job, keep_for).instrument(span).await
}

async fn run_claimed(
    db: &Db,
    job: exports::ClaimedJob,
    keep_for: Duration,
) -> Result<bool, RepoError> {
    let tenant = db::platform::tenants::find_by_id(db, job.tenant_id).await?;
    let Some(tenant) = tenant.filter(|t| t.is_active()) else {
        // A suspended workspace's work waits for nobody: failed, not left to be claimed again.
        exports::fail_unscoped(
            db,
            job.tenant_id,
            job.id,
            "The workspace was suspended before this export ran.",
        )
        .await?;
        return Ok(true);
    };
    let (kind, requested_by) = exports::job_for_worker(db, &tenant, job.id).await?;
    let Some(scope) = TenantScope::for_member(db, &tenant, requested_by).await? else {
        exports::fail_unscoped(
            db,
            tenant.id(),
            job.id,
            "The person who asked for this export is no longer a member.",
        )
        .await?;
        return Ok(true);
    };
    if kind == ExportKind::Workspace && scope.member().role != domain::Role::Owner {
        exports::fail(
            db,
            &scope,
            job.id,
            "The person who asked for this export is no longer an owner.",
        )
        .await?;
        return Ok(true);
    }
    let result = match kind {
        ExportKind::Products => products_csv(db, &scope, job.id, tenant.currency()).await,
        ExportKind::Orders => orders_csv(db, &scope, job.id, tenant.currency()).await,
        ExportKind::Workspace => archive::workspace_archive(db, &scope, job.id, &tenant).await,
    };
    match result {
        Ok((rows, content)) => {
            exports::finish(db, &scope, job.id, rows, &content, keep_for).await?;
            tracing::info!(rows, bytes = content.len(), "export finished");
        }
        Err(err) => {
            tracing::error!(error = %err, "export failed");
            exports::fail(
                db,
                &scope,
                job.id,
                "The export could not be completed. Please try again.",
            )
            .await?;
        }
    }
    Ok(true)
}

#[derive(Debug, thiserror::Error)]
enum ExportError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    #[error("csv buffer: {0}")]
    Buffer(String),
    #[error("archive: {0}")]
    Io(#[from] std::io::Error),
    #[error("manifest: {0}")]
    Manifest(serde_json::Error),
}

fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().from_writer(Vec::new())
}

fn into_bytes(writer: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, ExportError> {
    writer
        .into_inner()
        .map_err(|e| ExportError::Buffer(e.to_string()))
}

/// Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a formula: a product name
/// typed by one person must not become code on another's computer. Such cells get a leading
/// apostrophe, which spreadsheets show as text.
fn cell(value: &str) -> std::borrow::Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}").into()
    } else {
        value.into()
    }
}

pub(super) fn timestamp(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

async fn products_csv(
    db: &Db,
    scope: &TenantScope,
    job: ExportId,
    currency: &Currency,
) -> Result<(i64, Vec<u8>), ExportError> {
    let total = exports::count_rows(db, scope, ExportKind::Products).await?;
    exports::record_progress(db, scope, job, 0, total).await?;
    let mut csv = writer();
    csv.write_record([
        "sku",
        "name",
        "description",
        "price",
        "currency",
        "stock",
        "archived",
        "created_at",
    ])?;
    let mut after = None;
    let mut done = 0;
    loop {
        let (batch, next) = exports::product_batch(db, scope, after, PRODUCT_BATCH).await?;
        for p in &batch {
            csv.write_record([
                cell(&p.sku).as_ref(),
                cell(&p.name).as_ref(),
                cell(&p.description).as_ref(),
                &p.price.to_decimal_string(currency),
                currency.as_str(),
                &p.stock.to_string(),
                if p.archived { "yes" } else { "no" },
                &timestamp(p.created_at),
            ])?;
        }
        done += batch.len() as i64;
        exports::record_progress(db, scope, job, done, total.max(done)).await?;
        if (batch.len() as i64) < PRODUCT_BATCH {
            break;
        }
        after = next;
    }
    Ok((done, into_bytes(csv)?))
}

async fn orders_csv(
    db: &Db,
    scope: &TenantScope,
    job: ExportId,
    currency: &Currency,
) -> Result<(i64, Vec<u8>), ExportError> {
    let total = exports::count_rows(db, scope, ExportKind::Orders).await?;
    exports::record_progress(db, scope, job, 0, total).await?;
    let mut csv = writer();
    csv.write_record([
        "order_number",
        "placed_at",
        "status",
        "placed_by",
        "order_total",
        "line",
        "sku",
        "product",
        "quantity",
        "unit_price",
        "line_total",
        "currency",
    ])?;
    let mut after = 0;
    let mut done = 0;
    loop {
        let (lines, last) = exports::order_batch(db, scope, after, ORDER_BATCH).await?;
        for l in &lines {
            let line_total = l
                .unit_price
                .checked_mul(i64::from(l.quantity))
                .map(|m| m.to_decimal_string(currency))
                .unwrap_or_default();
            csv.write_record([
                l.number.to_string().as_str(),
                &timestamp(l.created_at),
                &l.status,
                cell(&l.created_by).as_ref(),
                &l.order_total.to_decimal_string(currency),
                &l.line_no.to_string(),
                cell(&l.sku).as_ref(),
                cell(&l.product_name).as_ref(),
                &l.quantity.to_string(),
                &l.unit_price.to_decimal_string(currency),
                &line_total,
                currency.as_str(),
            ])?;
        }
        done += lines.len() as i64;
        exports::record_progress(db, scope, job, done, total.max(done)).await?;
        match last {
            Some(last) => after = last,
            None => break,
        }
    }
    Ok((done, into_bytes(csv)?))
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formula_like_cells_are_defused() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("-5 widgets"), "'-5 widgets");
        assert_eq!(cell("Mug"), "Mug");
    }
}
