//! A stand-in for provisioning, for the tests that prove a workspace placed in a database of
//! its own is served from there and from nowhere else: a database on the test cluster with
//! every migration, the workspace's registry row and members copied into it, and the control
//! database's registry pointing at it. Not the product's provisioning (that comes with
//! `server tenant provision`); it makes the same end state.

use std::collections::HashMap;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::{begin_pinned, TestDatabase};
use crate::{Db, PoolLimits};

/// The test cluster's name in the registry and in the handles these tests use: the cluster
/// of this test's control database.
pub const TEST_CLUSTER: &str = "test";

/// A second cluster (`./dev test` starts one and names it in `STOCKROOM_TEST_CLUSTER2_*`),
/// for workspaces placed on another cluster than the control database's.
pub const SECOND_CLUSTER: &str = "second";

/// The second cluster's owner and application roles, when `./dev test` started one.
fn second_cluster() -> Option<(PgConnectOptions, PgConnectOptions)> {
    let url = |role: &str| std::env::var(format!("STOCKROOM_TEST_CLUSTER2_{role}_URL")).ok();
    let (owner, app) = (url("OWNER")?, url("APP")?);
    let parse = |url: String| url.parse::<PgConnectOptions>().expect("cluster URL parses");
    Some((parse(owner), parse(app)))
}

impl TestDatabase {
    /// The application role's handle with the test cluster registered, as a server with a
    /// `[clusters.test]` setting has it (same caches and listener as `self.db`).
    /// The second cluster is registered too when there is one.
    pub fn db_with_clusters(&self, limits: PoolLimits) -> Db {
        let app: PgConnectOptions = self.app_url.parse().expect("app URL parses");
        let mut clusters = HashMap::from([(TEST_CLUSTER.to_owned(), app)]);
        if let Some((_, second)) = second_cluster() {
            clusters.insert(SECOND_CLUSTER.to_owned(), second);
        }
        self.db.clone().with_clusters(clusters, limits)
    }

    /// The owner role on `cluster`, connected to its own database.
    fn cluster_owner(&self, cluster: &str) -> PgConnectOptions {
        match cluster {
            TEST_CLUSTER => self.owner.clone(),
            SECOND_CLUSTER => {
                second_cluster()
                    .expect("STOCKROOM_TEST_CLUSTER2_OWNER_URL and _APP_URL name the second cluster (./dev test sets them)")
                    .0
            }
            other => panic!("no test cluster `{other}`"),
        }
    }

    /// The control database as the owner role, as the operator's commands reach it.
    pub async fn owner_db(&self) -> Db {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect_with(self.owner.clone())
            .await
            .expect("the owner role connects");
        Db::from_pool(pool)
    }

    /// The test cluster as `server tenant provision` is given it.
    pub fn test_cluster(&self) -> crate::platform::provision::Destination {
        crate::platform::provision::Destination::new(TEST_CLUSTER, &self.owner_url(), &self.app_url)
            .expect("the test URLs parse")
    }

    /// Points the registry's `tenant` at `database` on `cluster`, ready, and touches nothing
    /// else: a placement on a cluster this test cannot reach.
    pub async fn place_in_registry_only(&self, tenant: uuid::Uuid, cluster: &str, database: &str) {
        let mut conn = self.owner.connect().await.expect("owner connects");
        sqlx::query(
            "UPDATE tenants SET placement_cluster = $2, placement_database = $3,
                                placement_state = 'ready' WHERE id = $1",
        )
        .bind(tenant)
        .bind(cluster)
        .bind(database)
        .execute(&mut conn)
        .await
        .expect("placement set");
        conn.close().await.ok();
        self.db.caches.clear();
    }

    /// How many migrations `database` on the test cluster has applied.
    pub async fn applied_migrations(&self, database: &str) -> i64 {
        let mut conn = self
            .owner
            .clone()
            .database(database)
            .connect()
            .await
            .expect("owner connects");
        let applied = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut conn)
            .await
            .expect("migrations counted");
        conn.close().await.ok();
        applied
    }

    /// Whether the test cluster has a database by this name.
    pub async fn database_exists(&self, name: &str) -> bool {
        self.database_exists_on(TEST_CLUSTER, name).await
    }

    /// Gives `tenant` a database of its own on the test cluster and returns its name: its
    /// registry row and its members move there, and the registry says so (`ready`).
    pub async fn place_dedicated(&self, tenant: uuid::Uuid) -> String {
        self.place_dedicated_on(tenant, TEST_CLUSTER).await
    }

    /// [`Self::place_dedicated`] on `cluster` ([`TEST_CLUSTER`] or [`SECOND_CLUSTER`]).
    pub async fn place_dedicated_on(&self, tenant: uuid::Uuid, cluster: &str) -> String {
        self.place_dedicated_with(tenant, cluster, &crate::MIGRATOR)
            .await
    }

    /// [`Self::place_dedicated`] in a database one migration behind this build.
    pub async fn place_dedicated_one_migration_behind(&self, tenant: uuid::Uuid) -> String {
        let behind = super::migrator_without_newest().await;
        self.place_dedicated_with(tenant, TEST_CLUSTER, &behind)
            .await
    }

    async fn place_dedicated_with(
        &self,
        tenant: uuid::Uuid,
        cluster: &str,
        migrator: &sqlx::migrate::Migrator,
    ) -> String {
        let database = format!("stockroom_w_{}", tenant.simple());
        let mut admin = self
            .cluster_owner(cluster)
            .connect()
            .await
            .expect("owner connects");
        sqlx::query(&format!("CREATE DATABASE {database}"))
            .execute(&mut admin)
            .await
            .expect("workspace database created");
        admin.close().await.ok();
        let home = self.cluster_owner(cluster).database(&database);
        let mut migrating = home.connect().await.expect("owner connects to it");
        migrator
            .run(&mut migrating)
            .await
            .expect("migrations apply");
        migrating.close().await.ok();

        let mut control = self.owner.connect().await.expect("owner connects");
        begin_pinned(&mut control, tenant).await;
        let registry: String =
            sqlx::query_scalar("SELECT to_jsonb(t)::text FROM tenants t WHERE id = $1")
                .bind(tenant)
                .fetch_one(&mut control)
                .await
                .expect("registry row read");
        let members: String = sqlx::query_scalar(
            "SELECT coalesce(jsonb_agg(to_jsonb(u)), '[]')::text FROM users u WHERE tenant_id = $1",
        )
        .bind(tenant)
        .fetch_one(&mut control)
        .await
        .expect("members read");

        let mut dedicated = home.connect().await.expect("owner connects to it");
        begin_pinned(&mut dedicated, tenant).await;
        for statement in [
            "INSERT INTO tenants SELECT * FROM jsonb_populate_record(NULL::tenants, $1::jsonb)",
            "INSERT INTO users SELECT * FROM jsonb_populate_recordset(NULL::users, $2::jsonb)",
            "UPDATE tenants SET placement_cluster = $3, placement_database = current_database(),
                                placement_state = 'ready'",
        ] {
            sqlx::query(statement)
                .bind(&registry)
                .bind(&members)
                .bind(cluster)
                .execute(&mut dedicated)
                .await
                .unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        sqlx::query("COMMIT")
            .execute(&mut dedicated)
            .await
            .expect("commit");
        dedicated.close().await.ok();

        for statement in [
            "INSERT INTO member_directory (tenant_id, user_id, email)
             SELECT tenant_id, id, email FROM users WHERE tenant_id = $1 AND removed_at IS NULL",
            "DELETE FROM users WHERE tenant_id = $1",
            "UPDATE tenants SET placement_cluster = $2, placement_database = $3,
                                placement_state = 'ready' WHERE id = $1",
            "COMMIT",
        ] {
            sqlx::query(statement)
                .bind(tenant)
                .bind(cluster)
                .bind(&database)
                .execute(&mut control)
                .await
                .unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        control.close().await.ok();
        self.db.caches.clear();
        database
    }

    /// Sets the registry's state of a placed workspace (`provisioning` / `ready`).
    pub async fn set_placement_state(&self, tenant: uuid::Uuid, state: &str) {
        let mut conn = self.owner.connect().await.expect("owner connects");
        sqlx::query("UPDATE tenants SET placement_state = $2 WHERE id = $1")
            .bind(tenant)
            .bind(state)
            .execute(&mut conn)
            .await
            .expect("placement state set");
        conn.close().await.ok();
        self.db.caches.clear();
    }

    /// How many rows of `tenant` `table` holds in `database` (this test's control database
    /// when `None`), counted as the owner with the workspace pinned.
    pub async fn count_rows(&self, database: Option<&str>, table: &str, tenant: uuid::Uuid) -> i64 {
        self.count_rows_on(TEST_CLUSTER, database, table, tenant)
            .await
    }

    /// [`Self::count_rows`] in a database on `cluster`.
    pub async fn count_rows_on(
        &self,
        cluster: &str,
        database: Option<&str>,
        table: &str,
        tenant: uuid::Uuid,
    ) -> i64 {
        let mut conn = self.connect_to(cluster, database).await;
        begin_pinned(&mut conn, tenant).await;
        let count = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {table} WHERE tenant_id = $1"
        ))
        .bind(tenant)
        .fetch_one(&mut conn)
        .await
        .expect("rows counted");
        conn.close().await.ok();
        count
    }

    /// Holds the lock a move takes on `tenant` (exclusive, in the control database) until
    /// [`Self::release_move_lock`].
    pub async fn hold_move_lock(&self, tenant: uuid::Uuid) -> sqlx::PgConnection {
        let mut conn = self.owner.connect().await.expect("owner connects");
        sqlx::query("SELECT pg_advisory_lock(1397903693, hashtext($1::text))")
            .bind(tenant.to_string())
            .execute(&mut conn)
            .await
            .expect("move lock taken");
        conn
    }

    pub async fn release_move_lock(&self, mut held: sqlx::PgConnection, tenant: uuid::Uuid) {
        sqlx::query("SELECT pg_advisory_unlock(1397903693, hashtext($1::text))")
            .bind(tenant.to_string())
            .execute(&mut held)
            .await
            .expect("move lock released");
        held.close().await.ok();
    }

    /// Both test clusters (the second when `./dev test` started one) as `server tenant move`
    /// is given them.
    pub fn move_clusters(&self) -> crate::platform::moves::Clusters {
        let mut clusters = crate::platform::moves::Clusters::new();
        clusters.insert(TEST_CLUSTER.to_owned(), self.test_cluster());
        if second_cluster().is_some() {
            let url = |role: &str| {
                std::env::var(format!("STOCKROOM_TEST_CLUSTER2_{role}_URL"))
                    .expect("set with the second cluster")
            };
            clusters.insert(
                SECOND_CLUSTER.to_owned(),
                crate::platform::provision::Destination::new(
                    SECOND_CLUSTER,
                    &url("OWNER"),
                    &url("APP"),
                )
                .expect("the second cluster's URLs parse"),
            );
        }
        clusters
    }

    /// Every table of `tenant` that a move carries (a `tenant_id`, forced row-level security,
    /// not kept by the registry), in `database` on `cluster` (the control database when
    /// `None`): its number of rows and a digest of the rows' sorted hashes. Computed apart
    /// from the product's own checksum, so a test compares the two ends without trusting it.
    pub async fn fingerprint(
        &self,
        cluster: &str,
        database: Option<&str>,
        tenant: uuid::Uuid,
    ) -> std::collections::BTreeMap<String, (i64, String)> {
        let mut conn = self.connect_to(cluster, database).await;
        begin_pinned(&mut conn, tenant).await;
        sqlx::query("SET LOCAL TimeZone = 'UTC'")
            .execute(&mut conn)
            .await
            .expect("time zone set");
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
              WHERE c.relkind IN ('r', 'p') AND c.relforcerowsecurity
                AND c.relname NOT IN ('tenant_feature_overrides', 'tenant_limit_overrides', 'member_directory')
              ORDER BY 1",
        )
        .fetch_all(&mut conn)
        .await
        .expect("tables listed");
        let mut prints = std::collections::BTreeMap::new();
        for table in tables {
            let print: (i64, Option<String>) = sqlx::query_as(&format!(
                "SELECT count(*), md5(string_agg(md5(t::text), '' ORDER BY md5(t::text)))
                   FROM {table} t WHERE tenant_id = $1"
            ))
            .bind(tenant)
            .fetch_one(&mut conn)
            .await
            .expect("table fingerprinted");
            prints.insert(table, (print.0, print.1.unwrap_or_default()));
        }
        conn.close().await.ok();
        prints
    }

    /// Runs `statement` as the owner in `database` on `cluster` (the control database when
    /// `None`) with `tenant` pinned, and commits: rows a test puts or spoils there.
    pub async fn run_pinned(
        &self,
        cluster: &str,
        database: Option<&str>,
        tenant: uuid::Uuid,
        statement: &str,
    ) {
        let mut conn = self.connect_to(cluster, database).await;
        begin_pinned(&mut conn, tenant).await;
        sqlx::query(statement)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
        sqlx::query("COMMIT")
            .execute(&mut conn)
            .await
            .expect("commit");
        conn.close().await.ok();
    }

    /// Applies the migrations in `dir` (a test's own) to `database` on the test cluster.
    pub async fn migrate_extra_in(&self, database: &str, dir: &std::path::Path) {
        let mut migrator = sqlx::migrate::Migrator::new(dir)
            .await
            .expect("the test's migrations read");
        migrator.set_ignore_missing(true);
        let mut conn = self.connect_to(TEST_CLUSTER, Some(database)).await;
        migrator
            .run(&mut conn)
            .await
            .expect("the test's migrations apply");
        conn.close().await.ok();
    }

    /// Whether `cluster` has a database by this name.
    pub async fn database_exists_on(&self, cluster: &str, name: &str) -> bool {
        let mut conn = self
            .cluster_owner(cluster)
            .connect()
            .await
            .expect("owner connects");
        let exists =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(name)
                .fetch_one(&mut conn)
                .await
                .expect("catalog read");
        conn.close().await.ok();
        exists
    }

    async fn connect_to(&self, cluster: &str, database: Option<&str>) -> sqlx::PgConnection {
        let options = match database {
            Some(name) => self.cluster_owner(cluster).database(name),
            None => self.owner.clone(),
        };
        options.connect().await.expect("owner connects")
    }

    /// Moves `tenant` to `target` as `server tenant move` does (the owner role, both test
    /// clusters, no hold), stopping after `stop_after` if given.
    pub async fn run_move(
        &self,
        tenant: domain::TenantId,
        target: &crate::platform::moves::Target,
        stop_after: Option<crate::platform::moves::Phase>,
    ) -> Result<crate::platform::moves::Moved, crate::RepoError> {
        let owner = self.owner_db().await;
        let moved = crate::platform::moves::move_workspace(
            &owner,
            tenant,
            target,
            &self.move_clusters(),
            std::time::Duration::ZERO,
            crate::platform::console::Actor::System("test"),
            |phase| {
                if Some(phase) == stop_after {
                    std::ops::ControlFlow::Break(())
                } else {
                    std::ops::ControlFlow::Continue(())
                }
            },
        )
        .await;
        owner.close().await;
        moved
    }
}
