//! Products and orders through the API: what works; the Host choosing the workspace; plan
//! refusals and the workspace's request rate; the OpenAPI document and the reference page.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{call, get, order, post, product, token};
use crate::support::TestApp;

#[tokio::test]
async fn products_are_listed_read_created_changed_and_archived() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.lift_rate("alpha").await;
    let write = token(&app, "alpha", &owner, "write").await;
    let first = product(&app, "alpha", &write, "mug-1", 5).await;
    product(&app, "alpha", &write, "MUG-2", 5).await;
    product(&app, "alpha", &write, "PLATE-1", 5).await;

    // Keyset pages, newest first, and search.
    let page = get(&app, "alpha", "/products?limit=2", &write).await;
    assert_eq!(page.status, StatusCode::OK);
    let skus: Vec<&str> = page.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["PLATE-1", "MUG-2"]);
    let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
    let next = get(
        &app,
        "alpha",
        &format!("/products?limit=2&cursor={cursor}"),
        &write,
    )
    .await;
    assert_eq!(next.body["data"][0]["sku"], "MUG-1");
    assert!(next.body.get("next_cursor").is_none());
    let found = get(&app, "alpha", "/products?search=mug", &write).await;
    assert_eq!(found.body["data"].as_array().unwrap().len(), 2);

    // Read, then change with the version read; a stale version is a conflict.
    let read = get(&app, "alpha", &format!("/products/{first}"), &write).await;
    assert_eq!(
        read.body["price"],
        json!({"amount_minor": 1250, "currency": "USD"})
    );
    assert!(read.body["created_at"].as_str().unwrap().ends_with('Z'));
    let version = read.body["version"].as_str().unwrap().to_owned();
    let change = |version: &str, stock: i64| {
        json!({"version": version, "sku": "MUG-1", "name": "Big mug", "description": "Holds a lot",
               "price": {"amount_minor": 1500, "currency": "USD"}, "stock": stock})
    };
    let path = format!("/products/{first}");
    let changed = call(
        &app,
        Method::PUT,
        "alpha",
        &path,
        Some(&write),
        Some(change(&version, 9)),
        &[],
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.body["name"], "Big mug");
    assert_eq!(changed.body["stock"], 9);
    let stale = call(
        &app,
        Method::PUT,
        "alpha",
        &path,
        Some(&write),
        Some(change(&version, 1)),
        &[],
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(stale.problem(), "stale-version");
    assert_eq!(get(&app, "alpha", &path, &write).await.body["stock"], 9);

    // Archived products leave the list unless asked for.
    let archived = post(
        &app,
        "alpha",
        &format!("/products/{first}/archive"),
        &write,
        json!(null),
    )
    .await;
    assert_eq!(archived.status, StatusCode::OK, "{}", archived.text);
    assert_eq!(archived.body["archived"], true);
    assert_eq!(
        get(&app, "alpha", "/products", &write).await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let all = get(&app, "alpha", "/products?include_archived=true", &write).await;
    assert_eq!(all.body["data"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn orders_are_placed_read_listed_and_moved_along_their_workflow() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.lift_rate("alpha").await;
    let write = token(&app, "alpha", &owner, "write").await;
    let mug = product(&app, "alpha", &write, "MUG-1", 5).await;
    let id = order(&app, "alpha", &write, &mug, 2).await;

    let read = get(&app, "alpha", &format!("/orders/{id}"), &write).await;
    assert_eq!(read.body["status"], "PENDING");
    assert_eq!(
        read.body["total"],
        json!({"amount_minor": 2500, "currency": "USD"})
    );
    assert_eq!(read.body["lines"][0]["sku"], "MUG-1");
    assert_eq!(read.body["lines"][0]["amount"]["amount_minor"], 2500);
    assert_eq!(read.body["history"][0]["to"], "PENDING");
    assert_eq!(read.body["created_by"], "Olive Owner");
    assert_eq!(
        get(&app, "alpha", &format!("/products/{mug}"), &write)
            .await
            .body["stock"],
        3
    );

    let path = format!("/orders/{id}/status");
    let confirmed = post(&app, "alpha", &path, &write, json!({"status": "CONFIRMED"})).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text);
    assert_eq!(confirmed.body["history"][1]["from"], "PENDING");
    // A step the workflow does not allow is refused on the field, and changes nothing.
    let skipped = post(&app, "alpha", &path, &write, json!({"status": "DELIVERED"})).await;
    assert_eq!(skipped.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(skipped.fields(), ["status"]);
    assert_eq!(
        get(&app, "alpha", &format!("/orders/{id}"), &write)
            .await
            .body["status"],
        "CONFIRMED"
    );

    // Filters: status, and a span of creation time.
    let listed = |query: &'static str| {
        let (app, write) = (&app, &write);
        async move {
            get(app, "alpha", &format!("/orders{query}"), write)
                .await
                .body["data"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(listed("?status=CONFIRMED").await, 1);
    assert_eq!(listed("?status=PENDING").await, 0);
    assert_eq!(
        listed("?created_from=2000-01-01T00:00:00Z&created_before=2999-01-01T00:00:00Z").await,
        1
    );
    assert_eq!(listed("?created_from=2999-01-01T00:00:00Z").await, 0);
    assert_eq!(
        listed("?created_before=2000-01-01T00:00:00%2B02:00").await,
        0
    );
}

#[tokio::test]
async fn the_host_decides_the_workspace_and_plans_answer_with_the_way_up() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.lift_rate("alpha").await;
    let write = token(&app, "alpha", &owner, "write").await;
    for slug in ["nobody-here", "www", "admin"] {
        let answer = get(&app, slug, "/products", &write).await;
        assert_eq!(
            (answer.status, answer.problem()),
            (StatusCode::NOT_FOUND, "workspace-not-found"),
            "{slug}"
        );
    }

    // The plan's product limit, lowered to none by the console: 403 with the plans above.
    let admin = app
        .console_admin("root@platform.test", "console-password-1")
        .await;
    let set = app
        .call::<app::api::console::SetLimitOverride>(
            Some("admin"),
            &[("slug", "alpha"), ("limit", "max_products"), ("value", "0")],
            Some(&admin),
            reqwest::header::HeaderMap::new(),
        )
        .await;
    assert_eq!(set.status(), StatusCode::OK);
    let refused = post(&app, "alpha", "/products", &write,
        json!({"sku": "A", "name": "A", "price": {"amount_minor": 1, "currency": "USD"}, "stock": 1})).await;
    assert_eq!(
        (refused.status, refused.problem()),
        (StatusCode::FORBIDDEN, "plan-limit")
    );
    assert_eq!(refused.body["plans"], json!(["Pro", "Enterprise"]));

    // Over the workspace's request rate (its screens' rate too): 429, with Retry-After.
    for (limit, value) in [("requests_per_minute", "60"), ("request_burst", "3")] {
        let set = app
            .call::<app::api::console::SetLimitOverride>(
                Some("admin"),
                &[("slug", "alpha"), ("limit", limit), ("value", value)],
                Some(&admin),
                reqwest::header::HeaderMap::new(),
            )
            .await;
        assert_eq!(set.status(), StatusCode::OK, "{limit}");
    }
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(get(&app, "alpha", "/products", &write).await);
    }
    let limited = answers
        .iter()
        .find(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .expect("the burst of 3 runs out");
    assert_eq!(limited.problem(), "rate-limited");
    assert_eq!(limited.headers["content-type"], "application/problem+json");
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    let page = app.get(Some("alpha"), "/products", None).await;
    assert_eq!(
        page.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "one rate for both"
    );
    app.lift_rate("alpha").await;

    // A suspended workspace answers nobody.
    let suspended = app
        .call::<app::api::console::SetTenantStatus>(
            Some("admin"),
            &[("slug", "alpha"), ("status", "suspended")],
            Some(&admin),
            reqwest::header::HeaderMap::new(),
        )
        .await;
    assert_eq!(suspended.status(), StatusCode::OK);
    crate::support::eventually_async(|| async {
        let answer = get(&app, "alpha", "/products", &write).await;
        (answer.problem() == "workspace-suspended").then_some(())
    })
    .await;
}

#[tokio::test]
async fn the_openapi_document_and_the_reference_page_are_served() {
    let app = TestApp::spawn().await;
    app.register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let document = call(&app, Method::GET, "alpha", "/openapi.json", None, None, &[]).await;
    assert_eq!(document.status, StatusCode::OK);
    assert_eq!(document.body["openapi"], "3.1.0");
    assert!(document.body["paths"]["/api/v1/orders/{id}/status"]["post"].is_object());
    assert!(document.body["components"]["securitySchemes"]["bearer"].is_object());
    for slug in [None, Some("alpha")] {
        let page = app.get(slug, "/docs/api", None).await;
        assert_eq!(page.status(), StatusCode::OK, "{slug:?}");
        let html = page.text().await.unwrap();
        assert!(html.contains("id=\"problem-validation\"") && html.contains("Idempotency-Key"));
    }
}

/// API calls show in the metrics under their route patterns, and count for their workspace on
/// the console's Load page; a made-up path under the API never becomes a label of its own.
#[tokio::test]
async fn api_calls_are_counted_by_route_and_charged_to_their_workspace() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let read = token(&app, "alpha", &owner, "read").await;
    for _ in 0..5 {
        assert_eq!(
            get(&app, "alpha", "/products", &read).await.status,
            StatusCode::OK
        );
    }
    for n in 0..3 {
        let path = format!("/made-up-{n}");
        let answer = call(&app, Method::GET, "alpha", &path, None, None, &[]).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let scrape = crate::support::scrape_metrics(app.metrics_addr).await;
    assert!(
        scrape.contains("stockroom_http_requests_total{route=\"/api/v1/products\",status=\"200\"}"),
        "{scrape}"
    );
    assert!(!scrape.contains("made-up"), "{scrape}");
    let alpha = format!(
        "stockroom_tenant_requests_last_minute{{tenant=\"{}\"}}",
        app.tenant("alpha").await.id()
    );
    let requests: f64 = scrape
        .lines()
        .find_map(|line| line.strip_prefix(&alpha))
        .unwrap_or_else(|| panic!("no series for alpha: {scrape}"))
        .trim()
        .parse()
        .unwrap();
    // Two requests of its screens (the welcome, the token), eight of its API.
    assert!(requests >= 10.0, "{requests}");
}
