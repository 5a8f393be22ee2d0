//! The order form's product picker in a workspace of 5,000 products: the last of them by
//! name is found by typing its name and can be ordered.

use app::api::imports::{ApplyImport, LoadImport};
use app::api::orders::{LoadOrder, PlaceOrder};
use app::api::picker::{ProductMatches, SearchProducts};
use reqwest::header::HeaderMap;

use crate::support::{eventually_async, location, TestApp};

async fn search(app: &TestApp, cookie: &str, text: &str, after: Option<&str>) -> ProductMatches {
    let mut args = vec![("search", text)];
    if let Some(after) = after {
        args.push(("after", after));
    }
    let response = app
        .call::<SearchProducts>(Some("alpha"), &args, Some(cookie), HeaderMap::new())
        .await;
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}

#[tokio::test]
async fn a_workspace_of_5000_products_orders_the_last_one_by_name() {
    let app = TestApp::spawn().await;
    let a = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.set_plan("alpha", "ENTERPRISE").await;
    // Written in a shuffled order, so name order is not the order they were added in.
    let mut file = String::from("sku,name,price,stock\n");
    for n in 0..5000u32 {
        let k = (n * 7919) % 5000 + 1;
        file.push_str(&format!(
            "ITEM-{k:04},Widget {k:04},{}.25,{}\n",
            k % 90 + 1,
            k % 9 + 1
        ));
    }
    let upload = app
        .upload_import("alpha", Some(&a), "widgets.csv", file.as_bytes())
        .await;
    let id = location(&upload)
        .unwrap()
        .trim_start_matches("/products/import/")
        .to_owned();
    app.call::<ApplyImport>(Some("alpha"), &[("id", &id)], Some(&a), HeaderMap::new())
        .await;
    eventually_async(|| async {
        let view = app
            .call::<LoadImport>(Some("alpha"), &[("id", &id)], Some(&a), HeaderMap::new())
            .await
            .text()
            .await
            .unwrap();
        view.contains("\"created\":5000").then_some(())
    })
    .await;

    // Two letters: names that start with them, ten at a time, with a next page.
    let first = search(&app, &a, "wi", None).await;
    assert_eq!(first.matches.len(), 10);
    assert_eq!(first.matches[0].name, "Widget 0001");
    let second = search(&app, &a, "wi", first.next.as_deref()).await;
    assert_eq!(second.matches[0].name, "Widget 0011");

    // The last by name, typed as a person types it.
    let mut found = None;
    for typed in [
        "w",
        "wi",
        "wid",
        "widget",
        "widget 5",
        "widget 50",
        "widget 500",
        "widget 5000",
    ] {
        let page = search(&app, &a, typed, None).await;
        assert!(!page.matches.is_empty(), "{typed}");
        found = page.matches.into_iter().find(|m| m.name == "Widget 5000");
    }
    let last = found.expect("Widget 5000 is found by its name");
    assert_eq!(
        (last.sku.as_str(), last.price.as_str()),
        ("ITEM-5000", "USD 51.25")
    );
    // And by its SKU.
    let by_sku = search(&app, &a, "item-5000", None).await;
    assert_eq!(by_sku.matches.len(), 1);

    let placed = app
        .call::<PlaceOrder>(
            Some("alpha"),
            &[
                ("customer_name", "Last Buyer"),
                ("customer_email", "last@buyer.test"),
                ("lines[0][product_id]", &last.id),
                ("lines[0][quantity]", "2"),
            ],
            Some(&a),
            HeaderMap::new(),
        )
        .await;
    let order = location(&placed).expect("the order is placed");
    let view = app
        .call::<LoadOrder>(
            Some("alpha"),
            &[("id", order.trim_start_matches("/orders/"))],
            Some(&a),
            HeaderMap::new(),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        view.contains("Widget 5000") && view.contains("USD 102.50"),
        "{view}"
    );
}
