//! Bad input of every kind: malformed JSON, unknown fields, wrong types, parameters beyond
//! their range, cursors edited or from another workspace, another workspace's product on an
//! order. Each answer is a problem naming the field; nothing is written.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{call, get, post, product, token};
use crate::support::TestApp;

#[tokio::test]
async fn bad_input_gets_a_problem_naming_the_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let b_owner = app
        .register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    let write = token(&app, "alpha", &owner, "write").await;
    let b_write = token(&app, "bravo", &b_owner, "write").await;
    let mug = product(&app, "alpha", &write, "MUG-1", 5).await;
    let b_mug = product(&app, "bravo", &b_write, "MUG-1", 5).await;
    product(&app, "bravo", &b_write, "MUG-2", 5).await;
    let raw = |body: &'static str, content_type: &'static str| {
        let (app, write) = (&app, &write);
        async move {
            let client = reqwest::Client::new();
            let response = client
                .post(format!("http://{}/api/v1/orders", app.addr))
                .header("host", app.host(Some("alpha")))
                .header("authorization", format!("Bearer {write}"))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let kind = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            (status, kind, response.text().await.unwrap())
        }
    };
    let (status, kind, text) = raw("{\"lines\": [", "application/json").await;
    assert_eq!(
        (status, kind.as_str()),
        (StatusCode::BAD_REQUEST, "application/problem+json"),
        "{text}"
    );
    assert!(text.contains("malformed-body"));
    let (status, _, _) = raw("lines=1", "application/x-www-form-urlencoded").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let cases = [
        (
            json!({"lines": [{"product_id": mug, "quantity": 1}], "coupon": "FREE"}),
            "coupon",
        ),
        (
            json!({"lines": [{"product_id": mug, "quantity": "two"}]}),
            "lines[0].quantity",
        ),
        (
            json!({"lines": [{"product_id": "nope", "quantity": 1}]}),
            "lines[0].product_id",
        ),
        (
            json!({"lines": [{"product_id": mug, "quantity": 0}]}),
            "lines[0].quantity",
        ),
        (
            json!({"lines": [{"product_id": mug, "quantity": 6}]}),
            "lines[0].quantity",
        ),
        (
            json!({"lines": [{"product_id": b_mug, "quantity": 1}]}),
            "lines[0].product_id",
        ),
        (
            json!({"lines": [{"product_id": mug, "quantity": 1}, {"product_id": mug, "quantity": 1}]}),
            "lines[1].product_id",
        ),
        (json!({"lines": []}), "lines"),
    ];
    for (body, field) in cases {
        let answer = post(&app, "alpha", "/orders", &write, body.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            answer.text
        );
        assert_eq!(answer.problem(), "validation");
        assert_eq!(answer.fields(), [field], "{body}");
    }
    let product_cases = [
        (
            json!({"sku": "A B", "name": "x", "price": {"amount_minor": 1, "currency": "USD"}, "stock": 1}),
            "sku",
        ),
        (
            json!({"sku": "AB", "name": "x", "price": {"amount_minor": -1, "currency": "USD"}, "stock": 1}),
            "price.amount_minor",
        ),
        (
            json!({"sku": "AB", "name": "x", "price": {"amount_minor": 1, "currency": "EUR"}, "stock": 1}),
            "price.currency",
        ),
        (
            json!({"sku": "AB", "name": "x\u{0}y", "price": {"amount_minor": 1, "currency": "USD"}, "stock": -1}),
            "name",
        ),
        (
            json!({"sku": "MUG-1", "name": "x", "price": {"amount_minor": 1, "currency": "USD"}, "stock": 1}),
            "sku",
        ),
    ];
    for (body, field) in product_cases {
        let answer = post(&app, "alpha", "/products", &write, body.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            answer.text
        );
        assert!(
            answer.fields().contains(&field.to_owned()),
            "{body}: {}",
            answer.text
        );
    }

    // Parameters: a limit beyond the maximum, unknown ones, a cursor edited or taken from
    // another workspace.
    for query in [
        "?limit=101",
        "?limit=0",
        "?limit=ten",
        "?colour=red",
        "?cursor=garbage",
        "?search=a%00b",
    ] {
        let answer = get(&app, "alpha", &format!("/products{query}"), &write).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            answer.text
        );
        assert_eq!(answer.problem(), "invalid-parameter", "{query}");
    }
    let b_cursor = get(&app, "bravo", "/products?limit=1", &b_write).await.body["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let foreign = get(
        &app,
        "alpha",
        &format!("/products?cursor={b_cursor}"),
        &write,
    )
    .await;
    assert_eq!(
        (foreign.status, foreign.fields()),
        (StatusCode::BAD_REQUEST, vec!["cursor".to_owned()])
    );
    for query in ["?status=LOST", "?created_from=yesterday"] {
        let answer = get(&app, "alpha", &format!("/orders{query}"), &write).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
    }
    let unknown = get(&app, "alpha", "/products/not-a-uuid", &write).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let nowhere = get(&app, "alpha", "/warehouses", &write).await;
    assert_eq!(
        (nowhere.status, nowhere.problem()),
        (StatusCode::NOT_FOUND, "not-found")
    );
    let wrong_method = call(
        &app,
        Method::DELETE,
        "alpha",
        "/products",
        Some(&write),
        None,
        &[],
    )
    .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        wrong_method.headers["content-type"],
        "application/problem+json"
    );

    // Nothing was written by any of it.
    assert_eq!(
        get(&app, "alpha", "/orders", &write).await.body["data"],
        json!([])
    );
    assert_eq!(
        get(&app, "alpha", "/products", &write).await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        get(&app, "alpha", &format!("/products/{mug}"), &write)
            .await
            .body["stock"],
        5
    );
}
