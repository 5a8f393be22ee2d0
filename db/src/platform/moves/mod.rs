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

use std::ops::ControlFlow;
use std::time::Duration;

use domain::TenantId;
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::platform::console::{audit, commit_announced, lock_tenant, Actor, PlanCopy};
use crate::platform::provision::copy::{pinned, workspace_tables, REGISTRY_TABLES};
use crate::platform::provision::{create_database, database_name, drain, Destination, RunLock};
use crate::platform::tenants::{find_by_id, Placement};
use crate::scope::{begin_in_control, TenantTx};
use crate::{Db, MigrationLimits, Refusal, RepoError};

/// Where a workspace's data is, or is to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The control database, beside the other shared workspaces.
    Shared,
    Dedicated {
        cluster: String,
        database: String,
    },
}

impl Location {
    fn from_placement(placement: &Placement) -> Self {
        match placement.dedicated() {
            None => Location::Shared,
            Some(home) => Location::Dedicated {
                cluster: home.cluster.clone(),
                database: home.database.clone(),
            },
        }
    }

    fn from_columns(cluster: Option<String>, database: Option<String>) -> Self {
        match (cluster, database) {
            (Some(cluster), Some(database)) => Location::Dedicated { cluster, database },
            _ => Location::Shared,
        }
    }

    fn cluster(&self) -> Option<&str> {
        match self {
            Location::Shared => None,
            Location::Dedicated { cluster, .. } => Some(cluster),
        }
    }

    /// How a move names it as its destination: `shared` or the cluster's name.
    pub fn target_name(&self) -> &str {
        self.cluster().unwrap_or("shared")
    }

    fn database(&self) -> Option<&str> {
        match self {
            Location::Shared => None,
            Location::Dedicated { database, .. } => Some(database),
        }
    }

    fn as_json(&self) -> serde_json::Value {
        match self {
            Location::Shared => json!("shared"),
            Location::Dedicated { cluster, database } => {
                json!({ "cluster": cluster, "database": database })
            }
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Shared => f.write_str("the shared database"),
            Location::Dedicated { cluster, database } => {
                write!(f, "database {database} on cluster {cluster}")
            }
        }
    }
}

/// Where to move a workspace: the shared database, or a database of its own on a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Shared,
    Cluster(String),
}

impl Target {
    /// `shared`, or a cluster's name.
    pub fn parse(text: &str) -> Self {
        match text {
            "shared" => Target::Shared,
            cluster => Target::Cluster(cluster.to_owned()),
        }
    }

    fn location(&self, tenant: TenantId) -> Location {
        match self {
            Target::Shared => Location::Shared,
            Target::Cluster(cluster) => Location::Dedicated {
                cluster: cluster.clone(),
                database: database_name(tenant),
            },
        }
    }
}

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

/// Keeps why a run stopped on the move it leaves under way (the console shows it); the next
/// run clears it. A refusal before the move was recorded finds no row to note it on.
async fn note_stall(db: &Db, tenant_id: TenantId, err: &RepoError) {
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

/// The versions of the migrations a database has applied.
async fn applied_migrations(conn: &mut PgConnection) -> Result<Vec<i64>, RepoError> {
    Ok(
        sqlx::query_scalar!(r#"SELECT applied_migrations() AS "applied!""#)
            .fetch_one(conn)
            .await?,
    )
}

/// The first workspace table (the registry's own left aside) that holds a row of the
/// workspace pinned on `conn`.
async fn rows_left_in(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<Option<String>, RepoError> {
    for table in moved_tables(conn).await? {
        let found: bool = sqlx::query_scalar(&format!(
            "SELECT EXISTS (SELECT 1 FROM {} WHERE tenant_id = $1)",
            table.quoted()
        ))
        .bind(tenant.as_uuid())
        .fetch_one(&mut *conn)
        .await?;
        if found {
            return Ok(Some(table.qualified()));
        }
    }
    Ok(None)
}

/// The tables whose rows a move carries: the workspace's, less those the registry keeps
/// (overrides, the directory), in the catalog's order (children first).
async fn moved_tables(
    conn: &mut PgConnection,
) -> Result<Vec<crate::catalog::TenantTable>, RepoError> {
    Ok(workspace_tables(conn)
        .await?
        .into_iter()
        .filter(|t| !(t.schema == "public" && REGISTRY_TABLES.contains(&t.name.as_str())))
        .collect())
}

/// Sets or lifts the freeze on the registry row, in the caller's control transaction.
async fn freeze_registry(
    conn: &mut PgConnection,
    tenant: TenantId,
    frozen: bool,
) -> Result<(), RepoError> {
    sqlx::query!(
        "UPDATE tenants
            SET writes_frozen_since = CASE WHEN $2 THEN coalesce(writes_frozen_since, clock_timestamp()) END
          WHERE id = $1",
        tenant.as_uuid(),
        frozen
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A transaction on one end of a move, pinned to the workspace.
enum EndTx {
    /// The control database (the shared one), through the owner role's pool.
    Control(Box<TenantTx>),
    /// A workspace database, on a connection of its own as its cluster's owner role.
    Own(PgConnection),
}

impl EndTx {
    fn conn(&mut self) -> &mut PgConnection {
        match self {
            EndTx::Control(tx) => tx.as_mut(),
            EndTx::Own(conn) => conn,
        }
    }

    async fn commit(self) -> Result<(), RepoError> {
        match self {
            EndTx::Control(tx) => tx.commit().await?,
            EndTx::Own(mut conn) => {
                sqlx::query("COMMIT").execute(&mut conn).await?;
                conn.close().await?;
            }
        }
        Ok(())
    }

    /// Ends it without keeping anything.
    async fn close(self) -> Result<(), RepoError> {
        match self {
            EndTx::Control(tx) => tx.rollback().await?,
            EndTx::Own(conn) => conn.close().await?,
        }
        Ok(())
    }
}

impl Ends<'_> {
    fn cluster(&self, name: &str) -> Result<&Destination, RepoError> {
        self.clusters
            .get(name)
            .ok_or(RepoError::Invalid { field: "cluster" })
    }

    fn options(&self, at: &Location) -> Result<Option<PgConnectOptions>, RepoError> {
        Ok(match at {
            Location::Shared => None,
            Location::Dedicated { cluster, database } => {
                Some(self.cluster(cluster)?.owner_in(database))
            }
        })
    }

    async fn open(&self, at: &Location) -> Result<EndTx, RepoError> {
        Ok(match self.options(at)? {
            None => EndTx::Control(Box::new(begin_in_control(self.db, self.tenant).await?)),
            Some(options) => EndTx::Own(pinned(&options, self.tenant).await?),
        })
    }

    /// Freezes (or unfreezes) the workspace's writes where it is served from. The registry
    /// row says it too, for a dedicated source: that is what the console shows.
    async fn freeze(&self, source: &Location, frozen: bool) -> Result<(), RepoError> {
        if let Location::Dedicated { .. } = source {
            let mut own = self.open(source).await?;
            freeze_registry(own.conn(), self.tenant, frozen).await?;
            own.commit().await?;
        }
        let mut tx = begin_in_control(self.db, self.tenant).await?;
        freeze_registry(&mut tx, self.tenant, frozen).await?;
        commit_announced(self.db, tx, self.tenant).await
    }

    /// Waits for the workspace's transactions at `source` that began before the freeze (the
    /// move lock, which `app_enter_tenant` takes shared).
    async fn drain(&self, source: &Location) -> Result<(), RepoError> {
        if *source == Location::Shared {
            return drain(self.db, self.tenant).await;
        }
        let mut own = self.open(source).await?;
        sqlx::query!(
            "SELECT pg_advisory_xact_lock(1397903693, hashtext($1::uuid::text))",
            self.tenant.as_uuid()
        )
        .execute(own.conn())
        .await?;
        own.close().await
    }

    /// A destination database of its own is created (kept, if a stopped run made it) and
    /// migrated; then both ends must have applied the same migrations.
    async fn prepare(&self, open: &OpenMove) -> Result<(), RepoError> {
        if let Location::Dedicated { cluster, database } = &open.to {
            let to = self.cluster(cluster)?;
            create_database(to, database).await?;
            Db::migrate_at(
                &crate::MIGRATOR,
                to.owner_in(database),
                MigrationLimits::default(),
            )
            .await
            .map_err(|err| RepoError::Delegated {
                what: "migrating the destination database",
                detail: err.to_string(),
            })?;
        }
        let mut source = self.open(&open.from).await?;
        let mut dest = self.open(&open.to).await?;
        let same =
            applied_migrations(source.conn()).await? == applied_migrations(dest.conn()).await?;
        source.close().await?;
        dest.close().await?;
        if same {
            Ok(())
        } else {
            Err(RepoError::Refused(Refusal::SchemaDiffers))
        }
    }

    /// Replaces whatever the destination holds of the workspace with the source's rows, in
    /// one transaction. A database of its own gets the registry row too (its rows' foreign
    /// keys need it), naming that database.
    async fn copy(&self, open: &OpenMove) -> Result<Vec<(String, u64)>, RepoError> {
        let mut source = self.open(&open.from).await?;
        let mut dest = self.open(&open.to).await?;
        let tables = moved_tables(dest.conn()).await?;
        if let Location::Dedicated { cluster, .. } = &open.to {
            // Its own database: whatever of it is there (the registry's copies included,
            // which the switch writes again) goes, then the registry row anchors the rest.
            let everything = workspace_tables(dest.conn()).await?;
            copy::empty(dest.conn(), self.tenant, &everything).await?;
            copy::registry_row(self.db, dest.conn(), self.tenant, cluster).await?;
        } else {
            copy::empty(dest.conn(), self.tenant, &tables).await?;
        }
        let copied = copy::copy_tables(source.conn(), dest.conn(), self.tenant, &tables).await?;
        dest.commit().await?;
        source.close().await?;
        Ok(copied)
    }

    /// `Err(table)` names the first table whose rows differ between the two ends.
    async fn verify(&self, open: &OpenMove) -> Result<Result<(), String>, RepoError> {
        let mut source = self.open(&open.from).await?;
        let mut dest = self.open(&open.to).await?;
        let tables = moved_tables(dest.conn()).await?;
        let mut outcome = Ok(());
        for table in tables.iter().rev() {
            let there = copy::checksum(source.conn(), self.tenant, table).await?;
            let here = copy::checksum(dest.conn(), self.tenant, table).await?;
            if there != here {
                tracing::warn!(
                    tenant = %self.tenant, table = %table.qualified(),
                    source = ?there, destination = ?here,
                    "a move's copy differs from its source"
                );
                outcome = Err(table.qualified());
                break;
            }
        }
        source.close().await?;
        dest.close().await?;
        Ok(outcome)
    }

    /// Gives up a move before its switch (a copy that differs, schemas that do not match):
    /// the source serves writes again and the move is recorded as failed, naming `why`,
    /// then the copy is discarded. In that order: a stop before the record leaves the move
    /// open (the next run freezes again and compares again), and one after it leaves a copy
    /// the next move to that place takes back (`start`).
    async fn abandon(
        &self,
        open: &OpenMove,
        why: String,
        detail: serde_json::Value,
        actor: Actor<'_>,
    ) -> Result<(), RepoError> {
        if let Location::Dedicated { .. } = open.from {
            let mut own = self.open(&open.from).await?;
            freeze_registry(own.conn(), self.tenant, false).await?;
            own.commit().await?;
        }
        let mut tx = begin_in_control(self.db, self.tenant).await?;
        lock_tenant(&mut tx, self.tenant).await?;
        freeze_registry(&mut tx, self.tenant, false).await?;
        sqlx::query!(
            "UPDATE workspace_moves SET state = 'failed', finished_at = clock_timestamp(),
                    failure = $2
              WHERE id = $1",
            open.id,
            why
        )
        .execute(&mut *tx)
        .await?;
        let mut attempted =
            json!({ "placement": open.from.as_json(), "attempted": open.to.as_json() });
        if let (Some(into), serde_json::Value::Object(detail)) = (attempted.as_object_mut(), detail)
        {
            into.extend(detail);
        }
        audit(
            &mut tx,
            actor,
            "move_failed",
            Some(self.tenant),
            json!({ "placement": open.from.as_json() }),
            attempted,
        )
        .await?;
        commit_announced(self.db, tx, self.tenant).await?;
        self.discard(&open.to).await?;
        Ok(())
    }

    /// Whether the destination can hold a copy: a database of its own exists.
    async fn destination_exists(&self, to: &Location) -> Result<bool, RepoError> {
        match to {
            Location::Shared => Ok(true),
            Location::Dedicated { cluster, database } => {
                self.cluster(cluster)?.database_exists(database).await
            }
        }
    }

    /// Removes what a move put (or left) at `at`, which the registry does not name: the
    /// database of its own, or the workspace's rows in the shared database.
    async fn discard(&self, at: &Location) -> Result<u64, RepoError> {
        match at {
            Location::Dedicated { cluster, database } => {
                self.cluster(cluster)?.drop_database(database).await?;
                Ok(0)
            }
            Location::Shared => {
                let mut tx = self.open(at).await?;
                let tables = moved_tables(tx.conn()).await?;
                let removed = copy::empty(tx.conn(), self.tenant, &tables).await?;
                tx.commit().await?;
                Ok(removed)
            }
        }
    }

    async fn switch(
        &self,
        open: &OpenMove,
        hold: Duration,
        actor: Actor<'_>,
    ) -> Result<(), RepoError> {
        let tenant = self.tenant.as_uuid();
        let mut tx = begin_in_control(self.db, self.tenant).await?;
        // Console changes take this lock too: none lands between the plan copied below and
        // the switch.
        lock_tenant(&mut tx, self.tenant)
            .await?
            .refuse_if_erased()?;
        let row = sqlx::query!(
            r#"SELECT state, rows_moved,
                      EXTRACT(EPOCH FROM clock_timestamp() - started_at)::float8 AS "seconds!"
                 FROM workspace_moves WHERE id = $1 FOR UPDATE"#,
            open.id
        )
        .fetch_one(&mut *tx)
        .await?;
        if row.state != "verifying" {
            return Err(RepoError::Conflict { field: "state" });
        }
        match &open.to {
            Location::Dedicated { .. } => {
                let mut dest = self.open(&open.to).await?;
                PlanCopy::read(&mut tx, tenant)
                    .await?
                    .write(dest.conn(), tenant)
                    .await?;
                dest.commit().await?;
                // Its members leave the control database's `users` (if they were there):
                // "find my workspace" finds them in the directory.
                if open.from == Location::Shared {
                    sqlx::query!(
                        "INSERT INTO member_directory (tenant_id, user_id, email)
                         SELECT tenant_id, id, email FROM users
                          WHERE tenant_id = $1 AND removed_at IS NULL
                         ON CONFLICT (tenant_id, user_id) DO UPDATE SET email = EXCLUDED.email",
                        tenant
                    )
                    .execute(&mut *tx)
                    .await?;
                }
            }
            // Back in the control database's `users`, where the directory reads them.
            Location::Shared => {
                sqlx::query!("DELETE FROM member_directory WHERE tenant_id = $1", tenant)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        // Jobs queued (or cut short by the freeze) travelled with the rows: a database of
        // its own is marked for the workers to look in (a mark that finds nothing is
        // cleared), as queuing one there would.
        sqlx::query!(
            "UPDATE tenants SET placement_cluster = $2, placement_database = $3,
                    placement_state = CASE WHEN $2::text IS NULL THEN NULL ELSE 'ready' END,
                    writes_frozen_since = NULL,
                    exports_waiting_since = CASE WHEN $2::text IS NULL THEN NULL ELSE clock_timestamp() END,
                    imports_waiting_since = CASE WHEN $2::text IS NULL THEN NULL ELSE clock_timestamp() END
              WHERE id = $1",
            tenant,
            open.to.cluster(),
            open.to.database()
        )
        .execute(&mut *tx)
        .await?;
        let hold_secs = hold.as_secs_f64();
        sqlx::query!(
            "UPDATE workspace_moves SET state = 'switched', switched_at = clock_timestamp(),
                    hold_until = clock_timestamp() + make_interval(secs => $2)
              WHERE id = $1",
            open.id,
            hold_secs
        )
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            actor,
            "move",
            Some(self.tenant),
            json!({ "placement": open.from.as_json() }),
            json!({
                "placement": open.to.as_json(),
                "rows_moved": row.rows_moved,
                "duration_ms": (row.seconds * 1000.0).round() as i64,
            }),
        )
        .await?;
        commit_announced(self.db, tx, self.tenant).await
    }

    /// A dedicated source's own row says the workspace left: a process that has not heard of
    /// the switch is refused there instead of reading what is no longer kept up to date.
    async fn leave(&self, source: &Location) -> Result<(), RepoError> {
        let Location::Dedicated { cluster, database } = source else {
            return Ok(());
        };
        // Already dropped by a cleaning that stopped before it was recorded.
        if !self.cluster(cluster)?.database_exists(database).await? {
            return Ok(());
        }
        let mut own = self.open(source).await?;
        sqlx::query!(
            "UPDATE tenants SET placement_state = 'left' WHERE id = $1",
            self.tenant.as_uuid()
        )
        .execute(own.conn())
        .await?;
        own.commit().await
    }

    /// Removes the source once the hold is over. `true` when it is gone.
    async fn clean_if_due(&self, open: &OpenMove) -> Result<bool, RepoError> {
        let due = sqlx::query_scalar!(
            r#"SELECT hold_until <= clock_timestamp() AS "due!" FROM workspace_moves WHERE id = $1"#,
            open.id
        )
        .fetch_one(&mut *self.db.platform().await?)
        .await?;
        if !due {
            return Ok(false);
        }
        self.discard(&open.from).await?;
        sqlx::query!(
            "UPDATE workspace_moves SET state = 'cleaned', finished_at = clock_timestamp()
              WHERE id = $1",
            open.id
        )
        .execute(&mut *self.db.platform().await?)
        .await?;
        Ok(true)
    }
}

async fn report(db: &Db, open: &OpenMove) -> Result<MoveReport, RepoError> {
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
