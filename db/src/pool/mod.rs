mod changes;
mod databases;
mod migrate;
mod outage;
mod placed;
mod schema;
mod shares;

use std::sync::Arc;
use std::time::Duration;
#[cfg(test)]
use std::time::Instant;

pub(crate) use databases::Lease;
pub use databases::{DatabaseKey, DatabasePools, LentConnection, OpenPool, PoolLimits};
pub use migrate::MigrationLimits;
use outage::Outage;
use shares::ConnectionShares;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool, Postgres, Transaction};

use crate::caches::Caches;

/// How to reach the database as the application role.
#[derive(Debug, Clone)]
pub struct DbSettings {
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// How long a tenant looked up by its slug, and its caps, are reused at most. Every change
    /// is announced and forgotten at once by every listening process; this is a backstop.
    pub tenant_cache: Duration,
    /// The URL leads to a transaction-pooling proxy (PgBouncer `pool_mode = transaction`):
    /// every statement runs inside a transaction and no statement is kept prepared across
    /// transactions. The proxy must reset its server connections after each transaction
    /// (`server_reset_query = DISCARD ALL`, `server_reset_query_always = 1`).
    pub transaction_pooling: bool,
    /// How long a statement waits for a row or table lock before it gives up with
    /// [`crate::RepoError::LockTimeout`]. Shorter than the request timeout, so a lock wait is
    /// a prompt, logged refusal instead of a request that hangs until it is cut off.
    pub lock_timeout: Duration,
    /// Where to listen for the changes every process announces (see `caches`), as the same
    /// role: `url` itself, or behind a transaction-pooling proxy (which cannot carry `LISTEN`)
    /// a direct address. `None`: nothing is kept in memory and every request reads through.
    pub listen_url: Option<String>,
    /// The registered clusters that hold workspaces' own databases: each one's name and its
    /// application role's URL (whose database part is replaced by the workspace's).
    pub clusters: Vec<(String, String)>,
    /// The pools to those databases, under one budget.
    pub databases: PoolLimits,
}

/// The default for [`DbSettings::lock_timeout`] and for handles made with [`Db::from_pool`].
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// Statements that run outside a tenant transaction (the registry, sessions, the console). On
/// a plain connection normally. Behind a transaction-pooling proxy such as PgBouncer, a
/// statement outside a transaction may be parsed on one server connection and run on another,
/// so there each one gets a transaction of its own.
pub(crate) enum PlatformConn {
    Pooled(PoolConnection<Postgres>),
    Wrapped(Transaction<'static, Postgres>),
}

impl std::ops::Deref for PlatformConn {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        match self {
            PlatformConn::Pooled(conn) => conn,
            PlatformConn::Wrapped(tx) => tx,
        }
    }
}

impl std::ops::DerefMut for PlatformConn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match self {
            PlatformConn::Pooled(conn) => conn,
            PlatformConn::Wrapped(tx) => tx,
        }
    }
}

impl PlatformConn {
    /// Keeps what was written (commits, behind a proxy). A read needs no call: dropping the
    /// connection is enough.
    pub(crate) async fn done(self) -> Result<(), sqlx::Error> {
        match self {
            PlatformConn::Pooled(_) => Ok(()),
            PlatformConn::Wrapped(tx) => tx.commit().await,
        }
    }
}

/// The default for [`DbSettings::tenant_cache`] and for handles made with [`Db::from_pool`].
pub const TENANT_CACHE_TTL: Duration = Duration::from_secs(2);

/// Why the database could not be opened at start-up, phrased for an operator.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database url is not valid: {0}")]
    BadUrl(String),
    #[error("cannot reach the database at {target}: {reason}")]
    Unreachable { target: String, reason: String },
    #[error("migrations failed on {target}: {reason}")]
    Migration { target: String, reason: String },
}

/// The application's handle on PostgreSQL. Cloning is cheap (the pool is shared).
#[derive(Clone)]
pub struct Db {
    pool: PgPool,
    /// What a warm request would otherwise read again: workspaces by slug, caps, sessions,
    /// checked members.
    pub(crate) caches: Arc<Caches>,
    transaction_pooling: bool,
    /// `lock_timeout` in milliseconds, as every transaction's first message sets it.
    lock_timeout_ms: u64,
    outage: Arc<Outage>,
    shares: Arc<ConnectionShares>,
    load: Arc<crate::load::TenantLoad>,
    schema: Arc<schema::SchemaState>,
    /// The workspaces' own databases; `None` when no cluster is registered.
    databases: Option<Arc<DatabasePools>>,
}

impl Db {
    /// Opens the pool and proves the database answers, so a wrong address fails at start-up
    /// with one clear line instead of on the first request.
    pub async fn connect(settings: &DbSettings) -> Result<Self, StartupError> {
        let mut options = parse_url(&settings.url)?;
        let listen_options = settings.listen_url.as_deref().map(parse_url).transpose()?;
        let lock_timeout_ms = settings.lock_timeout.as_millis() as u64;
        if settings.transaction_pooling {
            options = options.statement_cache_capacity(0);
        } else {
            // For the session, so the statements that run outside a transaction carry it too;
            // a transaction-pooling proxy would not pass it on (and runs every statement in a
            // transaction, whose first message sets it).
            options = options.options([("lock_timeout", lock_timeout_ms.to_string())]);
        }
        let target = describe(&options);
        let databases = if settings.clusters.is_empty() {
            None
        } else {
            let mut clusters = std::collections::HashMap::new();
            for (name, url) in &settings.clusters {
                let mut cluster = parse_url(url)?;
                // Behind the same kind of proxy as the control database: nothing stays
                // prepared between transactions (see `DbSettings::transaction_pooling`).
                if settings.transaction_pooling {
                    cluster = cluster.statement_cache_capacity(0);
                }
                clusters.insert(name.clone(), cluster);
            }
            Some(DatabasePools::new(clusters, settings.databases.clone()))
        };
        // One direct attempt first: the pool would only report "timed out", while this says
        // "connection refused" or "password authentication failed".
        let probe = tokio::time::timeout(settings.acquire_timeout, options.connect()).await;
        match probe {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
            }
            Ok(Err(err)) => {
                return Err(StartupError::Unreachable {
                    target,
                    reason: plain_reason(&err),
                });
            }
            Err(_) => {
                return Err(StartupError::Unreachable {
                    target,
                    reason: "timed out".into(),
                });
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .min_connections(1)
            .acquire_timeout(settings.acquire_timeout)
            // No ping per checkout: a dead connection fails its first query and is replaced.
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .map_err(|err| StartupError::Unreachable {
                target,
                reason: plain_reason(&err),
            })?;
        let db = Self {
            pool,
            caches: Arc::new(Caches::new(settings.tenant_cache)),
            transaction_pooling: settings.transaction_pooling,
            lock_timeout_ms,
            // The probe above just reached the database.
            outage: Arc::new(Outage::connected()),
            shares: Arc::new(ConnectionShares::new(
                settings.max_connections,
                settings.acquire_timeout,
            )),
            load: Arc::default(),
            schema: Arc::default(),
            databases,
        };
        if let Some(listen_options) = listen_options {
            db.listen(listen_options);
        }
        Ok(db)
    }

    /// For tests and tools that already hold a pool (for example one made by `#[sqlx::test]`).
    pub fn from_pool(pool: PgPool) -> Self {
        let shares = ConnectionShares::new(
            pool.options().get_max_connections(),
            pool.options().get_acquire_timeout(),
        );
        Self {
            pool,
            shares: Arc::new(shares),
            load: Arc::default(),
            caches: Arc::new(Caches::new(TENANT_CACHE_TTL)),
            transaction_pooling: false,
            lock_timeout_ms: LOCK_TIMEOUT.as_millis() as u64,
            outage: Arc::new(Outage::new()),
            schema: Arc::default(),
            databases: None,
        }
    }

    /// The same handle with another lock timeout for its transactions (tests provoke one).
    pub fn with_lock_timeout(mut self, lock_timeout: Duration) -> Self {
        self.lock_timeout_ms = lock_timeout.as_millis() as u64;
        self
    }

    /// The same handle with another wait for a place in a workspace's connection share
    /// (tests provoke a refusal quickly).
    pub fn with_share_wait(mut self, wait: Duration) -> Self {
        self.shares = Arc::new(ConnectionShares::new(
            self.pool.options().get_max_connections(),
            wait,
        ));
        self
    }

    /// The `set_config` call that gives a transaction its lock timeout, for its first message.
    pub(crate) fn lock_timeout_setting(&self) -> String {
        format!(
            "set_config('lock_timeout', '{}', true)",
            self.lock_timeout_ms
        )
    }

    /// A place in `tenant`'s share of the pool (`percent` of its connections), taken before
    /// its transaction asks the pool for a connection and held until that transaction ends.
    pub(crate) async fn share_place(
        &self,
        tenant: domain::TenantId,
        percent: u32,
    ) -> Result<Option<tokio::sync::OwnedSemaphorePermit>, crate::RepoError> {
        self.shares.take(tenant, percent).await
    }

    /// Who is using what in this process (see `load`).
    pub fn load(&self) -> &crate::load::TenantLoad {
        &self.load
    }

    pub(crate) fn load_handle(&self) -> Arc<crate::load::TenantLoad> {
        self.load.clone()
    }

    /// Session lookups since start: (answered from memory, read from the database).
    pub fn session_cache_counts(&self) -> (u64, u64) {
        self.caches.session_counts()
    }

    /// The most connections the pool opens.
    pub fn pool_max(&self) -> u32 {
        self.pool.options().get_max_connections()
    }

    /// The pool's connections now: (open, idle).
    pub fn pool_use(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// Whether the outage guard holds requests back now (the database did not answer).
    pub fn in_outage(&self) -> bool {
        self.outage.is_open()
    }

    /// The pool itself, for tools that bypass the outage guard (the bulk generator).
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let statement = format!("BEGIN; SELECT {}", self.lock_timeout_setting());
        self.begin_with(statement).await
    }

    /// A transaction opened by `statement` (a `BEGIN ...`, possibly followed by more).
    ///
    /// The `BEGIN` runs in a task of its own. sqlx 0.8 (and 0.9.0) counts a transaction only
    /// once the server has answered its `BEGIN`: a caller dropped in between (a client that
    /// went away, a timeout) would put the connection back in the pool inside a transaction
    /// nothing ever ends, and the next request on it would run there (launchbadge/sqlx#4393;
    /// a read-only one refused every write). The task always finishes, so the transaction is
    /// counted and rolled back when it is dropped.
    pub(crate) async fn begin_with(
        &self,
        statement: String,
    ) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let pool = self.pool.clone();
        let begin = tokio::spawn(async move { pool.begin_with(statement).await });
        let opened = async move { begin.await.map_err(|_| sqlx::Error::WorkerCrashed)? };
        self.outage.guard(opened).await
    }

    /// A connection for platform statements; see [`PlatformConn`].
    pub(crate) async fn platform(&self) -> Result<PlatformConn, sqlx::Error> {
        Ok(if self.transaction_pooling {
            PlatformConn::Wrapped(self.begin().await?)
        } else {
            PlatformConn::Pooled(self.outage.guard(self.pool.acquire()).await?)
        })
    }

    /// True when a trivial query round-trips within the acquire timeout.
    pub async fn is_ready(&self) -> bool {
        let Ok(mut conn) = self.platform().await else {
            return false;
        };
        sqlx::query_scalar!("SELECT 1 AS \"one!\"")
            .fetch_one(&mut *conn)
            .await
            .is_ok()
    }

    /// The session store over the same pool, so sessions share its limits and timeouts.
    pub fn session_store(&self) -> crate::platform::sessions::PgSessionStore {
        crate::platform::sessions::PgSessionStore::new(self.clone())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn parse_url(url: &str) -> Result<PgConnectOptions, StartupError> {
    url.parse::<PgConnectOptions>()
        .map_err(|err| StartupError::BadUrl(plain_reason(&err)))
}

/// host:port/database as user — the password never appears in a message.
fn describe(options: &PgConnectOptions) -> String {
    format!(
        "{}:{}/{} as {}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("(default)"),
        options.get_username()
    )
}

fn plain_reason(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::PoolTimedOut => "timed out".to_owned(),
        sqlx::Error::Database(db) => db.message().to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unreachable_database_answers_not_ready_fast_after_the_first_wait() {
        // Port 1 on loopback refuses connections; sqlx retries until the acquire timeout.
        let options: PgConnectOptions = "postgres://nobody@127.0.0.1:1/none".parse().unwrap();
        let pool = PgPoolOptions::new()
            .acquire_timeout(Duration::from_secs(3))
            .connect_lazy_with(options);
        let db = Db::from_pool(pool);
        assert!(!db.is_ready().await);
        // Two at once: one probes with the full wait, the other gives up early.
        let timed = || async {
            let started = Instant::now();
            (db.is_ready().await, started.elapsed())
        };
        let ((ready_a, took_a), (ready_b, took_b)) = tokio::join!(timed(), timed());
        assert!(!ready_a && !ready_b);
        let quicker = took_a.min(took_b);
        assert!(quicker < Duration::from_secs(2), "took {quicker:?}");
    }
}
