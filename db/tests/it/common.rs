use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use db::platform::registration::{register, NewWorkspace};
use db::{Db, Tenant};
use domain::{Email, PersonName, Slug, TenantId, UserId, WorkspaceName};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use time::OffsetDateTime;
use tower_sessions::session::{Id as SessionId, Record};
use tower_sessions::session_store::SessionStore;

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
        description: domain::Description::default(),
        price: domain::Money::from_minor(price_minor),
        stock,
    }
}

/// A second registered workspace handle: the tenant and its owner's scope.
pub async fn tenant_and_owner(db: &Db, slug: &str) -> (Tenant, db::TenantScope) {
    let (tenant, owner) = workspace(db, slug, &format!("owner@{slug}.test")).await;
    let scope = db::TenantScope::for_member(db, &tenant, owner)
        .await
        .unwrap()
        .expect("owner is a member");
    (tenant, scope)
}

/// Adds an active member (as the operator command would) and returns their scope.
pub async fn add_member(
    db: &Db,
    tenant: &Tenant,
    email: &str,
    role: domain::Role,
) -> db::TenantScope {
    let user = db::platform::operator::add_member(
        db,
        tenant,
        &Email::parse(email).unwrap(),
        &PersonName::parse(&format!("Name of {email}")).unwrap(),
        role,
        &format!("hash-of-{email}"),
    )
    .await
    .unwrap();
    db::TenantScope::for_member(db, tenant, user)
        .await
        .unwrap()
        .expect("a member just added has a scope")
}

/// A console admin's scope (the console functions need one).
pub async fn console_scope(db: &Db) -> db::platform::console::ConsoleScope {
    console_admin(db, "root@console.test").await
}

pub async fn console_admin(db: &Db, email: &str) -> db::platform::console::ConsoleScope {
    let id = db::platform::console::create_admin(
        db,
        &Email::parse(email).unwrap(),
        &PersonName::parse("Console Admin").unwrap(),
        "admin-hash",
    )
    .await
    .unwrap();
    db::platform::console::ConsoleScope::for_admin(db, id)
        .await
        .unwrap()
        .expect("the admin just created exists")
}

/// Moves a tenant to `plan` the way a billing webhook would.
pub async fn set_plan(db: &Db, tenant: TenantId, plan: &str) {
    db::platform::console::change_plan(
        db,
        db::platform::console::Actor::System("test"),
        tenant,
        &domain::PlanCode::new(plan),
    )
    .await
    .unwrap();
}

/// Caps one of a tenant's limits through the console.
pub async fn set_limit(db: &Db, tenant: TenantId, limit: domain::LimitKind, max: i64) {
    let console = console_admin(db, &format!("limits-{}@console.test", uuid::Uuid::new_v4())).await;
    db::platform::console::set_limit_override(
        db,
        &console,
        tenant,
        limit.code(),
        domain::LimitOverride::Max(max),
    )
    .await
    .unwrap();
}

/// A transaction on the app role acting as `tenant`, for checks the repository does not expose.
pub async fn tenant_tx(pool: &PgPool, tenant: TenantId) -> Transaction<'static, Postgres> {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    tx
}

/// Stores a session that signs `user` of `tenant` in, as the app does after a login.
pub async fn sign_in(
    store: &db::platform::sessions::PgSessionStore,
    tenant: TenantId,
    user: UserId,
) -> SessionId {
    let mut data = HashMap::new();
    data.insert(
        db::platform::sessions::SIGNED_IN_KEY.to_owned(),
        serde_json::json!({ "tenant_id": tenant, "user_id": user, "since": 0 }),
    );
    let mut record = Record {
        id: SessionId::default(),
        data,
        expiry_date: OffsetDateTime::now_utc() + time::Duration::hours(1),
    };
    store.create(&mut record).await.unwrap();
    record.id
}

pub async fn session_alive(store: &db::platform::sessions::PgSessionStore, id: &SessionId) -> bool {
    store.load(id).await.unwrap().is_some()
}

/// Starts `n` tasks at the same moment and waits for all of them; `task(i)` builds the `i`th.
/// Each runs on its own tokio task and is held at a barrier until every one has been spawned,
/// so they really overlap. The outcomes come back in index order; a task that panicked
/// panics here with its own message.
pub async fn race<T, F, Fut>(n: usize, task: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let start = Arc::new(tokio::sync::Barrier::new(n));
    let racers: Vec<_> = (0..n)
        .map(|i| {
            let (start, racer) = (start.clone(), task(i));
            tokio::spawn(async move {
                start.wait().await;
                racer.await
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(n);
    for racer in racers {
        match racer.await {
            Ok(outcome) => outcomes.push(outcome),
            Err(failed) => std::panic::resume_unwind(failed.into_panic()),
        }
    }
    outcomes
}

/// Asserts that exactly one of the raced `outcomes` succeeded and returns the others' errors,
/// for the test to say how the losers must have lost.
pub fn exactly_one_winner<T: Debug, E: Debug>(outcomes: &[Result<T, E>]) -> Vec<&E> {
    let won = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(won, 1, "exactly one winner expected: {outcomes:?}");
    outcomes.iter().filter_map(|o| o.as_ref().err()).collect()
}

/// A test's mail: sent at once, never failing.
pub fn delivered() -> std::future::Ready<Result<(), std::convert::Infallible>> {
    std::future::ready(Ok(()))
}

/// A password hash that is ready at once (the repository asks for it only after its checks).
pub fn hashed(hash: &str) -> std::future::Ready<Result<String, std::convert::Infallible>> {
    std::future::ready(Ok(hash.to_owned()))
}

/// Resends an invitation through the product's path; returns who its mail went to.
pub async fn resend(
    db: &db::Db,
    scope: &db::TenantScope,
    id: domain::InvitationId,
    link: db::tenant::invitations::InvitationLink<'_>,
) -> Result<(domain::Email, domain::Role), db::RepoError> {
    let sent = std::sync::Mutex::new(None);
    db::tenant::invitations::resend_invitation(db, scope, id, link, |email, role| {
        *sent.lock().unwrap() = Some((email, role));
        delivered()
    })
    .await?;
    Ok(sent
        .into_inner()
        .unwrap()
        .expect("the mail was handed over"))
}

/// Pools to workspaces' own databases small enough that the tests exercise their limits.
pub fn placement_limits() -> db::PoolLimits {
    db::PoolLimits {
        per_database: 2,
        max_pools: 4,
        idle_close: std::time::Duration::from_secs(60),
        acquire_timeout: std::time::Duration::from_secs(5),
    }
}

/// A local port that forwards to `host:port`, holding back everything the far end sends for
/// `delay` (what the near end sends goes through at once): a connection on a slow network or
/// a busy host.
pub async fn late_replies(host: &str, port: u16, delay: std::time::Duration) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = listener.local_addr().unwrap().port();
    let upstream = format!("{host}:{port}");
    tokio::spawn(async move {
        while let Ok((near, _)) = listener.accept().await {
            let Ok(far) = tokio::net::TcpStream::connect(&upstream).await else {
                continue;
            };
            // Held back by `delay` exactly, not by Nagle's algorithm as well.
            let _ = (near.set_nodelay(true), far.set_nodelay(true));
            let (mut near_read, mut near_write) = near.into_split();
            let (mut far_read, mut far_write) = far.into_split();
            tokio::spawn(async move { tokio::io::copy(&mut near_read, &mut far_write).await });
            let (held, mut due) = tokio::sync::mpsc::unbounded_channel();
            tokio::spawn(async move {
                let mut buf = vec![0; 16 * 1024];
                while let Ok(n @ 1..) = far_read.read(&mut buf).await {
                    let at = tokio::time::Instant::now() + delay;
                    if held.send((at, buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            });
            tokio::spawn(async move {
                while let Some((at, bytes)) = due.recv().await {
                    tokio::time::sleep_until(at).await;
                    if near_write.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    local
}
