//! Product imports on the server: an uploaded file read into a preview (`csv_file`), applied
//! within the request when small, otherwise by a background worker that claims waiting
//! imports the way the export worker claims exports, and runs each in the scope of the
//! member who started it.

mod csv_file;

use std::sync::Arc;
use std::time::Duration;

use db::tenant::imports::{self, ImportRow, ImportStatus, ImportSummary, Outcome, Run, Verdict};
use db::{Db, RepoError, TenantScope};
use domain::{Currency, ImportId};
use tokio::sync::Notify;
use tracing::Instrument;

use crate::api::imports::{
    FileProblem, ImportRowView, ImportState, ImportView, APPLY_HERE_MAX_ROWS, ROWS_PAGE,
};
use crate::AppError;

/// A running import whose heartbeat is older than this was abandoned by a dead worker (or a
/// request cut off mid-way) and is taken up again.
const STALE_AFTER_SECS: f64 = 60.0;

/// Why an upload was not kept.
#[derive(Debug)]
pub enum UploadRefused {
    File(FileProblem),
    Repo(RepoError),
}

/// Reads an uploaded file and keeps it as a preview (no product is written); returns the
/// import's id. The caller has checked that the member may import.
pub async fn preview_upload(
    db: &Db,
    scope: &TenantScope,
    currency: &Currency,
    file_name: &str,
    bytes: &[u8],
) -> Result<ImportId, UploadRefused> {
    let lines = csv_file::read(bytes, currency).map_err(UploadRefused::File)?;
    let name: String = file_name
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    imports::create_preview(db, scope, name.trim(), &lines)
        .await
        .map_err(UploadRefused::Repo)
}

/// Starts applying an import: here, batch after batch, when it is small; otherwise the
/// worker is woken to do it.
pub async fn apply(call: &super::MemberCall, id: ImportId) -> Result<(), AppError> {
    let (db, scope) = (call.db(), call.scope());
    let summary = call.run(imports::get(db, scope, id)).await?;
    let run = if summary.rows_total <= APPLY_HERE_MAX_ROWS {
        Run::Here
    } else {
        Run::InBackground
    };
    match call.run(imports::start(db, scope, id, run)).await? {
        ImportStatus::Running if run == Run::Here => {
            while call.run(imports::apply_batch(db, scope, id)).await? == ImportStatus::Running {}
        }
        ImportStatus::Queued => call.services().imports.notify(),
        _ => {}
    }
    Ok(())
}

/// Wakes the import worker when an import is queued. Cloned into the services.
#[derive(Clone, Default)]
pub struct ImportQueue {
    wake: Arc<Notify>,
}

impl ImportQueue {
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// Runs forever: claims and applies imports one after another, then sleeps until woken
    /// or until `poll` passes (imports queued by another server process, or left by a dead
    /// worker).
    pub async fn run(self, db: Db, poll: Duration) {
        loop {
            match run_next(&db).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(err) => tracing::warn!(error = %err, "import worker could not claim an import"),
            }
            let _ = tokio::time::timeout(poll, self.wake.notified()).await;
        }
    }
}

/// Claims one import and applies it to the end. Returns whether there was one.
pub async fn run_next(db: &Db) -> Result<bool, RepoError> {
    let Some(job) = imports::claim_next(db, STALE_AFTER_SECS).await? else {
        return Ok(false);
    };
    let span = tracing::info_span!("import", tenant = %job.tenant_id, import = %job.id);
    // `instrument`, not `span.enter()`: a guard held across awaits would tag whatever other
    // task runs on this thread meanwhile with this workspace.
    run_claimed(db, job).instrument(span).await
}

async fn run_claimed(db: &Db, job: imports::ClaimedImport) -> Result<bool, RepoError> {
    let tenant = db::platform::tenants::find_by_id(db, job.tenant_id)
        .await?
        .filter(|t| t.is_active());
    let Some(tenant) = tenant else {
        imports::fail_unscoped(
            db,
            job.tenant_id,
            job.id,
            "The workspace was suspended before this import finished.",
        )
        .await?;
        return Ok(true);
    };
    let scope = match imports::job_for_worker(db, &tenant, job.id).await? {
        Some(member) => TenantScope::for_member(db, &tenant, member).await?,
        None => None,
    };
    let Some(scope) = scope else {
        imports::fail_unscoped(
            db,
            tenant.id(),
            job.id,
            "The person who started this import is no longer a member.",
        )
        .await?;
        return Ok(true);
    };
    let started = std::time::Instant::now();
    loop {
        match imports::apply_batch(db, &scope, job.id).await {
            Ok(ImportStatus::Running) => continue,
            Ok(status) => {
                tracing::info!(?status, elapsed = ?started.elapsed(), "import finished");
                break;
            }
            Err(err) => {
                tracing::error!(error = %err, "import failed");
                imports::fail(
                    db,
                    &scope,
                    job.id,
                    "The import stopped part-way. Start it again to continue where it stopped.",
                )
                .await?;
                break;
            }
        }
    }
    Ok(true)
}

/// What the import page shows of `summary` and a page of its lines.
pub fn view_of(
    summary: &ImportSummary,
    mut rows: Vec<ImportRow>,
    currency: &Currency,
) -> ImportView {
    let next = (rows.len() as i64 > ROWS_PAGE).then(|| {
        rows.truncate(ROWS_PAGE as usize);
        rows.last().map_or(0, |r| r.line_no)
    });
    let state = match summary.status {
        ImportStatus::Preview => ImportState::Preview,
        ImportStatus::Queued => ImportState::Waiting,
        ImportStatus::Running => ImportState::Running,
        ImportStatus::Done => ImportState::Done,
        ImportStatus::Failed => ImportState::Failed,
    };
    let room = summary
        .product_limit
        .as_ref()
        .and_then(|l| l.max.map(|max| (max, (max - l.used).max(0))));
    let limit_warning = match room {
        Some((max, left)) if state == ImportState::Preview && i64::from(summary.rows_new) > left => Some(format!(
            "Your plan allows {max} products and has room for {left} more: {} of the {} new products in this file would not be added.",
            i64::from(summary.rows_new) - left,
            summary.rows_new
        )),
        _ => None,
    };
    // Lines are applied in file order and the header is line 1, so the last line written
    // says roughly how far it got (blank lines in the file make it a little generous).
    let percent = if summary.status == ImportStatus::Done {
        100
    } else {
        let written = i64::from((summary.applied_through - 1).max(0));
        (written * 100 / i64::from(summary.rows_total.max(1))).clamp(0, 99) as u8
    };
    ImportView {
        id: summary.id.to_string(),
        file_name: summary.file_name.clone(),
        state,
        uploaded: format!(
            "{} by {}",
            crate::api::common::when(summary.created_at),
            summary.uploaded_by
        ),
        rows_total: summary.rows_total,
        rows_invalid: summary.rows_invalid,
        rows_new: summary.rows_new,
        rows_update: summary.rows_update,
        rows_unchanged: summary.rows_unchanged,
        limit_warning,
        percent,
        created: summary.created,
        updated: summary.updated,
        unchanged: summary.unchanged,
        refused: summary.refused,
        refused_reason: summary.refused_at_limit.map(refused_reason),
        error: summary.error.clone(),
        rows: rows
            .into_iter()
            .map(|row| row_view(row, summary.refused_at_limit, currency))
            .collect(),
        next,
    }
}

fn refused_reason(max: i64) -> String {
    format!("Not added: your plan allows {max} products.")
}

fn row_view(row: ImportRow, limit: Option<i64>, currency: &Currency) -> ImportRowView {
    let verdict = match (row.outcome, row.verdict) {
        (Some(Outcome::Created), _) => "Created",
        (Some(Outcome::Updated), _) => "Updated",
        (Some(Outcome::Unchanged), _) | (None, Verdict::Unchanged) => "No change",
        (Some(Outcome::Refused), _) => "Not added",
        (None, Verdict::New) => "New",
        (None, Verdict::Update) => "Update",
        (None, Verdict::Error) => "Error",
    };
    let refused = row.outcome == Some(Outcome::Refused);
    ImportRowView {
        line: row.line_no,
        sku: row.sku,
        name: row.name,
        price: row
            .price
            .map(|p| p.display(currency).to_string())
            .unwrap_or_default(),
        stock: row.stock.map(|s| s.to_string()).unwrap_or_default(),
        verdict: verdict.into(),
        problem: match (refused, limit) {
            (true, Some(max)) => Some(refused_reason(max)),
            _ => row.problem,
        },
        is_problem: refused || row.verdict == Verdict::Error,
    }
}
