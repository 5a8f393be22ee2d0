//! Idempotency keys: a retried POST gets the first answer and never runs twice, even when
//! the retries arrive all at once.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{call, get, product, token};
use crate::support::TestApp;

#[tokio::test]
async fn twenty_concurrent_retries_with_one_key_place_exactly_one_order() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.lift_rate("alpha").await;
    let write = token(&app, "alpha", &owner, "write").await;
    let mug = product(&app, "alpha", &write, "MUG-1", 50).await;
    let body = json!({"lines": [{"product_id": mug, "quantity": 3}]});
    let key = [("idempotency-key", "order-2026-11-30-0001")];

    let retries = (0..20).map(|_| {
        call(
            &app,
            Method::POST,
            "alpha",
            "/orders",
            Some(&write),
            Some(body.clone()),
            &key,
        )
    });
    let answers = futures::future::join_all(retries).await;
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        assert_eq!(
            answer.body, answers[0].body,
            "every retry gets the first answer"
        );
    }
    let replayed = answers
        .iter()
        .filter(|a| a.headers.contains_key("idempotent-replayed"))
        .count();
    assert_eq!(replayed, 19);
    let orders = get(&app, "alpha", "/orders", &write).await;
    assert_eq!(orders.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        get(&app, "alpha", &format!("/products/{mug}"), &write)
            .await
            .body["stock"],
        47
    );

    // Later retries too; the same key with another body is refused, and writes nothing.
    let again = call(
        &app,
        Method::POST,
        "alpha",
        "/orders",
        Some(&write),
        Some(body.clone()),
        &key,
    )
    .await;
    assert_eq!(
        (again.status, &again.body),
        (StatusCode::CREATED, &answers[0].body)
    );
    let other = json!({"lines": [{"product_id": mug, "quantity": 4}]});
    let reused = call(
        &app,
        Method::POST,
        "alpha",
        "/orders",
        Some(&write),
        Some(other.clone()),
        &key,
    )
    .await;
    assert_eq!(
        (reused.status, reused.problem()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency-key-reused")
    );
    assert_eq!(reused.fields(), ["Idempotency-Key"]);
    // Keys belong to their token: another token's same key is a new request.
    let second = token(&app, "alpha", &owner, "write").await;
    let theirs = call(
        &app,
        Method::POST,
        "alpha",
        "/orders",
        Some(&second),
        Some(other),
        &key,
    )
    .await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert_ne!(theirs.body["id"], answers[0].body["id"]);
    assert_eq!(
        get(&app, "alpha", &format!("/products/{mug}"), &write)
            .await
            .body["stock"],
        43
    );
}

#[tokio::test]
async fn a_refusal_is_replayed_too_and_malformed_keys_are_refused() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.lift_rate("alpha").await;
    let write = token(&app, "alpha", &owner, "write").await;
    let mug = product(&app, "alpha", &write, "MUG-1", 1).await;
    let body = json!({"lines": [{"product_id": mug, "quantity": 2}]});
    let key = [("idempotency-key", "k-1")];
    let first = call(
        &app,
        Method::POST,
        "alpha",
        "/orders",
        Some(&write),
        Some(body.clone()),
        &key,
    )
    .await;
    assert_eq!(first.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Stock arrives; the retry with the same key still gets the first answer.
    let path = format!("/products/{mug}");
    let read = get(&app, "alpha", &path, &write).await;
    let restock = json!({"version": read.body["version"], "sku": "MUG-1", "name": "Mug",
        "price": {"amount_minor": 1250, "currency": "USD"}, "stock": 10});
    let restocked = call(
        &app,
        Method::PUT,
        "alpha",
        &path,
        Some(&write),
        Some(restock),
        &key,
    )
    .await;
    assert_eq!(
        restocked.status,
        StatusCode::OK,
        "a PUT is not keyed: {}",
        restocked.text
    );
    let retry = call(
        &app,
        Method::POST,
        "alpha",
        "/orders",
        Some(&write),
        Some(body),
        &key,
    )
    .await;
    assert_eq!(
        (retry.status, &retry.body),
        (StatusCode::UNPROCESSABLE_ENTITY, &first.body)
    );
    assert_eq!(retry.headers["idempotent-replayed"], "true");

    let long = "k".repeat(256);
    for bad in [long.as_str(), "with space"] {
        let answer = call(
            &app,
            Method::POST,
            "alpha",
            &format!("/products/{mug}/archive"),
            Some(&write),
            None,
            &[("idempotency-key", bad)],
        )
        .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(answer.fields(), ["Idempotency-Key"]);
    }
    assert_eq!(
        get(&app, "alpha", &path, &write).await.body["archived"],
        false
    );
}
