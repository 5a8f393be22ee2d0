//! Provisioning: a new or empty workspace gets a database of its own on a registered cluster
//! (seed 001). The steps, each safe to run again:
//!
//! 1. **Marked**: the registry names the workspace's database and says `provisioning`. From
//!    then on every process refuses the workspace (503, "try again"), and so does the shared
//!    database itself (`app_enter_tenant`) for a process that has not heard yet.
//! 2. **Drained**: the move lock, taken once exclusively, waits for the workspace's
//!    transactions that began before the mark; none can begin after it.
//! 3. **Created**: the database, by the cluster's owner role, connectable by the owner and
//!    the application role only.
//! 4. **Migrated**: the same migrations as everywhere (roles, forced row-level security).
//! 5. **Copied**: the workspace's rows, in one transaction: every table with forced row-level
//!    security and a `tenant_id`, found in the catalog, parents first; a copy that a stopped
//!    run left there is replaced.
//! 6. **Switched**: in one control transaction, under the registry row's lock, the plan and
//!    overrides are copied once more (a console change may have come in meanwhile), the rows
//!    in the shared database are removed and the registry says `ready`; every process hears
//!    it.
//!
//! A stopped run leaves the registry at `provisioning`, which sends nobody anywhere: the
//! half-made database never receives traffic, and running the command again finishes it.

pub(crate) mod copy;
mod provisioner;

pub use provisioner::{OwnedActor, Provisioner};

use std::ops::ControlFlow;

use domain::TenantId;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

use self::copy::{copy_rows, switch};
use crate::catalog::quote_ident;
use crate::platform::console::{commit_announced, lock_tenant, Actor};
use crate::scope::begin_in_control;
use crate::{Db, MigrationLimits, Refusal, RepoError};

/// Where a workspace is provisioned.
pub struct Destination {
    /// The cluster's name, in the settings and the registry.
    cluster: String,
    /// The cluster's owner role, which creates and migrates the database.
    owner: PgConnectOptions,
    /// The cluster's application role: with the owner, the only role that may connect.
    app_role: String,
}

impl Destination {
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// The owner role's way into `database` on this cluster.
    pub(crate) fn owner_in(&self, database: &str) -> PgConnectOptions {
        self.owner.clone().database(database)
    }

    /// Whether the cluster has a database by this name (an error when it does not answer).
    pub(crate) async fn database_exists(&self, database: &str) -> Result<bool, RepoError> {
        let mut conn = self.owner.connect().await?;
        let exists = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS "exists!""#,
            database
        )
        .fetch_one(&mut conn)
        .await?;
        conn.close().await?;
        Ok(exists)
    }

    /// Drops a workspace's database (gone already: nothing to do), closing the connections
    /// still open to it (pools of server processes that served it).
    pub(crate) async fn drop_database(&self, database: &str) -> Result<(), RepoError> {
        let mut conn = self.owner.connect().await?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(database)
        ))
        .execute(&mut conn)
        .await?;
        conn.close().await?;
        Ok(())
    }

    /// The cluster `name`, from its owner role's and application role's URLs (the database
    /// each names is where the owner connects to create one; the application role's only
    /// its user matters here). `Err` names the URL that does not parse.
    pub fn new(name: &str, owner_url: &str, app_url: &str) -> Result<Self, String> {
        let parse = |which: &str, url: &str| {
            url.parse::<PgConnectOptions>()
                .map_err(|err| format!("{which} is not a valid URL: {err}"))
        };
        let owner = parse("owner_url", owner_url)?;
        let app = parse("url", app_url)?;
        Ok(Self {
            cluster: name.to_owned(),
            owner,
            app_role: app.get_username().to_owned(),
        })
    }
}

/// A step provisioning has finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Marked,
    Drained,
    Created,
    Migrated,
    Copied,
    Switched,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Marked,
        Step::Drained,
        Step::Created,
        Step::Migrated,
        Step::Copied,
        Step::Switched,
    ];
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provisioned {
    /// Placed now; `rows` were copied.
    Done { database: String, rows: u64 },
    /// It already lives in its own database on that cluster.
    AlreadyThere { database: String },
    /// The caller stopped after this step; running again goes on from there.
    Stopped(Step),
}

/// The name of a workspace's own database: from its id, so every run picks the same one.
pub fn database_name(tenant: TenantId) -> String {
    format!("stockroom_w_{}", tenant.as_uuid().simple())
}

/// Places `tenant_id` in a database of its own at `to`, or finishes a placement a stopped run
/// began. `db` is the control database's handle as the **owner role** (the application role
/// may not delete a workspace's rows). `after` hears of each finished step and may stop the
/// run there (`ControlFlow::Break`).
pub async fn provision(
    db: &Db,
    tenant_id: TenantId,
    to: &Destination,
    actor: Actor<'_>,
    after: impl FnMut(Step) -> ControlFlow<()>,
) -> Result<Provisioned, RepoError> {
    let run = RunLock::take(db, tenant_id).await?;
    let outcome = provision_locked(db, tenant_id, to, actor, after).await;
    run.release().await?;
    outcome
}

/// One provisioning (or purge) of a workspace at a time: two runs of the same steps at once
/// could both copy, one emptying a database the other has just switched to. A session lock
/// on a connection of its own, taken for the whole run and let go when the run ends, or
/// with the connection if the process dies.
pub(crate) struct RunLock {
    conn: PgConnection,
    tenant: TenantId,
}

/// The key of [`RunLock`] (`app_enter_tenant`'s move lock is 1397903693).
const RUN_LOCK: i32 = 1397903694;

impl RunLock {
    pub(crate) async fn take(db: &Db, tenant: TenantId) -> Result<Self, RepoError> {
        // Detached from the pool: a run given up half-way closes it, and the lock goes with it.
        let mut conn = db.pool().acquire().await?.detach();
        let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, hashtext($2::text))")
            .bind(RUN_LOCK)
            .bind(tenant.to_string())
            .fetch_one(&mut conn)
            .await?;
        if !taken {
            return Err(RepoError::Refused(Refusal::PlacementUnderWay));
        }
        Ok(Self { conn, tenant })
    }

    /// Unlocks before closing: a closed connection's backend lets its locks go only as it
    /// exits, after the client has moved on, and a run started right after (the console's
    /// next try) was refused as if this one were still going.
    pub(crate) async fn release(mut self) -> Result<(), RepoError> {
        sqlx::query_scalar::<_, bool>("SELECT pg_advisory_unlock($1, hashtext($2::text))")
            .bind(RUN_LOCK)
            .bind(self.tenant.to_string())
            .fetch_one(&mut self.conn)
            .await?;
        self.conn.close().await?;
        Ok(())
    }
}

async fn provision_locked(
    db: &Db,
    tenant_id: TenantId,
    to: &Destination,
    actor: Actor<'_>,
    mut after: impl FnMut(Step) -> ControlFlow<()>,
) -> Result<Provisioned, RepoError> {
    let database = database_name(tenant_id);
    let mut stop = |step| after(step).is_break().then_some(Provisioned::Stopped(step));
    // Before anything is recorded: the cluster answers, and a database by this name is taken
    // over only when an earlier run of this provisioning made it (the registry says so).
    let registered = crate::platform::tenants::find_by_id(db, tenant_id)
        .await?
        .ok_or(RepoError::NotFound)?;
    crate::platform::moves::refuse_if_moving(db, tenant_id).await?;
    if registered.placement().dedicated().is_none() && to.database_exists(&database).await? {
        return Err(RepoError::Refused(Refusal::DatabaseExists { database }));
    }
    if let Some(done) = mark(db, tenant_id, &to.cluster, &database).await? {
        return Ok(done);
    }
    if let Some(stopped) = stop(Step::Marked) {
        return Ok(stopped);
    }
    drain(db, tenant_id).await?;
    if let Some(stopped) = stop(Step::Drained) {
        return Ok(stopped);
    }
    create_database(to, &database).await?;
    if let Some(stopped) = stop(Step::Created) {
        return Ok(stopped);
    }
    let home = to.owner.clone().database(&database);
    Db::migrate_at(&crate::MIGRATOR, home.clone(), MigrationLimits::default())
        .await
        .map_err(|err| RepoError::Delegated {
            what: "migrating the workspace's database",
            detail: err.to_string(),
        })?;
    if let Some(stopped) = stop(Step::Migrated) {
        return Ok(stopped);
    }
    let rows = copy_rows(db, tenant_id, &home, &to.cluster).await?;
    if let Some(stopped) = stop(Step::Copied) {
        return Ok(stopped);
    }
    switch(db, tenant_id, &home, &to.cluster, &database, actor).await?;
    if let Some(stopped) = stop(Step::Switched) {
        return Ok(stopped);
    }
    Ok(Provisioned::Done { database, rows })
}

/// Step 1. `Some` when there is nothing to do (already there).
async fn mark(
    db: &Db,
    tenant_id: TenantId,
    cluster: &str,
    database: &str,
) -> Result<Option<Provisioned>, RepoError> {
    let mut tx = begin_in_control(db, tenant_id).await?;
    let state = lock_tenant(&mut tx, tenant_id).await?;
    state.refuse_if_erased()?;
    // A closed workspace is on its way out: a purge must not find a database made behind it.
    if state.status != domain::TenantStatus::Active.as_db() {
        return Err(RepoError::Conflict { field: "status" });
    }
    let placed = sqlx::query!(
        "SELECT placement_cluster, placement_state FROM tenants WHERE id = $1",
        tenant_id.as_uuid()
    )
    .fetch_one(&mut *tx)
    .await?;
    match (placed.placement_cluster, placed.placement_state.as_deref()) {
        (None, _) => {}
        (Some(here), Some("provisioning")) if here == cluster => return Ok(None),
        (Some(here), Some("ready")) if here == cluster => {
            return Ok(Some(Provisioned::AlreadyThere {
                database: database.to_owned(),
            }))
        }
        (Some(elsewhere), _) => {
            return Err(RepoError::Refused(Refusal::PlacedElsewhere {
                cluster: elsewhere,
            }))
        }
    }
    // Rows of these change place by a move, which verifies what it copied; a new
    // workspace's few rows (its members, their devices) are copied here.
    let holds_data = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM products WHERE tenant_id = $1)
               OR EXISTS (SELECT 1 FROM orders WHERE tenant_id = $1)
               OR EXISTS (SELECT 1 FROM customers WHERE tenant_id = $1) AS "holds!""#,
        tenant_id.as_uuid()
    )
    .fetch_one(&mut *tx)
    .await?;
    if holds_data {
        return Err(RepoError::Refused(Refusal::HoldsData));
    }
    sqlx::query!(
        "UPDATE tenants SET placement_cluster = $2, placement_database = $3,
                            placement_state = 'provisioning'
          WHERE id = $1",
        tenant_id.as_uuid(),
        cluster,
        database
    )
    .execute(&mut *tx)
    .await?;
    commit_announced(db, tx, tenant_id).await?;
    Ok(None)
}

/// Step 2: the move lock's key, as `app_enter_tenant` takes it shared.
async fn drain(db: &Db, tenant_id: TenantId) -> Result<(), RepoError> {
    let mut tx = begin_in_control(db, tenant_id).await?;
    wait_for_transactions(&mut tx, tenant_id).await?;
    tx.rollback().await?;
    Ok(())
}

/// Takes the move lock exclusively in the transaction on `conn` (its database's): returns
/// once every transaction of the workspace that began there before has ended.
pub(crate) async fn wait_for_transactions(
    conn: &mut PgConnection,
    tenant_id: TenantId,
) -> Result<(), RepoError> {
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(1397903693, hashtext($1::uuid::text))",
        tenant_id.as_uuid()
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Step 3. A database left by a stopped run is kept (and finished).
pub(crate) async fn create_database(to: &Destination, database: &str) -> Result<(), RepoError> {
    let mut conn = to.owner.connect().await?;
    let name = quote_ident(database);
    match sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
    {
        // Made by a stopped run of this provisioning, or by another one first.
        Err(sqlx::Error::Database(err)) if err.code().as_deref() == Some("42P04") => {}
        other => {
            other?;
        }
    }
    // Every role may connect to a new database by default; this one is the workspace's.
    sqlx::query(&format!("REVOKE ALL ON DATABASE {name} FROM PUBLIC"))
        .execute(&mut conn)
        .await?;
    sqlx::query(&format!(
        "GRANT CONNECT, TEMPORARY ON DATABASE {name} TO {}",
        quote_ident(&to.app_role)
    ))
    .execute(&mut conn)
    .await?;
    conn.close().await?;
    Ok(())
}
