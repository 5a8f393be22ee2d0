//! The usual first pages of the product, order and customer lists have statements of their
//! own, planned once: each must list exactly what the general statement lists, and only its
//! own workspace's rows.

use crate::common::{app_db, owner_scope, product};
use db::tenant::customers::{self, CustomerInput};
use db::tenant::orders::{self, ForCustomer, NewLine, OrderQuery};
use db::tenant::products::{self, ProductQuery};
use db::tenant::DEFAULT_PAGE;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_usual_first_page_lists_what_the_general_statement_lists(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let alpha = owner_scope(&db, "alpha").await;
    let bravo = owner_scope(&db, "bravo").await;
    let mut newest = None;
    for n in 0..28 {
        let id = products::create(&db, &alpha, &product(&format!("A-{n}"), 100, 1))
            .await
            .unwrap();
        newest = Some(id);
    }
    products::set_archived(&db, &alpha, newest.unwrap(), true)
        .await
        .unwrap();
    products::create(&db, &bravo, &product("B-0", 100, 1))
        .await
        .unwrap();

    let skus = |page: &products::ProductPage| {
        page.products
            .iter()
            .map(|p| p.sku.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    let first_page = |limit, include_archived| ProductQuery {
        limit,
        include_archived,
        ..Default::default()
    };
    for include_archived in [false, true] {
        let usual = products::list(&db, &alpha, &first_page(DEFAULT_PAGE, include_archived))
            .await
            .unwrap();
        let general = products::list(&db, &alpha, &first_page(DEFAULT_PAGE + 1, include_archived))
            .await
            .unwrap();
        assert_eq!(skus(&usual), skus(&general)[..DEFAULT_PAGE as usize]);
        assert!(usual.has_more);
        assert_eq!(
            skus(&usual)[0] == "A-27",
            include_archived,
            "the archived newest only when asked for"
        );
    }
    // A later page of the usual size is not a first page: its cursor must be honoured.
    let all = products::list(&db, &alpha, &first_page(200, false))
        .await
        .unwrap();
    let last_of_first = &all.products[DEFAULT_PAGE as usize - 1];
    let second = products::list(
        &db,
        &alpha,
        &ProductQuery {
            limit: DEFAULT_PAGE,
            after: Some(products::ProductCursor {
                created_at: last_of_first.created_at,
                id: last_of_first.id.as_uuid(),
            }),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(skus(&second), skus(&all)[DEFAULT_PAGE as usize..]);
    assert!(!second.has_more);

    let theirs = products::list(&db, &bravo, &first_page(DEFAULT_PAGE, true))
        .await
        .unwrap();
    assert_eq!(skus(&theirs), ["B-0"]);
    assert!(!theirs.has_more);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_usual_first_page_of_orders_lists_what_the_general_statement_lists(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let alpha = owner_scope(&db, "alpha").await;
    let bravo = owner_scope(&db, "bravo").await;
    let mug = products::create(&db, &alpha, &product("MUG", 100, 100))
        .await
        .unwrap();
    let one_mug = [NewLine {
        product_id: mug,
        quantity: 1,
    }];
    for _ in 0..27 {
        orders::create(&db, &alpha, None, &one_mug).await.unwrap();
    }
    let tee = products::create(&db, &bravo, &product("TEE", 100, 100))
        .await
        .unwrap();
    let theirs = orders::create(
        &db,
        &bravo,
        None,
        &[NewLine {
            product_id: tee,
            quantity: 1,
        }],
    )
    .await
    .unwrap();

    let numbers =
        |page: &orders::OrderPage| page.orders.iter().map(|o| o.number).collect::<Vec<_>>();
    let first_page = |limit| OrderQuery {
        limit,
        ..Default::default()
    };
    let usual = orders::list(&db, &alpha, &first_page(DEFAULT_PAGE))
        .await
        .unwrap();
    let general = orders::list(&db, &alpha, &first_page(DEFAULT_PAGE + 1))
        .await
        .unwrap();
    assert_eq!(numbers(&usual), numbers(&general)[..DEFAULT_PAGE as usize]);
    assert!(
        numbers(&usual).windows(2).all(|pair| pair[0] > pair[1]),
        "newest first"
    );
    assert!(usual.has_more);

    // Filtered at the usual size: the filter must be honoured.
    let ada = customers::create(&db, &alpha, &customer()).await.unwrap();
    let adas = orders::create(&db, &alpha, Some(ForCustomer::Existing(ada)), &one_mug)
        .await
        .unwrap();
    let filtered = orders::list(
        &db,
        &alpha,
        &OrderQuery {
            customer: Some(ada),
            ..first_page(DEFAULT_PAGE)
        },
    )
    .await
    .unwrap();
    assert_eq!(
        filtered.orders.iter().map(|o| o.id).collect::<Vec<_>>(),
        [adas]
    );

    let bravos = orders::list(&db, &bravo, &first_page(DEFAULT_PAGE))
        .await
        .unwrap();
    assert_eq!(
        bravos.orders.iter().map(|o| o.id).collect::<Vec<_>>(),
        [theirs]
    );
    assert!(!bravos.has_more);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_usual_first_page_of_customers_lists_what_the_general_statement_lists(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let alpha = owner_scope(&db, "alpha").await;
    let bravo = owner_scope(&db, "bravo").await;
    // Created out of name order, so the page's order is the statement's doing.
    for n in (0..27).rev() {
        customers::create(&db, &alpha, &named(&format!("Customer {n:02}")))
            .await
            .unwrap();
    }
    customers::create(&db, &bravo, &named("Theirs"))
        .await
        .unwrap();

    let names = |page: &customers::CustomerPage| {
        page.customers
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>()
    };
    let usual = customers::list(&db, &alpha, None, None, DEFAULT_PAGE)
        .await
        .unwrap();
    let general = customers::list(&db, &alpha, None, None, DEFAULT_PAGE + 1)
        .await
        .unwrap();
    assert_eq!(names(&usual), names(&general)[..DEFAULT_PAGE as usize]);
    assert_eq!(names(&usual)[0], "Customer 00");
    assert!(usual.has_more);

    // A later page of the usual size: its cursor must be honoured.
    let last_of_first = usual.customers.last().unwrap().id;
    let second = customers::list(&db, &alpha, None, Some(last_of_first), DEFAULT_PAGE)
        .await
        .unwrap();
    assert_eq!(names(&second), ["Customer 25", "Customer 26"]);

    let theirs = customers::list(&db, &bravo, None, None, DEFAULT_PAGE)
        .await
        .unwrap();
    assert_eq!(names(&theirs), ["Theirs"]);
}

fn customer() -> CustomerInput {
    named("Ada Lovelace")
}

fn named(name: &str) -> CustomerInput {
    let email = format!("{}@example.com", name.to_lowercase().replace(' ', "."));
    CustomerInput {
        name: domain::CustomerName::parse(name).unwrap(),
        email: domain::Email::parse(&email).unwrap(),
        phone: None,
        address: None,
    }
}
