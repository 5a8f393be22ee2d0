//! The demo workspace's data: written once, in every status, and put back by a reset.

use db::platform::demo;
use db::tenant::{customers, dashboard, orders, products};
use domain::{OrderStatus, Role};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::common::{add_member, app_db, workspace};

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_demo_is_seeded_once_with_every_status_and_reset_to_the_same(
    options: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, owner_id) = workspace(&db, "demo", "owner@demo.test").await;
    let member = add_member(&db, &tenant, "member@demo.test", Role::Member).await;
    let scope = db::TenantScope::for_member(&db, &tenant, owner_id)
        .await
        .unwrap()
        .unwrap();
    assert!(demo::needs_seeding(&db, &tenant).await.unwrap());
    demo::seed(&db, &tenant, owner_id, member.member().user_id)
        .await
        .unwrap();
    assert!(
        !demo::needs_seeding(&db, &tenant).await.unwrap(),
        "seeded once"
    );

    let counts = |scope: db::TenantScope| {
        let db = db.clone();
        async move {
            let products = products::list(
                &db,
                &scope,
                &products::ProductQuery {
                    limit: 200,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .products;
            let customers = customers::list(&db, &scope, None, None, 100)
                .await
                .unwrap()
                .customers;
            let orders = orders::list(
                &db,
                &scope,
                &orders::OrderQuery {
                    limit: 200,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .orders;
            (products, customers, orders)
        }
    };
    let (products, customers, orders) = counts(scope.clone()).await;
    assert!(products.len() >= 30, "{}", products.len());
    assert!(products.iter().any(|p| p.stock == 0));
    assert!(
        products
            .iter()
            .filter(|p| (1..=5).contains(&p.stock))
            .count()
            >= 3
    );
    assert_eq!(customers.len(), 8);
    assert_eq!(orders.len(), 100);
    for status in OrderStatus::ALL {
        assert!(orders.iter().any(|o| o.status == status), "{status:?}");
    }
    assert!(orders.iter().all(|o| o.customer.is_some()));
    assert!(
        orders.iter().any(|o| o.created_by != orders[0].created_by),
        "both members placed orders"
    );
    let delivered = orders
        .iter()
        .find(|o| o.status == OrderStatus::Delivered)
        .unwrap();
    let detail = orders::get(&db, &scope, delivered.id).await.unwrap();
    assert_eq!(
        detail.events.iter().map(|e| e.to).collect::<Vec<_>>(),
        [
            OrderStatus::Pending,
            OrderStatus::Confirmed,
            OrderStatus::Shipped,
            OrderStatus::Delivered
        ]
    );
    assert!(detail.events.windows(2).all(|w| w[0].at <= w[1].at));
    assert!(
        detail
            .lines
            .iter()
            .map(|l| l.unit_price.minor() * i64::from(l.quantity))
            .sum::<i64>()
            == detail.summary.total.minor()
    );
    let board = dashboard::load(&db, &scope, 30, 5).await.unwrap();
    assert!(
        board.days.iter().filter(|d| d.orders > 0).count() >= 15,
        "a chart with a shape"
    );
    assert!(!board.low_stock.is_empty());

    // A reset (as the owner role) deletes the demo's data, and the demo seeds afresh.
    let owner_db = db::Db::from_pool(options.connect_with(owner.clone()).await.unwrap());
    demo::reset(&owner_db, tenant.id()).await.unwrap();
    assert!(demo::needs_seeding(&db, &tenant).await.unwrap());
    demo::seed(&db, &tenant, owner_id, member.member().user_id)
        .await
        .unwrap();
    let (again_products, again_customers, again_orders) = counts(scope).await;
    assert_eq!(again_products.len(), products.len());
    assert_eq!(again_customers.len(), 8);
    assert_eq!(again_orders.len(), 100);
    // The numbers start again at 1.
    assert_eq!(again_orders.iter().map(|o| o.number).min(), Some(1));

    // The application role itself cannot delete the demo's orders.
    assert!(demo::reset(&db, tenant.id()).await.is_err());
}
