//! API tokens in the repository: found only inside their own tenant, refused once revoked,
//! expired or orphaned, read-only underneath, and idempotency keys kept per token.

use crate::common::{app_db, product, tenant_and_owner};
use db::tenant::api_tokens::{self, NewApiToken};
use db::tenant::idempotency::{claim, complete, Claim};
use db::tenant::{orders, products};
use db::{RepoError, TenantScope, TokenCheck};
use domain::{ApiTokenRole, Role, TokenName};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

fn digest(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

async fn make(db: &db::Db, scope: &TenantScope, n: u8, role: ApiTokenRole) -> domain::ApiTokenId {
    api_tokens::create(
        db,
        scope,
        &NewApiToken {
            name: &TokenName::parse("Shop").unwrap(),
            role,
            prefix: &format!("sr_token{n:03}"),
            digest: &digest(n),
            expires_at: None,
        },
    )
    .await
    .unwrap()
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_token_is_found_only_in_its_own_workspace_and_acts_as_its_creator(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (alpha, alpha_owner) = tenant_and_owner(&db, "alpha").await;
    let (bravo, bravo_owner) = tenant_and_owner(&db, "bravo").await;
    let write = make(&db, &alpha_owner, 1, ApiTokenRole::Write).await;
    make(&db, &bravo_owner, 2, ApiTokenRole::Read).await;

    let TokenCheck::Valid(access) = TenantScope::for_api_token(&db, &alpha, &digest(1))
        .await
        .unwrap()
    else {
        panic!("alpha's token works in alpha");
    };
    assert_eq!(access.token_id, write);
    assert_eq!(access.scope.member().user_id, alpha_owner.member().user_id);
    assert_eq!(access.scope.member().role, Role::Owner);
    assert!(!access.scope.is_read_only());
    // Another workspace's token, looked up with this one's digest, is simply not there.
    for (tenant, other) in [(&bravo, 1), (&alpha, 2)] {
        assert!(matches!(
            TenantScope::for_api_token(&db, tenant, &digest(other))
                .await
                .unwrap(),
            TokenCheck::Unknown
        ));
    }
    assert_eq!(api_tokens::list(&db, &bravo_owner).await.unwrap().len(), 1);
    assert!(matches!(
        api_tokens::revoke(&db, &bravo_owner, write).await,
        Err(RepoError::NotFound)
    ));

    api_tokens::revoke(&db, &alpha_owner, write).await.unwrap();
    assert!(matches!(
        TenantScope::for_api_token(&db, &alpha, &digest(1))
            .await
            .unwrap(),
        TokenCheck::Refused {
            reason: "revoked",
            ..
        }
    ));
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_read_token_cannot_write_even_where_the_code_forgot_to_refuse(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (alpha, alpha_owner) = tenant_and_owner(&db, "alpha").await;
    let mug = products::create(&db, &alpha_owner, &product("MUG-1", 100, 5))
        .await
        .unwrap();
    make(&db, &alpha_owner, 3, ApiTokenRole::Read).await;
    let TokenCheck::Valid(access) = TenantScope::for_api_token(&db, &alpha, &digest(3))
        .await
        .unwrap()
    else {
        panic!("the read token works");
    };
    assert!(access.scope.is_read_only());
    // Members may place orders, so no role check stands in the way: the database does.
    let line = orders::NewLine {
        product_id: mug,
        quantity: 1,
    };
    let err = orders::create(&db, &access.scope, None, &[line])
        .await
        .unwrap_err();
    // PostgreSQL's refusal of a write in a READ ONLY transaction; the API words it for a read
    // token (`api::call`).
    assert!(matches!(err, RepoError::WritesFrozen), "{err:?}");
    assert_eq!(
        products::get(&db, &access.scope, mug).await.unwrap().stock,
        5
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn idempotency_keys_are_claimed_once_and_answered_again(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (_, alpha_owner) = tenant_and_owner(&db, "alpha").await;
    let (_, bravo_owner) = tenant_and_owner(&db, "bravo").await;
    let token = make(&db, &alpha_owner, 4, ApiTokenRole::Write).await;
    let hash = digest(9);
    assert_eq!(
        claim(&db, &alpha_owner, token, "k", &hash).await.unwrap(),
        Claim::Fresh
    );
    assert_eq!(
        claim(&db, &alpha_owner, token, "k", &hash).await.unwrap(),
        Claim::InProgress
    );
    assert_eq!(
        claim(&db, &alpha_owner, token, "k", &digest(8))
            .await
            .unwrap(),
        Claim::Mismatch
    );
    complete(&db, &alpha_owner, token, "k", 201, "{}")
        .await
        .unwrap();
    assert_eq!(
        claim(&db, &alpha_owner, token, "k", &hash).await.unwrap(),
        Claim::Done {
            status: 201,
            body: "{}".into()
        }
    );
    // Another workspace cannot claim a key for a token it does not have.
    assert!(claim(&db, &bravo_owner, token, "k", &hash).await.is_err());
}

/// A handle on the test's database that keeps what it reads, as a server process does, and
/// the pool under it (for changes made behind its back).
async fn listening_db(owner: &PgConnectOptions) -> (db::Db, sqlx::PgPool) {
    listening_db_hearing_late(owner, std::time::Duration::ZERO).await
}

/// As [`listening_db`], with everything the database sends the listener held back for
/// `delay`, as on a busy host.
async fn listening_db_hearing_late(
    owner: &PgConnectOptions,
    delay: std::time::Duration,
) -> (db::Db, sqlx::PgPool) {
    let pool = crate::common::app_pool(owner, 4).await;
    let db = db::Db::from_pool(pool.clone());
    let app: PgConnectOptions = std::env::var("STOCKROOM_TEST_APP_URL")
        .unwrap()
        .parse()
        .unwrap();
    let app = app.database(owner.get_database().unwrap());
    let port = crate::common::late_replies(app.get_host(), app.get_port(), delay).await;
    db.listen(app.host("127.0.0.1").port(port));
    for _ in 0..200 {
        if db.is_listening() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(db.is_listening(), "the handle listens for changes");
    (db, pool)
}

/// A change that ends someone's access answers only once its process has heard everything
/// committed before it: so has every other listening process been sent it (PostgreSQL tells
/// them all at once, in commit order). Here another process revokes token 8 and announces it
/// just before this one revokes token 9, and this process hears everything 100 ms late; when
/// its revocation returns, token 8 is no longer answered from memory.
#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_revocation_answers_once_its_process_has_heard_everything_before_it(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let late = std::time::Duration::from_millis(100);
    let (db, pool) = listening_db_hearing_late(&owner, late).await;
    let (alpha, alpha_owner) = tenant_and_owner(&db, "alpha").await;
    make(&db, &alpha_owner, 8, ApiTokenRole::Write).await;
    let ninth = make(&db, &alpha_owner, 9, ApiTokenRole::Write).await;
    for round in 0..3 {
        let eighth = TenantScope::for_api_token(&db, &alpha, &digest(8))
            .await
            .unwrap();
        assert!(matches!(eighth, TokenCheck::Valid(_)), "round {round}");
        // Another process revokes token 8. Unannounced, this process cannot see it, so what
        // it answers comes from memory...
        let mut tx = crate::common::tenant_tx(&pool, alpha.id()).await;
        sqlx::query("UPDATE api_tokens SET revoked_at = now() WHERE secret_digest = $1")
            .bind(digest(8))
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let eighth = TenantScope::for_api_token(&db, &alpha, &digest(8))
            .await
            .unwrap();
        assert!(
            matches!(eighth, TokenCheck::Valid(_)),
            "round {round}: kept in memory"
        );
        // ...until the announcement, committed just before this process revokes token 9.
        sqlx::query("SELECT pg_notify('stockroom_cache', $1)")
            .bind(format!("k:{}", digest(8)))
            .execute(&pool)
            .await
            .unwrap();
        api_tokens::revoke(&db, &alpha_owner, ninth).await.unwrap();
        assert!(
            matches!(
                TenantScope::for_api_token(&db, &alpha, &digest(8))
                    .await
                    .unwrap(),
                TokenCheck::Refused {
                    reason: "revoked",
                    ..
                }
            ),
            "round {round}: the other process's revocation was heard first"
        );

        // Both live again for the next round, and token 8 kept again.
        let mut tx = crate::common::tenant_tx(&pool, alpha.id()).await;
        sqlx::query("UPDATE api_tokens SET revoked_at = NULL")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
}

/// A valid token is kept in memory while the handle listens: a change made behind its back
/// (no announcement) goes unseen, but a revocation, a change to its creator, its expiry and
/// another workspace's host are never answered from memory.
#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_kept_token_is_forgotten_by_whatever_concerns_it(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    use db::tenant::members;
    let (db, pool) = listening_db(&owner).await;
    let (alpha, alpha_owner) = tenant_and_owner(&db, "alpha").await;
    let (bravo, _) = tenant_and_owner(&db, "bravo").await;
    let check = |n: u8| {
        let (db, alpha) = (&db, &alpha);
        async move {
            TenantScope::for_api_token(db, alpha, &digest(n))
                .await
                .unwrap()
        }
    };
    let alpha_id = alpha.id();
    let revoke_behind_its_back = |n: u8| {
        let pool = pool.clone();
        async move {
            let mut tx = crate::common::tenant_tx(&pool, alpha_id).await;
            sqlx::query("UPDATE api_tokens SET revoked_at = now() WHERE secret_digest = $1")
                .bind(digest(n))
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
    };

    // Kept: a revocation nobody announced is not seen...
    let token = make(&db, &alpha_owner, 5, ApiTokenRole::Write).await;
    assert!(matches!(check(5).await, TokenCheck::Valid(_)));
    revoke_behind_its_back(5).await;
    assert!(matches!(check(5).await, TokenCheck::Valid(_)), "kept");
    // ...but never on another workspace's host...
    assert!(matches!(
        TenantScope::for_api_token(&db, &bravo, &digest(5))
            .await
            .unwrap(),
        TokenCheck::Unknown
    ));
    // ...and a revocation through the repository is announced and forgotten at once.
    api_tokens::revoke(&db, &alpha_owner, token).await.unwrap();
    assert!(matches!(
        check(5).await,
        TokenCheck::Refused {
            reason: "revoked",
            ..
        }
    ));

    // A change to the creator's role or membership: the token acts with the new role at once.
    let admin = crate::common::add_member(&db, &alpha, "ada@alpha.test", Role::Admin).await;
    make(&db, &admin, 6, ApiTokenRole::Write).await;
    let TokenCheck::Valid(before) = check(6).await else {
        panic!("the admin's token works");
    };
    assert_eq!(before.scope.member().role, Role::Admin);
    let ada = admin.member().user_id;
    members::change_role(&db, &alpha_owner, ada, Role::Member)
        .await
        .unwrap();
    let TokenCheck::Valid(after) = check(6).await else {
        panic!("a demoted creator's token still works");
    };
    assert_eq!(after.scope.member().role, Role::Member);
    members::remove(&db, &alpha_owner, ada).await.unwrap();
    assert!(matches!(
        check(6).await,
        TokenCheck::Refused {
            reason: "creator removed",
            ..
        }
    ));

    // Its expiry counts even while it is kept.
    api_tokens::create(
        &db,
        &alpha_owner,
        &NewApiToken {
            name: &TokenName::parse("Brief").unwrap(),
            role: ApiTokenRole::Read,
            prefix: "sr_token007",
            digest: &digest(7),
            expires_at: Some(time::OffsetDateTime::now_utc() + time::Duration::seconds(2)),
        },
    )
    .await
    .unwrap();
    assert!(matches!(check(7).await, TokenCheck::Valid(_)));
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert!(matches!(
        check(7).await,
        TokenCheck::Refused {
            reason: "expired",
            ..
        }
    ));
}
