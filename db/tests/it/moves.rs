//! Moving a workspace between databases: every row arrives equal (compared by a fingerprint
//! computed apart from the product's checksum), ids unchanged, sessions kept, the source
//! emptied, the writes refused and nothing else while frozen, a stopped move finished by
//! running it again, and every bad request refused before anything is written.

use std::time::Duration;

use crate::common::{add_member, console_scope, product, session_alive, sign_in, workspace};
use db::platform::console::{audit_log, AuditFilter};
use db::platform::generator::{generate_workspace, WorkspaceSpec};
use db::platform::moves::{Moved, Phase, Target};
use db::platform::provision::database_name;
use db::platform::sessions::PgSessionStore;
use db::platform::tenants::find_by_slug;
use db::tenant::{orders, products};
use db::testing::{fresh_database, TestDatabase, SECOND_CLUSTER, TEST_CLUSTER};
use db::{Db, Refusal, RepoError, Tenant, TenantScope};
use domain::{Email, PlanCode, Role, Slug, TenantId};

async fn move_to(
    test: &TestDatabase,
    tenant: TenantId,
    target: Target,
    stop_after: Option<Phase>,
) -> Result<Moved, RepoError> {
    test.run_move(tenant, &target, stop_after).await
}

/// How many entries of `action` the audit log holds.
async fn audited(db: &Db, action: &'static str) -> usize {
    let filter = AuditFilter {
        action: Some(action),
        limit: 10,
        ..Default::default()
    };
    audit_log(db, &console_scope(db).await, &filter)
        .await
        .unwrap()
        .entries
        .len()
}

async fn registry(db: &Db, slug: &str) -> Tenant {
    find_by_slug(db, &Slug::parse(slug).unwrap())
        .await
        .unwrap()
        .unwrap()
}

/// A workspace with `products` products and twice as many orders (lines, events), made as
/// the benchmark makes them, plus an admin signed in: its scope.
async fn stocked(db: &Db, slug: &str, products: i32) -> (Tenant, TenantScope) {
    generate_workspace(
        db,
        &WorkspaceSpec {
            slug: &Slug::parse(slug).unwrap(),
            owner_email: &Email::parse(&format!("owner@{slug}.test")).unwrap(),
            owner_password_hash: "hash",
            plan: &PlanCode::new("ENTERPRISE"),
            products,
            orders: products * 2,
            stock: 1000,
        },
    )
    .await
    .unwrap();
    let tenant = registry(db, slug).await;
    let admin = add_member(db, &tenant, &format!("admin@{slug}.test"), Role::Admin).await;
    (tenant, admin)
}

/// The member's scope once this process has heard of the switch (the move runs on the
/// owner's handle, as the operator's command would, and announces it).
async fn served(db: &Db, slug: &str, scope: &TenantScope) -> TenantScope {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let tenant = registry(db, slug).await;
        match TenantScope::for_member(db, &tenant, scope.member().user_id).await {
            Ok(Some(scope)) => return scope,
            Err(RepoError::Moving) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => panic!("{slug}'s member is not served: {other:?}"),
        }
    }
}

async fn product_count(db: &Db, scope: &TenantScope) -> usize {
    products::list(
        db,
        scope,
        &products::ProductQuery {
            limit: 200,
            include_archived: true,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .products
    .len()
}

fn rows_in(print: &std::collections::BTreeMap<String, (i64, String)>) -> i64 {
    print.values().map(|(rows, _)| rows).sum()
}

/// Where the registry says the workspace lives, as (cluster, database) — the control
/// database's cluster and `None` for shared.
async fn place(db: &Db, slug: &str) -> (&'static str, Option<String>) {
    let tenant = registry(db, slug).await;
    match tenant.placement().dedicated() {
        None => (TEST_CLUSTER, None),
        Some(home) if home.cluster == TEST_CLUSTER => (TEST_CLUSTER, Some(home.database.clone())),
        Some(home) => {
            assert_eq!(home.cluster, SECOND_CLUSTER);
            (SECOND_CLUSTER, Some(home.database.clone()))
        }
    }
}

#[tokio::test]
async fn a_workspace_moves_round_trip_and_every_row_comes_back_equal() {
    let test = fresh_database().await;
    let db = test.db_with_clusters(crate::common::placement_limits());
    let store = PgSessionStore::new(db.clone());
    let (_alpha, alpha_owner) = workspace(&db, "alpha", "owner@alpha.test").await;
    let alpha_tenant = registry(&db, "alpha").await;
    let alpha = TenantScope::for_member(&db, &alpha_tenant, alpha_owner)
        .await
        .unwrap()
        .unwrap();
    let (bravo, admin) = stocked(&db, "bravo", 20).await;
    let b = bravo.id().as_uuid();
    let session = sign_in(&store, bravo.id(), admin.member().user_id).await;
    let original = test.fingerprint(TEST_CLUSTER, None, b).await;
    assert_eq!(original["public.orders"].0, 40);
    assert!(original["public.order_lines"].0 >= 40);
    assert!(original["public.order_events"].0 >= 40);
    let a_product = products::list(
        &db,
        &admin,
        &products::ProductQuery {
            limit: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .products[0]
        .id;
    let an_order = orders::list(&db, &admin, &Default::default())
        .await
        .unwrap()
        .orders[0]
        .id;
    let alpha_before = test
        .fingerprint(TEST_CLUSTER, None, alpha_tenant.id().as_uuid())
        .await;

    let name = database_name(bravo.id());
    let hops = [
        (
            Target::Cluster(TEST_CLUSTER.into()),
            TEST_CLUSTER,
            Some(name.clone()),
        ),
        (
            Target::Cluster(SECOND_CLUSTER.into()),
            SECOND_CLUSTER,
            Some(name.clone()),
        ),
        (Target::Shared, TEST_CLUSTER, None),
    ];
    let mut from: (&str, Option<String>) = (TEST_CLUSTER, None);
    for (target, cluster, database) in hops {
        let Moved::Done(report) = move_to(&test, bravo.id(), target.clone(), None)
            .await
            .unwrap_or_else(|e| panic!("move to {target:?}: {e:?}"))
        else {
            panic!("the move to {target:?} stopped");
        };
        assert_eq!(report.rows() as i64, rows_in(&original), "{target:?}");
        assert_eq!(
            report.source_kept_until, None,
            "no hold: the source is gone"
        );
        assert_eq!(place(&db, "bravo").await, (cluster, database.clone()));
        assert_eq!(
            test.fingerprint(cluster, database.as_deref(), b).await,
            original,
            "every row equal after the move to {target:?}"
        );
        match &from {
            (source, None) => assert_eq!(
                rows_in(&test.fingerprint(source, None, b).await),
                0,
                "nothing of it is left in the shared database"
            ),
            (source, Some(old)) => assert!(
                !test.database_exists_on(source, old).await,
                "its old database is dropped"
            ),
        }
        // Signed in throughout, served from the new place, same ids.
        assert!(session_alive(&store, &session).await);
        let scope = served(&db, "bravo", &admin).await;
        assert_eq!(product_count(&db, &scope).await, 20);
        products::get(&db, &scope, a_product).await.unwrap();
        orders::get(&db, &scope, an_order).await.unwrap();
        // Nothing of it reaches the other workspace, wherever it is.
        assert!(matches!(
            products::get(&db, &alpha, a_product).await,
            Err(RepoError::NotFound)
        ));
        assert!(matches!(
            orders::get(&db, &alpha, an_order).await,
            Err(RepoError::NotFound)
        ));
        assert_eq!(
            test.fingerprint(TEST_CLUSTER, None, alpha_tenant.id().as_uuid())
                .await,
            alpha_before,
            "the other workspace is untouched"
        );
        from = (cluster, database);
    }

    assert_eq!(
        audited(&db, "move").await,
        3,
        "each move is in the audit log"
    );
    // Writable again where it ended.
    let scope = served(&db, "bravo", &admin).await;
    products::create(&db, &scope, &product("AFTER-1", 100, 1))
        .await
        .unwrap();
}

#[tokio::test]
async fn while_frozen_writes_are_refused_reads_carry_on_and_nothing_refused_arrives() {
    let test = fresh_database().await;
    let db = test.db_with_clusters(crate::common::placement_limits());
    let (bravo, admin) = stocked(&db, "bravo", 3).await;
    let (_, other) = stocked(&db, "charlie", 3).await;
    products::create(&db, &admin, &product("BEFORE-1", 100, 1))
        .await
        .expect("acknowledged before the freeze");

    let stopped = move_to(
        &test,
        bravo.id(),
        Target::Cluster(TEST_CLUSTER.into()),
        Some(Phase::Frozen),
    )
    .await
    .unwrap();
    assert!(matches!(stopped, Moved::Stopped(Phase::Frozen)));
    // The database refuses it, whatever this process remembers.
    assert!(matches!(
        products::create(&db, &admin, &product("DURING-1", 100, 1)).await,
        Err(RepoError::WritesFrozen)
    ));
    assert_eq!(product_count(&db, &admin).await, 4, "reads carry on");
    // Another workspace writes as usual.
    products::create(&db, &other, &product("OTHER-1", 100, 1))
        .await
        .unwrap();

    move_to(
        &test,
        bravo.id(),
        Target::Cluster(TEST_CLUSTER.into()),
        None,
    )
    .await
    .unwrap();
    let scope = served(&db, "bravo", &admin).await;
    let page = products::list(
        &db,
        &scope,
        &products::ProductQuery {
            limit: 200,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let skus: Vec<&str> = page.products.iter().map(|p| p.sku.as_str()).collect();
    assert!(skus.contains(&"BEFORE-1"));
    assert!(!skus.contains(&"DURING-1"));
    products::create(&db, &scope, &product("AFTER-1", 100, 1))
        .await
        .expect("writable again once switched");
}

#[tokio::test]
async fn a_move_stopped_after_any_phase_is_finished_by_running_it_again() {
    let test = fresh_database().await;
    let db = test.db_with_clusters(crate::common::placement_limits());
    for (i, phase) in Phase::ALL.into_iter().enumerate() {
        let slug = format!("stop{i}");
        let (tenant, admin) = stocked(&db, &slug, 4).await;
        let t = tenant.id().as_uuid();
        let original = test.fingerprint(TEST_CLUSTER, None, t).await;
        let target = Target::Cluster(SECOND_CLUSTER.into());
        let stopped = move_to(&test, tenant.id(), target.clone(), Some(phase))
            .await
            .unwrap();
        assert!(
            matches!(stopped, Moved::Stopped(p) if p == phase),
            "{phase:?}"
        );
        let switched = matches!(phase, Phase::Switched | Phase::Cleaned);
        let database = database_name(tenant.id());
        if switched {
            assert_eq!(
                place(&db, &slug).await,
                (SECOND_CLUSTER, Some(database.clone()))
            );
        } else {
            // Still served (reading) from its source, every write refused.
            assert_eq!(place(&db, &slug).await, (TEST_CLUSTER, None), "{phase:?}");
            assert_eq!(product_count(&db, &admin).await, 4, "{phase:?}");
            assert!(matches!(
                products::create(&db, &admin, &product("LOST-1", 1, 1)).await,
                Err(RepoError::WritesFrozen)
            ));
        }

        let again = move_to(&test, tenant.id(), target.clone(), None).await;
        match phase {
            // Finished already: a rerun says it is there, and changes nothing.
            Phase::Cleaned => assert!(
                matches!(again, Err(RepoError::Refused(Refusal::AlreadyThere { .. }))),
                "{again:?}"
            ),
            _ => assert!(matches!(again, Ok(Moved::Done(_))), "{phase:?}: {again:?}"),
        }
        assert_eq!(
            test.fingerprint(SECOND_CLUSTER, Some(&database), t).await,
            original,
            "{phase:?}"
        );
        assert_eq!(
            rows_in(&test.fingerprint(TEST_CLUSTER, None, t).await),
            0,
            "{phase:?}: exactly one place holds it"
        );
        let scope = served(&db, &slug, &admin).await;
        products::create(&db, &scope, &product("NEXT-1", 1, 1))
            .await
            .unwrap_or_else(|e| panic!("{phase:?}: {e:?}"));
    }
}

#[tokio::test]
async fn a_copy_that_differs_from_its_source_is_discarded_and_the_workspace_unfrozen() {
    let test = fresh_database().await;
    let db = test.db_with_clusters(crate::common::placement_limits());
    let (bravo, admin) = stocked(&db, "bravo", 5).await;
    let b = bravo.id().as_uuid();
    let target = Target::Cluster(TEST_CLUSTER.into());
    move_to(&test, bravo.id(), target.clone(), Some(Phase::Copied))
        .await
        .unwrap();
    let database = database_name(bravo.id());
    test.run_pinned(
        TEST_CLUSTER,
        Some(&database),
        b,
        "UPDATE products SET name = name || ' (spoilt)' WHERE sku = (SELECT min(sku) FROM products)",
    )
    .await;

    let refused = move_to(&test, bravo.id(), target.clone(), None).await;
    assert!(
        matches!(&refused, Err(RepoError::Refused(Refusal::CopyDiffers { table })) if table == "public.products"),
        "{refused:?}"
    );
    assert!(
        !test.database_exists(&database).await,
        "the copy is discarded"
    );
    assert_eq!(place(&db, "bravo").await, (TEST_CLUSTER, None));
    products::create(&db, &admin, &product("AFTER-1", 1, 1))
        .await
        .expect("unfrozen on its source");
    assert_eq!(audited(&db, "move_failed").await, 1);

    // A new move starts afresh and succeeds.
    assert!(matches!(
        move_to(&test, bravo.id(), target, None).await,
        Ok(Moved::Done(_))
    ));
}

#[tokio::test]
async fn bad_moves_are_refused_before_anything_is_written() {
    let test = fresh_database().await;
    let db = test.db_with_clusters(crate::common::placement_limits());
    let (bravo, admin) = stocked(&db, "bravo", 2).await;
    let b = bravo.id().as_uuid();
    let rows_of_bravo = || async { rows_in(&test.fingerprint(TEST_CLUSTER, None, b).await) };
    let before = rows_of_bravo().await;

    assert!(matches!(
        move_to(&test, bravo.id(), Target::Shared, None).await,
        Err(RepoError::Refused(Refusal::AlreadyThere { .. }))
    ));
    assert!(matches!(
        move_to(&test, bravo.id(), Target::Cluster("nowhere".into()), None).await,
        Err(RepoError::Invalid { field: "cluster" })
    ));
    assert!(matches!(
        move_to(
            &test,
            TenantId::from_uuid(uuid::Uuid::new_v4()),
            Target::Shared,
            None
        )
        .await,
        Err(RepoError::NotFound)
    ));

    // A database by the destination's name that no move made.
    test.run_as_owner(&[&format!("CREATE DATABASE {}", database_name(bravo.id()))])
        .await;
    assert!(matches!(
        move_to(
            &test,
            bravo.id(),
            Target::Cluster(TEST_CLUSTER.into()),
            None
        )
        .await,
        Err(RepoError::Refused(Refusal::DatabaseExists { .. }))
    ));
    test.run_as_owner(&[&format!("DROP DATABASE {}", database_name(bravo.id()))])
        .await;

    test.set_tenant_status("bravo", "suspended").await;
    assert!(matches!(
        move_to(
            &test,
            bravo.id(),
            Target::Cluster(TEST_CLUSTER.into()),
            None
        )
        .await,
        Err(RepoError::Refused(Refusal::NotActive))
    ));
    test.set_tenant_status("bravo", "active").await;
    // Nothing was frozen or recorded by any of them.
    products::create(&db, &admin, &product("STILL-1", 1, 1))
        .await
        .unwrap();
    assert_eq!(
        rows_of_bravo().await,
        before + 1,
        "only the product written since"
    );

    // A move under way takes no other destination.
    move_to(
        &test,
        bravo.id(),
        Target::Cluster(TEST_CLUSTER.into()),
        Some(Phase::Frozen),
    )
    .await
    .unwrap();
    assert!(matches!(
        move_to(
            &test,
            bravo.id(),
            Target::Cluster(SECOND_CLUSTER.into()),
            None
        )
        .await,
        Err(RepoError::Refused(Refusal::MoveUnderWay { .. }))
    ));
    // Two runs of it at once: one finishes it, the other is refused.
    let target = Target::Cluster(TEST_CLUSTER.into());
    let (first, second) = tokio::join!(
        move_to(&test, bravo.id(), target.clone(), None),
        move_to(&test, bravo.id(), target.clone(), None)
    );
    let runs = [first, second];
    let done = runs
        .iter()
        .filter(|r| matches!(r, Ok(Moved::Done(_))))
        .count();
    assert_eq!(done, 1, "{runs:?}");
    assert!(runs.iter().any(|r| matches!(
        r,
        Err(RepoError::Refused(
            Refusal::PlacementUnderWay | Refusal::AlreadyThere { .. }
        ))
    )));

    // Back to a shared database that still holds a row of it: refused, nothing frozen.
    test.run_pinned(
        TEST_CLUSTER,
        None,
        b,
        "INSERT INTO products (tenant_id, id, sku, name, price_minor, stock)
         VALUES (current_setting('app.tenant_id')::uuid, gen_random_uuid(), 'STRAY-1', 'Stray', 1, 1)",
    )
    .await;
    let refused = move_to(&test, bravo.id(), Target::Shared, None).await;
    assert!(
        matches!(&refused, Err(RepoError::Refused(Refusal::DestinationHoldsRows { table })) if table == "public.products"),
        "{refused:?}"
    );
    let scope = served(&db, "bravo", &admin).await;
    products::create(&db, &scope, &product("STILL-2", 1, 1))
        .await
        .expect("not frozen by a refused move");
}

#[tokio::test]
async fn a_table_only_a_later_migration_creates_moves_without_a_code_change() {
    let test = fresh_database().await;
    let db = test.db_with_clusters(crate::common::placement_limits());
    let (bravo, _) = workspace(&db, "bravo", "owner@bravo.test").await;
    let b = bravo.id().as_uuid();
    let database = test.place_dedicated(b).await;
    let dir = std::env::temp_dir().join(format!("stockroom-move-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("29991231000001_move_probe.sql"),
        "CREATE TABLE move_probe (
             tenant_id uuid NOT NULL REFERENCES tenants (id),
             id uuid NOT NULL,
             note text NOT NULL,
             PRIMARY KEY (tenant_id, id)
         );
         ALTER TABLE move_probe ENABLE ROW LEVEL SECURITY;
         ALTER TABLE move_probe FORCE ROW LEVEL SECURITY;
         CREATE POLICY move_probe_tenant ON move_probe
             USING (tenant_id = (SELECT app_current_tenant()))
             WITH CHECK (tenant_id = (SELECT app_current_tenant()));",
    )
    .unwrap();
    test.migrate_extra(&dir, db::MigrationLimits::default())
        .await
        .unwrap();
    test.migrate_extra_in(&database, &dir).await;
    std::fs::remove_dir_all(&dir).ok();
    test.run_pinned(
        TEST_CLUSTER,
        Some(&database),
        b,
        "INSERT INTO move_probe SELECT current_setting('app.tenant_id')::uuid, gen_random_uuid(), 'note ' || n
           FROM generate_series(1, 3) n",
    )
    .await;
    let original = test.fingerprint(TEST_CLUSTER, Some(&database), b).await;
    assert_eq!(original["public.move_probe"].0, 3);

    assert!(matches!(
        move_to(&test, bravo.id(), Target::Shared, None).await,
        Ok(Moved::Done(_))
    ));
    assert_eq!(test.fingerprint(TEST_CLUSTER, None, b).await, original);
}

#[tokio::test]
async fn other_workspaces_read_and_write_without_a_failure_during_a_move() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let test = fresh_database().await;
    let db = test.db_with_clusters(crate::common::placement_limits());
    let (bravo, _) = stocked(&db, "bravo", 50).await;
    let mut others = Vec::new();
    for slug in ["charlie", "delta", "echo"] {
        others.push(stocked(&db, slug, 5).await.1);
    }
    let moving = AtomicBool::new(true);
    let work = |scope: &TenantScope, n: usize| {
        let (db, moving) = (&db, &moving);
        let scope = scope.clone();
        async move {
            let (mut done, mut failed) = (0, Vec::new());
            let mut i = 0;
            while moving.load(Ordering::Relaxed) {
                i += 1;
                let sku = format!("W{n}-{i}");
                match products::create(db, &scope, &product(&sku, 100, 1)).await {
                    Ok(_) => done += 1,
                    Err(err) => failed.push(format!("create: {err:?}")),
                }
                match products::list(db, &scope, &Default::default()).await {
                    Ok(_) => done += 1,
                    Err(err) => failed.push(format!("list: {err:?}")),
                }
            }
            (done, failed)
        }
    };
    let mover = async {
        let moved = move_to(
            &test,
            bravo.id(),
            Target::Cluster(SECOND_CLUSTER.into()),
            None,
        )
        .await;
        moved.expect("the move");
        moving.store(false, Ordering::Relaxed);
    };
    let ((), a, b, c) = tokio::join!(
        mover,
        work(&others[0], 0),
        work(&others[1], 1),
        work(&others[2], 2)
    );
    for (done, failed) in [a, b, c] {
        assert!(failed.is_empty(), "{failed:?}");
        assert!(done > 0, "the others worked during the move");
    }
}

#[tokio::test]
async fn a_frozen_workspaces_jobs_are_not_claimed_until_it_is_moved() {
    use db::tenant::exports;
    use db::tenant::exports::{self as worker, ExportKind};
    let test = fresh_database().await;
    let db = test.db_with_clusters(crate::common::placement_limits());
    let (bravo, admin) = stocked(&db, "bravo", 3).await;
    let id = exports::request(&db, &admin, ExportKind::Products)
        .await
        .unwrap();
    move_to(
        &test,
        bravo.id(),
        Target::Cluster(TEST_CLUSTER.into()),
        Some(Phase::Frozen),
    )
    .await
    .unwrap();
    // Neither queued nor stale: a claim is a write, and the source must hold still.
    assert!(worker::claim_next(&db, 60.0).await.unwrap().is_none());
    assert!(worker::claim_next(&db, 0.0).await.unwrap().is_none());

    move_to(
        &test,
        bravo.id(),
        Target::Cluster(TEST_CLUSTER.into()),
        None,
    )
    .await
    .unwrap();
    let job = worker::claim_next(&db, 60.0)
        .await
        .unwrap()
        .expect("claimed in its new database once moved");
    assert_eq!((job.tenant_id, job.id), (bravo.id(), id));
}

#[tokio::test]
async fn a_source_behind_this_build_is_refused_before_its_writes_are_frozen() {
    let test = fresh_database().await;
    let db = test.db_with_clusters(crate::common::placement_limits());
    let (bravo, _) = workspace(&db, "bravo", "owner@bravo.test").await;
    test.place_dedicated_one_migration_behind(bravo.id().as_uuid())
        .await;
    let refused = move_to(
        &test,
        bravo.id(),
        Target::Cluster(SECOND_CLUSTER.into()),
        None,
    )
    .await;
    assert!(
        matches!(refused, Err(RepoError::Refused(Refusal::SchemaDiffers))),
        "{refused:?}"
    );
    let console = console_scope(&db).await;
    assert!(
        db::platform::moves::latest_move(&db, &console, bravo.id())
            .await
            .unwrap()
            .is_none(),
        "nothing recorded, nothing frozen"
    );
}

#[tokio::test]
async fn a_workspace_is_not_purged_while_a_move_keeps_a_copy_of_it() {
    let test = fresh_database().await;
    let db = test.db_with_clusters(crate::common::placement_limits());
    let (bravo, _) = stocked(&db, "bravo", 2).await;
    move_to(
        &test,
        bravo.id(),
        Target::Cluster(TEST_CLUSTER.into()),
        Some(Phase::Copied),
    )
    .await
    .unwrap();
    test.set_tenant_status("bravo", "suspended").await;
    let owner = test.owner_db().await;
    let refused =
        db::platform::purge::purge(&owner, &registry(&db, "bravo").await, "test", "closed").await;
    owner.close().await;
    assert!(
        matches!(
            refused,
            Err(RepoError::Refused(Refusal::MoveUnderWay { .. }))
        ),
        "{refused:?}"
    );
    assert!(
        test.database_exists(&database_name(bravo.id())).await,
        "its copy is still where the move put it"
    );
}

/// The benchmark's workspace to move has 100,000 orders; spreading their times multiplied
/// the order's number past a 32-bit integer from the 41,426th on.
#[tokio::test]
async fn generated_workspaces_may_hold_more_orders_than_a_32_bit_product_of_numbers() {
    let test = fresh_database().await;
    let tenant = generate_workspace(
        &test.db,
        &WorkspaceSpec {
            slug: &Slug::parse("big").unwrap(),
            owner_email: &Email::parse("owner@big.test").unwrap(),
            owner_password_hash: "hash",
            plan: &PlanCode::new("ENTERPRISE"),
            products: 10,
            orders: 45_000,
            stock: 1,
        },
    )
    .await
    .unwrap();
    let print = test.fingerprint(TEST_CLUSTER, None, tenant.as_uuid()).await;
    assert_eq!(print["public.orders"].0, 45_000);
    assert_eq!(print["public.order_events"].0, 45_000);
}
