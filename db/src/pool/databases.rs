//! Connections to many databases under one budget: the pools a server keeps for the
//! workspaces that have a database of their own (seed 001), on any registered cluster.
//!
//! Frameworks that open a pool per tenant database run out of connections: a thousand
//! databases times a pool each is more than any server accepts. Here a pool is opened on first
//! use with a small maximum (`per_database`), at most `max_pools` are open at once, so the
//! connections this process holds never exceed `per_database × max_pools` (the budget), and
//! one more database is made room for by closing the pool used longest ago. A pool that is
//! lending a connection, or about to, is never closed under it: when every pool is busy, a
//! new database waits for one to be free, until `acquire_timeout`. Pools nobody used for
//! `idle_close` are closed by [`DatabasePools::close_idle`] (a server runs it periodically),
//! so a quiet night gives every connection back to the database servers.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres};
use tokio::sync::Notify;

use crate::RepoError;

/// How many connections, to how many databases, for how long.
#[derive(Debug, Clone)]
pub struct PoolLimits {
    /// Connections one database's pool opens at most.
    pub per_database: u32,
    /// Pools open at once at most; the least recently used idle one makes room for another.
    pub max_pools: usize,
    /// A pool unused this long is closed.
    pub idle_close: Duration,
    /// How long a caller waits for a connection (and, when every pool is busy, for room).
    pub acquire_timeout: Duration,
}

impl PoolLimits {
    /// The most connections this process opens to all those databases together.
    pub fn budget(&self) -> u32 {
        self.per_database.saturating_mul(self.max_pools as u32)
    }
}

/// One database on one registered cluster.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DatabaseKey {
    pub cluster: String,
    pub database: String,
}

/// One open pool, as [`DatabasePools::open_pools`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenPool {
    pub key: DatabaseKey,
    /// Connections open to it.
    pub connections: u32,
    /// Of those, lent out now.
    pub in_use: u32,
}

struct Entry {
    pool: PgPool,
    /// Which opening of this database's pool it is: a lease taken from a pool since closed
    /// must not count against the one opened after it.
    generation: u64,
    /// Callers holding or about to take a connection from it: it is not closed while any do.
    lenders: usize,
    last_used: Instant,
}

#[derive(Default)]
struct State {
    pools: HashMap<DatabaseKey, Entry>,
    /// Pools taken out of `pools` whose connections are still closing: they count against
    /// `max_pools` until they are gone, so the budget holds while they close.
    closing: usize,
    /// Pools opened so far, for [`Entry::generation`].
    opened: u64,
}

/// The pools, by database. Shared by every request of a process (`Arc`).
pub struct DatabasePools {
    clusters: HashMap<String, PgConnectOptions>,
    limits: PoolLimits,
    state: Mutex<State>,
    /// A pool stopped lending, or one finished closing: room may have come free.
    room: Notify,
    /// Whether each database has every migration this build expects.
    pub(crate) schemas: super::schema::DatabaseSchemas,
    /// The outage guard per cluster: while one is unreachable, its workspaces hear
    /// "unavailable" quickly and everyone else's requests carry on.
    outages: HashMap<String, super::outage::Outage>,
}

/// What [`DatabasePools::acquire`] gives out: a connection to one database, which goes back
/// to its pool when dropped.
pub struct LentConnection {
    conn: PoolConnection<Postgres>,
    _lease: Lease,
}

impl LentConnection {
    /// The connection and the claim that keeps its pool open, for a transaction that owns
    /// the connection and must hold the claim as long as it lasts.
    pub(crate) fn into_parts(self) -> (PoolConnection<Postgres>, Lease) {
        (self.conn, self._lease)
    }
}

impl Deref for LentConnection {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.conn
    }
}

impl DerefMut for LentConnection {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.conn
    }
}

/// A caller's claim on a pool; dropping it lets the pool be closed again.
pub(crate) struct Lease {
    pools: Arc<DatabasePools>,
    key: DatabaseKey,
    generation: u64,
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut state = self.pools.lock();
        if let Some(entry) = state
            .pools
            .get_mut(&self.key)
            .filter(|entry| entry.generation == self.generation)
        {
            entry.lenders = entry.lenders.saturating_sub(1);
            entry.last_used = Instant::now();
        }
        drop(state);
        self.pools.room.notify_waiters();
    }
}

impl DatabasePools {
    /// `clusters`: each registered cluster's name and how to reach it as the application role
    /// (the database is chosen per pool).
    pub fn new(clusters: HashMap<String, PgConnectOptions>, limits: PoolLimits) -> Arc<Self> {
        let outages = clusters
            .keys()
            .map(|name| (name.clone(), super::outage::Outage::new()))
            .collect();
        Arc::new(Self {
            clusters,
            outages,
            limits,
            state: Mutex::default(),
            room: Notify::new(),
            schemas: Default::default(),
        })
    }

    pub fn limits(&self) -> &PoolLimits {
        &self.limits
    }

    /// The registered clusters' names, sorted.
    pub fn cluster_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.clusters.keys().cloned().collect();
        names.sort();
        names
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock leaves counts that are still sound to read.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A connection to `key`'s database, opening its pool (and closing the least recently
    /// used idle one to make room) when needed. `Unavailable` when no room or connection came
    /// within `acquire_timeout`; `NotFound` for a cluster that is not registered.
    pub async fn acquire(self: &Arc<Self>, key: &DatabaseKey) -> Result<LentConnection, RepoError> {
        if !self.clusters.contains_key(&key.cluster) {
            return Err(RepoError::NotFound);
        }
        let deadline = tokio::time::Instant::now() + self.limits.acquire_timeout;
        let (pool, generation) = loop {
            let notified = self.room.notified();
            tokio::pin!(notified);
            // Registered before the state is read, so a release in between is not missed.
            notified.as_mut().enable();
            let evicted = {
                let mut state = self.lock();
                if let Some(entry) = state.pools.get_mut(key) {
                    entry.lenders += 1;
                    entry.last_used = Instant::now();
                    break (entry.pool.clone(), entry.generation);
                }
                if state.pools.len() + state.closing < self.limits.max_pools {
                    let pool = self.open_pool(key)?;
                    state.opened += 1;
                    let generation = state.opened;
                    state.pools.insert(
                        key.clone(),
                        Entry {
                            pool: pool.clone(),
                            generation,
                            lenders: 1,
                            last_used: Instant::now(),
                        },
                    );
                    break (pool, generation);
                }
                let victim = state
                    .pools
                    .iter()
                    .filter(|(_, entry)| entry.lenders == 0)
                    .min_by_key(|(_, entry)| entry.last_used)
                    .map(|(victim, _)| victim.clone());
                victim.and_then(|victim| {
                    state.closing += 1;
                    state.pools.remove(&victim)
                })
            };
            match evicted {
                // Waited for so that the budget holds; closed even if this caller goes away.
                Some(entry) => {
                    let _ = self.start_closing(entry.pool).await;
                }
                None => {
                    if tokio::time::timeout_at(deadline, notified).await.is_err() {
                        return Err(RepoError::Unavailable(sqlx::Error::PoolTimedOut));
                    }
                }
            }
        };
        let lease = Lease {
            pools: self.clone(),
            key: key.clone(),
            generation,
        };
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        let outage = self.outages.get(&key.cluster).ok_or(RepoError::NotFound)?;
        let conn = outage
            .guard(async {
                tokio::time::timeout(remaining, pool.acquire())
                    .await
                    .unwrap_or(Err(sqlx::Error::PoolTimedOut))
            })
            .await
            .map_err(|err| match err {
                sqlx::Error::PoolTimedOut => RepoError::Unavailable(err),
                other => other.into(),
            })?;
        Ok(LentConnection {
            conn,
            _lease: lease,
        })
    }

    fn open_pool(&self, key: &DatabaseKey) -> Result<PgPool, RepoError> {
        let cluster = self.clusters.get(&key.cluster).ok_or(RepoError::NotFound)?;
        Ok(PgPoolOptions::new()
            .max_connections(self.limits.per_database)
            .min_connections(0)
            .acquire_timeout(self.limits.acquire_timeout)
            .idle_timeout(self.limits.idle_close)
            .test_before_acquire(false)
            .connect_lazy_with(cluster.clone().database(&key.database)))
    }

    /// Closes a pool taken out of the map (counted in `closing`), then gives its room back:
    /// in a task of its own, so that the count comes down even if the caller that evicted it
    /// is cancelled while it waits.
    fn start_closing(self: &Arc<Self>, pool: PgPool) -> tokio::task::JoinHandle<()> {
        let pools = self.clone();
        tokio::spawn(async move {
            pool.close().await;
            pools.lock().closing -= 1;
            pools.room.notify_waiters();
        })
    }

    /// Closes the pools nobody has used for `idle_close`; returns how many.
    pub async fn close_idle(self: &Arc<Self>) -> usize {
        let idle: Vec<PgPool> = {
            let mut state = self.lock();
            let keys: Vec<DatabaseKey> = state
                .pools
                .iter()
                .filter(|(_, e)| e.lenders == 0 && e.last_used.elapsed() >= self.limits.idle_close)
                .map(|(key, _)| key.clone())
                .collect();
            state.closing += keys.len();
            keys.iter()
                .filter_map(|key| state.pools.remove(key))
                .map(|entry| entry.pool)
                .collect()
        };
        let closed = idle.len();
        for pool in idle {
            let _ = self.start_closing(pool).await;
        }
        closed
    }

    /// Closes every pool, waiting for lent connections to come back (at shutdown).
    pub async fn close_all(self: &Arc<Self>) {
        let all: Vec<PgPool> = {
            let mut state = self.lock();
            let all: Vec<PgPool> = state.pools.drain().map(|(_, entry)| entry.pool).collect();
            state.closing += all.len();
            all
        };
        for pool in all {
            let _ = self.start_closing(pool).await;
        }
    }

    /// The open pools with their connections, for the console's cluster page.
    pub fn open_pools(&self) -> Vec<OpenPool> {
        let state = self.lock();
        let mut pools: Vec<OpenPool> = state
            .pools
            .iter()
            .map(|(key, entry)| OpenPool {
                key: key.clone(),
                connections: entry.pool.size(),
                in_use: entry
                    .pool
                    .size()
                    .saturating_sub(entry.pool.num_idle() as u32),
            })
            .collect();
        pools.sort_by(|a, b| a.key.cmp(&b.key));
        pools
    }
}
