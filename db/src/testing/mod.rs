//! Test support for crates above this one: a freshly migrated database reached as the
//! application role, so their tests never touch SQL or the pool themselves.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};

use crate::Db;

mod import;
mod placement;

pub use placement::{SECOND_CLUSTER, TEST_CLUSTER};

/// Takes and lets go of a workspace's run lock, as every provisioning, move and purge does.
pub async fn run_lock_round_trip(
    db: &Db,
    tenant: domain::TenantId,
) -> Result<(), crate::RepoError> {
    crate::platform::provision::RunLock::take(db, tenant)
        .await?
        .release()
        .await
}

/// A migrated scratch database: `db` is the application role's handle; the owner's
/// connection is kept for the few platform changes tests need before the console exists.
pub struct TestDatabase {
    pub db: Db,
    owner: PgConnectOptions,
    app_url: String,
}

impl TestDatabase {
    /// The application role's URL for this database, for tests that start the real binary.
    pub fn app_url(&self) -> &str {
        &self.app_url
    }

    /// The owner role's URL for this database, for tests that run operator commands.
    pub fn owner_url(&self) -> String {
        let owner_url = std::env::var("DATABASE_URL").expect("DATABASE_URL names the owner role");
        let database = self.owner.get_database().expect("a database is named");
        match owner_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{database}"),
            None => owner_url,
        }
    }

    /// Sets a tenant's status the way the platform console will (`active` / `suspended`).
    pub async fn set_tenant_status(&self, slug: &str, status: &str) {
        let mut conn = self.owner.connect().await.expect("owner connects");
        sqlx::query("UPDATE tenants SET status = $1 WHERE slug = $2")
            .bind(status)
            .bind(slug)
            .execute(&mut conn)
            .await
            .expect("status updated");
        conn.close().await.ok();
        // The console announces its changes; this stand-in forgets what this process kept.
        self.db.caches.clear();
    }

    /// Backend ids of this database's connections whose `application_name` is LIKE the pattern,
    /// as the application role sees them.
    pub async fn backends_named(&self, name_like: &str) -> Vec<i32> {
        let mut conn = self.app_connection().await;
        let pids = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity
             WHERE application_name LIKE $1 AND datname = current_database()",
        )
        .bind(name_like)
        .fetch_all(&mut conn)
        .await
        .expect("pg_stat_activity readable");
        conn.close().await.ok();
        pids
    }

    /// Cuts one of the application role's connections, as a failover or a network fault would,
    /// and returns once the backend is gone.
    pub async fn cut_connection(&self, pid: i32) {
        let mut conn = self.app_connection().await;
        let cut: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1, 5000)")
            .bind(pid)
            .fetch_one(&mut conn)
            .await
            .expect("terminate backend");
        assert!(cut, "backend {pid} was not cut");
        conn.close().await.ok();
    }

    /// Locks one product's row from outside the app until the returned connection is
    /// dropped, so a write to it waits inside its workspace's transaction.
    pub async fn lock_product(&self, tenant: domain::TenantId, sku: &str) -> sqlx::PgConnection {
        let mut conn = self.app_connection().await;
        begin_pinned(&mut conn, tenant.as_uuid()).await;
        let locked: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM products WHERE tenant_id = $1 AND sku = $2 FOR UPDATE",
        )
        .bind(tenant.as_uuid())
        .bind(sku)
        .fetch_optional(&mut conn)
        .await
        .expect("row locked");
        assert!(locked.is_some(), "no product {sku} to lock");
        conn
    }

    async fn app_connection(&self) -> sqlx::PgConnection {
        let options: PgConnectOptions = self.app_url.parse().expect("app URL parses");
        options
            .connect()
            .await
            .expect("the application role connects")
    }
}

/// Creates a new database with every migration applied (as the owner, from `DATABASE_URL`)
/// and returns a handle connected as the application role (`STOCKROOM_TEST_APP_URL`).
/// `./dev test` sets both and throws the whole cluster away afterwards.
pub async fn fresh_database() -> TestDatabase {
    fresh_database_migrated(&crate::MIGRATOR).await
}

/// Like [`fresh_database`], with every migration but the newest applied: a database a new
/// build finds behind it until `server migrate` runs.
pub async fn fresh_database_one_migration_behind() -> TestDatabase {
    fresh_database_migrated(&migrator_without_newest().await).await
}

/// Every migration but the newest.
async fn migrator_without_newest() -> sqlx::migrate::Migrator {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let copy = std::env::temp_dir().join(format!("stockroom-behind-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&copy).expect("temporary migrations directory");
    let mut files: Vec<_> = std::fs::read_dir(&source)
        .expect("migrations listed")
        .map(|entry| entry.expect("migration entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files.pop();
    for file in &files {
        std::fs::copy(file, copy.join(file.file_name().expect("a file name")))
            .expect("migration copied");
    }
    let migrator = sqlx::migrate::Migrator::new(copy.as_path())
        .await
        .expect("migrations read");
    std::fs::remove_dir_all(&copy).ok();
    migrator
}

async fn fresh_database_migrated(migrations: &sqlx::migrate::Migrator) -> TestDatabase {
    let owner_url = std::env::var("DATABASE_URL")
        .expect("DATABASE_URL names the owner role (./dev test sets it)");
    let app_url = std::env::var("STOCKROOM_TEST_APP_URL")
        .expect("STOCKROOM_TEST_APP_URL names the app role (./dev test sets it)");
    let owner: PgConnectOptions = owner_url.parse().expect("DATABASE_URL parses");
    let app: PgConnectOptions = app_url.parse().expect("STOCKROOM_TEST_APP_URL parses");
    let name = format!("stockroom_test_{}", uuid::Uuid::new_v4().simple());

    let mut admin = owner.connect().await.expect("the owner role can connect");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create test database");
    admin.close().await.ok();

    let mut migrator = owner
        .clone()
        .database(&name)
        .connect()
        .await
        .expect("connect to the test database");
    migrations
        .run(&mut migrator)
        .await
        .expect("migrations apply");
    migrator.close().await.ok();

    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(app.clone().database(&name))
        .await
        .expect("the application role can connect");
    // Same server and credentials, this test's database.
    let app_url = match app_url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => app_url.clone(),
    };
    // Listening, as a server does, so tests run through the same caches production uses.
    let db = Db::from_pool(pool);
    db.listen(app.database(&name));
    TestDatabase {
        db,
        owner: owner.database(&name),
        app_url,
    }
}

impl TestDatabase {
    /// Applies the migrations in `dir` (a test's own, numbered after the real ones) on top of
    /// this database, as `server migrate` applies the real ones.
    pub async fn migrate_extra(
        &self,
        dir: &std::path::Path,
        limits: crate::MigrationLimits,
    ) -> Result<(), crate::StartupError> {
        let mut migrator = sqlx::migrate::Migrator::new(dir)
            .await
            .expect("the test's migrations read");
        migrator.set_ignore_missing(true);
        Db::migrate_with(&migrator, &self.owner_url(), limits).await
    }

    /// Reads `table` in a transaction left open until the returned connection is dropped, as a
    /// long report would: its lock lets every reader and writer through, and nothing that needs
    /// the table to itself.
    pub async fn read_in_open_transaction(&self, table: &str) -> sqlx::PgConnection {
        let mut conn = self.app_connection().await;
        sqlx::query("BEGIN")
            .execute(&mut conn)
            .await
            .expect("begin");
        sqlx::query(&format!("SELECT count(*) FROM {table}"))
            .execute(&mut conn)
            .await
            .expect("table read");
        conn
    }
}

/// Opens a transaction on `conn` with `tenant` pinned, as the repository's are.
async fn begin_pinned(conn: &mut sqlx::PgConnection, tenant: uuid::Uuid) {
    sqlx::query("BEGIN")
        .execute(&mut *conn)
        .await
        .expect("begin");
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(tenant.to_string())
        .execute(&mut *conn)
        .await
        .expect("tenant pinned");
}
