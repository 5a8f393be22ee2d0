//! Placements: a workspace whose data lives in a database of its own is served from there,
//! and from nowhere else. Its rows exist only in its database; the other workspace (shared)
//! sees nothing of it; a process that still believes it shared is refused by the control
//! database (`app_enter_tenant`), as is every request while its database is being made; and
//! a move's lock waits for the transactions already running.

use std::time::Duration;

use crate::common::{product, workspace};
use db::platform::tenants::{find_by_slug, Placement};
use db::tenant::products::{self, ProductQuery};
use db::testing::{fresh_database, TEST_CLUSTER};
use db::{PoolLimits, RepoError, TenantScope};
use domain::Slug;

fn limits() -> PoolLimits {
    crate::common::placement_limits()
}

async fn skus(db: &db::Db, scope: &TenantScope) -> Result<Vec<String>, RepoError> {
    let page = products::list(
        db,
        scope,
        &ProductQuery {
            limit: 50,
            ..Default::default()
        },
    )
    .await?;
    Ok(page
        .products
        .into_iter()
        .map(|p| p.sku.as_str().to_owned())
        .collect())
}

#[tokio::test]
async fn a_dedicated_workspace_is_served_from_its_own_database_only() {
    let test = fresh_database().await;
    let db = test.db_with_clusters(limits());
    let (alpha, alpha_owner) = workspace(&db, "alpha", "owner@alpha.test").await;
    let (bravo, bravo_owner) = workspace(&db, "bravo", "owner@bravo.test").await;
    // Built while bravo is shared, kept the way a process that has not heard of a move keeps
    // a signed-in member.
    let stale = TenantScope::for_member(&db, &bravo, bravo_owner)
        .await
        .unwrap()
        .unwrap();

    let database = test.place_dedicated(bravo.id().as_uuid()).await;

    let bravo = find_by_slug(&db, &Slug::parse("bravo").unwrap())
        .await
        .unwrap()
        .unwrap();
    match bravo.placement() {
        Placement::Dedicated { home, ready } => {
            assert!(*ready);
            assert_eq!(
                (home.cluster.as_str(), home.database.as_str()),
                (TEST_CLUSTER, database.as_str())
            );
        }
        other => panic!("bravo is placed {other:?}"),
    }
    let bravo_scope = TenantScope::for_member(&db, &bravo, bravo_owner)
        .await
        .unwrap()
        .expect("bravo's owner is read from bravo's database");
    let alpha_scope = TenantScope::for_member(&db, &alpha, alpha_owner)
        .await
        .unwrap()
        .unwrap();
    products::create(&db, &bravo_scope, &product("B-ONLY", 500, 3))
        .await
        .unwrap();
    products::create(&db, &alpha_scope, &product("A-ONLY", 700, 2))
        .await
        .unwrap();

    assert_eq!(skus(&db, &bravo_scope).await.unwrap(), ["B-ONLY"]);
    assert_eq!(skus(&db, &alpha_scope).await.unwrap(), ["A-ONLY"]);
    let b = bravo.id().as_uuid();
    let a = alpha.id().as_uuid();
    assert_eq!(test.count_rows(Some(&database), "products", b).await, 1);
    assert_eq!(test.count_rows(Some(&database), "users", b).await, 1);
    assert_eq!(
        test.count_rows(None, "products", b).await,
        0,
        "nothing of bravo in the shared database"
    );
    assert_eq!(test.count_rows(None, "users", b).await, 0);
    assert_eq!(
        test.count_rows(Some(&database), "products", a).await,
        0,
        "nothing of alpha in bravo's"
    );

    // Alpha's owner cannot reach bravo's member through alpha's workspace, nor the reverse.
    assert!(TenantScope::for_member(&db, &alpha, bravo_owner)
        .await
        .unwrap()
        .is_none());
    assert!(TenantScope::for_member(&db, &bravo, alpha_owner)
        .await
        .unwrap()
        .is_none());

    // The scope from before the move opens its transaction in the shared database, which
    // refuses: bravo's data does not live there any more. Nothing is written there.
    let refused = products::create(&db, &stale, &product("LATE", 1, 1)).await;
    assert!(matches!(refused, Err(RepoError::Moving)), "{refused:?}");
    assert!(matches!(skus(&db, &stale).await, Err(RepoError::Moving)));
    assert_eq!(test.count_rows(None, "products", b).await, 0);

    // While its database is being made, the registry sends nobody to it. (A database that
    // serves traffic is only ever left by a move, which marks its own row too.)
    test.set_placement_state(b, "provisioning").await;
    let bravo = find_by_slug(&db, &Slug::parse("bravo").unwrap())
        .await
        .unwrap()
        .unwrap();
    let refused = TenantScope::for_member(&db, &bravo, bravo_owner).await;
    assert!(matches!(refused, Err(RepoError::Moving)), "{refused:?}");
    // Alpha carries on.
    assert_eq!(skus(&db, &alpha_scope).await.unwrap(), ["A-ONLY"]);
}

#[tokio::test]
async fn a_workspace_placed_on_an_unregistered_cluster_is_an_internal_error_not_a_fallback() {
    let test = fresh_database().await;
    let (bravo, bravo_owner) = workspace(&test.db, "bravo", "owner@bravo.test").await;
    test.place_dedicated(bravo.id().as_uuid()).await;
    // `test.db` has no cluster registered: it must not read bravo from the shared database.
    let bravo = find_by_slug(&test.db, &Slug::parse("bravo").unwrap())
        .await
        .unwrap()
        .unwrap();
    let refused = TenantScope::for_member(&test.db, &bravo, bravo_owner).await;
    assert!(
        matches!(refused, Err(RepoError::Internal(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_move_lock_waits_for_the_workspace_transactions_already_running() {
    let test = fresh_database().await;
    let (alpha, alpha_owner) = workspace(&test.db, "alpha", "owner@alpha.test").await;
    let (bravo, bravo_owner) = workspace(&test.db, "bravo", "owner@bravo.test").await;
    let alpha_scope = TenantScope::for_member(&test.db, &alpha, alpha_owner)
        .await
        .unwrap()
        .unwrap();
    let bravo_scope = TenantScope::for_member(&test.db, &bravo, bravo_owner)
        .await
        .unwrap()
        .unwrap();
    let db = test
        .db
        .clone()
        .with_lock_timeout(Duration::from_millis(300));

    // While a move holds alpha's lock, alpha's transactions wait (here: until their lock
    // timeout) and bravo's do not.
    let held = test.hold_move_lock(alpha.id().as_uuid()).await;
    let waited = skus(&db, &alpha_scope).await;
    assert!(
        matches!(waited, Err(RepoError::LockTimeout { .. })),
        "{waited:?}"
    );
    assert!(skus(&db, &bravo_scope).await.unwrap().is_empty());
    test.release_move_lock(held, alpha.id().as_uuid()).await;
    assert!(skus(&db, &alpha_scope).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_workspace_database_behind_the_build_refuses_its_workspace_only_until_migrated() {
    let test = fresh_database().await;
    let db = test.db_with_clusters(limits());
    let (alpha, alpha_owner) = workspace(&db, "alpha", "owner@alpha.test").await;
    let (bravo, bravo_owner) = workspace(&db, "bravo", "owner@bravo.test").await;
    let database = test
        .place_dedicated_one_migration_behind(bravo.id().as_uuid())
        .await;
    let bravo = find_by_slug(&db, &Slug::parse("bravo").unwrap())
        .await
        .unwrap()
        .unwrap();

    let refused = TenantScope::for_member(&db, &bravo, bravo_owner).await;
    assert!(matches!(refused, Err(RepoError::Behind)), "{refused:?}");
    let alpha_scope = TenantScope::for_member(&db, &alpha, alpha_owner)
        .await
        .unwrap()
        .expect("alpha (shared) is served");
    skus(&db, &alpha_scope).await.unwrap();

    db::Db::migrate_database(&test.owner_url(), &database, Default::default())
        .await
        .unwrap();
    // Checked again a moment later, without a restart.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match TenantScope::for_member(&db, &bravo, bravo_owner).await {
            Ok(Some(_)) => break,
            Err(RepoError::Behind) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => panic!("bravo after the migration: {other:?}"),
        }
    }
}

#[tokio::test]
async fn workspaces_on_two_clusters_are_each_served_from_their_own_database() {
    use db::testing::SECOND_CLUSTER;
    let test = fresh_database().await;
    let db = test.db_with_clusters(limits());
    let (alpha, alpha_owner) = workspace(&db, "alpha", "owner@alpha.test").await;
    let (bravo, bravo_owner) = workspace(&db, "bravo", "owner@bravo.test").await;
    let (a, b) = (alpha.id().as_uuid(), bravo.id().as_uuid());
    let alpha_database = test.place_dedicated_on(a, SECOND_CLUSTER).await;
    let bravo_database = test.place_dedicated_on(b, TEST_CLUSTER).await;
    let find = |slug: &'static str| {
        let db = db.clone();
        async move {
            find_by_slug(&db, &Slug::parse(slug).unwrap())
                .await
                .unwrap()
                .unwrap()
        }
    };
    let (alpha, bravo) = (find("alpha").await, find("bravo").await);
    let alpha_scope = TenantScope::for_member(&db, &alpha, alpha_owner)
        .await
        .unwrap()
        .expect("alpha's owner is read on the second cluster");
    let bravo_scope = TenantScope::for_member(&db, &bravo, bravo_owner)
        .await
        .unwrap()
        .unwrap();
    products::create(&db, &alpha_scope, &product("A-ONLY", 1, 1))
        .await
        .unwrap();
    products::create(&db, &bravo_scope, &product("B-ONLY", 1, 1))
        .await
        .unwrap();
    assert_eq!(skus(&db, &alpha_scope).await.unwrap(), ["A-ONLY"]);
    assert_eq!(skus(&db, &bravo_scope).await.unwrap(), ["B-ONLY"]);
    let on = |cluster, database| test.count_rows_on(cluster, Some(database), "products", a);
    assert_eq!(on(SECOND_CLUSTER, &alpha_database).await, 1);
    assert_eq!(test.count_rows(None, "products", a).await, 0);
    assert_eq!(
        test.count_rows_on(TEST_CLUSTER, Some(&bravo_database), "products", b)
            .await,
        1
    );
    assert!(TenantScope::for_member(&db, &alpha, bravo_owner)
        .await
        .unwrap()
        .is_none());
    assert!(TenantScope::for_member(&db, &bravo, alpha_owner)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_dead_cluster_refuses_its_own_workspaces_quickly_and_nobody_else() {
    use std::collections::HashMap;
    use std::time::Instant;
    let test = fresh_database().await;
    let app: sqlx::postgres::PgConnectOptions = test.app_url().parse().unwrap();
    let dead: sqlx::postgres::PgConnectOptions = "postgres://stockroom_app:x@127.0.0.1:1/stockroom"
        .parse()
        .unwrap();
    let limits = PoolLimits {
        acquire_timeout: Duration::from_secs(3),
        ..limits()
    };
    let db = test.db.clone().with_clusters(
        HashMap::from([(TEST_CLUSTER.to_owned(), app), ("dead".to_owned(), dead)]),
        limits,
    );
    let (alpha, alpha_owner) = workspace(&db, "alpha", "owner@alpha.test").await;
    let (bravo, bravo_owner) = workspace(&db, "bravo", "owner@bravo.test").await;
    let (charlie, charlie_owner) = workspace(&db, "charlie", "owner@charlie.test").await;
    test.place_dedicated(bravo.id().as_uuid()).await;
    let gone = format!("stockroom_w_{}", charlie.id().as_uuid().simple());
    test.place_in_registry_only(charlie.id().as_uuid(), "dead", &gone)
        .await;
    let find = |slug: &'static str| {
        let db = db.clone();
        async move {
            find_by_slug(&db, &Slug::parse(slug).unwrap())
                .await
                .unwrap()
                .unwrap()
        }
    };
    let (bravo, charlie) = (find("bravo").await, find("charlie").await);

    let first = TenantScope::for_member(&db, &charlie, charlie_owner).await;
    assert!(matches!(first, Err(RepoError::Unavailable(_))), "{first:?}");
    // Known dead now: one request at a time keeps probing with the full wait, the others
    // are refused at once.
    let waits = crate::common::race(4, |_| {
        let (db, charlie) = (db.clone(), charlie.clone());
        async move {
            let started = Instant::now();
            let refused = TenantScope::for_member(&db, &charlie, charlie_owner).await;
            assert!(
                matches!(refused, Err(RepoError::Unavailable(_))),
                "{refused:?}"
            );
            started.elapsed()
        }
    })
    .await;
    let quick = waits
        .iter()
        .filter(|w| **w < Duration::from_secs(2))
        .count();
    assert!(
        quick >= 3,
        "refused at once while the cluster is dead: {waits:?}"
    );
    // Its neighbours on the other cluster and in the shared database are served at once.
    let started = Instant::now();
    for (tenant, owner) in [(&alpha, alpha_owner), (&bravo, bravo_owner)] {
        let scope = TenantScope::for_member(&db, tenant, owner)
            .await
            .unwrap()
            .unwrap();
        skus(&db, &scope).await.unwrap();
    }
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_registry_naming_another_workspaces_database_serves_nothing_there() {
    let test = fresh_database().await;
    let db = test.db_with_clusters(limits());
    let (alpha, alpha_owner) = workspace(&db, "alpha", "owner@alpha.test").await;
    let (bravo, _) = workspace(&db, "bravo", "owner@bravo.test").await;
    let bravo_database = test.place_dedicated(bravo.id().as_uuid()).await;
    // A mistake in the registry: alpha "lives" in bravo's database.
    test.place_in_registry_only(alpha.id().as_uuid(), TEST_CLUSTER, &bravo_database)
        .await;
    let alpha = find_by_slug(&db, &Slug::parse("alpha").unwrap())
        .await
        .unwrap()
        .unwrap();
    let refused = TenantScope::for_member(&db, &alpha, alpha_owner).await;
    assert!(matches!(refused, Err(RepoError::Moving)), "{refused:?}");
}
