//! Fair shares: each workspace's part of the pool and its statement timeout, set by its plan
//! and overridden by the console, and refused at their edge and not before.

use std::time::{Duration, Instant};

use crate::common::{console_admin, console_scope, product, tenant_and_owner, tenant_tx};
use db::platform::console;
use db::tenant::products::{self, ProductQuery};
use db::tenant::shares::{self, Rate};
use db::{Db, Refusal, RepoError, Tenant, TenantScope};
use domain::{LimitOverride, ProductId};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// Four connections.
async fn small_pool(owner: &PgConnectOptions) -> PgPool {
    let app: PgConnectOptions = std::env::var("STOCKROOM_TEST_APP_URL")
        .expect("STOCKROOM_TEST_APP_URL names the application role")
        .parse()
        .unwrap();
    PgPoolOptions::new()
        .max_connections(4)
        .connect_with(app.database(owner.get_database().unwrap()))
        .await
        .unwrap()
}

async fn set_share(db: &Db, tenant: &Tenant, code: &str, value: LimitOverride) {
    let email = format!("shares-{}@console.test", uuid::Uuid::new_v4());
    let console = console_admin(db, &email).await;
    console::set_limit_override(db, &console, tenant.id(), code, value)
        .await
        .unwrap();
}

/// The owner's scope again, as the next request would build it after a console change.
async fn next_request(db: &Db, tenant: &Tenant, scope: &TenantScope) -> TenantScope {
    TenantScope::for_member(db, tenant, scope.member().user_id)
        .await
        .unwrap()
        .unwrap()
}

fn list(
    db: &Db,
    scope: &TenantScope,
) -> impl std::future::Future<Output = Result<products::ProductPage, RepoError>> {
    let (db, scope) = (db.clone(), scope.clone());
    async move {
        products::list(
            &db,
            &scope,
            &ProductQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
    }
}

/// Holds `product`'s row lock from outside the app, so a write to it waits inside the
/// workspace's transaction (holding its place) for as long as the test likes.
async fn lock_row(
    pool: &PgPool,
    tenant: &Tenant,
    product: ProductId,
) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut blocker = tenant_tx(pool, tenant.id()).await;
    sqlx::query("SELECT 1 FROM products WHERE tenant_id = $1 AND id = $2 FOR UPDATE")
        .bind(tenant.id().as_uuid())
        .bind(product.as_uuid())
        .execute(&mut *blocker)
        .await
        .unwrap();
    blocker
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn plans_set_the_shares_and_the_console_overrides_them(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = Db::from_pool(small_pool(&owner).await);
    let (alpha, _) = tenant_and_owner(&db, "alpha").await;
    let free = shares::of(&db, &alpha).await.unwrap();
    assert_eq!(
        free.rate,
        Some(Rate {
            per_minute: 1200,
            burst: 60
        })
    );
    assert_eq!(free.connections_percent, Some(25));
    assert_eq!(free.statement_timeout, Some(Duration::from_secs(5)));

    set_share(&db, &alpha, "requests_per_minute", LimitOverride::Max(30)).await;
    set_share(&db, &alpha, "connection_share", LimitOverride::Unlimited).await;
    let changed = shares::of(&db, &alpha).await.unwrap();
    assert_eq!(changed.rate.map(|r| r.per_minute), Some(30));
    assert_eq!(changed.connections_percent, None);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_share_of_nothing_or_past_its_ceiling_is_refused_and_changes_nothing(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = Db::from_pool(small_pool(&owner).await);
    let (alpha, _) = tenant_and_owner(&db, "alpha").await;
    let console = console_scope(&db).await;
    let before = shares::of(&db, &alpha).await.unwrap();
    for (code, value, min, max) in [
        ("requests_per_minute", 0, 1, None),
        ("connection_share", 0, 1, Some(100)),
        ("connection_share", 101, 1, Some(100)),
        ("statement_timeout_ms", 5, 100, Some(600_000)),
    ] {
        let refused =
            console::set_limit_override(&db, &console, alpha.id(), code, LimitOverride::Max(value))
                .await;
        assert!(
            matches!(refused, Err(RepoError::Refused(Refusal::OutOfBounds { min: m, max: x })) if m == min && x == max),
            "{code}={value}: {refused:?}"
        );
    }
    let unknown = console::set_limit_override(
        &db,
        &console,
        alpha.id(),
        "cpu_seconds",
        LimitOverride::Max(5),
    )
    .await;
    assert!(
        matches!(unknown, Err(RepoError::Invalid { field: "limit" })),
        "{unknown:?}"
    );
    assert_eq!(shares::of(&db, &alpha).await.unwrap(), before);
    // A counted limit may still be capped at 0.
    console::set_limit_override(
        &db,
        &console,
        alpha.id(),
        "max_products",
        LimitOverride::Max(0),
    )
    .await
    .unwrap();
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_workspace_at_its_connection_share_waits_then_is_refused_while_another_works(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let pool = small_pool(&owner).await;
    // A short wait for a place in a share, so the refusal comes quickly.
    let db = Db::from_pool(pool.clone()).with_share_wait(Duration::from_millis(300));
    let (alpha, alpha_owner) = tenant_and_owner(&db, "alpha").await;
    let (_, bravo_owner) = tenant_and_owner(&db, "bravo").await;
    let id = products::create(&db, &alpha_owner, &product("SLOW", 100, 1))
        .await
        .unwrap();
    // 25% of 4 connections: one place.
    set_share(&db, &alpha, "connection_share", LimitOverride::Max(25)).await;
    let alpha_owner = next_request(&db, &alpha, &alpha_owner).await;

    let blocker = lock_row(&pool, &alpha, id).await;
    let held = tokio::spawn({
        let (db, scope) = (db.clone(), alpha_owner.clone());
        async move { products::set_archived(&db, &scope, id, true).await }
    });
    // Until the write is waiting on the row, its place may not be taken yet.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    let refused = list(&db, &alpha_owner).await;
    assert!(
        matches!(refused, Err(RepoError::ShareUsedUp { places: 1 })),
        "{:?}",
        refused.err()
    );
    // It waited for a place before giving up.
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    // Another workspace still finds connections.
    list(&db, &bravo_owner).await.unwrap();

    drop(blocker);
    held.await.unwrap().unwrap();
    // The place is free again.
    list(&db, &alpha_owner).await.unwrap();
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_statement_past_the_workspaces_timeout_is_cancelled_and_writes_nothing(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let pool = small_pool(&owner).await;
    let db = Db::from_pool(pool.clone());
    let (alpha, alpha_owner) = tenant_and_owner(&db, "alpha").await;
    let id = products::create(&db, &alpha_owner, &product("SLOW", 100, 1))
        .await
        .unwrap();
    set_share(&db, &alpha, "statement_timeout_ms", LimitOverride::Max(150)).await;
    let alpha_owner = next_request(&db, &alpha, &alpha_owner).await;

    let blocker = lock_row(&pool, &alpha, id).await;
    let started = Instant::now();
    let cancelled = products::set_archived(&db, &alpha_owner, id, true).await;
    let took = started.elapsed();
    assert!(
        matches!(cancelled, Err(RepoError::StatementTimeout { .. })),
        "{cancelled:?}"
    );
    // The statement timeout, not the five-second lock timeout, ended the wait.
    assert!(
        took >= Duration::from_millis(150) && took < Duration::from_secs(3),
        "{took:?}"
    );
    drop(blocker);
    let product = products::get(&db, &alpha_owner, id).await.unwrap();
    assert!(!product.archived);
}

/// The Load page's data column counts each workspace's own rows only, and sizes grow with them.
#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_load_page_sizes_each_workspace_by_its_own_rows(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = crate::common::app_db(&owner).await;
    let (alpha, alpha_scope) = tenant_and_owner(&db, "alpha").await;
    let (bravo, _) = tenant_and_owner(&db, "bravo").await;
    for n in 0..30 {
        products::create(&db, &alpha_scope, &product(&format!("SKU-{n}"), 100, 1))
            .await
            .unwrap();
    }
    for tenant in [&alpha, &bravo] {
        db.load()
            .record_request(tenant.id(), db::load::Outcome::Served);
    }
    let overview = console::load_overview(&db, &console_scope(&db).await, 10)
        .await
        .unwrap();
    let footprint = |tenant: &Tenant| {
        overview
            .busiest
            .iter()
            .find(|w| w.overview.id == tenant.id())
            .map(|w| w.footprint)
            .unwrap()
    };
    let (alpha_size, bravo_size) = (footprint(&alpha), footprint(&bravo));
    // Each: its owner; alpha also its 30 products.
    assert_eq!(bravo_size.rows, 1, "{bravo_size:?}");
    assert_eq!(alpha_size.rows, 31, "{alpha_size:?}");
    assert!(bravo_size.approx_bytes > 0, "{bravo_size:?}");
    assert!(
        alpha_size.approx_bytes > bravo_size.approx_bytes,
        "{alpha_size:?} vs {bravo_size:?}"
    );
}
