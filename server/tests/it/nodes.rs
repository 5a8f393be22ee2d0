//! Two server processes on one database, as a deployment runs them: what one process changes,
//! the other honours at once, even though each keeps sessions and members in memory, and even
//! when the connection it listens for changes on is cut.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use app::api::console::SetTenantStatus;
use app::api::team::RemoveMember;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::support::{handoff_ticket, scrape_metrics, session_cookie, test_hasher, Server};

const BASE: &str = "stockroom.test";

/// A real `server serve` process on a free port, stopped when dropped.
struct Node {
    child: Child,
    server: Server,
    metrics: SocketAddr,
}

impl Node {
    async fn start(database_url: &str, outbox: &std::path::Path) -> Self {
        let free_port = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        let (port, metrics_port) = (free_port(), free_port());
        let child = Command::new(env!("CARGO_BIN_EXE_server"))
            .arg("serve")
            .env("STOCKROOM_CONFIG", "/nonexistent/Leptos.toml")
            .env("STOCKROOM_SERVER_LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "STOCKROOM_METRICS_LISTEN",
                format!("127.0.0.1:{metrics_port}"),
            )
            .env("STOCKROOM_SERVER_BASE_DOMAIN", BASE)
            .env("STOCKROOM_DATABASE_URL", database_url)
            .env("STOCKROOM_MAIL_OUTBOX_DIR", outbox)
            .env("STOCKROOM_PASSWORDS_MEMORY_KIB", "1024")
            .env("STOCKROOM_PASSWORDS_ITERATIONS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server::new(SocketAddr::from(([127, 0, 0, 1], port)), BASE.into());
        let started = Instant::now();
        loop {
            if server.is_ready().await {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "never ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let metrics = SocketAddr::from(([127, 0, 0, 1], metrics_port));
        Self {
            child,
            server,
            metrics,
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl std::ops::Deref for Node {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

impl Node {
    /// This process's listening connection's backend ids (one while it listens).
    async fn listeners(&self, database: &db::testing::TestDatabase) -> Vec<i32> {
        let name = format!("{}-{}", db::LISTENER_NAME, self.child.id());
        database.backends_named(&name).await
    }

    /// One unlabelled series from the process's metrics.
    async fn metric(&self, name: &str) -> f64 {
        scrape_metrics(self.metrics)
            .await
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from the metrics"))
    }
}

async fn until<T>(within: Duration, mut check: impl AsyncFnMut() -> Option<T>) -> Option<T> {
    let started = Instant::now();
    loop {
        if let Some(found) = check().await {
            return Some(found);
        }
        if started.elapsed() > within {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn what_one_process_changes_the_other_honours_at_once() {
    let database = db::testing::fresh_database().await;
    let outbox = tempfile::tempdir().unwrap();
    let one = Node::start(database.app_url(), outbox.path()).await;
    let two = Node::start(database.app_url(), outbox.path()).await;
    let listening = until(Duration::from_secs(10), async || {
        let one = one.listeners(&database).await.len();
        let two = two.listeners(&database).await.len();
        (one == 1 && two == 1).then_some(())
    })
    .await;
    assert!(listening.is_some(), "both processes listen for changes");

    // A workspace made on process one, with a second member who works on process two.
    let registered = one
        .call::<app::api::Register>(
            None,
            &[
                ("business_name", "Alpha"),
                ("slug", "alpha"),
                ("owner_name", "Ann"),
                ("email", "ann@alpha.test"),
                ("password", "alpha-password-1"),
            ],
            None,
            HeaderMap::new(),
        )
        .await;
    let ticket = handoff_ticket(&registered).unwrap();
    let owner = session_cookie(
        &one.post_welcome("alpha", &ticket, &format!("http://{BASE}"))
            .await,
    )
    .unwrap();
    let tenant =
        db::platform::tenants::find_by_slug(&database.db, &domain::Slug::parse("alpha").unwrap())
            .await
            .unwrap()
            .unwrap();
    let hash = test_hasher()
        .hash(&domain::Password::new_choice("bo-password-1").unwrap())
        .await
        .unwrap();
    let bo_id = db::platform::operator::add_member(
        &database.db,
        &tenant,
        &domain::Email::parse("bo@alpha.test").unwrap(),
        &domain::PersonName::parse("Bo").unwrap(),
        domain::Role::Member,
        &hash,
    )
    .await
    .unwrap();
    let bo = session_cookie(&two.sign_in("alpha", "bo@alpha.test", "bo-password-1").await).unwrap();
    // Process two has Bo's session and membership in memory now.
    assert!(two.signed_in("alpha", &bo).await);
    assert!(two.signed_in("alpha", &bo).await);

    // Removed through process one: Bo's very next request on process two is signed out.
    let removed = one
        .call::<RemoveMember>(
            Some("alpha"),
            &[("id", &bo_id.to_string())],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(removed.status(), StatusCode::OK);
    assert!(
        !two.signed_in("alpha", &bo).await,
        "removal is honoured at once"
    );

    // Suspended through process one's console: process two refuses within a second.
    let admin_hash = test_hasher()
        .hash(&domain::Password::new_choice("console-password-1").unwrap())
        .await
        .unwrap();
    db::platform::console::create_admin(
        &database.db,
        &domain::Email::parse("root@platform.test").unwrap(),
        &domain::PersonName::parse("Root").unwrap(),
        &admin_hash,
    )
    .await
    .unwrap();
    let console = session_cookie(
        &one.call::<app::api::console::ConsoleSignIn>(
            Some("admin"),
            &[
                ("email", "root@platform.test"),
                ("password", "console-password-1"),
            ],
            None,
            HeaderMap::new(),
        )
        .await,
    )
    .unwrap();
    assert_eq!(
        two.get(Some("alpha"), "/", Some(&owner)).await.status(),
        StatusCode::OK
    );
    let set_status = |status: &'static str| {
        let (one, console) = (&one, console.clone());
        async move {
            let changed = one
                .call::<SetTenantStatus>(
                    Some("admin"),
                    &[("slug", "alpha"), ("status", status)],
                    Some(&console),
                    HeaderMap::new(),
                )
                .await;
            assert_eq!(changed.status(), StatusCode::OK);
        }
    };
    set_status("suspended").await;
    let suspended = Instant::now();
    let refused = until(Duration::from_secs(1), async || {
        let page = two.get(Some("alpha"), "/", None).await;
        (page.status() == StatusCode::FORBIDDEN).then(|| suspended.elapsed())
    })
    .await;
    assert!(
        refused.is_some(),
        "process two still served a suspended workspace after 1 s"
    );
    set_status("active").await;

    // Cut process two's listening connection, then change something before it can have
    // listened again: what it had in memory is gone, so it still refuses. The change waits
    // until process two has noticed the cut: until it reads its connection it cannot know,
    // the same window as a notification in flight (a loaded machine can hold it for a while).
    let carl_hash = test_hasher()
        .hash(&domain::Password::new_choice("carl-password-1").unwrap())
        .await
        .unwrap();
    let carl_id = db::platform::operator::add_member(
        &database.db,
        &tenant,
        &domain::Email::parse("carl@alpha.test").unwrap(),
        &domain::PersonName::parse("Carl").unwrap(),
        domain::Role::Member,
        &carl_hash,
    )
    .await
    .unwrap();
    let owner = session_cookie(
        &one.sign_in("alpha", "ann@alpha.test", "alpha-password-1")
            .await,
    )
    .unwrap();
    let carl = session_cookie(
        &two.sign_in("alpha", "carl@alpha.test", "carl-password-1")
            .await,
    )
    .unwrap();
    assert!(two.signed_in("alpha", &carl).await);
    let before = two.listeners(&database).await;
    assert_eq!(before.len(), 1);
    assert_eq!(two.metric("stockroom_cache_listening").await, 1.0);
    let losses = two.metric("stockroom_cache_listener_losses_total").await;
    database.cut_connection(before[0]).await;
    let noticed = until(Duration::from_secs(10), async || {
        let now = two.metric("stockroom_cache_listener_losses_total").await;
        (now > losses).then_some(())
    })
    .await;
    assert!(
        noticed.is_some(),
        "process two notices its listener was cut"
    );
    let removed = one
        .call::<RemoveMember>(
            Some("alpha"),
            &[("id", &carl_id.to_string())],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(removed.status(), StatusCode::OK);
    assert!(
        !two.signed_in("alpha", &carl).await,
        "a change made while process two was not listening is still honoured"
    );
    // And process two listens again.
    let back = until(Duration::from_secs(10), async || {
        let now = two.listeners(&database).await;
        (now.len() == 1 && now[0] != before[0]).then_some(())
    })
    .await;
    assert!(back.is_some(), "process two listens again");
}

/// An API token one process keeps in memory is forgotten there as soon as it hears that
/// another process revoked it, demoted its creator or removed them: in the time a notification
/// takes (milliseconds; asserted within a second, like a suspension, so a loaded machine does
/// not fail the test). Without the announcements, it would keep answering for 10 s.
#[tokio::test]
async fn what_one_process_does_to_a_token_the_other_honours_at_once() {
    use crate::api::{call, get, revoke, token};
    use app::api::team::ChangeMemberRole;
    use reqwest::Method;
    let database = db::testing::fresh_database().await;
    let outbox = tempfile::tempdir().unwrap();
    let one = Node::start(database.app_url(), outbox.path()).await;
    let two = Node::start(database.app_url(), outbox.path()).await;
    let listening = until(Duration::from_secs(10), async || {
        let one = one.listeners(&database).await.len();
        let two = two.listeners(&database).await.len();
        (one == 1 && two == 1).then_some(())
    })
    .await;
    assert!(listening.is_some(), "both processes listen for changes");
    let registered = one
        .call::<app::api::Register>(
            None,
            &[
                ("business_name", "Alpha"),
                ("slug", "alpha"),
                ("owner_name", "Ann"),
                ("email", "ann@alpha.test"),
                ("password", "alpha-password-1"),
            ],
            None,
            HeaderMap::new(),
        )
        .await;
    let ticket = handoff_ticket(&registered).unwrap();
    let owner = session_cookie(
        &one.post_welcome("alpha", &ticket, &format!("http://{BASE}"))
            .await,
    )
    .unwrap();

    // Revoked through one: refused by two, which had it in memory.
    let secret = token(&one, "alpha", &owner, "read").await;
    for _ in 0..3 {
        let used = get(&two, "alpha", "/products", &secret).await;
        assert_eq!(used.status, StatusCode::OK, "{}", used.text);
    }
    revoke(&one, "alpha", &owner, &secret).await;
    let refused = until(Duration::from_secs(1), async || {
        let status = get(&two, "alpha", "/products", &secret).await.status;
        (status == StatusCode::UNAUTHORIZED).then_some(())
    })
    .await;
    assert!(
        refused.is_some(),
        "two still took a revoked token after 1 s"
    );

    // An admin's write token, used on two; the admin demoted, then removed, through one.
    let tenant =
        db::platform::tenants::find_by_slug(&database.db, &domain::Slug::parse("alpha").unwrap())
            .await
            .unwrap()
            .unwrap();
    let hash = test_hasher()
        .hash(&domain::Password::new_choice("ada-password-1").unwrap())
        .await
        .unwrap();
    let ada_id = db::platform::operator::add_member(
        &database.db,
        &tenant,
        &domain::Email::parse("ada@alpha.test").unwrap(),
        &domain::PersonName::parse("Ada").unwrap(),
        domain::Role::Admin,
        &hash,
    )
    .await
    .unwrap();
    let ada = session_cookie(
        &one.sign_in("alpha", "ada@alpha.test", "ada-password-1")
            .await,
    )
    .unwrap();
    let write = token(&one, "alpha", &ada, "write").await;
    let mug = crate::api::product(&two, "alpha", &write, "MUG-1", 1).await;
    // Archiving needs an ADMIN (and archiving twice changes nothing), so it can be retried.
    let archive = async || {
        let path = format!("/products/{mug}/archive");
        call(&two, Method::POST, "alpha", &path, Some(&write), None, &[])
            .await
            .status
    };
    assert_eq!(archive().await, StatusCode::OK);
    let demoted = one
        .call::<ChangeMemberRole>(
            Some("alpha"),
            &[("id", &ada_id.to_string()), ("role", "MEMBER")],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(demoted.status(), StatusCode::OK);
    let forbidden = until(Duration::from_secs(1), async || {
        (archive().await == StatusCode::FORBIDDEN).then_some(())
    })
    .await;
    assert!(forbidden.is_some(), "two still acted as an admin after 1 s");
    assert_eq!(
        get(&two, "alpha", "/products", &write).await.status,
        StatusCode::OK,
        "a member's token may still read"
    );
    let removed = one
        .call::<RemoveMember>(
            Some("alpha"),
            &[("id", &ada_id.to_string())],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(removed.status(), StatusCode::OK);
    let gone = until(Duration::from_secs(1), async || {
        let status = get(&two, "alpha", "/products", &write).await.status;
        (status == StatusCode::UNAUTHORIZED).then_some(())
    })
    .await;
    assert!(
        gone.is_some(),
        "two still took a removed member's token after 1 s"
    );
}
