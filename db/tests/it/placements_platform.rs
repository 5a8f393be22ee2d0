//! A dedicated workspace's changes reach the platform's records, which stay in the control
//! database: a member's removal or password change ends their sessions there and is heard by
//! every process (the listener is on the control database), a revoked token is announced
//! there, the console's plan and overrides reach the limits counted in the workspace's own
//! database, and failed sign-ins count per address across every workspace, wherever each
//! one's data lives.

use std::time::Duration;

use crate::common::{add_member, product, session_alive, set_plan, sign_in, workspace};
use db::platform::sessions::PgSessionStore;
use db::platform::tenants::{find_by_slug, Placement};
use db::platform::throttle::{reserve_sign_in_attempt, Attempt, ThrottlePolicy};
use db::tenant::api_tokens::{self, NewApiToken};
use db::tenant::{members, plan, products};
use db::testing::{fresh_database, TestDatabase};
use db::{Db, PoolLimits, RepoError, Tenant, TenantScope, CHANNEL};
use domain::{ApiTokenRole, Email, LimitKind, Role, Slug, TokenName};
use sqlx::postgres::PgListener;

fn limits() -> PoolLimits {
    crate::common::placement_limits()
}

/// Registers `slug`, gives it a database of its own, and returns it as the registry now has it
/// (dedicated) with its owner's scope.
async fn dedicated(test: &TestDatabase, db: &Db, slug: &str) -> (Tenant, TenantScope) {
    let (tenant, owner) = workspace(db, slug, &format!("owner@{slug}.test")).await;
    test.place_dedicated(tenant.id().as_uuid()).await;
    let tenant = find_by_slug(db, &Slug::parse(slug).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        tenant.placement(),
        Placement::Dedicated { ready: true, .. }
    ));
    let scope = TenantScope::for_member(db, &tenant, owner)
        .await
        .unwrap()
        .expect("the owner is read from the workspace's database");
    (tenant, scope)
}

/// Listens on the control database, as every server process does.
async fn listen(test: &TestDatabase) -> PgListener {
    let mut listener = PgListener::connect(test.app_url()).await.unwrap();
    listener.listen(CHANNEL).await.unwrap();
    listener
}

/// Waits (up to 5 s) until a notification with `payload` arrives.
async fn heard(listener: &mut PgListener, payload: &str) -> bool {
    let wait = async {
        loop {
            let notification = listener.recv().await.unwrap();
            if notification.payload() == payload {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .is_ok()
}

#[tokio::test]
async fn a_dedicated_workspaces_member_changes_end_sessions_and_are_heard_in_control() {
    let test = fresh_database().await;
    let db = test.db_with_clusters(limits());
    let store = PgSessionStore::new(db.clone());
    let (bravo, owner) = dedicated(&test, &db, "bravo").await;
    let member = add_member(&db, &bravo, "member@bravo.test", Role::Member).await;
    let member_id = member.member().user_id;
    let member_session = sign_in(&store, bravo.id(), member_id).await;
    let owner_elsewhere = sign_in(&store, bravo.id(), owner.member().user_id).await;
    let owner_here = sign_in(&store, bravo.id(), owner.member().user_id).await;
    let mut listener = listen(&test).await;

    members::remove(&db, &owner, member_id).await.unwrap();
    assert!(
        !session_alive(&store, &member_session).await,
        "the removed member's session ended in the control database"
    );
    assert!(
        heard(&mut listener, &format!("m:{member_id}")).await,
        "every process heard of the removal"
    );
    assert!(TenantScope::for_member(&db, &bravo, member_id)
        .await
        .unwrap()
        .is_none());

    members::set_own_password(&db, &owner, "new-hash", Some(&owner_here))
        .await
        .unwrap();
    assert!(!session_alive(&store, &owner_elsewhere).await);
    assert!(session_alive(&store, &owner_here).await);

    let token = api_tokens::create(
        &db,
        &owner,
        &NewApiToken {
            name: &TokenName::parse("Till").unwrap(),
            role: ApiTokenRole::Write,
            prefix: "sr_till0001",
            digest: &"ab".repeat(32),
            expires_at: None,
        },
    )
    .await
    .unwrap();
    api_tokens::revoke(&db, &owner, token).await.unwrap();
    assert!(
        heard(&mut listener, &format!("k:{}", "ab".repeat(32))).await,
        "every process heard of the revocation"
    );
}

#[tokio::test]
async fn the_consoles_plan_and_overrides_reach_a_dedicated_workspaces_limits() {
    let test = fresh_database().await;
    let db = test.db_with_clusters(limits());
    let (bravo, owner) = dedicated(&test, &db, "bravo").await;

    set_plan(&db, bravo.id(), "PRO").await;
    let entitlements = plan::entitlements(&db, &owner).await.unwrap();
    assert_eq!(entitlements.plan_code, "PRO");

    crate::common::set_limit(&db, bravo.id(), LimitKind::Products, 1).await;
    products::create(&db, &owner, &product("ONE", 100, 1))
        .await
        .unwrap();
    let refused = products::create(&db, &owner, &product("TWO", 100, 1)).await;
    assert!(
        matches!(
            refused,
            Err(RepoError::LimitReached {
                limit: LimitKind::Products,
                max: 1,
                ..
            })
        ),
        "{refused:?}"
    );
    assert_eq!(
        test.count_rows(None, "tenant_limit_overrides", bravo.id().as_uuid())
            .await,
        1,
        "the registry keeps the override the console shows"
    );
}

#[tokio::test]
async fn failed_sign_ins_count_per_address_across_shared_and_dedicated_workspaces() {
    let test = fresh_database().await;
    let db = test.db_with_clusters(limits());
    let (alpha, _) = workspace(&db, "alpha", "owner@alpha.test").await;
    let (bravo, _) = dedicated(&test, &db, "bravo").await;
    let policy = ThrottlePolicy {
        per_account: 100,
        per_address: 2,
        per_device: 100,
        window_secs: 600,
    };
    let attempt = |tenant: Tenant, email: &'static str, address: &'static str| {
        let db = db.clone();
        async move {
            let email = Email::parse(email).unwrap();
            reserve_sign_in_attempt(&db, &tenant, &email, address, None, policy)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        attempt(alpha.clone(), "a@alpha.test", "192.0.2.7").await,
        Attempt::FromElsewhere
    );
    assert_eq!(
        attempt(bravo.clone(), "b@bravo.test", "192.0.2.7").await,
        Attempt::FromElsewhere
    );
    assert_eq!(
        attempt(alpha.clone(), "c@alpha.test", "192.0.2.7").await,
        Attempt::Refused,
        "the dedicated workspace's failure counted for the address"
    );
    assert_eq!(
        attempt(bravo.clone(), "d@bravo.test", "192.0.2.7").await,
        Attempt::Refused
    );
    assert_eq!(
        attempt(bravo, "d@bravo.test", "192.0.2.8").await,
        Attempt::FromElsewhere,
        "another address is not held back"
    );
}

#[tokio::test]
async fn find_my_workspace_lists_dedicated_workspaces_as_their_members_change() {
    use db::platform::directory::workspaces_for_email;
    let test = fresh_database().await;
    let db = test.db_with_clusters(limits());
    let (alpha, _) = workspace(&db, "alpha", "owner@alpha.test").await;
    let (bravo, owner) = dedicated(&test, &db, "bravo").await;
    let slugs = |email: &'static str| {
        let db = db.clone();
        async move {
            workspaces_for_email(&db, &Email::parse(email).unwrap())
                .await
                .unwrap()
                .into_iter()
                .map(|w| w.slug.as_str().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(slugs("owner@bravo.test").await, ["bravo"]);

    add_member(&db, &alpha, "both@shops.test", Role::Member).await;
    let member = add_member(&db, &bravo, "both@shops.test", Role::Member).await;
    assert_eq!(slugs("both@shops.test").await, ["alpha", "bravo"]);

    members::remove(&db, &owner, member.member().user_id)
        .await
        .unwrap();
    assert_eq!(slugs("both@shops.test").await, ["alpha"]);
}
