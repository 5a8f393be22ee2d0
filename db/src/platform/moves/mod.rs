//! Moving a workspace's data between databases: from the shared database to one of its own,
//! back, or to another cluster, with downtime for that workspace's writes only.
//!
//! Each move is a row of `workspace_moves` in the control database, and goes through:
//!
//! 1. **frozen**: the database the workspace is served from makes its transactions
//!    `READ ONLY` (`app_enter_tenant` reads `writes_frozen_since`), so PostgreSQL refuses its
//!    writes in every process whether or not it has heard; its reads carry on. The move lock,
//!    taken once exclusively there, then waits for the transactions that began before.
//! 2. **copying**: the destination (created and migrated first, for a database of its own)
//!    is emptied of the workspace and filled again in one transaction, table by table, as the
//!    catalog lists them, parents first.
//! 3. **verifying**: per table, the row count and an order-independent checksum of the rows'
//!    contents, on both sides. A difference discards the copy, unfreezes the source and marks
//!    the move `failed`, naming the table.
//! 4. **switched**: in one control transaction under the registry row's lock, the registry
//!    names the destination and the freeze is lifted; every process hears it at commit.
//!    Sessions live in the control database and stay valid. A dedicated source's own row
//!    then says `left`, so a process that has not heard yet is refused there.
//! 5. **cleaned**: after the hold, the source's rows (or the source database) are removed.
//!
//! One run at a time per workspace (the same session lock as provisioning and purge), and a
//! stopped run is finished by running the same move again: each step is safe to repeat, and
//! until the switch the registry still names the source, where every acknowledged write is.

mod copy;
mod ends;
mod finish;
mod place;
mod status;

use ends::{applied_migrations, freeze_registry, rows_left_in};
pub use place::{Location, Target};
pub use status::{latest_move, MoveReport, MoveStatus};
use status::{note_stall, report};

use std::ops::ControlFlow;
use std::time::Duration;

use domain::TenantId;
use serde_json::json;
use uuid::Uuid;

use crate::platform::console::{commit_announced, lock_tenant, Actor};
use crate::platform::provision::{Destination, RunLock};
use crate::platform::tenants::{find_by_id, Placement};
use crate::scope::begin_in_control;
use crate::{Db, Refusal, RepoError};

/// Where a workspace's data is, or is to go.
/// A phase a move has finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Frozen,
    Drained,
    Prepared,
    Copied,
    Verified,
    Switched,
    Cleaned,
}

impl Phase {
    pub const ALL: [Phase; 7] = [
        Phase::Frozen,
        Phase::Drained,
        Phase::Prepared,
        Phase::Copied,
        Phase::Verified,
        Phase::Switched,
        Phase::Cleaned,
    ];
}

#[derive(Debug, Clone)]
pub enum Moved {
    Done(MoveReport),
    /// The caller stopped after this phase; running the same move again goes on from there.
    Stopped(Phase),
}

/// The clusters a move may reach as their owner role, by name.
pub type Clusters = std::collections::BTreeMap<String, Destination>;

/// Moves `tenant_id`'s data to `target`, or finishes the move a stopped run began (which must
/// be to the same place). `db` is the control database as the **owner role**; `clusters`
/// reach the source and the destination when either is a database of its own. The source is
/// removed at once when `hold` is zero, else by the first run after it (this command again,
/// or [`clean_due`]). `after` hears of each finished phase and may stop the run there.
pub async fn move_workspace(
    db: &Db,
    tenant_id: TenantId,
    target: &Target,
    clusters: &Clusters,
    hold: Duration,
    actor: Actor<'_>,
    after: impl FnMut(Phase) -> ControlFlow<()>,
) -> Result<Moved, RepoError> {
    let run = RunLock::take(db, tenant_id).await?;
    let outcome = move_locked(db, tenant_id, target, clusters, hold, actor, after).await;
    if let Err(err) = &outcome {
        note_stall(db, tenant_id, err).await;
    }
    run.release().await?;
    outcome
}

/// Removes the sources that switched moves keep and whose hold is over (what a rerun of each
/// move would do): `server tenant purge-due` runs it. One that fails does not stop the
/// others; each comes back with its workspace and what was removed (or why not).
pub async fn clean_due(
    db: &Db,
    clusters: &Clusters,
) -> Result<Vec<(TenantId, Result<Location, RepoError>)>, RepoError> {
    let due = sqlx::query_scalar!(
        "SELECT workspace_id FROM workspace_moves
          WHERE state = 'switched' AND hold_until <= clock_timestamp()
          ORDER BY hold_until"
    )
    .fetch_all(&mut *db.platform().await?)
    .await?;
    let mut cleaned = Vec::with_capacity(due.len());
    for tenant in due.into_iter().map(TenantId::from_uuid) {
        let outcome = async {
            let run = RunLock::take(db, tenant).await?;
            let ends = Ends {
                db,
                tenant,
                clusters,
            };
            let outcome = match open_move(db, tenant).await? {
                Some(open) if open.state == "switched" => {
                    ends.leave(&open.from).await?;
                    ends.clean_if_due(&open).await?;
                    Ok(open.from)
                }
                // Finished meanwhile by a rerun of the move.
                _ => Err(RepoError::NotFound),
            };
            run.release().await?;
            outcome
        }
        .await;
        cleaned.push((tenant, outcome));
    }
    Ok(cleaned)
}

/// The move under way, as its row says.
struct OpenMove {
    id: Uuid,
    from: Location,
    to: Location,
    state: String,
}

/// One move's way into its source and destination.
struct Ends<'a> {
    db: &'a Db,
    tenant: TenantId,
    clusters: &'a Clusters,
}

#[allow(clippy::too_many_arguments)]
async fn move_locked(
    db: &Db,
    tenant_id: TenantId,
    target: &Target,
    clusters: &Clusters,
    hold: Duration,
    actor: Actor<'_>,
    mut after: impl FnMut(Phase) -> ControlFlow<()>,
) -> Result<Moved, RepoError> {
    let ends = Ends {
        db,
        tenant: tenant_id,
        clusters,
    };
    let wanted = target.location(tenant_id);
    if let Target::Cluster(cluster) = target {
        if !clusters.contains_key(cluster) {
            return Err(RepoError::Invalid { field: "cluster" });
        }
    }
    let open = match open_move(db, tenant_id).await? {
        Some(open) if open.to != wanted => {
            return Err(RepoError::Refused(Refusal::MoveUnderWay {
                to: open.to.to_string(),
            }))
        }
        Some(open) => open,
        None => start(&ends, &wanted, actor).await?,
    };
    sqlx::query!(
        "UPDATE workspace_moves SET failure = NULL WHERE id = $1",
        open.id
    )
    .execute(&mut *db.platform().await?)
    .await?;
    let mut stop = |phase| after(phase).is_break().then_some(Moved::Stopped(phase));
    if open.state != "switched" {
        // Again on a rerun: the first run may have stopped before the source froze.
        ends.freeze(&open.from, true).await?;
        if let Some(stopped) = stop(Phase::Frozen) {
            return Ok(stopped);
        }
        ends.drain(&open.from).await?;
        if let Some(stopped) = stop(Phase::Drained) {
            return Ok(stopped);
        }
        // A copy is kept only while its destination is there to compare.
        let copied = open.state == "verifying" && ends.destination_exists(&open.to).await?;
        if !copied {
            if let Err(err) = ends.prepare(&open).await {
                if let RepoError::Refused(Refusal::SchemaDiffers) = err {
                    let why = "the two databases are not on the same schema version".to_owned();
                    ends.abandon(&open, why, json!({ "schema": "differs" }), actor)
                        .await?;
                }
                return Err(err);
            }
            if let Some(stopped) = stop(Phase::Prepared) {
                return Ok(stopped);
            }
            set_state(db, open.id, "copying").await?;
            let tables = ends.copy(&open).await?;
            let rows: u64 = tables.iter().map(|(_, rows)| rows).sum();
            let copied: serde_json::Map<String, serde_json::Value> = tables
                .into_iter()
                .map(|(table, rows)| (table, json!(rows)))
                .collect();
            sqlx::query!(
                "UPDATE workspace_moves SET state = 'verifying', copied_at = clock_timestamp(),
                        rows_moved = $2, copied = $3 WHERE id = $1",
                open.id,
                rows as i64,
                serde_json::Value::Object(copied)
            )
            .execute(&mut *db.platform().await?)
            .await?;
            if let Some(stopped) = stop(Phase::Copied) {
                return Ok(stopped);
            }
        }
        if let Err(table) = ends.verify(&open).await? {
            let why = format!("the copy of {table} differs from its source");
            ends.abandon(&open, why, json!({ "differs": table }), actor)
                .await?;
            return Err(RepoError::Refused(Refusal::CopyDiffers { table }));
        }
        sqlx::query!(
            "UPDATE workspace_moves SET verified_at = clock_timestamp() WHERE id = $1",
            open.id
        )
        .execute(&mut *db.platform().await?)
        .await?;
        if let Some(stopped) = stop(Phase::Verified) {
            return Ok(stopped);
        }
        ends.switch(&open, hold, actor).await?;
        if let Some(stopped) = stop(Phase::Switched) {
            return Ok(stopped);
        }
    }
    ends.leave(&open.from).await?;
    let cleaned = ends.clean_if_due(&open).await?;
    if cleaned {
        if let Some(stopped) = stop(Phase::Cleaned) {
            return Ok(stopped);
        }
    }
    Ok(Moved::Done(report(db, &open).await?))
}

/// The move of `tenant_id` not yet cleaned or failed, if any.
async fn open_move(db: &Db, tenant_id: TenantId) -> Result<Option<OpenMove>, RepoError> {
    let row = sqlx::query!(
        "SELECT id, from_cluster, from_database, to_cluster, to_database, state
           FROM workspace_moves
          WHERE workspace_id = $1 AND state NOT IN ('cleaned', 'failed')",
        tenant_id.as_uuid()
    )
    .fetch_optional(&mut *db.platform().await?)
    .await?;
    Ok(row.map(|r| OpenMove {
        id: r.id,
        from: Location::from_columns(r.from_cluster, r.from_database),
        to: Location::from_columns(r.to_cluster, r.to_database),
        state: r.state,
    }))
}

async fn set_state(db: &Db, id: Uuid, state: &str) -> Result<(), RepoError> {
    sqlx::query!(
        "UPDATE workspace_moves SET state = $2 WHERE id = $1",
        id,
        state
    )
    .execute(&mut *db.platform().await?)
    .await?;
    Ok(())
}

/// Checks everything a new move can be refused for, before anything is written, then
/// records it (`frozen`) and freezes the registry row.
async fn start(ends: &Ends<'_>, to: &Location, actor: Actor<'_>) -> Result<OpenMove, RepoError> {
    let db = ends.db;
    let tenant = find_by_id(db, ends.tenant)
        .await?
        .ok_or(RepoError::NotFound)?;
    if !tenant.is_active() {
        return Err(RepoError::Refused(Refusal::NotActive));
    }
    if let Placement::Dedicated { ready: false, .. } = tenant.placement() {
        return Err(RepoError::Refused(Refusal::PlacementUnderWay));
    }
    let from = Location::from_placement(tenant.placement());
    if &from == to {
        return Err(RepoError::Refused(Refusal::AlreadyThere {
            place: to.to_string(),
        }));
    }
    // What a failed move to the same place may have left there, if it stopped between
    // recording its failure and discarding its copy, is that move's: it goes first.
    if last_failed_to(db, ends.tenant).await?.as_ref() == Some(to) {
        ends.discard(to).await?;
    }
    // Both ends answer, and are on the same schema.
    let mut source = ends.open(&from).await?;
    let source_schema = applied_migrations(source.conn()).await?;
    source.close().await?;
    match to {
        Location::Shared => {
            let mut control = ends.open(to).await?;
            if applied_migrations(control.conn()).await? != source_schema {
                return Err(RepoError::Refused(Refusal::SchemaDiffers));
            }
            if let Some(table) = rows_left_in(control.conn(), ends.tenant).await? {
                return Err(RepoError::Refused(Refusal::DestinationHoldsRows { table }));
            }
            control.close().await?;
        }
        Location::Dedicated { cluster, database } => {
            // The new database gets this build's migrations: the source must have exactly
            // those, or the copy could not be compared table for table.
            let mut built: Vec<i64> = crate::MIGRATOR.iter().map(|m| m.version).collect();
            let mut source_schema = source_schema.clone();
            built.sort_unstable();
            source_schema.sort_unstable();
            if source_schema != built {
                return Err(RepoError::Refused(Refusal::SchemaDiffers));
            }
            if ends.cluster(cluster)?.database_exists(database).await? {
                return Err(RepoError::Refused(Refusal::DatabaseExists {
                    database: database.clone(),
                }));
            }
        }
    }
    let id = Uuid::new_v4();
    let mut tx = begin_in_control(db, ends.tenant).await?;
    lock_tenant(&mut tx, ends.tenant)
        .await?
        .refuse_if_erased()?;
    let inserted = sqlx::query!(
        "INSERT INTO workspace_moves (id, workspace_id, from_cluster, from_database,
                                      to_cluster, to_database, state, started_by)
         VALUES ($1, $2, $3, $4, $5, $6, 'frozen', $7)
         ON CONFLICT (workspace_id) WHERE state NOT IN ('cleaned', 'failed') DO NOTHING",
        id,
        ends.tenant.as_uuid(),
        from.cluster(),
        from.database(),
        to.cluster(),
        to.database(),
        actor.label()
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(RepoError::Refused(Refusal::PlacementUnderWay));
    }
    freeze_registry(&mut tx, ends.tenant, true).await?;
    commit_announced(db, tx, ends.tenant).await?;
    Ok(OpenMove {
        id,
        from,
        to: to.clone(),
        state: "frozen".to_owned(),
    })
}

/// Where the workspace's latest move was going, if it failed.
async fn last_failed_to(db: &Db, tenant: TenantId) -> Result<Option<Location>, RepoError> {
    let row = sqlx::query!(
        "SELECT to_cluster, to_database, state FROM workspace_moves
          WHERE workspace_id = $1 ORDER BY started_at DESC LIMIT 1",
        tenant.as_uuid()
    )
    .fetch_optional(&mut *db.platform().await?)
    .await?;
    Ok(row
        .filter(|r| r.state == "failed")
        .map(|r| Location::from_columns(r.to_cluster, r.to_database)))
}

/// Refuses while a move of the workspace is under way (its source kept on hold included):
/// a purge or a provisioning then would leave one of its copies behind.
pub(crate) async fn refuse_if_moving(db: &Db, tenant: TenantId) -> Result<(), RepoError> {
    match open_move(db, tenant).await? {
        Some(open) => Err(RepoError::Refused(Refusal::MoveUnderWay {
            to: open.to.to_string(),
        })),
        None => Ok(()),
    }
}
