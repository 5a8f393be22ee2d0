//! The edges, tried as an attacker would: bodies, headers, names the deployment does not
//! own, the development outbox, exports, sign-in throttling and proxies.

use std::time::{Duration, Instant};

use app::api::exports::{LoadExports, RequestExport};
use app::api::{Register, SignIn};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::support::{eventually_async, headers, location, session_cookie, TestApp};

#[tokio::test]
async fn bodies_beyond_the_form_limit_are_refused_with_413() {
    let app = TestApp::spawn().await;
    app.register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let huge = "x".repeat(100 * 1024);
    let announced = app
        .call::<SignIn>(
            Some("alpha"),
            &[("email", &huge), ("password", "p")],
            None,
            HeaderMap::new(),
        )
        .await;
    assert_eq!(announced.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // The same without a length: a stream of chunks is cut off at the limit too.
    let chunks = futures_chunks(format!("email=a%40b.c&password={huge}").into_bytes());
    let streamed = reqwest::Client::new()
        .post(format!(
            "http://{}{}",
            app.addr,
            <SignIn as leptos::server_fn::ServerFn>::PATH
        ))
        .header("host", app.host(Some("alpha")))
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(streamed.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// `bytes` as a stream of chunks, so the request announces no length.
fn futures_chunks(bytes: Vec<u8>) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        bytes.chunks(8 * 1024).map(|c| Ok(c.to_vec())).collect();
    futures::stream::iter(chunks)
}

#[tokio::test]
async fn pages_and_calls_carry_the_security_headers() {
    let app = TestApp::spawn().await;
    let cookie = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    for (slug, cookie) in [(None, None), (Some("alpha"), Some(cookie.as_str()))] {
        let page = app.get(slug, "/", cookie).await;
        let header = |name: &str| {
            page.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let policy = header("content-security-policy");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(
            !policy.contains("'unsafe-inline' 'strict")
                && !policy.contains("script-src 'self' 'unsafe-inline'")
        );
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("the policy names the page's nonce")
            .to_owned();
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("referrer-policy"), "same-origin");
        assert_eq!(header("cache-control"), "private, no-store");
        let html = page.text().await.unwrap();
        let scripts = html.matches("<script").count();
        let with_nonce = html.matches(&format!("nonce=\"{nonce}\"")).count();
        assert!(
            scripts > 0 && with_nonce >= scripts,
            "{scripts} scripts, {with_nonce} with the nonce"
        );
    }
    let call = app
        .call::<app::api::LoadSite>(Some("alpha"), &[], None, HeaderMap::new())
        .await;
    assert_eq!(call.headers()["cache-control"], "private, no-store");
    assert_eq!(call.headers()["x-content-type-options"], "nosniff");
    assert!(call.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
}

#[tokio::test]
async fn over_https_the_session_cookie_is_pinned_to_its_host() {
    let app = TestApp::spawn_with(|config| config.server.scheme = "https".into()).await;
    app.call::<Register>(
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
    let signed_in = app
        .sign_in("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let cookies: Vec<_> = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("__Host-stockroom_session="))
        .unwrap_or_else(|| panic!("{cookies:?}"));
    assert!(
        session.contains("Secure") && session.contains("Path=/") && !session.contains("Domain")
    );
    assert!(cookies
        .iter()
        .any(|c| c.starts_with("__Host-stockroom_device=")));
}

#[tokio::test]
async fn names_outside_the_base_domain_get_no_site() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for host in ["evil.example", "127.0.0.1", "alpha.localhost:1"] {
        let page = client
            .get(format!("http://{}/register", app.addr))
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::PERMANENT_REDIRECT, "{host}");
        assert_eq!(
            location(&page).as_deref(),
            Some(format!("http://{}/", app.base_domain).as_str())
        );
        let post = client
            .post(format!(
                "http://{}{}",
                app.addr,
                <Register as leptos::server_fn::ServerFn>::PATH
            ))
            .header("host", host)
            .form(&[("slug", "alpha")])
            .send()
            .await
            .unwrap();
        assert_eq!(post.status(), StatusCode::MISDIRECTED_REQUEST, "{host}");
    }
    // Health checks answer whatever the name (load balancers use addresses).
    let health = client
        .get(format!("http://{}/healthz", app.addr))
        .header("host", "10.0.0.7")
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_outbox_answers_only_to_this_machine_by_a_loopback_name() {
    // A deployment on a real name, in development mode, reached on this machine.
    let app = TestApp::spawn_with(|config| {
        config.mail.show_outbox = true;
        config.server.base_domain = format!(
            "stockroom.test:{}",
            config.server.listen.rsplit(':').next().unwrap()
        );
    })
    .await;
    let outbox = app.get(None, "/dev/outbox", None).await;
    assert_eq!(
        outbox.status(),
        StatusCode::NOT_FOUND,
        "not a loopback name"
    );

    let local = TestApp::spawn_with(|config| config.mail.show_outbox = true).await;
    assert_eq!(
        local.get(None, "/dev/outbox", None).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn exports_are_for_managers_on_a_plan_that_has_them() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let console = app
        .console_admin("ops@stockroom.test", "console-password-1")
        .await;
    let set_plan = |plan: &'static str| {
        let (app, console) = (&app, console.clone());
        async move {
            let changed = app
                .call::<app::api::console::ChangeTenantPlan>(
                    Some("admin"),
                    &[("slug", "alpha"), ("plan", plan)],
                    Some(&console),
                    HeaderMap::new(),
                )
                .await;
            assert_eq!(changed.status(), StatusCode::OK);
        }
    };
    set_plan("PRO").await;
    let member = app
        .add_member(
            "alpha",
            "mo@alpha.test",
            domain::Role::Member,
            "member-password-1",
        )
        .await;
    for call in [
        app.call::<LoadExports>(Some("alpha"), &[], Some(&member), HeaderMap::new())
            .await,
        app.call::<RequestExport>(
            Some("alpha"),
            &[("kind", "products")],
            Some(&member),
            HeaderMap::new(),
        )
        .await,
    ] {
        assert_eq!(call.status(), StatusCode::FORBIDDEN);
    }
    let requested = app
        .call::<RequestExport>(
            Some("alpha"),
            &[("kind", "products")],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(requested.status(), StatusCode::OK);
    let download = eventually_async(|| async {
        let view: app::api::exports::ExportsView = app
            .call::<LoadExports>(Some("alpha"), &[], Some(&owner), HeaderMap::new())
            .await
            .json()
            .await
            .unwrap();
        view.exports.first().and_then(|e| e.download.clone())
    })
    .await;
    assert_eq!(
        app.get(Some("alpha"), &download, Some(&owner))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get(Some("alpha"), &download, Some(&member))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    // Back on FREE, the file is kept but no longer served.
    set_plan("FREE").await;
    assert_eq!(
        app.get(Some("alpha"), &download, Some(&owner))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    set_plan("PRO").await;
    assert_eq!(
        app.get(Some("alpha"), &download, Some(&owner))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_members_own_browser_still_signs_in_while_strangers_are_locked_out() {
    let app = TestApp::spawn().await;
    app.register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let first = app
        .sign_in("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let device = first
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("stockroom_device="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .expect("signing in remembers the browser");
    for _ in 0..5 {
        let guess = app
            .sign_in("alpha", "ann@alpha.test", "wrong-password-1")
            .await;
        assert_eq!(guess.status(), StatusCode::FORBIDDEN);
    }
    let stranger = app
        .sign_in("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    assert_eq!(stranger.status(), StatusCode::TOO_MANY_REQUESTS);
    let own_browser = app
        .call::<SignIn>(
            Some("alpha"),
            &[
                ("email", "ann@alpha.test"),
                ("password", "alpha-password-1"),
            ],
            Some(&device),
            HeaderMap::new(),
        )
        .await;
    assert!(
        session_cookie(&own_browser).is_some(),
        "{}",
        own_browser.status()
    );
}

async fn register_from(app: &TestApp, slug: &str, forwarded_for: &str) -> StatusCode {
    app.call::<Register>(
        None,
        &[
            ("business_name", "Shop"),
            ("slug", slug),
            ("owner_name", "Olive"),
            ("email", &format!("o@{slug}.test")),
            ("password", "owner-password-1"),
        ],
        None,
        headers(&[("x-forwarded-for", forwarded_for)]),
    )
    .await
    .status()
}

#[tokio::test]
async fn only_a_trusted_proxy_may_say_where_a_client_is() {
    let limit_one = |config: &mut server::config::Config| {
        config.limits.registrations_per_hour_per_address = 1;
    };
    // Behind a proxy on this machine: each client has its own count.
    let proxied = TestApp::spawn_with(|config| {
        limit_one(config);
        config.server.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await;
    assert_eq!(
        register_from(&proxied, "alpha", "198.51.100.1").await,
        StatusCode::OK
    );
    assert_eq!(
        register_from(&proxied, "bravo", "198.51.100.2").await,
        StatusCode::OK
    );
    assert_eq!(
        register_from(&proxied, "charlie", "198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Without trusted proxies, a client cannot pick its address.
    let direct = TestApp::spawn_with(limit_one).await;
    assert_eq!(
        register_from(&direct, "alpha", "198.51.100.1").await,
        StatusCode::OK
    );
    assert_eq!(
        register_from(&direct, "bravo", "198.51.100.2").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Accepting an invitation or resetting a password hashes a password only for a link that
/// works; a stream of made-up links, from one address, must not queue anyone's sign-in.
#[tokio::test]
async fn bogus_links_do_not_delay_another_workspaces_sign_in() {
    use app::ssr::passwords::{HashCost, PasswordHasher};
    // The production cost: at the cheap test cost nothing could queue behind anything.
    let production = PasswordHasher::new(
        HashCost {
            memory_kib: 7_168,
            iterations: 5,
            parallelism: 1,
        },
        2,
    )
    .unwrap();
    let app = TestApp::spawn_with_hasher(
        |config| config.limits.link_attempts_per_hour_per_address = 1000,
        production,
    )
    .await;
    app.register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    let sign_in = || async {
        let started = Instant::now();
        let response = app
            .sign_in("bravo", "bob@bravo.test", "bravo-password-1")
            .await;
        assert!(session_cookie(&response).is_some());
        started.elapsed()
    };
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    // Alone and beside the bogus links in turn, so whatever else the machine is doing weighs
    // on both alike.
    let (mut alone, mut beside) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        alone.push(sign_in().await);
        let bogus = (0..20).map(|i| {
            let app = &app;
            async move {
                let (path, args) = if i % 2 == 0 {
                    (
                        <app::api::account::AcceptInvitation as leptos::server_fn::ServerFn>::PATH,
                        vec![
                            ("token", format!("{i:064x}")),
                            ("name", "X".into()),
                            ("password", "guess-password-1".into()),
                        ],
                    )
                } else {
                    (
                        <app::api::account::ResetPassword as leptos::server_fn::ServerFn>::PATH,
                        vec![
                            ("token", format!("{i:064x}")),
                            ("password", "guess-password-1".into()),
                        ],
                    )
                };
                reqwest::Client::new()
                    .post(format!("http://{}{path}", app.addr))
                    .header("host", app.host(Some("alpha")))
                    .header("sec-fetch-site", "same-origin")
                    .form(&args)
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        });
        let (statuses, took) = tokio::join!(futures::future::join_all(bogus), sign_in());
        assert!(statuses.iter().all(|s| s.is_client_error()), "{statuses:?}");
        beside.push(took);
    }
    let (alone, beside) = (median(alone), median(beside));
    // A sign-in is about one hash. Had the bogus links reached the hasher (2 slots), the
    // sign-in would queue behind at least one whole hash (2x) and typically ten (11x); the
    // 20 refused requests themselves cost ~20% on a loaded 2-core machine, so 1.2x was noise.
    assert!(
        beside.as_secs_f64() <= alone.as_secs_f64() * 1.6,
        "sign-in took {beside:?} beside 20 bogus links, {alone:?} alone"
    );
}
