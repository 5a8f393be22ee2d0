//! CSV exports of products and orders (a plan feature), and the whole workspace in one
//! archive (its owners', on every plan). Requesting one queues a background job; the page
//! shows its progress and a download link when it is done, until the file expires.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportRow {
    pub id: String,
    /// "Products" / "Orders" / "Whole workspace"
    pub kind: String,
    /// "Waiting", "Running", "Ready", "Failed", "Expired"
    pub status: String,
    pub done: bool,
    pub pending: bool,
    /// "1200 of 5000 rows" while it runs, "5000 rows" once done
    pub progress: String,
    /// 0–100, for the progress bar.
    pub percent: u8,
    pub requested_by: String,
    pub requested_at: String,
    pub error: Option<String>,
    /// Where the file is served (members of this workspace only), while it is.
    pub download: Option<String>,
    /// "Download CSV" / "Download archive"
    pub download_label: String,
    /// "Available until 7 Dec 2026, 14:05", while it is.
    pub available_until: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportsView {
    /// `None` when the plan includes exports; otherwise why not and how to get them.
    pub locked: Option<AppError>,
    /// Whether the viewer may export the whole workspace (its owners).
    pub owner: bool,
    pub exports: Vec<ExportRow>,
}

#[cfg(feature = "ssr")]
fn row_of(job: db::tenant::exports::ExportJob) -> ExportRow {
    use db::tenant::exports::{ExportKind, ExportStatus};
    let total = job.rows_total.unwrap_or(0);
    let percent = match job.status {
        ExportStatus::Done => 100,
        _ if total > 0 => ((job.rows_done * 100) / total).clamp(0, 100) as u8,
        _ => 0,
    };
    let status = match job.status {
        ExportStatus::Done if job.expired => "Expired",
        ExportStatus::Queued => "Waiting",
        ExportStatus::Running => "Running",
        ExportStatus::Done => "Ready",
        ExportStatus::Failed => "Failed",
    };
    let served = job.status == ExportStatus::Done && !job.expired;
    ExportRow {
        id: job.id.to_string(),
        kind: match job.kind {
            ExportKind::Products => "Products".into(),
            ExportKind::Orders => "Orders".into(),
            ExportKind::Workspace => "Whole workspace".into(),
        },
        status: status.into(),
        done: job.status == ExportStatus::Done,
        pending: matches!(job.status, ExportStatus::Queued | ExportStatus::Running),
        progress: match job.rows_total {
            _ if job.status == ExportStatus::Done => format!("{} rows", job.rows_done),
            Some(total) => format!("{} of {} rows", job.rows_done, total),
            None => "Not started".into(),
        },
        percent,
        requested_by: job.requested_by,
        requested_at: super::common::when(job.created_at),
        error: job.error,
        download: served.then(|| format!("/exports/{}/download", job.id)),
        download_label: match job.kind {
            ExportKind::Workspace => "Download archive".into(),
            _ => "Download CSV".into(),
        },
        available_until: job
            .expires_at
            .filter(|_| served)
            .map(|at| format!("Available until {}", super::common::when(at))),
    }
}

#[server(output = crate::codec::TextJson)]
pub async fn load_exports() -> Result<ExportsView, AppError> {
    use domain::Feature;

    let call = crate::ssr::MemberCall::open()?;
    let locked = match db::tenant::plan::require_feature(
        call.db(),
        call.scope(),
        Feature::CsvExport,
    )
    .await
    {
        Ok(()) => None,
        Err(err @ db::RepoError::PlanRequired { .. }) => Some(call.fail(err)),
        Err(other) => return Err(call.fail(other)),
    };
    let exports = call
        .run(db::tenant::exports::recent(call.db(), call.scope(), 20))
        .await?;
    Ok(ExportsView {
        locked,
        owner: call.scope().member().role == domain::Role::Owner,
        exports: exports.into_iter().map(row_of).collect(),
    })
}

/// Queues an export of `kind`: "products" or "orders" (refused with an upgrade prompt when
/// the plan does not include CSV export), or "workspace" (owners only).
#[server(output = crate::codec::TextJson)]
pub async fn request_export(kind: String) -> Result<(), AppError> {
    use db::tenant::exports::ExportKind;

    let call = crate::ssr::MemberCall::open()?;
    let kind = match kind.as_str() {
        "products" => ExportKind::Products,
        "orders" => ExportKind::Orders,
        "workspace" => ExportKind::Workspace,
        _ => {
            return Err(AppError::field(
                "kind",
                "Choose products, orders or the whole workspace.",
            ))
        }
    };
    call.run(db::tenant::exports::request(call.db(), call.scope(), kind))
        .await?;
    call.services().exports.notify();
    Ok(())
}
