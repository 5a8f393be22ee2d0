//! Fair shares over HTTP: a workspace over its request rate gets 429 with `Retry-After` (a
//! page for a person, the typed error for a server function) and nobody else notices; the
//! console's overrides count from the next request; a statement past the workspace's timeout
//! ends as a plain "took too long" that names no SQL.

use crate::support::{error_of, TestApp};
use app::api::console::SetLimitOverride;
use app::api::products::SetProductArchived;
use app::AppError;
use leptos::server_fn::ServerFn;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;

const ADMIN: &str = "root@platform.test";
const ADMIN_PASSWORD: &str = "console-password-1";

async fn set_limit(
    app: &TestApp,
    console: &str,
    slug: &str,
    limit: &str,
    value: &str,
) -> reqwest::Response {
    app.call::<SetLimitOverride>(
        Some("admin"),
        &[("slug", slug), ("limit", limit), ("value", value)],
        Some(console),
        HeaderMap::new(),
    )
    .await
}

#[tokio::test]
async fn a_workspace_over_its_rate_gets_429_and_another_workspace_does_not() {
    let app = TestApp::spawn().await;
    let alpha = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let bravo = app
        .register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    let console = app.console_admin(ADMIN, ADMIN_PASSWORD).await;
    for (limit, value) in [("requests_per_minute", "60"), ("request_burst", "3")] {
        let set = set_limit(&app, &console, "alpha", limit, value).await;
        assert_eq!(set.status(), StatusCode::OK, "{limit}");
    }

    // The burst, then refusals: one request a second refills.
    for n in 0..3 {
        let page = app.get(Some("alpha"), "/products", Some(&alpha)).await;
        assert_eq!(page.status(), StatusCode::OK, "request {n}");
    }
    let refused = app.get(Some("alpha"), "/products", Some(&alpha)).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = refused.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("Too many requests") && page.contains("try again in"),
        "{page}"
    );

    let call = app
        .call_path(
            SetProductArchived::PATH,
            Some("alpha"),
            &[("id", "x"), ("archived", "true")],
            Some(&alpha),
        )
        .await;
    assert_eq!(call.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(call.headers().contains_key(RETRY_AFTER));
    assert!(matches!(error_of(call).await, AppError::RateLimited { .. }));

    // Bravo's plan rate is untouched by alpha's flood.
    for n in 0..30 {
        let page = app.get(Some("bravo"), "/products", Some(&bravo)).await;
        assert_eq!(page.status(), StatusCode::OK, "bravo request {n}");
    }

    // Lifting alpha's rate counts from its next request.
    let lifted = set_limit(&app, &console, "alpha", "requests_per_minute", "unlimited").await;
    assert_eq!(lifted.status(), StatusCode::OK);
    for n in 0..10 {
        let page = app.get(Some("alpha"), "/products", Some(&alpha)).await;
        assert_eq!(page.status(), StatusCode::OK, "after lifting, request {n}");
    }
}

#[tokio::test]
async fn the_console_refuses_a_share_of_nothing_beside_its_field_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let console = app.console_admin(ADMIN, ADMIN_PASSWORD).await;
    for (limit, value) in [
        ("requests_per_minute", "0"),
        ("connection_share", "0"),
        ("connection_share", "250"),
        ("statement_timeout_ms", "-1"),
        ("statement_timeout_ms", "10"),
    ] {
        let refused = set_limit(&app, &console, "alpha", limit, value).await;
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{limit}={value}"
        );
        let err = error_of(refused).await;
        assert!(
            err.message_for(&format!("limit-{limit}")).is_some(),
            "{limit}={value}: {err:?}"
        );
    }
    let unknown = set_limit(&app, &console, "alpha", "cpu_seconds", "5").await;
    assert!(error_of(unknown).await.message_for("limit").is_some());
    let tenant = app.tenant("alpha").await;
    let shares = db::tenant::shares::of(&app.database.db, &tenant)
        .await
        .unwrap();
    assert_eq!(shares.connections_percent, Some(25));
    assert_eq!(shares.rate.map(|r| r.per_minute), Some(1200));
}

#[tokio::test]
async fn a_statement_past_the_workspaces_timeout_answers_too_slow_and_names_no_sql() {
    let app = TestApp::spawn().await;
    let alpha = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let console = app.console_admin(ADMIN, ADMIN_PASSWORD).await;
    let id = app
        .create_product("alpha", &alpha, "SLOW-1", "Slow", "3")
        .await;
    let set = set_limit(&app, &console, "alpha", "statement_timeout_ms", "200").await;
    assert_eq!(set.status(), StatusCode::OK);

    let tenant = app.tenant("alpha").await;
    let lock = app.database.lock_product(tenant.id(), "SLOW-1").await;
    let started = std::time::Instant::now();
    let slow = app
        .call_path(
            SetProductArchived::PATH,
            Some("alpha"),
            &[("id", &id), ("archived", "true")],
            Some(&alpha),
        )
        .await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(slow.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(slow.headers().contains_key(RETRY_AFTER));
    let body = slow.text().await.unwrap();
    let err: AppError = serde_json::from_str(&body).unwrap();
    assert_eq!(err, AppError::TooSlow);
    for sql in ["UPDATE", "products", "statement", "57014", "cancel"] {
        assert!(!body.contains(sql), "{body}");
    }
    drop(lock);
    // Nothing was written, and the workspace works again.
    let archived = app
        .call_path(
            SetProductArchived::PATH,
            Some("alpha"),
            &[("id", &id), ("archived", "true")],
            Some(&alpha),
        )
        .await;
    assert!(
        archived.status().is_success() || archived.status().is_redirection(),
        "{}",
        archived.status()
    );
}

#[tokio::test]
async fn metrics_answer_on_their_own_listener_only_with_the_busiest_workspaces() {
    let app = TestApp::spawn().await;
    let alpha = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    for _ in 0..5 {
        app.get(Some("alpha"), "/products", Some(&alpha)).await;
    }
    // No site serves them, whatever the host.
    for host in [Some("alpha"), None, Some("admin"), Some("nobody")] {
        let page = app.get(host, "/metrics", None).await;
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{host:?}");
        assert!(!page
            .text()
            .await
            .unwrap()
            .contains("stockroom_http_requests_total"));
    }

    let client = reqwest::Client::new();
    let url = format!("http://{}/metrics", app.metrics_addr);
    let scrape = client.get(&url).send().await.unwrap();
    assert_eq!(scrape.status(), StatusCode::OK);
    let text = scrape.text().await.unwrap();
    let tenant = app.tenant("alpha").await;
    assert!(
        text.contains("stockroom_http_requests_total{route=\"/products\",status=\"200\"}"),
        "{text}"
    );
    assert!(text.contains("stockroom_http_request_duration_seconds_bucket"));
    assert!(text.contains("stockroom_db_pool_connections_in_use"));
    let alpha_line = format!(
        "stockroom_tenant_requests_last_minute{{tenant=\"{}\"}}",
        tenant.id()
    );
    let requests: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix(&alpha_line))
        .unwrap_or_else(|| panic!("no series for alpha: {text}"))
        .trim()
        .parse()
        .unwrap();
    assert!(requests >= 5.0, "{requests}");
    assert!(text.contains("stockroom_tenant_requests_last_minute{tenant=\"other\"}"));

    // Malformed scrapes are refused plainly.
    let post = client.post(&url).body("x").send().await.unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    for path in ["/", "/metrics/x", "/metrics%00", "/%ff"] {
        let other = client
            .get(format!("http://{}{path}", app.metrics_addr))
            .send()
            .await
            .unwrap();
        assert_eq!(other.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn the_console_load_page_lists_the_busiest_workspace_first() {
    let app = TestApp::spawn().await;
    let alpha = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let bravo = app
        .register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    for _ in 0..12 {
        app.get(Some("alpha"), "/products", Some(&alpha)).await;
    }
    app.get(Some("bravo"), "/products", Some(&bravo)).await;
    let console = app.console_admin(ADMIN, ADMIN_PASSWORD).await;
    let response = app
        .call::<app::api::console::LoadOverview>(
            Some("admin"),
            &[],
            Some(&console),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let view: app::api::console::LoadView = response.json().await.unwrap();
    let order: Vec<&str> = view.busiest.iter().map(|r| r.slug.as_str()).collect();
    assert_eq!(order.first(), Some(&"alpha"), "{order:?}");
    assert!(order.contains(&"bravo"));
    let alpha_row = &view.busiest[0];
    assert!(alpha_row.requests_last_minute >= 12, "{alpha_row:?}");
    assert_eq!(alpha_row.per_minute.len(), 60);
    // Its owner is a row of its own; its data has a size.
    assert!(
        alpha_row.rows >= 1 && alpha_row.approx_bytes > 0,
        "{alpha_row:?}"
    );
    assert!(view.pool_max >= view.pool_in_use);

    let page = app.get(Some("admin"), "/load", Some(&console)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Busiest workspaces")
            && html.contains("<polyline")
            && html.contains("data-testid=\"load-data\""),
        "{html}"
    );
    // A workspace member's session gets nothing of it, on any host.
    let refused = app
        .call::<app::api::console::LoadOverview>(Some("alpha"), &[], Some(&alpha), HeaderMap::new())
        .await;
    assert!(!refused.status().is_success());
}
