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
    let err = orders::create(&db, &access.scope, &[line])
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::Forbidden), "{err:?}");
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
