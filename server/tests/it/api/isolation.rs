//! The cross-tenant sweep over every API route: another workspace's token, another
//! workspace's ids, revoked and expired tokens, read-only tokens on writes, no token and a
//! session cookie instead of a token. Nothing of the other workspace shows or changes.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::{call, get, order, product, revoke, token, CapturedLogs};
use crate::support::TestApp;

/// Every route of the API, with a body that would succeed for the ids it names.
fn routes(product: &str, order: &str) -> Vec<(Method, String, Option<Value>)> {
    let fields = |sku: &str| json!({"sku": sku, "name": "Changed", "price": {"amount_minor": 100, "currency": "USD"}, "stock": 1});
    let mut change = fields("CHANGED-1");
    change["version"] = json!("0");
    vec![
        (Method::GET, "/products".into(), None),
        (Method::POST, "/products".into(), Some(fields("NEW-1"))),
        (Method::GET, format!("/products/{product}"), None),
        (Method::PUT, format!("/products/{product}"), Some(change)),
        (Method::POST, format!("/products/{product}/archive"), None),
        (Method::GET, "/orders".into(), None),
        (
            Method::POST,
            "/orders".into(),
            Some(json!({"lines": [{"product_id": product, "quantity": 1}]})),
        ),
        (Method::GET, format!("/orders/{order}"), None),
        (
            Method::POST,
            format!("/orders/{order}/status"),
            Some(json!({"status": "CANCELLED"})),
        ),
    ]
}

/// The routes above are all the API has: a new route must join this sweep.
#[test]
fn the_sweep_covers_every_route_of_the_openapi_document() {
    let mut documented: Vec<String> = Vec::new();
    for (path, item) in &server::api::document().paths.paths {
        for (method, operation) in [("GET", &item.get), ("PUT", &item.put), ("POST", &item.post)] {
            if operation.is_some() {
                documented.push(format!("{method} {path}"));
            }
        }
        assert!(item.delete.is_none() && item.patch.is_none(), "{path}");
    }
    let mut swept: Vec<String> = routes("{id}", "{id}")
        .into_iter()
        .map(|(method, path, _)| format!("{method} /api/v1{path}"))
        .collect();
    documented.sort();
    swept.sort();
    assert_eq!(documented, swept);
}

#[tokio::test]
async fn every_api_route_refuses_what_is_not_its_own() {
    let app = TestApp::spawn().await;
    let a_owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let b_owner = app
        .register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    // Every route, with every kind of credential, on both hosts: far more calls in a few
    // seconds than either plan's rate allows, and rates are not what this tests.
    app.lift_rate("alpha").await;
    app.lift_rate("bravo").await;
    let a_write = token(&app, "alpha", &a_owner, "write").await;
    let a_read = token(&app, "alpha", &a_owner, "read").await;
    let b_write = token(&app, "bravo", &b_owner, "write").await;
    let b_product = product(&app, "bravo", &b_write, "BRAVO-SECRET", 5).await;
    let b_order = order(&app, "bravo", &b_write, &b_product, 2).await;
    let a_product = product(&app, "alpha", &a_write, "ALPHA-1", 5).await;
    let a_order = order(&app, "alpha", &a_write, &a_product, 1).await;
    let before = snapshot(&app, &b_write, &b_product, &b_order).await;

    let b_secret = |answer: &super::Answer| {
        for secret in ["BRAVO", "bravo", "bob@", &b_product, &b_order] {
            assert!(
                !answer.text.contains(secret),
                "leaked {secret}: {}",
                answer.text
            );
        }
    };

    // A's token on B's host, naming B's ids: 401, nothing shown, and a mismatch logged on
    // B's side with A's token's public prefix only.
    let logs = CapturedLogs::start();
    let swept = routes(&b_product, &b_order).len();
    for (method, path, body) in routes(&b_product, &b_order) {
        let answer = call(
            &app,
            method.clone(),
            "bravo",
            &path,
            Some(&a_write),
            body,
            &[],
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(answer.problem(), "unauthenticated");
        assert_eq!(answer.headers["content-type"], "application/problem+json");
        assert!(answer.headers.contains_key("www-authenticate"));
        b_secret(&answer);
    }
    let mismatches = logs.lines_with("api_token_mismatch");
    assert_eq!(mismatches.len(), swept, "{mismatches:#?}");
    let bravo = app.tenant("bravo").await.id().to_string();
    for line in &mismatches {
        assert!(
            line.contains(&a_write[..11]) && line.contains(&bravo),
            "{line}"
        );
        assert!(
            !line.contains(&a_write[12..]),
            "the secret is never logged: {line}"
        );
    }
    drop(logs);

    // A's token on A's host with B's ids: as if they did not exist.
    for (method, path, body) in routes(&b_product, &b_order) {
        let answer = call(
            &app,
            method.clone(),
            "alpha",
            &path,
            Some(&a_write),
            body,
            &[],
        )
        .await;
        b_secret(&answer);
        match (method.as_str(), path.as_str()) {
            ("GET", "/products") | ("GET", "/orders") => {
                assert_eq!(answer.status, StatusCode::OK);
                assert_eq!(
                    answer.body["data"].as_array().unwrap().len(),
                    1,
                    "{path}: only A's own"
                );
            }
            // A new product with its own SKU is A's own business.
            ("POST", "/products") => assert_eq!(answer.status, StatusCode::CREATED),
            ("POST", "/orders") => {
                assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
                assert_eq!(answer.fields(), ["lines[0].product_id"]);
            }
            _ => {
                assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {path}");
                assert_eq!(answer.problem(), "not-found");
            }
        }
    }

    // A read-only token: reads work, every write is refused before it starts.
    for (method, path, body) in routes(&a_product, &a_order) {
        let answer = call(
            &app,
            method.clone(),
            "alpha",
            &path,
            Some(&a_read),
            body,
            &[],
        )
        .await;
        if method == Method::GET {
            assert_eq!(answer.status, StatusCode::OK, "{method} {path}");
        } else {
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method} {path}");
            assert_eq!(answer.problem(), "read-only-token");
        }
    }

    // No token, a session cookie instead, a malformed token, a revoked or an expired one.
    // (The free plan allows two live tokens at once.)
    revoke(&app, "alpha", &a_owner, &a_read).await;
    let revoked = token(&app, "alpha", &a_owner, "write").await;
    revoke(&app, "alpha", &a_owner, &revoked).await;
    let expired = expired_token(&app, "alpha").await;
    for (method, path, body) in routes(&a_product, &a_order) {
        for presented in [
            None,
            Some("not-a-token"),
            Some(revoked.as_str()),
            Some(expired.as_str()),
        ] {
            let answer = call(
                &app,
                method.clone(),
                "alpha",
                &path,
                presented,
                body.clone(),
                &[],
            )
            .await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} {presented:?}"
            );
        }
        let with_cookie = call(
            &app,
            method.clone(),
            "alpha",
            &path,
            None,
            body,
            &[("cookie", &a_owner)],
        )
        .await;
        assert_eq!(
            with_cookie.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path}: a session is no token"
        );
        assert!(with_cookie
            .text
            .contains("does not accept a signed-in session"));
    }

    // Nothing of B changed.
    assert_eq!(snapshot(&app, &b_write, &b_product, &b_order).await, before);
}

/// What B's product and order look like, and how many orders B has.
async fn snapshot(app: &TestApp, token: &str, product: &str, order: &str) -> (Value, Value, usize) {
    let product = get(app, "bravo", &format!("/products/{product}"), token)
        .await
        .body;
    let order = get(app, "bravo", &format!("/orders/{order}"), token)
        .await
        .body;
    let orders = get(app, "bravo", "/orders", token).await.body["data"]
        .as_array()
        .unwrap()
        .len();
    (product, order, orders)
}

/// A token of `slug`'s owner that expired a minute ago (the settings page offers no past
/// dates, so it is made in the database directly).
pub async fn expired_token(app: &TestApp, slug: &str) -> String {
    let tenant = app.tenant(slug).await;
    let owner = db::platform::operator::first_owner(&app.database.db, &tenant)
        .await
        .unwrap()
        .unwrap();
    let minted = app::ssr::tokens::new_api_token(tenant.id());
    db::tenant::api_tokens::create(
        &app.database.db,
        &owner,
        &db::tenant::api_tokens::NewApiToken {
            name: &domain::TokenName::parse("Expired").unwrap(),
            role: domain::ApiTokenRole::Write,
            prefix: &minted.prefix,
            digest: &minted.digest,
            expires_at: Some(time::OffsetDateTime::now_utc() - time::Duration::minutes(1)),
        },
    )
    .await
    .unwrap();
    minted.secret
}
