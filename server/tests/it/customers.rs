//! Customers over HTTP: added, listed, named on orders, and out of reach of another
//! workspace that names them by id on its own host.

use app::api::customers::{ListCustomers, LoadCustomer, SaveCustomer};
use app::api::orders::{ListOrders, LoadOrder, PlaceOrder};
use app::api::picker::{LoadOrderDraft, SearchProducts};
use app::api::products::LoadProduct;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::support::{error_of, location, TestApp};

/// Adds a customer through the customers page's function; returns their id.
async fn add_customer(app: &TestApp, slug: &str, cookie: &str, name: &str, email: &str) -> String {
    let response = app
        .call::<SaveCustomer>(
            Some(slug),
            &[
                ("customer_name", name),
                ("customer_email", email),
                ("customer_phone", "+44 131 496 0000"),
                ("customer_address", "12 Harbour St\r\nLeith"),
            ],
            Some(cookie),
            HeaderMap::new(),
        )
        .await;
    let location =
        location(&response).unwrap_or_else(|| panic!("customer saved: {}", response.status()));
    location
        .trim_start_matches("/customers/")
        .split('?')
        .next()
        .unwrap()
        .to_owned()
}

async fn body(response: reqwest::Response) -> String {
    response.text().await.unwrap()
}

#[tokio::test]
async fn an_order_names_its_customer_and_the_orders_list_filters_by_them() {
    let app = TestApp::spawn().await;
    let a = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let product = app.create_product("alpha", &a, "MUG", "Mug", "5").await;
    let harbour = add_customer(&app, "alpha", &a, "Harbour Café", "orders@harbour.test").await;
    let other = add_customer(&app, "alpha", &a, "Other Shop", "hi@other.test").await;

    // No customer at all: refused on the customer, nothing placed.
    let none = app
        .call::<PlaceOrder>(
            Some("alpha"),
            &[
                ("lines[0][product_id]", &product),
                ("lines[0][quantity]", "1"),
            ],
            Some(&a),
            HeaderMap::new(),
        )
        .await;
    let err = error_of(none).await;
    assert!(err.message_for("customer").is_some(), "{err:?}");

    let placed = app
        .call::<PlaceOrder>(
            Some("alpha"),
            &[
                ("customer_id", &harbour),
                ("lines[0][product_id]", &product),
                ("lines[0][quantity]", "2"),
            ],
            Some(&a),
            HeaderMap::new(),
        )
        .await;
    let order = location(&placed).expect("order placed");
    let order = order.trim_start_matches("/orders/");
    let view = body(
        app.call::<LoadOrder>(Some("alpha"), &[("id", order)], Some(&a), HeaderMap::new())
            .await,
    )
    .await;
    assert!(
        view.contains("Harbour Café") && view.contains("12 Harbour St\\nLeith"),
        "{view}"
    );
    app.place_order("alpha", &a, &product, "1").await;

    let theirs = body(
        app.call::<ListOrders>(
            Some("alpha"),
            &[("customer", &harbour)],
            Some(&a),
            HeaderMap::new(),
        )
        .await,
    )
    .await;
    assert_eq!(theirs.matches("\"number\"").count(), 1, "{theirs}");
    let nobody = body(
        app.call::<ListOrders>(
            Some("alpha"),
            &[("customer", &other)],
            Some(&a),
            HeaderMap::new(),
        )
        .await,
    )
    .await;
    assert!(nobody.contains("\"orders\":[]"), "{nobody}");
    let found = body(
        app.call::<ListCustomers>(
            Some("alpha"),
            &[("search", "harb")],
            Some(&a),
            HeaderMap::new(),
        )
        .await,
    )
    .await;
    assert!(
        found.contains("Harbour Café") && !found.contains("Other Shop"),
        "{found}"
    );
    let page = app
        .get(Some("alpha"), &format!("/customers/{harbour}"), Some(&a))
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(body(page).await.contains("Orders of Harbour Café"));

    // The same email twice is one customer: the second is refused on its field.
    let dup = app
        .call::<SaveCustomer>(
            Some("alpha"),
            &[
                ("customer_name", "Copy"),
                ("customer_email", "ORDERS@harbour.test"),
            ],
            Some(&a),
            HeaderMap::new(),
        )
        .await;
    assert!(error_of(dup).await.message_for("customer_email").is_some());
}

/// Workspace A's session, on A's own host, naming B's customers, products and orders by id:
/// nothing of B is shown, chosen or changed.
#[tokio::test]
async fn another_workspaces_customers_cannot_be_read_changed_or_ordered_for() {
    let app = TestApp::spawn().await;
    let a = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let b = app
        .register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    let mine = app.create_product("alpha", &a, "MUG", "Mug", "5").await;
    let their_product = app
        .create_product("bravo", &b, "SECRET-1", "Bravo secret", "5")
        .await;
    let theirs = add_customer(&app, "bravo", &b, "Bravo Client", "client@bravo.test").await;

    let load = app
        .call::<LoadCustomer>(
            Some("alpha"),
            &[("id", &theirs)],
            Some(&a),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(load.status(), StatusCode::NOT_FOUND);
    assert!(!body(load).await.contains("Bravo"));
    let edit = app
        .call::<SaveCustomer>(
            Some("alpha"),
            &[
                ("id", &theirs),
                ("customer_name", "Taken over"),
                ("customer_email", "x@alpha.test"),
            ],
            Some(&a),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(edit.status(), StatusCode::NOT_FOUND);
    let orders = app
        .call::<ListOrders>(
            Some("alpha"),
            &[("customer", &theirs)],
            Some(&a),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(orders.status(), StatusCode::NOT_FOUND);
    let order = app
        .call::<PlaceOrder>(
            Some("alpha"),
            &[
                ("customer_id", &theirs),
                ("lines[0][product_id]", &mine),
                ("lines[0][quantity]", "1"),
            ],
            Some(&a),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(order.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err = error_of(order).await;
    assert!(err.message_for("customer").is_some(), "{err:?}");
    let draft = body(
        app.call::<LoadOrderDraft>(
            Some("alpha"),
            &[("customer_id", &theirs), ("products[0]", &their_product)],
            Some(&a),
            HeaderMap::new(),
        )
        .await,
    )
    .await;
    assert!(
        draft.contains("\"customer\":null") && draft.contains("\"products\":[]"),
        "{draft}"
    );
    let search = body(
        app.call::<SearchProducts>(
            Some("alpha"),
            &[("search", "secret")],
            Some(&a),
            HeaderMap::new(),
        )
        .await,
    )
    .await;
    assert!(!search.contains("SECRET"), "{search}");
    let list = body(
        app.call::<ListCustomers>(Some("alpha"), &[], Some(&a), HeaderMap::new())
            .await,
    )
    .await;
    assert!(!list.contains("Bravo"), "{list}");
    let page = app
        .get(Some("alpha"), &format!("/customers/{theirs}"), Some(&a))
        .await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(!body(page).await.contains("Bravo Client"));

    // Alpha's own stock and Bravo's customer are as they were.
    let product = body(
        app.call::<LoadProduct>(Some("alpha"), &[("id", &mine)], Some(&a), HeaderMap::new())
            .await,
    )
    .await;
    assert!(product.contains("\"stock\":5"), "{product}");
    let still = body(
        app.call::<LoadCustomer>(
            Some("bravo"),
            &[("id", &theirs)],
            Some(&b),
            HeaderMap::new(),
        )
        .await,
    )
    .await;
    assert!(still.contains("Bravo Client"), "{still}");
}
