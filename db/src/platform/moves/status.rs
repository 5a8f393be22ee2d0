//! What a move reports: to its caller when it ends, to the console while it runs.

use std::time::Duration;

use domain::TenantId;
use time::OffsetDateTime;

use super::{Location, OpenMove};
use crate::{Db, RepoError};

/// What a finished (or held) move did.
#[derive(Debug, Clone)]
pub struct MoveReport {
    pub from: Location,
    pub to: Location,
    /// Rows copied, per table (the catalog's schema-qualified name).
    pub tables: Vec<(String, u64)>,
    /// From the freeze to the switch: how long the workspace's writes were refused.
    pub writes_frozen_for: Duration,
    /// From the freeze to the end of the copy, and the verification.
    pub copy_took: Duration,
    pub verify_took: Duration,
    /// `None` once the source is removed; otherwise when it may be.
    pub source_kept_until: Option<OffsetDateTime>,
}

impl MoveReport {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, rows)| rows).sum()
    }
}

/// Keeps why a run stopped on the move it leaves under way (the console shows it); the next
/// run clears it. A refusal before the move was recorded finds no row to note it on.
pub(super) async fn note_stall(db: &Db, tenant_id: TenantId, err: &RepoError) {
    if matches!(err, RepoError::Refused(_)) {
        return;
    }
    let noted = async {
        sqlx::query!(
            "UPDATE workspace_moves SET failure = $2
              WHERE workspace_id = $1 AND state NOT IN ('cleaned', 'failed')",
            tenant_id.as_uuid(),
            format!("stopped: {err}; run the same move again to finish it")
        )
        .execute(&mut *db.platform().await?)
        .await?;
        Ok::<_, RepoError>(())
    }
    .await;
    if let Err(note) = noted {
        tracing::warn!(tenant = %tenant_id, error = %note, "a stopped move's reason was not kept");
    }
}

/// A workspace's latest move, as the console shows it.
#[derive(Debug, Clone)]
pub struct MoveStatus {
    pub from: Location,
    pub to: Location,
    /// `frozen`, `copying`, `verifying`, `switched`, `cleaned` or `failed`.
    pub state: String,
    pub started_by: String,
    pub started_at: OffsetDateTime,
    pub switched_at: Option<OffsetDateTime>,
    pub finished_at: Option<OffsetDateTime>,
    pub hold_until: Option<OffsetDateTime>,
    pub rows_moved: Option<i64>,
    /// Why it failed, or why the last run stopped.
    pub failure: Option<String>,
}

impl MoveStatus {
    /// Whether it still has work to do (its source kept on hold included).
    pub fn is_open(&self) -> bool {
        !matches!(self.state.as_str(), "cleaned" | "failed")
    }
}

/// The workspace's latest move, if it ever had one.
pub async fn latest_move(
    db: &Db,
    _scope: &crate::platform::console::ConsoleScope,
    tenant_id: TenantId,
) -> Result<Option<MoveStatus>, RepoError> {
    let row = sqlx::query!(
        "SELECT from_cluster, from_database, to_cluster, to_database, state, started_by,
                started_at, switched_at, finished_at, hold_until, rows_moved, failure
           FROM workspace_moves WHERE workspace_id = $1
          ORDER BY started_at DESC LIMIT 1",
        tenant_id.as_uuid()
    )
    .fetch_optional(&mut *db.platform().await?)
    .await?;
    Ok(row.map(|r| MoveStatus {
        from: Location::from_columns(r.from_cluster, r.from_database),
        to: Location::from_columns(r.to_cluster, r.to_database),
        state: r.state,
        started_by: r.started_by,
        started_at: r.started_at,
        switched_at: r.switched_at,
        finished_at: r.finished_at,
        hold_until: r.hold_until,
        rows_moved: r.rows_moved,
        failure: r.failure,
    }))
}

pub(super) async fn report(db: &Db, open: &OpenMove) -> Result<MoveReport, RepoError> {
    let row = sqlx::query!(
        r#"SELECT EXTRACT(EPOCH FROM switched_at - started_at)::float8 AS frozen_for,
                  EXTRACT(EPOCH FROM copied_at - started_at)::float8 AS copy_took,
                  EXTRACT(EPOCH FROM verified_at - copied_at)::float8 AS verify_took,
                  CASE WHEN state = 'switched' THEN hold_until END AS kept_until,
                  copied
             FROM workspace_moves WHERE id = $1"#,
        open.id
    )
    .fetch_one(&mut *db.platform().await?)
    .await?;
    let seconds = |s: Option<f64>| Duration::from_secs_f64(s.unwrap_or(0.0).max(0.0));
    let tables = match row.copied {
        Some(serde_json::Value::Object(copied)) => copied
            .into_iter()
            .map(|(table, rows)| (table, rows.as_u64().unwrap_or(0)))
            .collect(),
        _ => Vec::new(),
    };
    Ok(MoveReport {
        from: open.from.clone(),
        to: open.to.clone(),
        tables,
        writes_frozen_for: seconds(row.frozen_for),
        copy_took: seconds(row.copy_took),
        verify_took: seconds(row.verify_took),
        source_kept_until: row.kept_until,
    })
}
