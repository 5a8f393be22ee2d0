//! The console's audit log: every change, newest first, filtered by workspace, action or
//! actor. Append-only: the app role may add and read rows, never change them.

use domain::{SearchText, Slug};
use time::OffsetDateTime;
use uuid::Uuid;

use super::ConsoleScope;
use crate::{Db, RepoError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub tenant_slug: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Every action the log records, for the filter.
pub use domain::AUDIT_ACTIONS as ACTIONS;

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub tenant_slug: Option<Slug>,
    /// One of [`ACTIONS`].
    pub action: Option<&'static str>,
    /// A piece of the actor's email or name.
    pub actor: Option<SearchText>,
    /// Entries strictly older than this (at, id), for the next page.
    pub before: Option<(OffsetDateTime, Uuid)>,
    pub limit: i64,
}

pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub has_more: bool,
}

/// The audit log, newest first.
pub async fn audit_log(
    db: &Db,
    _scope: &ConsoleScope,
    filter: &AuditFilter,
) -> Result<AuditPage, RepoError> {
    let limit = filter.limit.clamp(1, 200);
    let actor = filter
        .actor
        .as_ref()
        .map(crate::tenant::products::like_pattern);
    let rows = sqlx::query!(
        r#"SELECT a.id, a.at, a.actor, a.action, t.slug AS "slug?", a.before, a.after
             FROM console_audit a
             LEFT JOIN tenants t ON t.id = a.target_tenant_id
             LEFT JOIN platform_admins p ON p.id = a.admin_id
            WHERE ($1::text IS NULL OR t.slug = $1)
              AND ($2::text IS NULL OR a.action = $2)
              AND ($3::text IS NULL OR a.actor ILIKE $3 OR p.name ILIKE $3)
              AND ($4::timestamptz IS NULL OR (a.at, a.id) < ($4, $5::uuid))
            ORDER BY a.at DESC, a.id DESC
            LIMIT $6"#,
        filter.tenant_slug.as_ref().map(Slug::as_str),
        filter.action,
        actor,
        filter.before.map(|(at, _)| at),
        filter.before.map(|(_, id)| id),
        limit + 1
    )
    .fetch_all(&mut *db.platform().await?)
    .await?;
    let has_more = rows.len() as i64 > limit;
    Ok(AuditPage {
        entries: rows
            .into_iter()
            .take(limit as usize)
            .map(|r| AuditEntry {
                id: r.id,
                at: r.at,
                actor: r.actor,
                action: r.action,
                tenant_slug: r.slug,
                before: r.before,
                after: r.after,
            })
            .collect(),
        has_more,
    })
}
