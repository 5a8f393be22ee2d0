//! Exports: CSV files of the products or the orders, requested by an ADMIN or OWNER, and the
//! whole workspace in one archive, requested by an OWNER. A background worker runs each
//! inside the same tenant's scope (the requester's); a file is downloaded by that tenant's
//! ADMINs and OWNERs only (the archive by its OWNERs only), until it expires.
//!
//! Two deliberate choices. A MEMBER may read the catalogue and the orders on screen, but
//! taking the whole of them away in one file is a manager's decision, as it is in the
//! businesses this serves. And the plan's `csv_export` feature gates the files as well as new
//! requests: after a downgrade the old files stay (an upgrade brings them back) but are not
//! served, or a downgrade would not be one. The whole-workspace archive is
//! not gated: a workspace's data is its own to take on any plan. The worker's side is in
//! `worker`, the rows it reads in `rows` and, for the archive, `workspace`.

mod rows;
mod worker;
mod workspace;

pub use rows::{count_rows, order_batch, product_batch, OrderLineRecord, ProductRecord};
pub use worker::{
    claim_next, discard_expired, fail, fail_unscoped, finish, job_for_worker, record_progress,
    ClaimedJob,
};
pub use workspace::{ExportTable, OmittedTable, WorkspaceSnapshot};

use domain::{ExportId, Feature, Role};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::scope::end_read;
use crate::{Db, Refusal, RepoError, TenantScope};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Products,
    Orders,
    /// Every table of the workspace, in one archive.
    Workspace,
}

impl ExportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportKind::Products => "products",
            ExportKind::Orders => "orders",
            ExportKind::Workspace => "workspace",
        }
    }

    /// Who may ask for it and download it.
    fn role(self) -> Role {
        match self {
            ExportKind::Workspace => Role::Owner,
            ExportKind::Products | ExportKind::Orders => Role::Admin,
        }
    }

    /// The plan feature it needs, if any.
    fn feature(self) -> Option<Feature> {
        match self {
            ExportKind::Workspace => None,
            ExportKind::Products | ExportKind::Orders => Some(Feature::CsvExport),
        }
    }

    fn parse(raw: &str) -> Result<Self, RepoError> {
        match raw {
            "products" => Ok(ExportKind::Products),
            "orders" => Ok(ExportKind::Orders),
            "workspace" => Ok(ExportKind::Workspace),
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
    /// When its file stops being served (and is discarded).
    pub expires_at: Option<OffsetDateTime>,
    /// Finished, and its file is no longer served.
    pub expired: bool,
}

/// More than this many CSV exports waiting or running for one workspace is refused: one
/// person clicking fast must not fill the queue for everyone. Whole-workspace archives are
/// counted apart, one at a time (each reads every table): an owner's archive never uses up the
/// admins' CSV exports, which they could not even see waiting.
const MAX_PENDING_PER_TENANT: i64 = 3;
const MAX_PENDING_ARCHIVES: i64 = 1;

/// Queues an export. CSV files: ADMIN and OWNER, gated by the plan (`csv_export`), checked
/// in this same transaction. The whole workspace: OWNER, on any plan.
pub async fn request(
    db: &Db,
    scope: &TenantScope,
    kind: ExportKind,
) -> Result<ExportId, RepoError> {
    scope.require(kind.role())?;
    let tenant = scope.tenant_id().as_uuid();
    let mut tx = scope.begin(db).await?;
    if let Some(feature) = kind.feature() {
        super::plan::require_feature_in(&mut tx, scope.tenant_id(), feature).await?;
    }
    // Serialises requests per tenant so the pending count below cannot be raced past.
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('export:' || $1::uuid::text, 0))",
        tenant
    )
    .execute(&mut *tx)
    .await?;
    let archive = kind == ExportKind::Workspace;
    let pending = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM export_jobs
            WHERE tenant_id = $1 AND status IN ('queued', 'running') AND (kind = 'workspace') = $2"#,
        tenant,
        archive
    )
    .fetch_one(&mut *tx)
    .await?;
    match (archive, pending) {
        (true, pending) if pending >= MAX_PENDING_ARCHIVES => {
            return Err(RepoError::Refused(Refusal::ArchiveUnderWay));
        }
        (false, pending) if pending >= MAX_PENDING_PER_TENANT => {
            return Err(RepoError::Refused(Refusal::TooManyPendingExports));
        }
        _ => {}
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
    crate::platform::doorbells::ring(&mut tx, db, crate::platform::doorbells::Queue::Exports)
        .await?;
    tx.commit().await?;
    Ok(ExportId::from_uuid(id))
}

/// The workspace's most recent exports, newest first, without their content. ADMIN and
/// OWNER; whole-workspace archives only to OWNERs.
pub async fn recent(db: &Db, scope: &TenantScope, limit: i64) -> Result<Vec<ExportJob>, RepoError> {
    scope.require(Role::Admin)?;
    let mut tx = scope.begin(db).await?;
    let rows = sqlx::query!(
        r#"SELECT j.id, j.kind, j.status, u.name AS requested_by, j.rows_done, j.rows_total, j.error,
                  octet_length(j.content)::int8 AS size_bytes, j.created_at, j.finished_at,
                  j.expires_at, coalesce(j.expires_at < now(), false) AS "expired!"
             FROM export_jobs j
             JOIN users u ON u.tenant_id = j.tenant_id AND u.id = j.requested_by
            WHERE j.tenant_id = $1 AND (j.kind <> 'workspace' OR $3)
            ORDER BY j.created_at DESC, j.id DESC
            LIMIT $2"#,
        scope.tenant_id().as_uuid(),
        limit.clamp(1, 100),
        scope.member().role == Role::Owner
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
                expires_at: r.expires_at,
                expired: r.expired || (r.status == "done" && r.size_bytes.is_none()),
            })
        })
        .collect()
}

pub struct ExportFile {
    pub kind: ExportKind,
    pub created_at: OffsetDateTime,
    pub content: Vec<u8>,
}

/// A finished export's file, to whom its kind allows (see [`request`]), while the plan
/// includes it and until it expires (`Refused(ExportExpired)`). Another workspace's export id
/// is `NotFound`, like one that does not exist; so is one that is not finished, and an
/// archive to anyone but an owner (admins are not shown archives, so for them none exists).
/// The file itself is read only once all that is checked.
pub async fn download(db: &Db, scope: &TenantScope, id: ExportId) -> Result<ExportFile, RepoError> {
    scope.require(Role::Admin)?;
    let mut tx = scope.begin(db).await?;
    let row = sqlx::query!(
        r#"SELECT kind, created_at, content IS NOT NULL AND coalesce(expires_at >= now(), true) AS "served!"
             FROM export_jobs
            WHERE tenant_id = $1 AND id = $2 AND status = 'done'"#,
        scope.tenant_id().as_uuid(),
        id.as_uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(RepoError::NotFound)?;
    let kind = ExportKind::parse(&row.kind)?;
    if kind == ExportKind::Workspace && scope.member().role != Role::Owner {
        return Err(RepoError::NotFound);
    }
    if let Some(feature) = kind.feature() {
        super::plan::require_feature_in(&mut tx, scope.tenant_id(), feature).await?;
    }
    if !row.served {
        return Err(RepoError::Refused(Refusal::ExportExpired));
    }
    let content = sqlx::query_scalar!(
        r#"SELECT content AS "content!" FROM export_jobs
            WHERE tenant_id = $1 AND id = $2 AND content IS NOT NULL"#,
        scope.tenant_id().as_uuid(),
        id.as_uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(RepoError::Refused(Refusal::ExportExpired))?;
    end_read(tx);
    Ok(ExportFile {
        kind,
        created_at: row.created_at,
        content,
    })
}
