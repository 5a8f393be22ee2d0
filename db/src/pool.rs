use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool, Postgres, Transaction};

use crate::cache::TtlCache;
use crate::Tenant;

/// How to reach the database as the application role.
#[derive(Debug, Clone)]
pub struct DbSettings {
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// How long a tenant looked up by its slug is reused. Changes made through this process
    /// (the console) are seen at once; another process sees them within this time.
    pub tenant_cache: Duration,
    /// The URL leads to a transaction-pooling proxy (PgBouncer `pool_mode = transaction`):
    /// every statement runs inside a transaction and no statement is kept prepared across
    /// transactions. The proxy must reset its server connections after each transaction
    /// (`server_reset_query = DISCARD ALL`, `server_reset_query_always = 1`).
    pub transaction_pooling: bool,
}

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
    /// Tenants by slug: every request resolves its Host to one.
    pub(crate) tenants: Arc<TtlCache<String, Tenant>>,
    /// Each tenant's limits, for showing usage (never for enforcing them).
    pub(crate) caps: Arc<TtlCache<domain::TenantId, Arc<Vec<crate::tenant::plan::Cap>>>>,
    transaction_pooling: bool,
    outage: Arc<Outage>,
}

/// While the database is unreachable, every request would wait the whole acquire timeout
/// (sqlx keeps retrying the connection until then) before its 503. Once a wait has timed out
/// while no other wait succeeded either, later ones give up after [`Outage::FAST_TIMEOUT`]:
/// enough to connect to a database that is back, short enough that a client hears
/// "unavailable" at once. The first success ends the outage.
///
/// A pool that is only busy (every connection in use, a spike of requests) is not an outage:
/// connections keep coming back, so some wait succeeds every few milliseconds, and a waiter
/// that timed out there does not shorten anyone else's wait.
struct Outage {
    started: Instant,
    /// Milliseconds after `started` of the last wait that got a connection.
    last_success_ms: AtomicU64,
    /// Milliseconds after `started` of the last timed-out wait of an outage; 0 when none.
    last_failure_ms: AtomicU64,
    /// During an outage one waiter at a time keeps the full timeout, so a database that takes
    /// longer than the short timeout to accept a connection (TLS, recovery) is still reached.
    probing: AtomicBool,
}

impl Outage {
    const FAST_TIMEOUT: Duration = Duration::from_millis(500);
    /// A timed-out wait means an outage only if no wait succeeded for this long before it.
    const NOTHING_SUCCEEDED_FOR: Duration = Duration::from_secs(1);
    /// A failure older than this no longer counts: waits get the full timeout again.
    const REMEMBERED: Duration = Duration::from_secs(10);

    fn new() -> Self {
        Self {
            started: Instant::now(),
            last_success_ms: AtomicU64::new(0),
            last_failure_ms: AtomicU64::new(0),
            probing: AtomicBool::new(false),
        }
    }

    fn connected() -> Self {
        let outage = Self::new();
        outage
            .last_success_ms
            .store(outage.now_ms(), Ordering::Relaxed);
        outage
    }

    fn now_ms(&self) -> u64 {
        // Never 0, which means "no outage".
        self.started.elapsed().as_millis() as u64 + 1
    }

    fn ongoing(&self) -> bool {
        let last = self.last_failure_ms.load(Ordering::Relaxed);
        last != 0 && self.now_ms().saturating_sub(last) < Self::REMEMBERED.as_millis() as u64
    }

    /// Runs one wait for a connection, shortened during an outage, and records its outcome.
    async fn guard<T>(
        &self,
        wait: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, sqlx::Error> {
        let ongoing = self.ongoing();
        // Released on drop, so a cancelled request does not keep the probe to itself.
        let probe = ongoing.then(|| ProbeTurn::take(&self.probing)).flatten();
        let shortened = ongoing && probe.is_none();
        let result = if shortened {
            tokio::time::timeout(Self::FAST_TIMEOUT, wait)
                .await
                .unwrap_or(Err(sqlx::Error::PoolTimedOut))
        } else {
            wait.await
        };
        drop(probe);
        let now = self.now_ms();
        match &result {
            Ok(_) => {
                self.last_success_ms.store(now, Ordering::Relaxed);
                self.last_failure_ms.store(0, Ordering::Relaxed);
            }
            // A shortened wait says nothing new: only a full one extends the outage.
            Err(sqlx::Error::PoolTimedOut) if !shortened => {
                // 0: nothing has succeeded since start-up.
                let last_success = self.last_success_ms.load(Ordering::Relaxed);
                if last_success == 0
                    || now.saturating_sub(last_success)
                        >= Self::NOTHING_SUCCEEDED_FOR.as_millis() as u64
                {
                    self.last_failure_ms.store(now, Ordering::Relaxed);
                }
            }
            Err(_) => {}
        }
        result
    }
}

/// The one full-length wait allowed during an outage.
struct ProbeTurn<'a>(&'a AtomicBool);

impl<'a> ProbeTurn<'a> {
    fn take(flag: &'a AtomicBool) -> Option<Self> {
        flag.compare_exchange(false, true, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
            .then_some(ProbeTurn(flag))
    }
}

impl Drop for ProbeTurn<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

fn tenant_cache(ttl: Duration) -> Arc<TtlCache<String, Tenant>> {
    Arc::new(TtlCache::new(ttl, 100_000))
}

fn caps_cache(
    ttl: Duration,
) -> Arc<TtlCache<domain::TenantId, Arc<Vec<crate::tenant::plan::Cap>>>> {
    Arc::new(TtlCache::new(ttl, 100_000))
}

impl Db {
    /// Opens the pool and proves the database answers, so a wrong address fails at start-up
    /// with one clear line instead of on the first request.
    pub async fn connect(settings: &DbSettings) -> Result<Self, StartupError> {
        let mut options = parse_url(&settings.url)?;
        if settings.transaction_pooling {
            options = options.statement_cache_capacity(0);
        }
        let target = describe(&options);
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
            .connect_with(options)
            .await
            .map_err(|err| StartupError::Unreachable {
                target,
                reason: plain_reason(&err),
            })?;
        Ok(Self {
            pool,
            tenants: tenant_cache(settings.tenant_cache),
            caps: caps_cache(settings.tenant_cache),
            transaction_pooling: settings.transaction_pooling,
            // The probe above just reached the database.
            outage: Arc::new(Outage::connected()),
        })
    }

    /// For tests and tools that already hold a pool (for example one made by `#[sqlx::test]`).
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            tenants: tenant_cache(TENANT_CACHE_TTL),
            caps: caps_cache(TENANT_CACHE_TTL),
            transaction_pooling: false,
            outage: Arc::new(Outage::new()),
        }
    }

    /// The pool itself, for tools that bypass the outage guard (the bulk generator).
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.outage.guard(self.pool.begin()).await
    }

    /// A transaction opened by `statement` (a `BEGIN ...`, possibly followed by more).
    pub(crate) async fn begin_with(
        &self,
        statement: String,
    ) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.outage.guard(self.pool.begin_with(statement)).await
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

impl Db {
    /// Applies every pending migration as the owner role (never as the application role).
    pub async fn migrate(owner_url: &str) -> Result<(), StartupError> {
        let options = parse_url(owner_url)?;
        let target = describe(&options);
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|err| StartupError::Unreachable {
                target: target.clone(),
                reason: plain_reason(&err),
            })?;
        let result = crate::MIGRATOR
            .run(&pool)
            .await
            .map_err(|err| StartupError::Migration {
                target,
                reason: err.to_string(),
            });
        pool.close().await;
        result
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
    async fn after_one_timed_out_wait_the_next_ones_give_up_quickly() {
        let outage = Outage::new();
        let timed_out = outage
            .guard(async { Err::<(), _>(sqlx::Error::PoolTimedOut) })
            .await;
        assert!(matches!(timed_out, Err(sqlx::Error::PoolTimedOut)));
        assert!(outage.ongoing());

        // Another request is making the outage's one full-length wait.
        let _probe = ProbeTurn::take(&outage.probing).unwrap();
        let started = Instant::now();
        let never = outage.guard(std::future::pending::<Result<(), sqlx::Error>>());
        assert!(matches!(never.await, Err(sqlx::Error::PoolTimedOut)));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_connection_ends_the_outage() {
        let outage = Outage::new();
        let _ = outage
            .guard(async { Err::<(), _>(sqlx::Error::PoolTimedOut) })
            .await;
        outage
            .guard(async { Ok::<_, sqlx::Error>(()) })
            .await
            .unwrap();
        assert!(!outage.ongoing());
    }

    #[tokio::test]
    async fn during_an_outage_one_waiter_keeps_the_full_wait() {
        let outage = Outage::new();
        let _ = outage
            .guard(async { Err::<(), _>(sqlx::Error::PoolTimedOut) })
            .await;
        // A slow connection attempt (say 700 ms) holds the probe and still gets through...
        let slow = outage.guard(async {
            tokio::time::sleep(Duration::from_millis(700)).await;
            Ok::<_, sqlx::Error>(())
        });
        // ...while everyone else gives up early.
        let other = outage.guard(std::future::pending::<Result<(), sqlx::Error>>());
        let (slow, other) = tokio::join!(slow, other);
        assert!(slow.is_ok());
        assert!(matches!(other, Err(sqlx::Error::PoolTimedOut)));
    }

    #[tokio::test]
    async fn a_busy_pool_is_not_an_outage() {
        let outage = Outage::new();
        // Another request got a connection a moment ago: the pool is busy, not unreachable.
        outage
            .guard(async { Ok::<_, sqlx::Error>(()) })
            .await
            .unwrap();
        let _ = outage
            .guard(async { Err::<(), _>(sqlx::Error::PoolTimedOut) })
            .await;
        assert!(!outage.ongoing());
    }

    #[tokio::test]
    async fn other_errors_are_not_an_outage() {
        let outage = Outage::new();
        let _ = outage
            .guard(async { Err::<(), _>(sqlx::Error::RowNotFound) })
            .await;
        assert!(!outage.ongoing());
    }

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
