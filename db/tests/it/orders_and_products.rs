//! Products and orders: the catalogue of one workspace, orders that take its stock, the order
//! workflow, and the dashboard that sums them up.

use crate::common::{add_member, app_db, app_pool, owner_scope, product, race, tenant_and_owner};
use db::tenant::orders::{self, NewLine};
use db::tenant::products::{self, ProductQuery};
use db::{LineProblem, Refusal, RepoError};
use domain::{Description, OrderStatus, ProductId, Role};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn products_are_created_listed_and_edited_within_their_workspace(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let alpha = owner_scope(&db, "alpha").await;
    let bravo = owner_scope(&db, "bravo").await;
    let id = products::create(&db, &alpha, &product("MUG-1", 1250, 10))
        .await
        .unwrap();
    products::create(&db, &bravo, &product("MUG-1", 999, 1))
        .await
        .unwrap();

    let err = products::create(&db, &alpha, &product("mug-1", 1, 1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Conflict { field: "sku" }),
        "SKUs are unique per workspace: {err:?}"
    );

    let listed = products::list(
        &db,
        &alpha,
        &ProductQuery {
            limit: 20,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(listed.products.len(), 1);
    assert_eq!(listed.products[0].price.minor(), 1250);

    let mut edited = product("MUG-1B", 1500, 7);
    edited.description = Description::parse("Blue").unwrap();
    let version = products::get(&db, &alpha, id).await.unwrap().version;
    products::update(&db, &alpha, id, version, &edited)
        .await
        .unwrap();
    let fetched = products::get(&db, &alpha, id).await.unwrap();
    assert_eq!(
        (fetched.sku.as_str(), fetched.price.minor(), fetched.stock),
        ("MUG-1B", 1500, 7)
    );

    // Another workspace's product id is simply not there.
    assert!(matches!(
        products::get(&db, &bravo, id).await,
        Err(RepoError::NotFound)
    ));
    assert!(matches!(
        products::update(&db, &bravo, id, version, &edited).await,
        Err(RepoError::NotFound)
    ));
    assert!(matches!(
        products::set_archived(&db, &bravo, id, true).await,
        Err(RepoError::NotFound)
    ));
    assert_eq!(products::get(&db, &alpha, id).await.unwrap().stock, 7);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn product_pages_are_keyset_paginated_and_searchable(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let alpha = owner_scope(&db, "alpha").await;
    for n in 0..7 {
        products::create(&db, &alpha, &product(&format!("SKU-{n}"), 100, 1))
            .await
            .unwrap();
    }
    let mut cotton = product("COTTON", 100, 1);
    cotton.name = domain::ProductName::parse("100% cotton_tee").unwrap();
    products::create(&db, &alpha, &cotton).await.unwrap();

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = products::list(
            &db,
            &alpha,
            &ProductQuery {
                limit: 3,
                after,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        seen.extend(page.products.iter().map(|p| p.sku.clone()));
        let Some(last) = page.products.last() else {
            break;
        };
        after = Some(products::ProductCursor {
            created_at: last.created_at,
            id: last.id.as_uuid(),
        });
        if !page.has_more {
            break;
        }
    }
    assert_eq!(seen.len(), 8, "every product exactly once: {seen:?}");
    assert_eq!(seen[0], "COTTON", "newest first");

    let search = |q: &str| ProductQuery {
        search: domain::SearchText::parse(q).unwrap(),
        limit: 50,
        ..Default::default()
    };
    assert_eq!(
        products::list(&db, &alpha, &search("sku-3"))
            .await
            .unwrap()
            .products
            .len(),
        1
    );
    assert_eq!(
        products::list(&db, &alpha, &search("Product SKU"))
            .await
            .unwrap()
            .products
            .len(),
        7
    );
    assert_eq!(
        products::list(&db, &alpha, &search("%"))
            .await
            .unwrap()
            .products
            .len(),
        1,
        "% is literal"
    );
    assert_eq!(
        products::list(&db, &alpha, &search("n_t"))
            .await
            .unwrap()
            .products
            .len(),
        1,
        "_ is literal"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn members_read_products_but_only_admins_and_owners_change_them(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let pool = app_pool(&owner, 2).await;
    let db = db::Db::from_pool(pool.clone());
    let (tenant, alpha) = tenant_and_owner(&db, "alpha").await;
    let id = products::create(&db, &alpha, &product("A", 1, 1))
        .await
        .unwrap();
    let member = add_member(&db, &tenant, "member@alpha.test", Role::Member).await;

    assert!(products::list(
        &db,
        &member,
        &ProductQuery {
            limit: 5,
            ..Default::default()
        }
    )
    .await
    .is_ok());
    assert!(matches!(
        products::create(&db, &member, &product("B", 1, 1)).await,
        Err(RepoError::Forbidden)
    ));
    let version = products::get(&db, &member, id).await.unwrap().version;
    assert!(matches!(
        products::update(&db, &member, id, version, &product("A", 2, 2)).await,
        Err(RepoError::Forbidden)
    ));
    assert!(matches!(
        products::set_archived(&db, &member, id, true).await,
        Err(RepoError::Forbidden)
    ));
    let admin = add_member(&db, &tenant, "admin@alpha.test", Role::Admin).await;
    products::set_archived(&db, &admin, id, true).await.unwrap();
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn an_order_takes_stock_snapshots_prices_and_totals(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let alpha = owner_scope(&db, "alpha").await;
    let mug = products::create(&db, &alpha, &product("MUG", 1250, 10))
        .await
        .unwrap();
    let tee = products::create(&db, &alpha, &product("TEE", 2000, 3))
        .await
        .unwrap();

    let id = orders::create(
        &db,
        &alpha,
        None,
        &[
            NewLine {
                product_id: mug,
                quantity: 2,
            },
            NewLine {
                product_id: tee,
                quantity: 3,
            },
        ],
    )
    .await
    .unwrap();
    let version = products::get(&db, &alpha, mug).await.unwrap().version;
    products::update(&db, &alpha, mug, version, &product("MUG", 9999, 8))
        .await
        .unwrap();

    let order = orders::get(&db, &alpha, id).await.unwrap();
    assert_eq!(order.summary.number, 1);
    assert_eq!(order.summary.status, OrderStatus::Pending);
    assert_eq!(order.summary.total.minor(), 2 * 1250 + 3 * 2000);
    assert_eq!(
        order.lines[0].unit_price.minor(),
        1250,
        "the price when ordered, not today's"
    );
    assert_eq!(products::get(&db, &alpha, tee).await.unwrap().stock, 0);
    assert_eq!(order.events.len(), 1);

    let second = orders::create(
        &db,
        &alpha,
        None,
        &[NewLine {
            product_id: mug,
            quantity: 1,
        }],
    )
    .await
    .unwrap();
    assert_eq!(
        orders::get(&db, &alpha, second)
            .await
            .unwrap()
            .summary
            .number,
        2
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn an_order_that_cannot_be_served_writes_nothing_and_names_each_problem(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let alpha = owner_scope(&db, "alpha").await;
    let bravo = owner_scope(&db, "bravo").await;
    let mug = products::create(&db, &alpha, &product("MUG", 1250, 10))
        .await
        .unwrap();
    let tee = products::create(&db, &alpha, &product("TEE", 2000, 2))
        .await
        .unwrap();
    let old = products::create(&db, &alpha, &product("OLD", 100, 5))
        .await
        .unwrap();
    products::set_archived(&db, &alpha, old, true)
        .await
        .unwrap();
    let foreign = products::create(&db, &bravo, &product("THEIRS", 100, 5))
        .await
        .unwrap();

    let err = orders::create(
        &db,
        &alpha,
        None,
        &[
            NewLine {
                product_id: mug,
                quantity: 1,
            },
            NewLine {
                product_id: tee,
                quantity: 3,
            },
            NewLine {
                product_id: old,
                quantity: 1,
            },
            NewLine {
                product_id: foreign,
                quantity: 1,
            },
            NewLine {
                product_id: ProductId::from_uuid(uuid::Uuid::new_v4()),
                quantity: 1,
            },
        ],
    )
    .await
    .unwrap_err();
    let RepoError::Refused(Refusal::OrderLines(problems)) = err else {
        panic!("expected line problems, got {err:?}")
    };
    assert_eq!(
        problems,
        vec![
            LineProblem::OutOfStock {
                line: 2,
                name: "Product TEE".into(),
                left: 2
            },
            LineProblem::Archived {
                line: 3,
                name: "Product OLD".into()
            },
            LineProblem::UnknownProduct { line: 4 },
            LineProblem::UnknownProduct { line: 5 },
        ]
    );
    assert_eq!(
        products::get(&db, &alpha, mug).await.unwrap().stock,
        10,
        "nothing was taken"
    );
    assert_eq!(products::get(&db, &bravo, foreign).await.unwrap().stock, 5);
    assert!(orders::list(
        &db,
        &alpha,
        &orders::OrderQuery {
            limit: 10,
            ..Default::default()
        }
    )
    .await
    .unwrap()
    .orders
    .is_empty());

    let dup = orders::create(
        &db,
        &alpha,
        None,
        &[
            NewLine {
                product_id: mug,
                quantity: 1,
            },
            NewLine {
                product_id: mug,
                quantity: 1,
            },
        ],
    )
    .await;
    assert!(matches!(
        dup,
        Err(RepoError::Refused(Refusal::OrderLines(p)))
            if p == vec![LineProblem::Duplicate { line: 2, first_line: 1 }]
    ));
    assert!(matches!(
        orders::create(&db, &alpha, None, &[]).await,
        Err(RepoError::Refused(Refusal::EmptyOrder))
    ));
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn fifty_buyers_for_ten_units_sell_exactly_ten(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = db::Db::from_pool(app_pool(&owner, 20).await);
    let alpha = owner_scope(&db, "alpha").await;
    let last_units = products::create(&db, &alpha, &product("HOT", 500, 10))
        .await
        .unwrap();

    let buyers = race(50, |_| {
        let (db, scope) = (db.clone(), alpha.clone());
        async move {
            orders::create(
                &db,
                &scope,
                None,
                &[NewLine {
                    product_id: last_units,
                    quantity: 1,
                }],
            )
            .await
        }
    })
    .await;
    let (mut sold, mut refused) = (0, 0);
    for buyer in buyers {
        match buyer {
            Ok(_) => sold += 1,
            Err(RepoError::Refused(Refusal::OrderLines(p)))
                if matches!(p[..], [LineProblem::OutOfStock { left: 0, .. }]) =>
            {
                refused += 1
            }
            Err(other) => panic!("a buyer failed uncleanly: {other:?}"),
        }
    }
    assert_eq!((sold, refused), (10, 40));
    assert_eq!(
        products::get(&db, &alpha, last_units).await.unwrap().stock,
        0
    );
    let placed = orders::list(
        &db,
        &alpha,
        &orders::OrderQuery {
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .orders;
    assert_eq!(placed.len(), 10);
    let mut numbers: Vec<i64> = placed.iter().map(|o| o.number).collect();
    numbers.sort();
    assert_eq!(
        numbers,
        (1..=10).collect::<Vec<_>>(),
        "order numbers are gapless and unique"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_status_workflow_records_who_and_cancelling_returns_stock(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let alpha = owner_scope(&db, "alpha").await;
    let bravo = owner_scope(&db, "bravo").await;
    let mug = products::create(&db, &alpha, &product("MUG", 100, 5))
        .await
        .unwrap();
    let id = orders::create(
        &db,
        &alpha,
        None,
        &[NewLine {
            product_id: mug,
            quantity: 4,
        }],
    )
    .await
    .unwrap();

    let refused = orders::change_status(&db, &alpha, id, OrderStatus::Shipped).await;
    assert!(matches!(
        refused,
        Err(RepoError::Refused(Refusal::Transition {
            from: OrderStatus::Pending,
            to: OrderStatus::Shipped
        }))
    ));
    assert!(matches!(
        orders::change_status(&db, &bravo, id, OrderStatus::Confirmed).await,
        Err(RepoError::NotFound)
    ));

    orders::change_status(&db, &alpha, id, OrderStatus::Confirmed)
        .await
        .unwrap();
    assert_eq!(products::get(&db, &alpha, mug).await.unwrap().stock, 1);
    orders::change_status(&db, &alpha, id, OrderStatus::Cancelled)
        .await
        .unwrap();
    assert_eq!(
        products::get(&db, &alpha, mug).await.unwrap().stock,
        5,
        "cancelling returns the units"
    );
    assert!(matches!(
        orders::change_status(&db, &alpha, id, OrderStatus::Cancelled).await,
        Err(RepoError::Refused(Refusal::Transition { .. }))
    ));

    let order = orders::get(&db, &alpha, id).await.unwrap();
    let moves: Vec<_> = order.events.iter().map(|e| (e.from, e.to)).collect();
    assert_eq!(
        moves,
        vec![
            (None, OrderStatus::Pending),
            (Some(OrderStatus::Pending), OrderStatus::Confirmed),
            (Some(OrderStatus::Confirmed), OrderStatus::Cancelled)
        ]
    );
    assert!(order.events.iter().all(|e| e.by == "Owner"));

    let shipped = orders::create(
        &db,
        &alpha,
        None,
        &[NewLine {
            product_id: mug,
            quantity: 1,
        }],
    )
    .await
    .unwrap();
    for step in [
        OrderStatus::Confirmed,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
    ] {
        orders::change_status(&db, &alpha, shipped, step)
            .await
            .unwrap();
    }
    let delivered = orders::list(
        &db,
        &alpha,
        &orders::OrderQuery {
            status: Some(OrderStatus::Delivered),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .orders;
    assert_eq!(delivered.len(), 1);
    assert!(orders::list(
        &db,
        &bravo,
        &orders::OrderQuery {
            limit: 10,
            ..Default::default()
        }
    )
    .await
    .unwrap()
    .orders
    .is_empty());
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_dashboard_counts_only_its_own_workspace(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = app_db(&owner).await;
    let alpha = owner_scope(&db, "alpha").await;
    let bravo = owner_scope(&db, "bravo").await;
    let mug = products::create(&db, &alpha, &product("MUG", 1000, 3))
        .await
        .unwrap();
    let theirs = products::create(&db, &bravo, &product("THEIRS", 7, 1))
        .await
        .unwrap();
    orders::create(
        &db,
        &alpha,
        None,
        &[NewLine {
            product_id: mug,
            quantity: 2,
        }],
    )
    .await
    .unwrap();
    let cancelled = orders::create(
        &db,
        &alpha,
        None,
        &[NewLine {
            product_id: mug,
            quantity: 1,
        }],
    )
    .await
    .unwrap();
    orders::change_status(&db, &alpha, cancelled, OrderStatus::Cancelled)
        .await
        .unwrap();
    orders::create(
        &db,
        &bravo,
        None,
        &[NewLine {
            product_id: theirs,
            quantity: 1,
        }],
    )
    .await
    .unwrap();

    let board = db::tenant::dashboard::load(&db, &alpha, 30, 5)
        .await
        .unwrap();
    assert_eq!(board.days.len(), 30);
    let today = board.days.last().unwrap();
    assert_eq!(
        (today.orders, today.revenue.minor()),
        (1, 2000),
        "cancelled orders earn nothing"
    );
    assert_eq!(
        board
            .by_status
            .iter()
            .find(|(s, _)| *s == OrderStatus::Pending)
            .unwrap()
            .1,
        1
    );
    assert_eq!(
        board
            .by_status
            .iter()
            .find(|(s, _)| *s == OrderStatus::Cancelled)
            .unwrap()
            .1,
        1
    );
    assert_eq!(
        board
            .low_stock
            .iter()
            .map(|p| p.sku.as_str())
            .collect::<Vec<_>>(),
        vec!["MUG"]
    );
    // Its plan's use, from the same read: one product here, bravo's not counted.
    let products_used = board
        .entitlements
        .limits
        .iter()
        .find(|l| l.limit == "max_products")
        .map(|l| l.used);
    assert_eq!(products_used, Some(1));
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn an_edit_from_a_stale_form_cannot_overwrite_newer_stock(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let alpha = owner_scope(&db, "alpha").await;
    let mug = products::create(&db, &alpha, &product("MUG", 100, 10))
        .await
        .unwrap();
    let opened = products::get(&db, &alpha, mug).await.unwrap().version;
    orders::create(
        &db,
        &alpha,
        None,
        &[NewLine {
            product_id: mug,
            quantity: 3,
        }],
    )
    .await
    .unwrap();

    let stale = products::update(&db, &alpha, mug, opened, &product("MUG", 100, 10)).await;
    assert!(
        matches!(stale, Err(RepoError::Refused(Refusal::Stale))),
        "{stale:?}"
    );
    assert_eq!(
        products::get(&db, &alpha, mug).await.unwrap().stock,
        7,
        "the order's take stands"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn crossing_orders_and_cancels_never_deadlock_and_conserve_stock(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = db::Db::from_pool(app_pool(&owner, 20).await);
    let alpha = owner_scope(&db, "alpha").await;
    let x = products::create(&db, &alpha, &product("X", 100, 1000))
        .await
        .unwrap();
    let y = products::create(&db, &alpha, &product("Y", 100, 1000))
        .await
        .unwrap();
    let mut seed = Vec::new();
    for _ in 0..10 {
        let both = [
            NewLine {
                product_id: x,
                quantity: 1,
            },
            NewLine {
                product_id: y,
                quantity: 1,
            },
        ];
        seed.push(orders::create(&db, &alpha, None, &both).await.unwrap());
    }

    // Every third order is cancelled twice at once: exactly one of the two may succeed.
    let cancels: Vec<_> = seed
        .iter()
        .enumerate()
        .flat_map(|(i, order)| vec![*order; if i % 3 == 0 { 2 } else { 1 }])
        .collect();
    // Thirty new orders (half of them naming the products in the other order), then the
    // cancels, all at once.
    let tasks = race(30 + cancels.len(), |i| {
        let (db, scope) = (db.clone(), alpha.clone());
        let cancel = i.checked_sub(30).map(|c| cancels[c]);
        let lines = if i % 2 == 0 {
            vec![
                NewLine {
                    product_id: x,
                    quantity: 1,
                },
                NewLine {
                    product_id: y,
                    quantity: 2,
                },
            ]
        } else {
            vec![
                NewLine {
                    product_id: y,
                    quantity: 2,
                },
                NewLine {
                    product_id: x,
                    quantity: 1,
                },
            ]
        };
        async move {
            match cancel {
                None => orders::create(&db, &scope, None, &lines).await.map(|_| ()),
                Some(order) => {
                    orders::change_status(&db, &scope, order, OrderStatus::Cancelled).await
                }
            }
        }
    })
    .await;
    let (mut ok, mut refused_twice) = (0, 0);
    for task in tasks {
        match task {
            Ok(()) => ok += 1,
            Err(RepoError::Refused(Refusal::Transition {
                from: OrderStatus::Cancelled,
                ..
            })) => refused_twice += 1,
            Err(other) => panic!("no deadlock or internal error expected: {other:?}"),
        }
    }
    assert_eq!((ok, refused_twice), (40, 4));
    // 30 new orders stand; the 10 seeded ones were cancelled exactly once each.
    assert_eq!(
        products::get(&db, &alpha, x).await.unwrap().stock,
        1000 - 30
    );
    assert_eq!(
        products::get(&db, &alpha, y).await.unwrap().stock,
        1000 - 60
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn members_move_orders_along_but_only_managers_cancel(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, alpha) = tenant_and_owner(&db, "alpha").await;
    let mug = products::create(&db, &alpha, &product("MUG", 100, 5))
        .await
        .unwrap();
    let member = add_member(&db, &tenant, "member@alpha.test", Role::Member).await;
    let order = orders::create(
        &db,
        &member,
        None,
        &[NewLine {
            product_id: mug,
            quantity: 2,
        }],
    )
    .await
    .unwrap();
    orders::change_status(&db, &member, order, OrderStatus::Confirmed)
        .await
        .unwrap();
    let cancel = orders::change_status(&db, &member, order, OrderStatus::Cancelled).await;
    assert!(matches!(cancel, Err(RepoError::Forbidden)), "{cancel:?}");
    assert_eq!(products::get(&db, &alpha, mug).await.unwrap().stock, 3);
    orders::change_status(&db, &alpha, order, OrderStatus::Cancelled)
        .await
        .unwrap();
    assert_eq!(products::get(&db, &alpha, mug).await.unwrap().stock, 5);
}

/// A statement that waits on another transaction's lock gives up after the lock timeout with
/// an error that says which statement it was, instead of waiting as long as the lock is held.
#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_lock_wait_ends_at_the_lock_timeout_naming_the_statement(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let pool = app_pool(&owner, 4).await;
    let db =
        db::Db::from_pool(pool.clone()).with_lock_timeout(std::time::Duration::from_millis(200));
    let (tenant, scope) = tenant_and_owner(&db, "alpha").await;
    let id = products::create(&db, &scope, &product("MUG", 500, 3))
        .await
        .unwrap();
    let version = products::get(&db, &scope, id).await.unwrap().version;
    // Another transaction holds the product's row, and keeps it.
    let mut holder = crate::common::tenant_tx(&pool, tenant.id()).await;
    sqlx::query("SELECT 1 FROM products WHERE id = $1 FOR UPDATE")
        .bind(id.as_uuid())
        .execute(&mut *holder)
        .await
        .unwrap();

    let started = std::time::Instant::now();
    let err = products::update(&db, &scope, id, version, &product("MUG", 600, 3))
        .await
        .unwrap_err();
    let waited = started.elapsed();
    let RepoError::LockTimeout { at } = err else {
        panic!("expected a lock timeout, got {err:?}");
    };
    assert!(at.file().ends_with("products/mod.rs"), "{at}");
    assert!(waited < std::time::Duration::from_secs(2), "{waited:?}");
    holder.rollback().await.unwrap();
    // With the lock gone the same edit goes through.
    products::update(&db, &scope, id, version, &product("MUG", 600, 3))
        .await
        .unwrap();
}

/// A read given up on after its `BEGIN` reached the server (a client that went away) must
/// not leave its read-only transaction on the connection for the next request to inherit.
#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_read_abandoned_mid_begin_leaves_no_transaction_behind(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    use sqlx::Connection;
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    // One connection, so the write below runs on the one the abandoned read had.
    let pool = app_pool(&owner, 1).await;
    let db = db::Db::from_pool(pool.clone());
    let alpha = owner_scope(&db, "alpha").await;
    // A second connection of the same role, outside the pool, watches the first.
    let app_url = std::env::var("STOCKROOM_TEST_APP_URL").unwrap();
    let app: PgConnectOptions = app_url.parse().unwrap();
    let mut watcher =
        sqlx::PgConnection::connect_with(&app.database(owner.get_database().unwrap()))
            .await
            .unwrap();
    let mut read = Box::pin(db::tenant::dashboard::load(&db, &alpha, 7, 5));
    let mut waiting = false;
    // A deadline rather than a count of polls: on a loaded machine the spawned BEGIN may take
    // a while to be scheduled (a count of 500 ran out on a first run beside a build).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        // Polled by hand, so nothing reads the server's answer until the next poll.
        let polled = read.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        assert!(
            matches!(polled, Poll::Pending),
            "the read finished before it could be abandoned"
        );
        let in_transaction: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
              WHERE datname = current_database() AND pid <> pg_backend_pid()
                AND state = 'idle in transaction'",
        )
        .fetch_one(&mut watcher)
        .await
        .unwrap();
        if in_transaction > 0 {
            waiting = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    assert!(waiting, "the read's BEGIN never reached the server");
    drop(read);
    products::create(&db, &alpha, &product("AFTER", 1, 1))
        .await
        .expect("the next write runs in a transaction of its own");
    watcher.close().await.ok();
}
