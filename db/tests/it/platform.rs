use crate::common::{app_db, exactly_one_winner, race, workspace};
use db::platform::throttle::{self, Attempt};
use db::platform::{auth, registration, tenants};
use db::{RepoError, Tenant, TenantScope};
use domain::{Email, PersonName, Slug, UserId, WorkspaceName};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn registration_creates_the_tenant_and_its_owner(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = app_db(&owner).await;
    let (tenant, owner_id) = workspace(&db, "acme", "ann@acme.test").await;
    assert_eq!(tenant.slug().as_str(), "acme");
    assert_eq!(tenant.plan().as_str(), "FREE");
    assert!(tenant.is_active());

    let found = tenants::find_by_slug(&db, &Slug::parse("acme").unwrap())
        .await
        .unwrap();
    assert_eq!(found.as_ref(), Some(&tenant));
    assert!(!tenants::slug_available(&db, tenant.slug()).await.unwrap());
    assert!(tenants::slug_available(&db, &Slug::parse("other").unwrap())
        .await
        .unwrap());

    let scope = TenantScope::for_member(&db, &tenant, owner_id)
        .await
        .unwrap()
        .expect("owner is a member");
    assert_eq!(scope.member().role, domain::Role::Owner);
    assert_eq!(scope.member().email.as_str(), "ann@acme.test");
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_taken_slug_is_a_conflict_on_the_slug_field(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = app_db(&owner).await;
    workspace(&db, "acme", "ann@acme.test").await;
    let err = registration::register(
        &db,
        registration::NewWorkspace {
            name: &WorkspaceName::parse("Other").unwrap(),
            slug: &Slug::parse("acme").unwrap(),
            owner_name: &PersonName::parse("Bo").unwrap(),
            owner_email: &Email::parse("bo@other.test").unwrap(),
            owner_password_hash: "x",
            welcome_ticket_digest: None,
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, RepoError::Conflict { field: "slug" }),
        "{err:?}"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn racing_registrations_for_one_slug_make_one_workspace(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let attempts = race(8, |i| {
        let db = db.clone();
        async move {
            let email = Email::parse(&format!("racer{i}@race.test")).unwrap();
            registration::register(
                &db,
                registration::NewWorkspace {
                    name: &WorkspaceName::parse("Race").unwrap(),
                    slug: &Slug::parse("race").unwrap(),
                    owner_name: &PersonName::parse("Racer").unwrap(),
                    owner_email: &email,
                    owner_password_hash: "x",
                    welcome_ticket_digest: None,
                },
            )
            .await
        }
    })
    .await;
    for err in exactly_one_winner(&attempts) {
        assert!(
            matches!(err, RepoError::Conflict { field: "slug" }),
            "a racing registration failed uncleanly: {err:?}"
        );
    }
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn credentials_are_looked_up_within_one_tenant_only(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (a, a_owner) = workspace(&db, "alpha", "same@mail.test").await;
    let (b, b_owner) = workspace(&db, "bravo", "same@mail.test").await;
    let email = Email::parse("same@mail.test").unwrap();

    let in_a = auth::find_credentials(&db, &a, &email)
        .await
        .unwrap()
        .unwrap();
    let in_b = auth::find_credentials(&db, &b, &email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (in_a.user_id, in_a.password_hash.as_str()),
        (a_owner, "hash-of-alpha")
    );
    assert_eq!(
        (in_b.user_id, in_b.password_hash.as_str()),
        (b_owner, "hash-of-bravo")
    );

    let nobody = Email::parse("nobody@mail.test").unwrap();
    assert!(auth::find_credentials(&db, &a, &nobody)
        .await
        .unwrap()
        .is_none());
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_member_of_one_tenant_gets_no_scope_in_another(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (_, a_owner) = workspace(&db, "alpha", "a@a.test").await;
    let (b, _) = workspace(&db, "bravo", "b@b.test").await;
    assert!(TenantScope::for_member(&db, &b, a_owner)
        .await
        .unwrap()
        .is_none());
    let stranger = UserId::from_uuid(uuid::Uuid::new_v4());
    assert!(TenantScope::for_member(&db, &b, stranger)
        .await
        .unwrap()
        .is_none());
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn tickets_work_once_and_only_on_their_own_workspace(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (a, a_owner) = workspace(&db, "alpha", "a@a.test").await;
    let (b, _) = workspace(&db, "bravo", "b@b.test").await;
    use auth::TicketPurpose::{PasswordReset, Welcome};

    auth::issue_ticket(&db, &a, a_owner, PasswordReset, "digest-reset", 60)
        .await
        .unwrap();
    assert_eq!(
        auth::redeem_ticket(&db, &a, Welcome, "digest-reset")
            .await
            .unwrap(),
        None,
        "a reset link is no welcome ticket"
    );

    auth::issue_ticket(&db, &a, a_owner, Welcome, "digest-1", 60)
        .await
        .unwrap();
    assert_eq!(
        auth::redeem_ticket(&db, &b, Welcome, "digest-1")
            .await
            .unwrap(),
        None,
        "foreign workspace"
    );
    assert_eq!(
        auth::redeem_ticket(&db, &a, Welcome, "digest-1")
            .await
            .unwrap(),
        Some(a_owner)
    );
    assert_eq!(
        auth::redeem_ticket(&db, &a, Welcome, "digest-1")
            .await
            .unwrap(),
        None,
        "second use"
    );

    auth::issue_ticket(&db, &a, a_owner, Welcome, "digest-expired", -1)
        .await
        .unwrap();
    assert_eq!(
        auth::redeem_ticket(&db, &a, Welcome, "digest-expired")
            .await
            .unwrap(),
        None,
        "expired"
    );
}

const POLICY: throttle::ThrottlePolicy = throttle::ThrottlePolicy {
    per_account: 3,
    per_address: 5,
    per_device: 2,
    window_secs: 60,
};

/// One attempt from anywhere but a known device; true when it was let through.
async fn attempt(db: &db::Db, tenant: &db::Tenant, email: &Email, address: &str) -> bool {
    attempt_with(db, tenant, email, address, None, POLICY).await != Attempt::Refused
}

async fn attempt_with(
    db: &db::Db,
    tenant: &db::Tenant,
    email: &Email,
    address: &str,
    device: Option<&str>,
    policy: throttle::ThrottlePolicy,
) -> Attempt {
    throttle::reserve_sign_in_attempt(db, tenant, email, address, device, policy)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn failed_sign_ins_throttle_per_account_and_per_address(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (a, _) = workspace(&db, "alpha", "a@a.test").await;
    let (b, _) = workspace(&db, "bravo", "b@b.test").await;
    let victim = Email::parse("a@a.test").unwrap();

    for _ in 0..3 {
        assert!(attempt(&db, &a, &victim, "10.0.0.1").await);
    }
    assert!(
        !attempt(&db, &a, &victim, "10.0.0.2").await,
        "account limit"
    );
    // The same email in another workspace is another account.
    assert!(attempt(&db, &b, &victim, "10.0.0.2").await);

    throttle::sign_in_succeeded(&db, &a, &victim, "10.0.0.1", None, Attempt::FromElsewhere)
        .await
        .unwrap();
    assert!(attempt(&db, &a, &victim, "10.0.0.3").await);

    // 10.0.0.1 has 2 attempts left on the books (3 reserved, 1 taken back by the success).
    let other = Email::parse("x@b.test").unwrap();
    for _ in 0..3 {
        assert!(attempt(&db, &b, &other, "10.0.0.1").await);
    }
    let fresh = Email::parse("y@b.test").unwrap();
    assert!(!attempt(&db, &b, &fresh, "10.0.0.1").await, "address limit");
}

/// Strangers who fail on purpose lock the account for everyone else, but not for the
/// member's own browser: a known device is held back only by its own failures.
#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_known_device_is_not_locked_out_by_strangers(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = app_db(&owner).await;
    let (a, owner_id) = workspace(&db, "alpha", "a@a.test").await;
    let (b, b_owner) = workspace(&db, "bravo", "b@b.test").await;
    let member = Email::parse("a@a.test").unwrap();
    throttle::remember_device(&db, &a, owner_id, "device-1")
        .await
        .unwrap();
    for i in 0..3 {
        assert!(attempt(&db, &a, &member, &format!("198.51.100.{i}")).await);
    }
    assert!(
        !attempt(&db, &a, &member, "198.51.100.9").await,
        "locked for strangers"
    );
    // An unknown cookie, or the device of another account, is a stranger too.
    for device in ["device-2", "device-of-bravo"] {
        assert_eq!(
            attempt_with(&db, &a, &member, "198.51.100.9", Some(device), POLICY).await,
            Attempt::Refused,
            "{device}"
        );
    }
    throttle::remember_device(&db, &b, b_owner, "device-of-bravo")
        .await
        .unwrap();
    assert_eq!(
        attempt_with(
            &db,
            &a,
            &member,
            "198.51.100.9",
            Some("device-of-bravo"),
            POLICY
        )
        .await,
        Attempt::Refused
    );
    // The member's own browser still gets through, from any address...
    let from_home = attempt_with(&db, &a, &member, "203.0.113.5", Some("device-1"), POLICY).await;
    assert_eq!(from_home, Attempt::FromKnownDevice);
    // ...until it fails on its own too often.
    assert_eq!(
        attempt_with(&db, &a, &member, "203.0.113.5", Some("device-1"), POLICY).await,
        Attempt::FromKnownDevice
    );
    assert_eq!(
        attempt_with(&db, &a, &member, "203.0.113.5", Some("device-1"), POLICY).await,
        Attempt::Refused
    );
    // A success from it clears its own failures, and leaves the strangers' lock in place.
    throttle::sign_in_succeeded(&db, &a, &member, "203.0.113.5", Some("device-1"), from_home)
        .await
        .unwrap();
    assert_eq!(
        attempt_with(&db, &a, &member, "203.0.113.5", Some("device-1"), POLICY).await,
        Attempt::FromKnownDevice
    );
    assert!(!attempt(&db, &a, &member, "198.51.100.9").await);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn parallel_guesses_cannot_slip_under_the_limit(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = db::Db::from_pool(crate::common::app_pool(&owner, 20).await);
    let (a, owner_id) = workspace(&db, "alpha", "a@a.test").await;
    throttle::remember_device(&db, &a, owner_id, "device-1")
        .await
        .unwrap();
    let policy = throttle::ThrottlePolicy {
        per_account: 5,
        per_address: 1000,
        per_device: 4,
        window_secs: 60,
    };
    // Forty strangers, then forty tries from one known device, each burst at once.
    for device in [None, Some("device-1")] {
        let attempts = race(40, |i| {
            let (db, a) = (db.clone(), a.clone());
            async move {
                let email = Email::parse("a@a.test").unwrap();
                attempt_with(&db, &a, &email, &format!("10.1.0.{i}"), device, policy).await
            }
        })
        .await;
        let allowed = attempts.iter().filter(|a| **a != Attempt::Refused).count();
        assert_eq!(allowed, if device.is_some() { 4 } else { 5 }, "{device:?}");
    }
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn member_lists_hold_only_the_scopes_tenant(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = app_db(&owner).await;
    let (a, a_owner) = workspace(&db, "alpha", "a@a.test").await;
    workspace(&db, "bravo", "b@b.test").await;
    let scope = TenantScope::for_member(&db, &a, a_owner)
        .await
        .unwrap()
        .unwrap();
    let members = db::tenant::members::list(&db, &scope).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].email.as_str(), "a@a.test");
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_directory_lists_only_the_asking_emails_active_workspaces(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    workspace(&db, "alpha", "same@mail.test").await;
    workspace(&db, "bravo", "same@mail.test").await;
    workspace(&db, "charlie", "other@mail.test").await;

    let found = db::platform::directory::workspaces_for_email(
        &db,
        &Email::parse("SAME@mail.test").unwrap(),
    )
    .await
    .unwrap();
    let slugs: Vec<&str> = found.iter().map(|w| w.slug.as_str()).collect();
    assert_eq!(slugs, vec!["alpha", "bravo"]);
    let none = db::platform::directory::workspaces_for_email(
        &db,
        &Email::parse("nobody@mail.test").unwrap(),
    )
    .await
    .unwrap();
    assert!(none.is_empty());
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn signing_in_records_when_on_the_member_list(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = app_db(&owner).await;
    let (a, a_owner) = workspace(&db, "alpha", "a@a.test").await;
    let scope = TenantScope::for_member(&db, &a, a_owner)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        db::tenant::members::list(&db, &scope).await.unwrap()[0].last_sign_in_at,
        None
    );
    auth::record_sign_in(&db, &a, a_owner, None).await.unwrap();
    let recorded = db::tenant::members::list(&db, &scope).await.unwrap()[0].last_sign_in_at;
    assert!(recorded.is_some());
}

/// A hash made again at sign-in replaces only the hash that was checked: a password changed
/// between the check and the write stays.
#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_sign_in_replaces_only_the_hash_it_checked(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = app_db(&owner).await;
    let (a, a_owner) = workspace(&db, "alpha", "a@a.test").await;
    let (b, b_owner) = workspace(&db, "bravo", "b@b.test").await;
    let stored = |tenant: Tenant, email: &'static str| {
        let db = db.clone();
        async move {
            auth::find_credentials(&db, &tenant, &Email::parse(email).unwrap())
                .await
                .unwrap()
                .unwrap()
                .password_hash
        }
    };
    let rehash = |checked, replacement| {
        Some(auth::Rehash {
            checked,
            replacement,
        })
    };

    auth::record_sign_in(&db, &a, a_owner, rehash("hash-of-somewhere-else", "new"))
        .await
        .unwrap();
    assert_eq!(stored(a.clone(), "a@a.test").await, "hash-of-alpha");

    auth::record_sign_in(&db, &a, a_owner, rehash("hash-of-alpha", "rehashed-alpha"))
        .await
        .unwrap();
    assert_eq!(stored(a.clone(), "a@a.test").await, "rehashed-alpha");

    // Another workspace's member, named through this workspace, is not written.
    auth::record_sign_in(&db, &a, b_owner, rehash("hash-of-bravo", "taken-over"))
        .await
        .unwrap();
    assert_eq!(stored(b.clone(), "b@b.test").await, "hash-of-bravo");
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn rate_limits_count_per_bucket_and_key(_: PgPoolOptions, owner: PgConnectOptions) {
    use db::platform::rate_limits::{allow, Limit};
    let db = db::Db::from_pool(crate::common::app_pool(&owner, 10).await);
    let limit = Limit {
        max: 3,
        window_secs: 60,
    };
    let bursts = race(10, |_| {
        let db = db.clone();
        async move { allow(&db, "register", "10.0.0.1", limit).await.unwrap() }
    })
    .await;
    let allowed = bursts.iter().filter(|allowed| **allowed).count();
    assert_eq!(allowed, 3, "a burst cannot overshoot");
    assert!(
        allow(&db, "register", "10.0.0.2", limit).await.unwrap(),
        "another key has its own count"
    );
    assert!(
        allow(&db, "find", "10.0.0.1", limit).await.unwrap(),
        "another bucket has its own count"
    );
    let expired = Limit {
        max: 3,
        window_secs: 0,
    };
    assert!(
        allow(&db, "register", "10.0.0.1", expired).await.unwrap(),
        "old attempts age out"
    );
}
