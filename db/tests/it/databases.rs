//! Pools for many databases under one connection budget: 200 databases visited in random
//! order with room for 20 pools of 2 never show more than 40 of this process's connections
//! in `pg_stat_activity`; a pool that is lending is never closed under it; idle pools close.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use db::{DatabaseKey, DatabasePools, PoolLimits, RepoError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

/// Creates `count` empty databases named `<prefix>_<n>` (the pools do not care what is in
/// them) and returns the registry's cluster map: one cluster, "main", this server as the
/// application role, its connections named `prefix` so `pg_stat_activity` can count them.
async fn databases(
    owner: &PgConnectOptions,
    prefix: &str,
    count: usize,
) -> HashMap<String, PgConnectOptions> {
    let mut admin = owner.connect().await.unwrap();
    for n in 0..count {
        sqlx::query(&format!("CREATE DATABASE {prefix}_{n}"))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    admin.close().await.unwrap();
    let app: PgConnectOptions = std::env::var("STOCKROOM_TEST_APP_URL")
        .expect("STOCKROOM_TEST_APP_URL names the application role")
        .parse()
        .unwrap();
    HashMap::from([("main".to_owned(), app.application_name(prefix))])
}

/// Drops the databases once every connection named `prefix` is gone. A closed pool's
/// backends leave `pg_stat_activity` a moment before they have quite exited, and until then
/// the owner's DROP would have to end them, which it may not: so it tries again.
async fn drop_databases(owner: &PgConnectOptions, prefix: &str, count: usize) {
    let mut admin = owner.connect().await.unwrap();
    for n in 0..count {
        let statement = format!("DROP DATABASE IF EXISTS {prefix}_{n} WITH (FORCE)");
        let mut attempts = 0;
        while let Err(err) = sqlx::query(&statement).execute(&mut admin).await {
            attempts += 1;
            assert!(attempts < 250, "{statement}: {err}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn connections_named(monitor: &PgPool, prefix: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1")
        .bind(prefix)
        .fetch_one(monitor)
        .await
        .unwrap()
}

fn key(prefix: &str, n: usize) -> DatabaseKey {
    DatabaseKey {
        cluster: "main".into(),
        database: format!("{prefix}_{n}"),
    }
}

fn prefix() -> String {
    format!("pools_{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn two_hundred_databases_stay_within_the_connection_budget(
    options: PgPoolOptions,
    owner: PgConnectOptions,
) {
    const DATABASES: usize = 200;
    let prefix = prefix();
    let clusters = databases(&owner, &prefix, DATABASES).await;
    let limits = PoolLimits {
        per_database: 2,
        max_pools: 20,
        idle_close: Duration::from_millis(500),
        acquire_timeout: Duration::from_secs(30),
    };
    assert_eq!(limits.budget(), 40);
    let pools = DatabasePools::new(clusters, limits);
    let monitor = options
        .max_connections(1)
        .connect_with(owner.clone())
        .await
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicI64::new(0));
    let sampler = tokio::spawn({
        let (monitor, prefix, stop, peak) =
            (monitor.clone(), prefix.clone(), stop.clone(), peak.clone());
        async move {
            while !stop.load(Ordering::Relaxed) {
                let now = connections_named(&monitor, &prefix).await;
                peak.fetch_max(now, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });
    // 16 callers at once, each through 50 databases in random order: constant pool churn.
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let (pools, prefix) = (pools.clone(), prefix.clone());
            tokio::spawn(async move {
                for _ in 0..50 {
                    let n = (uuid::Uuid::new_v4().as_u128() % DATABASES as u128) as usize;
                    let mut conn = pools.acquire(&key(&prefix, n)).await.unwrap();
                    let here: String = sqlx::query_scalar("SELECT current_database()::text")
                        .fetch_one(&mut *conn)
                        .await
                        .unwrap();
                    assert_eq!(here, format!("{prefix}_{n}"));
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    sampler.await.unwrap();
    let peak = peak.load(Ordering::Relaxed);
    assert!(
        peak <= 40,
        "{peak} connections open at once, over the budget of 40"
    );
    assert!(
        peak >= 15,
        "the load really used many pools ({peak} connections)"
    );
    assert!(pools.open_pools().len() <= 20);

    // Quiet: every pool is closed after the idle time, and its connections with it.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(pools.close_idle().await > 0);
    assert!(pools.open_pools().is_empty());
    let mut left = connections_named(&monitor, &prefix).await;
    for _ in 0..100 {
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        left = connections_named(&monitor, &prefix).await;
    }
    assert_eq!(left, 0, "connections left open after the idle pools closed");
    monitor.close().await;
    drop_databases(&owner, &prefix, DATABASES).await;
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_lending_pool_is_never_closed_and_a_full_house_waits_then_refuses(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let prefix = prefix();
    let clusters = databases(&owner, &prefix, 4).await;
    let pools = DatabasePools::new(
        clusters,
        PoolLimits {
            per_database: 1,
            max_pools: 2,
            idle_close: Duration::from_secs(60),
            acquire_timeout: Duration::from_millis(300),
        },
    );
    // Held through all that follows: database 0's pool must stay open.
    let mut held = pools.acquire(&key(&prefix, 0)).await.unwrap();
    for n in [1, 2, 3, 1, 2, 3] {
        let mut conn = pools.acquire(&key(&prefix, n)).await.unwrap();
        sqlx::query("SELECT 1").execute(&mut *conn).await.unwrap();
    }
    let here: String = sqlx::query_scalar("SELECT current_database()::text")
        .fetch_one(&mut *held)
        .await
        .unwrap();
    assert_eq!(here, format!("{prefix}_0"));
    let open: Vec<String> = pools
        .open_pools()
        .into_iter()
        .map(|p| p.key.database)
        .collect();
    assert!(open.contains(&format!("{prefix}_0")), "{open:?}");

    // Both pools lending: a third database waits for room, then is refused, not let in.
    let _other = pools.acquire(&key(&prefix, 1)).await.unwrap();
    let started = std::time::Instant::now();
    let refused = pools.acquire(&key(&prefix, 2)).await;
    assert!(matches!(refused, Err(RepoError::Unavailable(_))));
    assert!(started.elapsed() >= Duration::from_millis(250));
    // Room made by a release lets the waiting database in.
    let waiting = tokio::spawn({
        let (pools, prefix) = (pools.clone(), prefix.clone());
        async move { pools.acquire(&key(&prefix, 2)).await.map(|_| ()) }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(held);
    waiting.await.unwrap().unwrap();
    // An unregistered cluster is not found, and opens nothing.
    let unknown = DatabaseKey {
        cluster: "elsewhere".into(),
        database: format!("{prefix}_0"),
    };
    assert!(matches!(
        pools.acquire(&unknown).await,
        Err(RepoError::NotFound)
    ));
    drop(_other);
    pools.close_all().await;
    assert!(pools.open_pools().is_empty());
    drop_databases(&owner, &prefix, 4).await;
}
