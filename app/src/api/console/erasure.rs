//! Erasing a workspace from the console: "purge now" for a closed workspace, and how its last
//! purge ended. The console only makes the workspace due; the purge job erases it (see
//! `db::platform::console::request_purge` for why).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::tenant_id;
use crate::AppError;

/// How a workspace's last purge ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeResult {
    pub at: String,
    pub rows_removed: i64,
    /// No row of the workspace was left in any table.
    pub verified: bool,
    /// "public.customers: 1 row", where rows were left.
    pub remaining: Vec<String>,
}

#[cfg(feature = "ssr")]
pub(super) fn purge_result(outcome: db::platform::console::PurgeOutcome) -> PurgeResult {
    PurgeResult {
        at: crate::api::common::when(outcome.at),
        rows_removed: outcome.rows_removed,
        verified: outcome.verified,
        remaining: outcome
            .remaining
            .into_iter()
            .map(|(table, rows)| format!("{table}: {rows} rows"))
            .collect(),
    }
}

/// Makes a suspended or deleted workspace due for purging now, with the reason for the audit
/// log; the purge job erases it on its next run.
#[server(output = crate::codec::TextJson)]
pub async fn request_tenant_purge(slug: String, reason: String) -> Result<(), AppError> {
    let call = crate::ssr::ConsoleCall::open()?;
    let reason = domain::AuditReason::parse(&reason)
        .map_err(|e| AppError::field("reason", e.to_string()))?;
    let tenant = tenant_id(&call, &slug).await?;
    call.run(db::platform::console::request_purge(
        call.db(),
        call.scope(),
        tenant,
        reason.as_str(),
    ))
    .await
}
