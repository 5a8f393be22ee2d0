//! Provisioning: a new workspace gets a database of its own, its few rows (members) go
//! there and leave the shared database, its sessions and console settings carry on, and a
//! run stopped after any step is finished by running it again, the workspace refused (never
//! served half-made) until then.

use std::ops::ControlFlow;
use std::time::Duration;

use crate::common::workspace;
use crate::common::{add_member, console_scope, product, session_alive, set_limit, sign_in};
use db::platform::console::{audit_log, Actor, AuditFilter};
use db::platform::provision::{database_name, provision, Destination, Provisioned, Step};
use db::platform::sessions::PgSessionStore;
use db::platform::tenants::{find_by_slug, Placement};
use db::tenant::products;
use db::testing::{fresh_database, TestDatabase, TEST_CLUSTER};
use db::{Db, PoolLimits, Refusal, RepoError, Tenant, TenantScope};
use domain::{LimitKind, Role, Slug, TenantId, UserId};

fn limits() -> PoolLimits {
    crate::common::placement_limits()
}

/// Runs provisioning onto the test cluster as the operator's command does, stopping after
/// `stop_after` if given.
async fn provision_on_test_cluster(
    test: &TestDatabase,
    tenant: TenantId,
    stop_after: Option<Step>,
) -> Result<Provisioned, RepoError> {
    let owner = test.owner_db().await;
    let to = test.test_cluster();
    let outcome = provision(&owner, tenant, &to, Actor::System("test"), |step| {
        if Some(step) == stop_after {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .await;
    owner.close().await;
    outcome
}

/// The owner's scope once this process has heard the registry's change (the command runs
/// elsewhere, as the operator's would, and announces it): refused as `Moving` until then.
async fn served(db: &Db, slug: &str, owner: UserId) -> TenantScope {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match TenantScope::for_member(db, &registry(db, slug).await, owner).await {
            Ok(Some(scope)) => return scope,
            Err(RepoError::Moving) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => panic!("{slug}'s owner is not served: {other:?}"),
        }
    }
}

async fn registry(db: &Db, slug: &str) -> Tenant {
    find_by_slug(db, &Slug::parse(slug).unwrap())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn provisioning_places_a_new_workspace_in_a_database_of_its_own() {
    let test = fresh_database().await;
    let db = test.db_with_clusters(limits());
    let store = PgSessionStore::new(db.clone());
    let (bravo, owner) = workspace(&db, "bravo", "owner@bravo.test").await;
    let member = add_member(&db, &bravo, "member@bravo.test", Role::Member).await;
    let session = sign_in(&store, bravo.id(), owner).await;
    set_limit(&db, bravo.id(), LimitKind::Products, 1).await;
    let b = bravo.id().as_uuid();

    let done = provision_on_test_cluster(&test, bravo.id(), None)
        .await
        .unwrap();
    let database = database_name(bravo.id());
    assert!(
        matches!(&done, Provisioned::Done { database: d, .. } if *d == database),
        "{done:?}"
    );
    let scope = served(&db, "bravo", owner).await;
    let bravo = registry(&db, "bravo").await;
    match bravo.placement() {
        Placement::Dedicated { home, ready: true } => {
            assert_eq!(home.cluster, TEST_CLUSTER);
            assert_eq!(home.database, database);
        }
        other => panic!("bravo is placed {other:?}"),
    }
    assert_eq!(test.count_rows(Some(&database), "users", b).await, 2);
    assert_eq!(
        test.count_rows(None, "users", b).await,
        0,
        "gone from shared"
    );
    let overrides = "tenant_limit_overrides";
    assert_eq!(test.count_rows(Some(&database), overrides, b).await, 1);
    assert_eq!(
        test.count_rows(None, overrides, b).await,
        1,
        "the registry's"
    );
    assert!(session_alive(&store, &session).await, "still signed in");
    let listed = db::platform::directory::workspaces_for_email(
        &db,
        &domain::Email::parse("member@bravo.test").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(listed.len(), 1, "\"find my workspace\" still finds it");
    assert!(
        TenantScope::for_member(&db, &bravo, member.member().user_id)
            .await
            .unwrap()
            .is_some()
    );
    products::create(&db, &scope, &product("FIRST", 100, 1))
        .await
        .unwrap();
    let refused = products::create(&db, &scope, &product("SECOND", 100, 1)).await;
    assert!(
        matches!(refused, Err(RepoError::LimitReached { max: 1, .. })),
        "the console's override came along: {refused:?}"
    );
    assert_eq!(test.count_rows(Some(&database), "products", b).await, 1);
    assert_eq!(test.count_rows(None, "products", b).await, 0);

    let again = provision_on_test_cluster(&test, bravo.id(), None)
        .await
        .unwrap();
    assert_eq!(again, Provisioned::AlreadyThere { database });

    let console = console_scope(&db).await;
    let log = audit_log(
        &db,
        &console,
        &AuditFilter {
            action: Some("provision"),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        log.entries.len(),
        1,
        "one audit entry, for the run that placed it"
    );
    assert_eq!(log.entries[0].tenant_slug.as_deref(), Some("bravo"));
}

#[tokio::test]
async fn provisioning_stopped_after_any_step_is_finished_by_running_it_again() {
    let test = fresh_database().await;
    let db = test.db_with_clusters(limits());
    let (alpha, alpha_owner) = workspace(&db, "alpha", "owner@alpha.test").await;
    let alpha_scope = TenantScope::for_member(&db, &alpha, alpha_owner)
        .await
        .unwrap()
        .unwrap();
    for (n, step) in Step::ALL.into_iter().enumerate() {
        let slug = format!("stop{n}");
        let (tenant, owner) = workspace(&db, &slug, &format!("owner@{slug}.test")).await;
        let stopped = provision_on_test_cluster(&test, tenant.id(), Some(step))
            .await
            .unwrap();
        assert_eq!(stopped, Provisioned::Stopped(step));
        let database = database_name(tenant.id());
        let t = tenant.id().as_uuid();
        if step != Step::Switched {
            // Half-made: refused, not served from either database.
            let refused = TenantScope::for_member(&db, &registry(&db, &slug).await, owner).await;
            assert!(
                matches!(refused, Err(RepoError::Moving)),
                "after {step:?}: {refused:?}"
            );
            // The shared database refuses it too, to a process that has not heard.
            let stale = TenantScope::for_member(&db, &tenant, owner).await;
            assert!(matches!(stale, Err(RepoError::Moving)), "{stale:?}");
            // Everyone else carries on.
            products::list(&db, &alpha_scope, &Default::default())
                .await
                .unwrap();

            let finished = provision_on_test_cluster(&test, tenant.id(), None)
                .await
                .unwrap();
            assert!(
                matches!(finished, Provisioned::Done { .. }),
                "after {step:?}: {finished:?}"
            );
        }
        let scope = served(&db, &slug, owner).await;
        products::create(&db, &scope, &product("ONE", 100, 1))
            .await
            .unwrap();
        assert!(test.database_exists(&database).await);
        assert_eq!(test.count_rows(Some(&database), "users", t).await, 1);
        assert_eq!(test.count_rows(Some(&database), "products", t).await, 1);
        assert_eq!(test.count_rows(None, "users", t).await, 0);
        assert_eq!(test.count_rows(None, "products", t).await, 0);
    }
}

#[tokio::test]
async fn provisioning_refuses_a_workspace_with_data_or_placed_on_another_cluster() {
    let test = fresh_database().await;
    let db = test.db_with_clusters(limits());
    let (alpha, alpha_owner) = workspace(&db, "alpha", "owner@alpha.test").await;
    let scope = TenantScope::for_member(&db, &alpha, alpha_owner)
        .await
        .unwrap()
        .unwrap();
    products::create(&db, &scope, &product("KEEP", 100, 1))
        .await
        .unwrap();
    let refused = provision_on_test_cluster(&test, alpha.id(), None).await;
    assert!(
        matches!(refused, Err(RepoError::Refused(Refusal::HoldsData))),
        "{refused:?}"
    );
    assert_eq!(registry(&db, "alpha").await.placement(), &Placement::Shared);
    products::list(&db, &scope, &Default::default())
        .await
        .expect("alpha still served from the shared database");

    let (bravo, _) = workspace(&db, "bravo", "owner@bravo.test").await;
    test.place_dedicated(bravo.id().as_uuid()).await;
    let owner = test.owner_db().await;
    let elsewhere = Destination::new("another", &test.owner_url(), test.app_url()).unwrap();
    let refused = provision(
        &owner,
        bravo.id(),
        &elsewhere,
        Actor::System("test"),
        |_| ControlFlow::Continue(()),
    )
    .await;
    assert!(
        matches!(
            &refused,
            Err(RepoError::Refused(Refusal::PlacedElsewhere { cluster })) if cluster == TEST_CLUSTER
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn two_provisionings_of_one_workspace_never_run_at_once_and_a_closed_one_is_refused() {
    let test = fresh_database().await;
    let db = test.db_with_clusters(limits());
    let (bravo, owner) = workspace(&db, "bravo", "owner@bravo.test").await;
    let (first, second) = tokio::join!(
        provision_on_test_cluster(&test, bravo.id(), None),
        provision_on_test_cluster(&test, bravo.id(), None)
    );
    let outcomes = [first, second];
    let done = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Provisioned::Done { .. })))
        .count();
    assert_eq!(done, 1, "{outcomes:?}");
    assert!(
        outcomes.iter().all(|o| matches!(
            o,
            Ok(Provisioned::Done { .. } | Provisioned::AlreadyThere { .. })
                | Err(RepoError::Refused(Refusal::PlacementUnderWay))
        )),
        "{outcomes:?}"
    );
    served(&db, "bravo", owner).await;
    let database = database_name(bravo.id());
    let b = bravo.id().as_uuid();
    assert_eq!(test.count_rows(Some(&database), "users", b).await, 1);

    let (charlie, _) = workspace(&db, "charlie", "owner@charlie.test").await;
    test.set_tenant_status("charlie", "suspended").await;
    let refused = provision_on_test_cluster(&test, charlie.id(), None).await;
    assert!(
        matches!(refused, Err(RepoError::Conflict { field: "status" })),
        "{refused:?}"
    );
    assert!(!test.database_exists(&database_name(charlie.id())).await);
}

/// A run that has ended lets the next one start at once: the console's retry right after a
/// refused move was itself refused as "under way" while the first run's connection closed.
#[tokio::test]
async fn a_run_lock_let_go_can_be_taken_again_at_once() {
    let test = fresh_database().await;
    let tenant = domain::TenantId::from_uuid(uuid::Uuid::new_v4());
    for attempt in 0..200 {
        db::testing::run_lock_round_trip(&test.db, tenant)
            .await
            .unwrap_or_else(|e| panic!("attempt {attempt}: {e:?}"));
    }
}
