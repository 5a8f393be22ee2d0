#![allow(dead_code)]

use db::platform::registration::{register, NewWorkspace};
use db::{Db, Tenant};
use domain::{Email, PersonName, Slug, UserId, WorkspaceName};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// `#[sqlx::test]` hands out the owner's connection to a fresh database. The code under test
/// must run as the application role, as in production, or RLS would not be exercised at all.
pub async fn app_pool(owner: &PgConnectOptions, max_connections: u32) -> PgPool {
    let app_url = std::env::var("STOCKROOM_TEST_APP_URL")
        .expect("STOCKROOM_TEST_APP_URL names the application role (./dev test sets it)");
    let app: PgConnectOptions = app_url.parse().expect("STOCKROOM_TEST_APP_URL parses");
    let database = owner.get_database().expect("sqlx::test names a database");
    PgPoolOptions::new()
        .max_connections(max_connections)
        .connect_with(app.database(database))
        .await
        .expect("the application role can connect to the test database")
}

pub async fn app_db(owner: &PgConnectOptions) -> Db {
    Db::from_pool(app_pool(owner, 4).await)
}

pub async fn workspace(db: &Db, slug: &str, email: &str) -> (Tenant, UserId) {
    register(
        db,
        NewWorkspace {
            name: &WorkspaceName::parse(&format!("Shop {slug}")).unwrap(),
            slug: &Slug::parse(slug).unwrap(),
            owner_name: &PersonName::parse("Owner").unwrap(),
            owner_email: &Email::parse(email).unwrap(),
            owner_password_hash: &format!("hash-of-{slug}"),
            welcome_ticket_digest: None,
        },
    )
    .await
    .expect("registration succeeds")
}

/// Registers a workspace and returns its owner's scope.
pub async fn owner_scope(db: &Db, slug: &str) -> db::TenantScope {
    let (tenant, owner) = workspace(db, slug, &format!("owner@{slug}.test")).await;
    db::TenantScope::for_member(db, &tenant, owner)
        .await
        .unwrap()
        .expect("owner is a member")
}

pub fn product(sku: &str, price_minor: i64, stock: i32) -> db::tenant::products::ProductInput {
    db::tenant::products::ProductInput {
        sku: domain::Sku::parse(sku).unwrap(),
        name: domain::ProductName::parse(&format!("Product {sku}")).unwrap(),
        description: String::new(),
        price: domain::Money::from_minor(price_minor),
        stock,
    }
}
