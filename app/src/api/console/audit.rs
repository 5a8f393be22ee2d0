//! The console's audit log, newest first, filtered by workspace, action or actor.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub tenant: Option<String>,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditView {
    pub entries: Vec<AuditRow>,
    pub next: Option<String>,
}

#[cfg(feature = "ssr")]
fn compact(value: &Option<serde_json::Value>) -> String {
    value.as_ref().map(|v| v.to_string()).unwrap_or_default()
}

#[server(output = crate::codec::TextJson)]
pub async fn load_audit(
    tenant: Option<String>,
    action: Option<String>,
    actor: Option<String>,
    before: Option<String>,
) -> Result<AuditView, AppError> {
    use crate::api::common::{next_cursor, page_after, when, PAGE_SIZE};
    use db::platform::console::{audit_log, AuditFilter, ACTIONS};

    let call = crate::ssr::ConsoleCall::open()?;
    let before = page_after(before.as_deref())?;
    let tenant_slug = match tenant.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => None,
        Some(typed) => Some(
            domain::Slug::parse(typed)
                .map_err(|_| AppError::field("tenant", "No workspace has this address."))?,
        ),
    };
    let action = match action.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(typed) => Some(
            ACTIONS
                .into_iter()
                .find(|known| *known == typed)
                .ok_or_else(|| AppError::field("action", "Choose an action from the list."))?,
        ),
    };
    let actor = crate::api::common::search("actor", actor.as_deref())?;
    let page = call
        .run(audit_log(
            call.db(),
            call.scope(),
            &AuditFilter {
                tenant_slug,
                action,
                actor,
                before,
                limit: PAGE_SIZE * 2,
            },
        ))
        .await?;
    Ok(AuditView {
        next: next_cursor(page.has_more, &page.entries, |e| (e.at, e.id)),
        entries: page
            .entries
            .into_iter()
            .map(|e| AuditRow {
                at: when(e.at),
                before: compact(&e.before),
                after: compact(&e.after),
                actor: e.actor,
                action: e.action,
                tenant: e.tenant_slug,
            })
            .collect(),
    })
}
