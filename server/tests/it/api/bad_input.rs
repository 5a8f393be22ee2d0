//! Bad bodies of every kind: malformed JSON, unknown fields, wrong types, numbers beyond
//! range, another workspace's product on an order, a change without its version, a step the
//! workflow forbids. Each answer is a problem naming the field, never a 5xx; nothing is
//! written.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{call, get, order, post, product, raw, token, Answer};
use crate::support::TestApp;

#[tokio::test]
async fn bad_input_gets_a_problem_naming_the_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.lift_rate("alpha").await;
    let b_owner = app
        .register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    app.lift_rate("bravo").await;
    let write = token(&app, "alpha", &owner, "write").await;
    let b_write = token(&app, "bravo", &b_owner, "write").await;
    let mug = product(&app, "alpha", &write, "MUG-1", 5).await;
    let b_mug = product(&app, "bravo", &b_write, "MUG-1", 5).await;
    product(&app, "bravo", &b_write, "MUG-2", 5).await;
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

/// A problem document: the status expected, of the problem type's media type, naming `field`.
fn assert_problem(answer: &Answer, status: StatusCode, field: &str, what: &str) {
    assert_eq!(answer.status, status, "{what}: {}", answer.text);
    assert_eq!(
        answer.headers["content-type"], "application/problem+json",
        "{what}"
    );
    assert!(
        answer.fields().iter().any(|f| f == field),
        "{what}: expected a problem on {field}: {}",
        answer.text
    );
}

#[tokio::test]
async fn changes_and_workflow_steps_are_refused_on_their_fields() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.lift_rate("alpha").await;
    let write = token(&app, "alpha", &owner, "write").await;
    let mug = product(&app, "alpha", &write, "MUG-1", 5).await;
    let path = format!("/products/{mug}");
    let before = get(&app, "alpha", &path, &write).await.body;
    let version = before["version"].as_str().unwrap().to_owned();
    let valid = json!({"version": version, "sku": "MUG-1", "name": "Changed", "description": "",
        "price": {"amount_minor": 100, "currency": "USD"}, "stock": 1});
    let with = |key: &str, value: serde_json::Value| {
        let mut body = valid.clone();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = valid.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let cases = [
        (with("colour", json!("red")), "colour"),
        (with("stock", json!("1")), "stock"),
        (with("stock", json!(1.5)), "stock"),
        (with("stock", json!(10_000_000_000_i64)), "stock"),
        (with("stock", json!(-1)), "stock"),
        (with("price", json!(100)), "price"),
        (
            with("price", json!({"amount_minor": 1e30, "currency": "USD"})),
            "price.amount_minor",
        ),
        (with("price", json!({"amount_minor": 100})), "price"),
        (with("version", json!("yesterday")), "version"),
        (with("version", json!(12)), "version"),
        (with("name", json!("")), "name"),
        (with("sku", json!(null)), "sku"),
        (without("version"), "body"),
        (json!([]), "body"),
        (json!("MUG-1"), "body"),
    ];
    for (body, field) in cases {
        let answer = call(
            &app,
            Method::PUT,
            "alpha",
            &path,
            Some(&write),
            Some(body.clone()),
            &[],
        )
        .await;
        assert_problem(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            field,
            &body.to_string(),
        );
        assert_eq!(answer.problem(), "validation");
    }
    // A change with a valid version of an id that is not a product is not found.
    let elsewhere = format!("/products/{}", uuid::Uuid::new_v4());
    let missing = call(
        &app,
        Method::PUT,
        "alpha",
        &elsewhere,
        Some(&write),
        Some(valid.clone()),
        &[],
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, "alpha", &path, &write).await.body, before);

    // Status changes: not a status, not a body, and steps the workflow does not take.
    let placed = order(&app, "alpha", &write, &mug, 2).await;
    let status_path = format!("/orders/{placed}/status");
    let order_before = get(&app, "alpha", &format!("/orders/{placed}"), &write)
        .await
        .body;
    for (body, field) in [
        (json!({"status": "LOST"}), "status"),
        (json!({"status": "pending"}), "status"),
        (json!({"status": 2}), "status"),
        (json!({"status": "CONFIRMED", "note": "x"}), "note"),
        (json!({"to": "CONFIRMED"}), "to"),
        (json!({}), "body"),
        (json!({"status": "SHIPPED"}), "status"),
        (json!({"status": "DELIVERED"}), "status"),
        (json!({"status": "PENDING"}), "status"),
    ] {
        let answer = post(&app, "alpha", &status_path, &write, body.clone()).await;
        assert_problem(
            &answer,
            StatusCode::UNPROCESSABLE_ENTITY,
            field,
            &body.to_string(),
        );
    }
    assert_eq!(
        get(&app, "alpha", &format!("/orders/{placed}"), &write)
            .await
            .body,
        order_before
    );
    // Once cancelled (its stock back on the shelf), an order goes nowhere.
    let cancelled = post(
        &app,
        "alpha",
        &status_path,
        &write,
        json!({"status": "CANCELLED"}),
    )
    .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    for next in ["PENDING", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED"] {
        let answer = post(&app, "alpha", &status_path, &write, json!({"status": next})).await;
        assert_problem(&answer, StatusCode::UNPROCESSABLE_ENTITY, "status", next);
    }
    let history = get(&app, "alpha", &format!("/orders/{placed}"), &write)
        .await
        .body["history"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(history, 2, "placed, then cancelled: nothing else");
    assert_eq!(get(&app, "alpha", &path, &write).await.body["stock"], 5);
}

#[tokio::test]
async fn bodies_of_the_wrong_size_shape_or_encoding_are_problems() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.lift_rate("alpha").await;
    let write = token(&app, "alpha", &owner, "write").await;
    let mug = product(&app, "alpha", &write, "MUG-1", 5).await;
    let json = Some("application/json");
    let huge_quantity = format!(
        "{{\"lines\": [{{\"product_id\": \"{mug}\", \"quantity\": 9223372036854775808}}]}}"
    );
    let padded = format!("{{\"lines\": [], \"x\": \"{}\"}}", "a".repeat(70_000));
    let cases: Vec<(Option<&str>, Vec<u8>, StatusCode, &str)> = vec![
        (
            json,
            b"{\"lines\": [".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed-body",
        ),
        (
            json,
            b"".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed-body",
        ),
        (
            json,
            b"{\"lines\": []} {}".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed-body",
        ),
        (
            json,
            b"{\"lines\": [\"\xff\xfe\"]}".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed-body",
        ),
        (
            json,
            b"\xef\xbb\xbf{\"lines\": []}".to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed-body",
        ),
        (
            json,
            b"null".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            json,
            huge_quantity.into_bytes(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            json,
            padded.into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
        ),
        (
            None,
            b"{\"lines\": []}".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
        (
            Some("text/plain"),
            b"{\"lines\": []}".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
        (
            Some("application/x-www-form-urlencoded"),
            b"lines=1".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
    ];
    for (content_type, body, status, problem) in cases {
        let shown = String::from_utf8_lossy(&body)
            .chars()
            .take(60)
            .collect::<String>();
        let answer = raw(&app, Method::POST, "/orders", &write, content_type, body).await;
        assert_eq!(
            (answer.status, answer.problem()),
            (status, problem),
            "{content_type:?} {shown}: {}",
            answer.text
        );
        assert_eq!(answer.headers["content-type"], "application/problem+json");
        assert!(answer.body["detail"].is_string(), "{}", answer.text);
    }
    assert_eq!(
        get(&app, "alpha", "/orders", &write).await.body["data"],
        json!([])
    );
    assert_eq!(
        get(&app, "alpha", &format!("/products/{mug}"), &write)
            .await
            .body["stock"],
        5
    );
}
