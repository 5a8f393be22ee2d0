//! Bad parameters: limits beyond their range, unknown or malformed filters, cursors edited,
//! taken from another list or from another workspace, paths and methods that do not exist.
//! Each answer is a problem naming the parameter; nothing of another workspace shows.

use reqwest::{Method, StatusCode};

use super::{call, get, order, product, token};
use crate::support::TestApp;

#[tokio::test]
async fn parameters_out_of_range_or_edited_are_refused_by_name() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let b_owner = app
        .register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    // Well over a hundred calls in a few seconds: alpha's request rate is not what this tests.
    app.lift_rate("alpha").await;
    let write = token(&app, "alpha", &owner, "write").await;
    let b_write = token(&app, "bravo", &b_owner, "write").await;
    for sku in ["MUG-1", "MUG-2"] {
        let mug = product(&app, "alpha", &write, sku, 5).await;
        order(&app, "alpha", &write, &mug, 1).await;
        let b_mug = product(&app, "bravo", &b_write, sku, 5).await;
        order(&app, "bravo", &b_write, &b_mug, 1).await;
    }
    let refused = |list: &'static str, query: String, field: Option<&'static str>| {
        let (app, write) = (&app, &write);
        async move {
            let answer = get(app, "alpha", &format!("/{list}{query}"), write).await;
            assert_eq!(
                (answer.status, answer.problem()),
                (StatusCode::BAD_REQUEST, "invalid-parameter"),
                "{list}{query}: {}",
                answer.text
            );
            assert_eq!(answer.headers["content-type"], "application/problem+json");
            if let Some(field) = field {
                assert_eq!(answer.fields(), [field], "{list}{query}");
            }
        }
    };

    for list in ["products", "orders"] {
        for (query, field) in [
            ("?limit=101", Some("limit")),
            ("?limit=100000000000000000000", Some("limit")),
            ("?limit=0", Some("limit")),
            ("?limit=-1", Some("limit")),
            ("?limit=ten", Some("limit")),
            ("?limit=1&limit=2", None),
            ("?colour=red", None),
            ("?cursor=garbage", Some("cursor")),
            ("?cursor=", Some("cursor")),
        ] {
            refused(list, query.to_owned(), field).await;
        }
    }
    refused("products", "?search=a%00b".into(), Some("search")).await;
    refused(
        "products",
        format!("?search={}", "a".repeat(101)),
        Some("search"),
    )
    .await;
    refused(
        "products",
        "?include_archived=maybe".into(),
        Some("include_archived"),
    )
    .await;
    refused("orders", "?status=LOST".into(), Some("status")).await;
    refused(
        "orders",
        "?created_from=yesterday".into(),
        Some("created_from"),
    )
    .await;
    refused(
        "orders",
        "?created_before=10000-01-01T00:00:00Z".into(),
        Some("created_before"),
    )
    .await;

    // Cursors: one of each list, of each workspace. Each works only where it came from.
    let next = |slug: &'static str, list: &'static str, token: &str| {
        let (app, token) = (&app, token.to_owned());
        async move {
            get(app, slug, &format!("/{list}?limit=1"), &token)
                .await
                .body["next_cursor"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    for list in ["products", "orders"] {
        let own = next("alpha", list, &write).await;
        let second = get(
            &app,
            "alpha",
            &format!("/{list}?limit=1&cursor={own}"),
            &write,
        )
        .await;
        assert_eq!(second.status, StatusCode::OK, "{}", second.text);
        assert_eq!(second.body["data"].as_array().unwrap().len(), 1);

        let foreign = next("bravo", list, &b_write).await;
        refused(list, format!("?cursor={foreign}"), Some("cursor")).await;
        let other_list = next(
            "alpha",
            if list == "products" {
                "orders"
            } else {
                "products"
            },
            &write,
        )
        .await;
        refused(list, format!("?cursor={other_list}"), Some("cursor")).await;
        // Every single character edited, one at a time: none pages anywhere.
        for at in 0..own.len() {
            let mut edited = own.clone().into_bytes();
            edited[at] = if edited[at] == b'1' { b'2' } else { b'1' };
            let edited = String::from_utf8(edited).unwrap();
            if edited != own {
                refused(list, format!("?cursor={edited}"), Some("cursor")).await;
            }
        }
    }

    // Paths and methods that are not there.
    let unknown = get(&app, "alpha", "/products/not-a-uuid", &write).await;
    assert_eq!(
        (unknown.status, unknown.problem()),
        (StatusCode::NOT_FOUND, "not-found")
    );
    let nowhere = get(&app, "alpha", "/warehouses", &write).await;
    assert_eq!(
        (nowhere.status, nowhere.problem()),
        (StatusCode::NOT_FOUND, "not-found")
    );
    for (method, path) in [(Method::DELETE, "/products"), (Method::PATCH, "/orders")] {
        let answer = call(&app, method, "alpha", path, Some(&write), None, &[]).await;
        assert_eq!(
            (answer.status, answer.problem()),
            (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed"),
            "{path}"
        );
        assert_eq!(answer.headers["content-type"], "application/problem+json");
    }
}
