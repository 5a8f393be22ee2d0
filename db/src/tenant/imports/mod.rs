//! Product imports: a CSV file parsed by the app is kept here as a preview, one row per line
//! with its verdict (new, update, unchanged, error), and nothing else is written. Applying it
//! writes the products batch by batch (`apply`), each batch in its own transaction, counted
//! against the plan's product limit; large imports run on a background worker (`worker`).
//! ADMIN and OWNER only.
//!
//! Applying is idempotent by SKU: a product whose values already match its line is left as
//! it is (its version does not move), so applying the same file twice changes nothing the
//! second time.

mod apply;
mod preview;
mod worker;

pub use apply::{apply_batch, BATCH_ROWS};
pub use preview::create_preview;
pub use worker::{claim_next, fail, fail_unscoped, job_for_worker, ClaimedImport};

use domain::{ImportId, LimitKind, Money, Role};
use time::OffsetDateTime;

use super::products::ProductInput;
use crate::scope::end_read;
use crate::{Db, Refusal, RepoError, TenantScope};

/// One line of an uploaded file, as the app read it.
#[derive(Debug, Clone)]
pub enum ImportLine {
    Product {
        line_no: i32,
        input: ProductInput,
    },
    /// A line that cannot be imported, with what the file said (for the preview) and why.
    Invalid {
        line_no: i32,
        sku: String,
        name: String,
        problem: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStatus {
    /// Parsed and checked; nothing written yet.
    Preview,
    Queued,
    Running,
    Done,
    Failed,
}

impl ImportStatus {
    fn parse(raw: &str) -> Result<Self, RepoError> {
        Ok(match raw {
            "preview" => ImportStatus::Preview,
            "queued" => ImportStatus::Queued,
            "running" => ImportStatus::Running,
            "done" => ImportStatus::Done,
            "failed" => ImportStatus::Failed,
            _ => return Err(RepoError::corrupt("product_imports.status")),
        })
    }
}

/// What a line would do (the preview) and what it did (after applying).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    New,
    Update,
    Unchanged,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    /// Not added: the plan's product limit was reached.
    Refused,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub id: ImportId,
    pub file_name: String,
    pub status: ImportStatus,
    pub uploaded_by: String,
    pub created_at: OffsetDateTime,
    pub rows_total: i32,
    pub rows_invalid: i32,
    pub rows_new: i32,
    pub rows_update: i32,
    pub rows_unchanged: i32,
    /// The last line written so far (lines are applied in file order).
    pub applied_through: i32,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub refused: i32,
    /// The product limit that refused rows, when some were.
    pub refused_at_limit: Option<i64>,
    pub error: Option<String>,
    pub finished_at: Option<OffsetDateTime>,
    /// The plan's product limit and its use now, when the plan has one (for the preview's
    /// warning that some new products would not fit).
    pub product_limit: Option<super::plan::LimitUsage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub line_no: i32,
    pub sku: String,
    pub name: String,
    pub price: Option<Money>,
    pub stock: Option<i32>,
    pub verdict: Verdict,
    pub problem: Option<String>,
    pub outcome: Option<Outcome>,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::New => "new",
            Verdict::Update => "update",
            Verdict::Unchanged => "unchanged",
            Verdict::Error => "error",
        }
    }

    fn parse(raw: &str) -> Result<Self, RepoError> {
        Ok(match raw {
            "new" => Verdict::New,
            "update" => Verdict::Update,
            "unchanged" => Verdict::Unchanged,
            "error" => Verdict::Error,
            _ => return Err(RepoError::corrupt("product_import_rows.verdict")),
        })
    }
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Refused => "refused",
        }
    }

    fn parse(raw: &str) -> Result<Self, RepoError> {
        Ok(match raw {
            "created" => Outcome::Created,
            "updated" => Outcome::Updated,
            "unchanged" => Outcome::Unchanged,
            "refused" => Outcome::Refused,
            _ => return Err(RepoError::corrupt("product_import_rows.outcome")),
        })
    }
}

/// One import and how far it got. ADMIN and OWNER; another workspace's id is `NotFound`.
pub async fn get(db: &Db, scope: &TenantScope, id: ImportId) -> Result<ImportSummary, RepoError> {
    scope.require(Role::Admin)?;
    let mut tx = scope.begin_snapshot(db).await?;
    let r = sqlx::query!(
        r#"SELECT i.id, i.file_name, i.status, u.name AS uploaded_by, i.created_at, i.rows_total,
                  i.rows_invalid, i.rows_new, i.rows_update, i.rows_unchanged, i.applied_through,
                  i.created, i.updated, i.unchanged, i.refused, i.refused_at_limit, i.error,
                  i.finished_at
             FROM product_imports i
             JOIN users u ON u.tenant_id = i.tenant_id AND u.id = i.uploaded_by
            WHERE i.tenant_id = $1 AND i.id = $2"#,
        scope.tenant_id().as_uuid(),
        id.as_uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(RepoError::NotFound)?;
    let product_limit =
        super::plan::usage_in(db, &mut tx, scope.tenant_id(), LimitKind::Products).await?;
    end_read(tx);
    Ok(ImportSummary {
        id: ImportId::from_uuid(r.id),
        file_name: r.file_name,
        status: ImportStatus::parse(&r.status)?,
        uploaded_by: r.uploaded_by,
        created_at: r.created_at,
        rows_total: r.rows_total,
        rows_invalid: r.rows_invalid,
        rows_new: r.rows_new,
        rows_update: r.rows_update,
        rows_unchanged: r.rows_unchanged,
        applied_through: r.applied_through,
        created: r.created,
        updated: r.updated,
        unchanged: r.unchanged,
        refused: r.refused,
        refused_at_limit: r.refused_at_limit,
        error: r.error,
        finished_at: r.finished_at,
        product_limit,
    })
}

/// A page of an import's lines in file order, after line `after`: every line, or only those
/// with a problem (an error, or refused by the plan's limit). ADMIN and OWNER.
pub async fn rows(
    db: &Db,
    scope: &TenantScope,
    id: ImportId,
    problems_only: bool,
    after: i32,
    limit: i64,
) -> Result<Vec<ImportRow>, RepoError> {
    scope.require(Role::Admin)?;
    let mut tx = scope.begin(db).await?;
    let rows = sqlx::query!(
        "SELECT line_no, sku, name, price_minor, stock, verdict, problem, outcome
           FROM product_import_rows
          WHERE tenant_id = $1 AND import_id = $2 AND line_no > $3
            AND (NOT $4 OR verdict = 'error' OR outcome = 'refused')
          ORDER BY line_no
          LIMIT $5",
        scope.tenant_id().as_uuid(),
        id.as_uuid(),
        after,
        problems_only,
        limit.clamp(1, 500)
    )
    .fetch_all(&mut *tx)
    .await?;
    end_read(tx);
    rows.into_iter()
        .map(|r| {
            Ok(ImportRow {
                line_no: r.line_no,
                sku: r.sku,
                name: r.name,
                price: r.price_minor.map(Money::from_minor),
                stock: r.stock,
                verdict: Verdict::parse(&r.verdict)?,
                problem: r.problem,
                outcome: r.outcome.as_deref().map(Outcome::parse).transpose()?,
            })
        })
        .collect()
}

/// How an import is applied once started: within the request (small files), or by the
/// background worker (large ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    Here,
    InBackground,
}

/// Starts applying a preview and returns the import's status. A preview with error lines
/// is refused (`ImportHasErrors`): nothing of a file with errors is written. An import
/// already started or finished is left as it is (so starting twice is harmless); a failed
/// one starts again where it stopped. ADMIN and OWNER.
pub async fn start(
    db: &Db,
    scope: &TenantScope,
    id: ImportId,
    run: Run,
) -> Result<ImportStatus, RepoError> {
    scope.require(Role::Admin)?;
    let tenant = scope.tenant_id().as_uuid();
    let mut tx = scope.begin(db).await?;
    let row = sqlx::query!(
        "SELECT status, rows_invalid FROM product_imports WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant,
        id.as_uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(RepoError::NotFound)?;
    let status = ImportStatus::parse(&row.status)?;
    // Ended at once rather than on drop, which would hold the row lock until the connection's
    // next use (see `apply_batch`).
    if !matches!(status, ImportStatus::Preview | ImportStatus::Failed) {
        tx.rollback().await?;
        return Ok(status);
    }
    if row.rows_invalid > 0 {
        tx.rollback().await?;
        return Err(RepoError::Refused(Refusal::ImportHasErrors));
    }
    let next = match run {
        Run::Here => ImportStatus::Running,
        Run::InBackground => ImportStatus::Queued,
    };
    sqlx::query!(
        "UPDATE product_imports
            SET status = $3, applied_by = $4, started_at = coalesce(started_at, now()),
                heartbeat_at = now(), error = NULL
          WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.as_uuid(),
        if next == ImportStatus::Running {
            "running"
        } else {
            "queued"
        },
        scope.member().user_id.as_uuid()
    )
    .execute(&mut *tx)
    .await?;
    // Also when it runs here: if this process stops, a worker takes it over from there.
    crate::platform::doorbells::ring(&mut tx, db, crate::platform::doorbells::Queue::Imports)
        .await?;
    tx.commit().await?;
    Ok(next)
}
