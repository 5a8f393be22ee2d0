//! `TestApp`: the real router on a free port against a fresh database, driven over HTTP with
//! an explicit Host header per request, so each test can play several workspaces at once.

use std::net::SocketAddr;

use app::ssr::passwords::{HashCost, PasswordHasher};
use leptos::server_fn::ServerFn;
use reqwest::header::{HeaderMap, HeaderValue, COOKIE, HOST, SET_COOKIE};
use reqwest::{redirect, Client, Response, StatusCode};
use server::config::Config;

/// A running server, reached over HTTP: the test server of a [`TestApp`], or a real server
/// process.
pub struct Server {
    pub addr: SocketAddr,
    pub base_domain: String,
    client: Client,
}

impl Server {
    pub fn new(addr: SocketAddr, base_domain: String) -> Self {
        let client = Client::builder()
            .redirect(redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            addr,
            base_domain,
            client,
        }
    }
}

/// Where the two workspaces of a cross-tenant test keep their data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Both in the shared database.
    Shared,
    AlphaDedicated,
    BravoDedicated,
    /// Each in a database of its own, on two clusters.
    BothDedicated,
    /// Placed by moves (the library `server tenant move` runs) after registration: alpha
    /// shared → the second cluster → the first; bravo shared → the first cluster → shared.
    Moved,
}

pub struct TestApp {
    server: Server,
    /// Where this server's metrics listener answers (its own port, as `metrics.listen`).
    pub metrics_addr: SocketAddr,
    pub outbox: std::path::PathBuf,
    pub database: db::testing::TestDatabase,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Mail a test's server wrote is of no use once the test is over.
        let _ = std::fs::remove_dir_all(&self.outbox);
    }
}

impl std::ops::Deref for TestApp {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Like [`TestApp::spawn`], with settings adjusted by `adjust` first.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_with_hasher(adjust, test_hasher()).await
    }

    /// Like [`TestApp::spawn_with`], hashing passwords with `passwords`.
    pub async fn spawn_with_hasher(
        adjust: impl FnOnce(&mut Config),
        passwords: PasswordHasher,
    ) -> Self {
        Self::spawn_on(db::testing::fresh_database().await, adjust, passwords).await
    }

    /// A server for `layout`: one that reaches workspaces' own databases on the test cluster
    /// (as one with `[clusters.test]` does) unless every workspace is shared.
    pub async fn spawn_for(layout: Layout) -> Self {
        if layout == Layout::Shared {
            return Self::spawn().await;
        }
        Self::spawn_with_clusters(|_, _| {}).await
    }

    /// A server that reaches workspaces' own databases on the test clusters, with the
    /// placement settings `adjust` makes (it sees the test's database): clusters, placements
    /// and the owner's URL.
    pub async fn spawn_with_clusters(
        adjust: impl FnOnce(&mut Config, &db::testing::TestDatabase),
    ) -> Self {
        let database = db::testing::fresh_database().await;
        let limits = db::PoolLimits {
            per_database: 2,
            max_pools: 8,
            idle_close: std::time::Duration::from_secs(60),
            acquire_timeout: std::time::Duration::from_secs(5),
        };
        let db = database.db_with_clusters(limits);
        let mut config = Config::default();
        adjust(&mut config, &database);
        let adjust = move |settings: &mut Config| {
            settings.clusters = config.clusters;
            settings.placements = config.placements;
            settings.database.owner_url = config.database.owner_url;
        };
        Self::spawn_on_handle(database, db, adjust, test_hasher()).await
    }

    /// Places alpha and bravo (registered already, with no data yet) as `layout` says: one
    /// alone in a database of its own on the test cluster, or alpha there and bravo on the
    /// second cluster.
    pub async fn lay_out(&self, layout: Layout) {
        use db::testing::{SECOND_CLUSTER, TEST_CLUSTER};
        let placed: &[(&str, &str)] = match layout {
            Layout::Shared => &[],
            Layout::AlphaDedicated => &[("alpha", TEST_CLUSTER)],
            Layout::BravoDedicated => &[("bravo", TEST_CLUSTER)],
            Layout::BothDedicated => &[("alpha", TEST_CLUSTER), ("bravo", SECOND_CLUSTER)],
            Layout::Moved => return self.move_around().await,
        };
        for (slug, cluster) in placed {
            let slug = domain::Slug::parse(slug).unwrap();
            let find = || db::platform::tenants::find_by_slug(&self.database.db, &slug);
            let tenant = find().await.unwrap().unwrap();
            let database = self
                .database
                .place_dedicated_on(tenant.id().as_uuid(), cluster)
                .await;
            let placed = find().await.unwrap().unwrap();
            let home = placed.placement().dedicated().expect("placed");
            assert_eq!(
                (home.cluster.as_str(), home.database.as_str()),
                (*cluster, database.as_str()),
                "{slug} is served from its own database"
            );
        }
    }

    async fn move_around(&self) {
        use db::platform::moves::{Moved, Target};
        use db::testing::{SECOND_CLUSTER, TEST_CLUSTER};
        let hops = [
            ("alpha", Target::Cluster(SECOND_CLUSTER.into())),
            ("alpha", Target::Cluster(TEST_CLUSTER.into())),
            ("bravo", Target::Cluster(TEST_CLUSTER.into())),
            ("bravo", Target::Shared),
        ];
        for (slug, target) in hops {
            let slug = domain::Slug::parse(slug).unwrap();
            let tenant = db::platform::tenants::find_by_slug(&self.database.db, &slug)
                .await
                .unwrap()
                .unwrap();
            let moved = self.database.run_move(tenant.id(), &target, None).await;
            assert!(
                matches!(moved, Ok(Moved::Done(_))),
                "{slug} to {target:?}: {moved:?}"
            );
        }
    }

    /// Like [`TestApp::spawn_with_hasher`], on a database the test prepared.
    pub async fn spawn_on(
        database: db::testing::TestDatabase,
        adjust: impl FnOnce(&mut Config),
        passwords: PasswordHasher,
    ) -> Self {
        let db = database.db.clone();
        Self::spawn_on_handle(database, db, adjust, passwords).await
    }

    /// Like [`TestApp::spawn_on`], serving through `db` (a handle on that database).
    async fn spawn_on_handle(
        database: db::testing::TestDatabase,
        db: db::Db,
        adjust: impl FnOnce(&mut Config),
        passwords: PasswordHasher,
    ) -> Self {
        capture_server_logs();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = Config::default();
        config.server.listen = addr.to_string();
        config.server.base_domain = format!("localhost:{}", addr.port());
        let outbox =
            std::env::temp_dir().join(format!("stockroom-outbox-{}", uuid::Uuid::new_v4()));
        config.mail.outbox_dir = outbox.display().to_string();
        adjust(&mut config);
        let server::Routers {
            app: router,
            metrics,
        } = server::routers(&config, db, passwords).unwrap();
        let metrics_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let metrics_addr = metrics_listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(metrics_listener, metrics).await.unwrap() });
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Self {
            server: Server::new(addr, config.server.base_domain),
            metrics_addr,
            outbox,
            database,
        }
    }
}

impl Server {
    pub fn host(&self, slug: Option<&str>) -> String {
        match slug {
            Some(slug) => format!("{slug}.{}", self.base_domain),
            None => self.base_domain.clone(),
        }
    }

    /// Whether the server answers `/readyz` with 200 yet; refused connections count as no.
    pub async fn is_ready(&self) -> bool {
        let ready = self
            .client
            .get(format!("http://{}/readyz", self.addr))
            .header(HOST, self.host(None))
            .send()
            .await;
        ready.is_ok_and(|response| response.status() == StatusCode::OK)
    }

    /// Whether `cookie` still signs someone in on `slug`'s host.
    pub async fn signed_in(&self, slug: &str, cookie: &str) -> bool {
        let site: app::SiteInfo = self
            .call::<app::api::LoadSite>(Some(slug), &[], Some(cookie), HeaderMap::new())
            .await
            .json()
            .await
            .unwrap();
        site.viewer.is_some()
    }

    pub async fn get(&self, slug: Option<&str>, path: &str, cookie: Option<&str>) -> Response {
        self.get_with(slug, path, cookie, HeaderMap::new()).await
    }

    /// [`Server::get`] with `extra` request headers.
    pub async fn get_with(
        &self,
        slug: Option<&str>,
        path: &str,
        cookie: Option<&str>,
        extra: HeaderMap,
    ) -> Response {
        let mut request = self
            .client
            .get(format!("http://{}{path}", self.addr))
            .header(HOST, self.host(slug))
            .headers(extra);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.unwrap()
    }

    /// Calls server function `F` as the browser's JS does: a same-origin form-encoded POST.
    pub async fn call<F: ServerFn>(
        &self,
        slug: Option<&str>,
        args: &[(&str, &str)],
        cookie: Option<&str>,
        extra: HeaderMap,
    ) -> Response {
        self.call_with(F::PATH, slug, args, cookie, extra).await
    }

    /// [`TestApp::call`] for a server function known by its path.
    pub async fn call_path(
        &self,
        path: &str,
        slug: Option<&str>,
        args: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> Response {
        self.call_with(path, slug, args, cookie, HeaderMap::new())
            .await
    }

    async fn call_with(
        &self,
        path: &str,
        slug: Option<&str>,
        args: &[(&str, &str)],
        cookie: Option<&str>,
        extra: HeaderMap,
    ) -> Response {
        let mut request = self
            .client
            .post(format!("http://{}{path}", self.addr))
            .header(HOST, self.host(slug))
            .header("sec-fetch-site", "same-origin")
            .headers(extra)
            .form(args);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.unwrap()
    }

    /// Registers a workspace through the public site and follows the welcome hand-off;
    /// returns the owner's session cookie on the workspace's host.
    pub async fn register(&self, slug: &str, email: &str, password: &str) -> String {
        let response = self
            .call::<app::api::Register>(
                None,
                &[
                    ("business_name", &format!("Shop {slug}")),
                    ("slug", slug),
                    ("owner_name", "Olive Owner"),
                    ("email", email),
                    ("password", password),
                ],
                None,
                HeaderMap::new(),
            )
            .await;
        assert_eq!(
            location(&response).as_deref(),
            Some("/welcome"),
            "registration hands off through the public site: {}",
            response.status()
        );
        let ticket = handoff_ticket(&response).expect("registration leaves the hand-off cookie");
        let welcome = self
            .post_welcome(slug, &ticket, &self.public_origin())
            .await;
        assert_eq!(location_of(&welcome), "/");
        session_cookie(&welcome).expect("the welcome hand-off signs the owner in")
    }

    /// `http://<base domain>`, the public site's origin.
    pub fn public_origin(&self) -> String {
        format!("http://{}", self.base_domain)
    }

    /// Posts a hand-off ticket to a workspace's `/welcome`, as the public site's page does.
    pub async fn post_welcome(&self, slug: &str, ticket: &str, origin: &str) -> Response {
        self.client
            .post(format!("http://{}/welcome", self.addr))
            .header(HOST, self.host(Some(slug)))
            .header("origin", origin)
            .form(&[("ticket", ticket)])
            .send()
            .await
            .unwrap()
    }

    pub async fn sign_in(&self, slug: &str, email: &str, password: &str) -> Response {
        self.call::<app::api::SignIn>(
            Some(slug),
            &[("email", email), ("password", password)],
            None,
            HeaderMap::new(),
        )
        .await
    }
}

pub fn location(response: &Response) -> Option<String> {
    response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
}

fn location_of(response: &Response) -> String {
    location(response).unwrap_or_default()
}

/// The ticket of the hand-off cookie a registration set (`slug.ticket`), if any.
pub fn handoff_ticket(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("stockroom_handoff="))
        .and_then(|v| v.split(';').next())
        .and_then(|v| v.split_once('.'))
        .map(|(_, ticket)| ticket.to_owned())
}

/// The `name=value` pair of the session cookie a response set, if any.
pub fn session_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("stockroom_session="))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

pub fn set_cookie_header(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("stockroom_session="))
        .map(str::to_owned)
}

/// The text a metrics listener at `addr` answers.
pub async fn scrape_metrics(addr: SocketAddr) -> String {
    reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

pub fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

pub async fn error_of(response: Response) -> app::AppError {
    let status = response.status();
    let body = response.text().await.unwrap();
    serde_json::from_str(&body)
        .unwrap_or_else(|_| panic!("expected an AppError, got {status}: {body}"))
}

impl TestApp {
    /// Every message in the outbox, as raw text.
    pub fn sent_mail(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.outbox) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .collect()
    }
}

impl TestApp {
    /// Creates a product as the member holding `cookie`; returns its id.
    pub async fn create_product(
        &self,
        slug: &str,
        cookie: &str,
        sku: &str,
        name: &str,
        stock: &str,
    ) -> String {
        let response = self
            .call::<app::api::products::SaveProduct>(
                Some(slug),
                &[
                    ("sku", sku),
                    ("name", name),
                    ("description", ""),
                    ("price", "9.99"),
                    ("stock", stock),
                ],
                Some(cookie),
                HeaderMap::new(),
            )
            .await;
        let location =
            location(&response).unwrap_or_else(|| panic!("product created: {}", response.status()));
        location
            .trim_start_matches("/products/")
            .split('?')
            .next()
            .unwrap()
            .to_owned()
    }

    /// Places an order for `quantity` of one product, for a new customer; returns the order id.
    pub async fn place_order(
        &self,
        slug: &str,
        cookie: &str,
        product_id: &str,
        quantity: &str,
    ) -> String {
        let response = self
            .call::<app::api::orders::PlaceOrder>(
                Some(slug),
                &[
                    ("customer_name", "Walk-in Customer"),
                    (
                        "customer_email",
                        &format!("walk-in-{}@customers.test", uuid::Uuid::new_v4().simple()),
                    ),
                    ("lines[0][product_id]", product_id),
                    ("lines[0][quantity]", quantity),
                ],
                Some(cookie),
                HeaderMap::new(),
            )
            .await;
        let location =
            location(&response).unwrap_or_else(|| panic!("order placed: {}", response.status()));
        location.trim_start_matches("/orders/").to_owned()
    }
}

/// The hashing cost the test server uses: cheap, to keep the suite fast (the production cost
/// is tested in app::ssr). Also for accounts made directly in the database.
pub fn test_hasher() -> PasswordHasher {
    PasswordHasher::new(
        HashCost {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        },
        4,
    )
    .unwrap()
}

impl TestApp {
    pub async fn tenant(&self, slug: &str) -> db::Tenant {
        db::platform::tenants::find_by_slug(&self.database.db, &domain::Slug::parse(slug).unwrap())
            .await
            .unwrap()
            .unwrap()
    }

    /// Adds a member straight into the database and signs them in; returns their cookie.
    pub async fn add_member(
        &self,
        slug: &str,
        email: &str,
        role: domain::Role,
        password: &str,
    ) -> String {
        let hash = test_hasher()
            .hash(&domain::Password::new_choice(password).unwrap())
            .await
            .unwrap();
        db::platform::operator::add_member(
            &self.database.db,
            &self.tenant(slug).await,
            &domain::Email::parse(email).unwrap(),
            &domain::PersonName::parse("Added Member").unwrap(),
            role,
            &hash,
        )
        .await
        .unwrap();
        let response = self.sign_in(slug, email, password).await;
        session_cookie(&response)
            .unwrap_or_else(|| panic!("{email} signs in: {}", response.status()))
    }

    /// Lifts a workspace's request rate, for tests that send more requests than people do.
    pub async fn lift_rate(&self, slug: &str) {
        let db = &self.database.db;
        let email = format!("rates-{}@platform.test", uuid::Uuid::new_v4());
        let admin = db::platform::console::create_admin(
            db,
            &domain::Email::parse(&email).unwrap(),
            &domain::PersonName::parse("Rate Lifter").unwrap(),
            "not-a-hash",
        )
        .await
        .unwrap();
        let scope = db::platform::console::ConsoleScope::for_admin(db, admin)
            .await
            .unwrap()
            .unwrap();
        let tenant = self.tenant(slug).await;
        db::platform::console::set_limit_override(
            db,
            &scope,
            tenant.id(),
            "requests_per_minute",
            domain::LimitOverride::Unlimited,
        )
        .await
        .unwrap();
    }

    /// Creates a console account and signs it in on admin.<base>; returns its cookie.
    pub async fn console_admin(&self, email: &str, password: &str) -> String {
        let hash = test_hasher()
            .hash(&domain::Password::new_choice(password).unwrap())
            .await
            .unwrap();
        db::platform::console::create_admin(
            &self.database.db,
            &domain::Email::parse(email).unwrap(),
            &domain::PersonName::parse("Platform Admin").unwrap(),
            &hash,
        )
        .await
        .unwrap();
        let response = self
            .call::<app::api::console::ConsoleSignIn>(
                Some("admin"),
                &[("email", email), ("password", password)],
                None,
                HeaderMap::new(),
            )
            .await;
        session_cookie(&response)
            .unwrap_or_else(|| panic!("console sign-in: {}", response.status()))
    }

    /// The mail sent to `to` whose subject contains `subject`, newest last, with
    /// quoted-printable soft breaks unfolded.
    pub fn mail_to(&self, to: &str, subject: &str) -> Vec<String> {
        let mut found: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(&self.outbox)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .map(|e| {
                (
                    e.metadata().unwrap().modified().unwrap(),
                    std::fs::read_to_string(e.path()).unwrap(),
                )
            })
            .map(|(at, raw)| (at, app::ssr::mail::readable(&raw)))
            .filter(|(_, (headers, _))| {
                headers.iter().any(|(n, v)| n == "To" && v.contains(to))
                    && headers
                        .iter()
                        .any(|(n, v)| n == "Subject" && v.contains(subject))
            })
            .map(|(at, (_, body))| (at, body))
            .collect();
        found.sort_by_key(|(at, _)| *at);
        found.into_iter().map(|(_, body)| body).collect()
    }

    /// The path of the first `http://<host>/<prefix>…` link in `body`.
    pub fn link_path(&self, body: &str, slug: &str, prefix: &str) -> String {
        let start = format!("http://{}{prefix}", self.host(Some(slug)));
        let at = body
            .find(&start)
            .unwrap_or_else(|| panic!("no {start} link in: {body}"));
        body[at + start.len() - prefix.len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    }
}

/// Waits until the mail `find` looks for has been written (some mail is sent after the
/// response, from a background task).
pub async fn eventually<T>(mut find: impl FnMut() -> Option<T>) -> T {
    for _ in 0..100 {
        if let Some(found) = find() {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting");
}

/// Like [`eventually`], for checks that need to await (e.g. a request).
pub async fn eventually_async<T, F, Fut>(mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..200 {
        if let Some(found) = check().await {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting");
}

/// Builds another router over `db`, as a second server in this process would (the router is
/// not served). Needs a tokio runtime entered: the router starts its export worker.
pub fn build_router(db: db::Db, outbox: &std::path::Path) -> axum::Router {
    let mut config = Config::default();
    config.mail.outbox_dir = outbox.display().to_string();
    server::app_router(&config, db, test_hasher()).unwrap()
}

/// With `STOCKROOM_TEST_LOG=<file>`, every test server of this binary logs into that file (the
/// request id and tenant on each line tell the tests apart): how a flaky failure is read.
fn capture_server_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(path) = std::env::var("STOCKROOM_TEST_LOG") else {
            return;
        };
        let file = std::fs::File::create(&path).expect("STOCKROOM_TEST_LOG names a writable file");
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .init();
    });
}

impl TestApp {
    /// Uploads `bytes` as a product import file, as the import page's form posts it
    /// (multipart, field `file`).
    pub async fn upload_import(
        &self,
        slug: &str,
        cookie: Option<&str>,
        file_name: &str,
        bytes: &[u8],
    ) -> Response {
        let boundary = format!("----stockroom-test-{}", uuid::Uuid::new_v4().simple());
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let mut request = self
            .client
            .post(format!("http://{}/products/import/upload", self.addr))
            .header(HOST, self.host(Some(slug)))
            .header("sec-fetch-site", "same-origin")
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.unwrap()
    }

    /// Moves a workspace to `plan` as the console (or a billing webhook) would.
    pub async fn set_plan(&self, slug: &str, plan: &str) {
        db::platform::console::change_plan(
            &self.database.db,
            db::platform::console::Actor::System("test"),
            self.tenant(slug).await.id(),
            &domain::PlanCode::new(plan),
        )
        .await
        .unwrap();
    }
}

/// `server tenant <args>` against this database, as the operator runs it.
pub fn tenant_command(database: &db::testing::TestDatabase, args: &[&str]) -> std::process::Output {
    server_command(database, &[&["tenant"], args].concat())
}

/// `server <args>` against this database, as the operator runs it.
pub fn server_command(database: &db::testing::TestDatabase, args: &[&str]) -> std::process::Output {
    server_command_with(database, args, &[])
}

/// [`server_command`] with more settings in the environment.
pub fn server_command_with(
    database: &db::testing::TestDatabase,
    args: &[&str],
    settings: &[(&str, &str)],
) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        .env("STOCKROOM_CONFIG", "/nonexistent/Leptos.toml")
        .env("STOCKROOM_DATABASE_URL", database.app_url())
        .env("STOCKROOM_DATABASE_OWNER_URL", database.owner_url())
        .env("STOCKROOM_LOG_FILTER", "warn")
        .envs(settings.iter().copied())
        .output()
        .unwrap()
}

impl TestApp {
    /// The Exports page's data, as the member holding `cookie` sees it.
    pub async fn exports(&self, slug: &str, cookie: &str) -> app::api::exports::ExportsView {
        self.call::<app::api::exports::LoadExports>(Some(slug), &[], Some(cookie), HeaderMap::new())
            .await
            .json()
            .await
            .unwrap()
    }
}

/// A workspace with one owner, `owner@<slug>.test`.
pub async fn registered_workspace(
    database: &db::testing::TestDatabase,
    slug: &str,
    name: &str,
) -> (db::Tenant, domain::UserId) {
    db::platform::registration::register(
        &database.db,
        db::platform::registration::NewWorkspace {
            name: &domain::WorkspaceName::parse(name).unwrap(),
            slug: &domain::Slug::parse(slug).unwrap(),
            owner_name: &domain::PersonName::parse("Owner").unwrap(),
            owner_email: &domain::Email::parse(&format!("owner@{slug}.test")).unwrap(),
            owner_password_hash: "not-a-real-hash",
            welcome_ticket_digest: None,
        },
    )
    .await
    .unwrap()
}
