//! Customers, orders that name them, and the order form's product search.

use db::tenant::customers::{self, CustomerInput};
use db::tenant::orders::{self, ForCustomer, NewLine, OrderQuery};
use db::tenant::products;
use db::RepoError;
use domain::{Address, CustomerName, Email, Phone, ProductId, SearchText};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::common::{app_db, owner_scope, product};

fn customer(name: &str, email: &str) -> CustomerInput {
    CustomerInput {
        name: CustomerName::parse(name).unwrap(),
        email: Email::parse(email).unwrap(),
        phone: Phone::parse("+44 131 496 0000").unwrap(),
        address: Address::parse("12 Harbour St\nLeith").unwrap(),
    }
}

fn search(text: &str) -> SearchText {
    SearchText::parse(text).unwrap().unwrap()
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn customers_are_listed_by_name_searched_and_paged(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let alpha = owner_scope(&db, "alpha").await;
    for (name, email) in [
        ("zephyr Ltd", "z@z.test"),
        ("Acme", "hello@acme.test"),
        ("Birch & Co", "b@birch.test"),
        ("acorn café", "cafe@acorn.test"),
    ] {
        customers::create(&db, &alpha, &customer(name, email))
            .await
            .unwrap();
    }
    let names = |page: &customers::CustomerPage| {
        page.customers
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>()
    };
    let first = customers::list(&db, &alpha, None, None, 2).await.unwrap();
    assert_eq!(names(&first), ["Acme", "acorn café"]);
    assert!(first.has_more);
    let rest = customers::list(&db, &alpha, None, Some(first.customers[1].id), 2)
        .await
        .unwrap();
    assert_eq!(names(&rest), ["Birch & Co", "zephyr Ltd"]);
    assert!(!rest.has_more);
    // Name or email, case-insensitively; typed wildcards are plain characters.
    let found = customers::list(&db, &alpha, Some(&search("ACME.T")), None, 10)
        .await
        .unwrap();
    assert_eq!(names(&found), ["Acme"]);
    assert!(customers::list(&db, &alpha, Some(&search("%")), None, 10)
        .await
        .unwrap()
        .customers
        .is_empty());

    let err = customers::create(&db, &alpha, &customer("Another Acme", "HELLO@acme.test"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            RepoError::Conflict {
                field: "customer_email"
            }
        ),
        "{err:?}"
    );
    let acme = found.customers[0].id;
    customers::update(&db, &alpha, acme, &customer("Acme Ltd", "hello@acme.test"))
        .await
        .unwrap();
    let read = customers::get(&db, &alpha, acme).await.unwrap();
    assert_eq!(read.name, "Acme Ltd");
    assert_eq!(read.phone.as_deref(), Some("+44 131 496 0000"));
    assert_eq!(read.address.as_deref(), Some("12 Harbour St\nLeith"));
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn another_workspace_cannot_see_touch_or_order_for_a_customer(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let alpha = owner_scope(&db, "alpha").await;
    let bravo = owner_scope(&db, "bravo").await;
    let theirs = customers::create(&db, &bravo, &customer("Bravo's best", "best@bravo.test"))
        .await
        .unwrap();
    let mug = products::create(&db, &alpha, &product("MUG", 500, 5))
        .await
        .unwrap();

    assert!(matches!(
        customers::get(&db, &alpha, theirs).await,
        Err(RepoError::NotFound)
    ));
    assert!(matches!(
        customers::update(&db, &alpha, theirs, &customer("Mine now", "x@alpha.test")).await,
        Err(RepoError::NotFound)
    ));
    assert!(customers::list(&db, &alpha, None, None, 50)
        .await
        .unwrap()
        .customers
        .is_empty());
    // The other workspace's customer as a paging cursor finds nothing either.
    assert!(customers::list(&db, &alpha, None, Some(theirs), 50)
        .await
        .unwrap()
        .customers
        .is_empty());
    let line = [NewLine {
        product_id: mug,
        quantity: 1,
    }];
    let err = orders::create(&db, &alpha, Some(ForCustomer::Existing(theirs)), &line)
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
    assert_eq!(products::get(&db, &alpha, mug).await.unwrap().stock, 5);
    let filter = OrderQuery {
        customer: Some(theirs),
        limit: 10,
        ..Default::default()
    };
    assert!(orders::list(&db, &alpha, &filter)
        .await
        .unwrap()
        .orders
        .is_empty());
    assert_eq!(
        customers::get(&db, &bravo, theirs).await.unwrap().name,
        "Bravo's best"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn an_order_for_a_new_customer_creates_both_or_neither(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let alpha = owner_scope(&db, "alpha").await;
    let mug = products::create(&db, &alpha, &product("MUG", 500, 2))
        .await
        .unwrap();
    let newcomer = customer("Newcomer", "new@comer.test");
    let too_many = [NewLine {
        product_id: mug,
        quantity: 3,
    }];
    assert!(matches!(
        orders::create(&db, &alpha, Some(ForCustomer::New(&newcomer)), &too_many).await,
        Err(RepoError::Refused(_))
    ));
    assert!(customers::list(&db, &alpha, None, None, 10)
        .await
        .unwrap()
        .customers
        .is_empty());

    let two = [NewLine {
        product_id: mug,
        quantity: 2,
    }];
    let order = orders::create(&db, &alpha, Some(ForCustomer::New(&newcomer)), &two)
        .await
        .unwrap();
    let detail = orders::get(&db, &alpha, order).await.unwrap();
    let named = detail.customer.expect("the order names its customer");
    assert_eq!(named.email, "new@comer.test");
    assert_eq!(
        detail.summary.customer,
        Some((named.id, "Newcomer".to_owned()))
    );
    let theirs = orders::list(
        &db,
        &alpha,
        &OrderQuery {
            customer: Some(named.id),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(theirs.orders.len(), 1);
    // The same email again is the customer that exists, not a second one.
    let again = orders::create(&db, &alpha, Some(ForCustomer::New(&newcomer)), &two).await;
    assert!(matches!(
        again,
        Err(RepoError::Conflict {
            field: "customer_email"
        }) | Err(RepoError::Refused(_))
    ));
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_picker_finds_by_name_or_sku_in_name_order_a_page_at_a_time(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let alpha = owner_scope(&db, "alpha").await;
    let bravo = owner_scope(&db, "bravo").await;
    let mut ids = Vec::new();
    for n in 1..=25 {
        let mut input = product(&format!("MUG-{n:03}"), 100 * n, n as i32 % 4);
        input.name = domain::ProductName::parse(&format!("Blue mug {n:03}")).unwrap();
        ids.push(products::create(&db, &alpha, &input).await.unwrap());
    }
    let mut kettle = product("KTL-9", 4000, 1);
    kettle.name = domain::ProductName::parse("Kettle, steel").unwrap();
    let kettle = products::create(&db, &alpha, &kettle).await.unwrap();
    let mut old = product("OLD-MUG", 1, 1);
    old.name = domain::ProductName::parse("Blue mug retired").unwrap();
    let old = products::create(&db, &alpha, &old).await.unwrap();
    products::set_archived(&db, &alpha, old, true)
        .await
        .unwrap();
    products::create(&db, &bravo, &product("MUG-BRAVO", 1, 1))
        .await
        .unwrap();

    let names = |page: &products::PickerPage| {
        page.matches
            .iter()
            .map(|m| m.name.clone())
            .collect::<Vec<_>>()
    };
    // Substring, any case, name order, ten at a time; archived and foreign products never.
    let first = products::search(&db, &alpha, &search("MUG 0"), None)
        .await
        .unwrap();
    assert_eq!(first.matches.len(), 10);
    assert_eq!(first.matches[0].name, "Blue mug 001");
    assert!(first.has_more);
    let mut seen = names(&first);
    let mut after = first.matches.last().map(|m| m.id);
    while let Some(cursor) = after {
        let page = products::search(&db, &alpha, &search("mug 0"), Some(cursor))
            .await
            .unwrap();
        seen.extend(names(&page));
        after = page
            .has_more
            .then(|| page.matches.last().map(|m| m.id))
            .flatten();
    }
    let expected: Vec<String> = (1..=25).map(|n| format!("Blue mug {n:03}")).collect();
    assert_eq!(seen, expected);
    // By SKU, anywhere in it.
    let by_sku = products::search(&db, &alpha, &search("tl-9"), None)
        .await
        .unwrap();
    assert_eq!(
        by_sku.matches.iter().map(|m| m.id).collect::<Vec<_>>(),
        [kettle]
    );
    assert_eq!(by_sku.matches[0].price, domain::Money::from_minor(4000));
    // One or two characters: names that start with them.
    assert_eq!(
        names(
            &products::search(&db, &alpha, &search("ke"), None)
                .await
                .unwrap()
        ),
        ["Kettle, steel"]
    );
    assert!(products::search(&db, &alpha, &search("ug"), None)
        .await
        .unwrap()
        .matches
        .is_empty());
    // Nothing contains this; a foreign or unknown cursor finds nothing.
    assert!(products::search(&db, &alpha, &search("zzz"), None)
        .await
        .unwrap()
        .matches
        .is_empty());
    let never = ProductId::from_uuid(uuid::Uuid::new_v4());
    assert!(products::search(&db, &bravo, &search("mug"), Some(ids[0]))
        .await
        .unwrap()
        .matches
        .is_empty());
    assert!(products::search(&db, &alpha, &search("mug"), Some(never))
        .await
        .unwrap()
        .matches
        .is_empty());
    // Stock is reported as it is, out of stock included.
    assert!(products::search(&db, &alpha, &search("mug 004"), None)
        .await
        .unwrap()
        .matches
        .iter()
        .all(|m| m.stock == 0));
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_picker_lists_names_that_start_with_the_text_before_the_others(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let alpha = owner_scope(&db, "alpha").await;
    let mut names: Vec<String> = (1..=12).map(|n| format!("Lamp {n:02}")).collect();
    names.extend(["Floor lamp", "Clamp", "Desk lamp", "Lantern"].map(String::from));
    for (n, name) in names.iter().enumerate() {
        let mut input = product(&format!("P-{n}"), 100, 1);
        input.name = domain::ProductName::parse(name).unwrap();
        products::create(&db, &alpha, &input).await.unwrap();
    }
    // Another workspace's matches, one in each group, must not appear in alpha's pages (the
    // second group is read by a function that keeps to the caller's tenant itself).
    let bravo = owner_scope(&db, "bravo").await;
    for (sku, name) in [("B-1", "Lamp 99"), ("B-2", "Bravo lamp")] {
        let mut input = product(sku, 100, 1);
        input.name = domain::ProductName::parse(name).unwrap();
        products::create(&db, &bravo, &input).await.unwrap();
    }
    let theirs = products::search(&db, &bravo, &search("lamp"), None)
        .await
        .unwrap();
    assert_eq!(
        theirs
            .matches
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>(),
        ["Lamp 99", "Bravo lamp"]
    );
    // Every page, following each page's last match; the first page ends inside the first group.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = products::search(&db, &alpha, &search("LAMP"), after)
            .await
            .unwrap();
        seen.extend(page.matches.iter().map(|m| m.name.clone()));
        if !page.has_more {
            break;
        }
        after = page.matches.last().map(|m| m.id);
    }
    let mut expected: Vec<String> = (1..=12).map(|n| format!("Lamp {n:02}")).collect();
    expected.extend(["Clamp", "Desk lamp", "Floor lamp"].map(String::from));
    assert_eq!(seen, expected);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_picker_lists_skus_that_start_with_the_text_between_names_and_the_rest(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let alpha = owner_scope(&db, "alpha").await;
    let bravo = owner_scope(&db, "bravo").await;
    let create = |scope: &db::TenantScope, sku: String, name: String| {
        let db = db.clone();
        let scope = scope.clone();
        async move {
            let mut input = product(&sku, 100, 1);
            input.name = domain::ProductName::parse(&name).unwrap();
            products::create(&db, &scope, &input).await.unwrap()
        }
    };
    for n in 1..=12 {
        // "Lamp 05" starts both ways: it belongs to the first group only.
        let sku = if n == 5 {
            "LAMP-5".into()
        } else {
            format!("P-{n}")
        };
        create(&alpha, sku, format!("Lamp {n:02}")).await;
    }
    for n in 1..=10 {
        create(&alpha, format!("lam-{n:02}"), format!("Item {n:02}")).await;
    }
    for (sku, name) in [
        ("C-1", "Clamp"),
        ("F-1", "Floor lamp"),
        ("XLAM-1", "Widget"),
    ] {
        create(&alpha, sku.into(), name.into()).await;
    }
    let retired = create(&alpha, "LAM-00".into(), "Retired".into()).await;
    products::set_archived(&db, &alpha, retired, true)
        .await
        .unwrap();
    // Another workspace's product in each group.
    for (sku, name) in [
        ("B-1", "Lamp 00"),
        ("LAM-000", "Bravo item"),
        ("B-2", "Bravo lamp"),
    ] {
        create(&bravo, sku.into(), name.into()).await;
    }

    let pages = |text: &'static str| {
        let db = db.clone();
        let alpha = alpha.clone();
        async move {
            let mut pages = Vec::new();
            let mut after = None;
            loop {
                let page = products::search(&db, &alpha, &search(text), after)
                    .await
                    .unwrap();
                pages.push(
                    page.matches
                        .iter()
                        .map(|m| m.name.clone())
                        .collect::<Vec<_>>(),
                );
                if !page.has_more {
                    return pages;
                }
                after = page.matches.last().map(|m| m.id);
            }
        }
    };
    let lamps = |range: std::ops::RangeInclusive<u32>| range.map(|n| format!("Lamp {n:02}"));
    let items = |range: std::ops::RangeInclusive<u32>| range.map(|n| format!("Item {n:02}"));
    // Names that start with the text, then SKUs (in SKU order), then the rest (in name order);
    // the third page starts inside the SKU group.
    assert_eq!(
        pages("lam").await,
        [
            lamps(1..=10).collect::<Vec<_>>(),
            lamps(11..=12).chain(items(1..=8)).collect(),
            items(9..=10)
                .chain(["Clamp", "Floor lamp", "Widget"].map(String::from))
                .collect(),
        ]
    );
    // Below three characters, names only.
    assert_eq!(
        pages("la").await.concat(),
        lamps(1..=12).collect::<Vec<_>>()
    );
    // A SKU's start first, then a SKU that holds the text further in.
    assert_eq!(pages("LAM-1").await.concat(), ["Item 10", "Widget"]);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_picker_checks_the_whole_text_when_the_index_is_asked_for_its_rare_words_only(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let alpha = owner_scope(&db, "alpha").await;
    let bravo = owner_scope(&db, "bravo").await;
    let create = |scope: &db::TenantScope, sku: String, name: &str| {
        let db = db.clone();
        let scope = scope.clone();
        let name = domain::ProductName::parse(name).unwrap();
        async move {
            let mut input = product(&sku, 100, 1);
            input.name = name;
            products::create(&db, &scope, &input).await.unwrap()
        }
    };
    // "lamp" is in every name (a common word: the index is asked for "0017" alone); "0017" in
    // three, in two of them right after "lamp".
    for n in 1..=30 {
        create(&alpha, format!("DL-{n}"), &format!("Desk lamp {n:04}")).await;
    }
    create(&alpha, "WL-1".into(), "Wall lamp 0017").await;
    create(&alpha, "FL-1".into(), "Floor 0017 lamp").await;
    create(&bravo, "DL-17".into(), "Desk lamp 0017").await;

    let names = |text: &'static str| {
        let db = db.clone();
        let alpha = alpha.clone();
        async move {
            products::search(&db, &alpha, &search(text), None)
                .await
                .unwrap()
                .matches
                .into_iter()
                .map(|m| m.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        names("lamp 0017").await,
        ["Desk lamp 0017", "Wall lamp 0017"]
    );
    assert_eq!(names("0017 LAMP").await, ["Floor 0017 lamp"]);
    // Every word common (and no product with both in this order): the whole text goes to the
    // index.
    assert!(names("lamp desk").await.is_empty());
}
