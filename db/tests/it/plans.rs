//! Plans, their features and limits, the platform console with its audit log, and CSV exports.

use crate::common::{
    add_member, app_db, app_pool, console_admin, console_scope, exactly_one_winner, product, race,
    set_limit, set_plan, tenant_and_owner, tenant_tx,
};
use db::platform::console::{self, Actor, AuditFilter, TenantCursor};
use db::tenant::exports::{self, ExportKind, ExportStatus};
use db::tenant::orders::{self, NewLine};
use db::tenant::plan::{self, LimitUsage};
use db::tenant::products::{self, ProductQuery};
use db::{Db, Refusal, RepoError, TenantScope};
use domain::{
    Email, ExportId, Feature, LimitKind, LimitOverride, PersonName, PlanCode, ProductId, Role,
    SearchText, Slug, TenantId, TenantStatus,
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// How long the finished exports of these tests are kept.
const KEEP: std::time::Duration = std::time::Duration::from_secs(3600);

async fn active_products(db: &Db, scope: &TenantScope) -> usize {
    products::list(
        db,
        scope,
        &ProductQuery {
            limit: 200,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .products
    .len()
}

async fn all_products(db: &Db, scope: &TenantScope) -> usize {
    products::list(
        db,
        scope,
        &ProductQuery {
            limit: 200,
            include_archived: true,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .products
    .len()
}

fn is_limit(err: &RepoError, kind: LimitKind, expected_max: i64) -> bool {
    matches!(err, RepoError::LimitReached { limit, max, .. } if *limit == kind && *max == expected_max)
}

async fn audit_rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM console_audit")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn plan_of(db: &Db, tenant: TenantId) -> String {
    db::platform::tenants::find_by_id(db, tenant)
        .await
        .unwrap()
        .unwrap()
        .plan()
        .as_str()
        .to_owned()
}

// --------------------------------------------------------------------- entitlements --

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn entitlements_combine_the_plan_with_overrides_and_usage(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let console = console_scope(&db).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    add_member(&db, &tenant, "bo@alpha.test", Role::Member).await;
    products::create(&db, &ann, &product("A", 100, 1))
        .await
        .unwrap();
    let archived = products::create(&db, &ann, &product("B", 100, 1))
        .await
        .unwrap();
    products::set_archived(&db, &ann, archived, true)
        .await
        .unwrap();

    let free = plan::entitlements(&db, &ann).await.unwrap();
    assert_eq!(
        (free.plan_code.as_str(), free.plan_name.as_str()),
        ("FREE", "Free")
    );
    let csv = free.feature(Feature::CsvExport).unwrap();
    assert_eq!(csv.name, "CSV export");
    assert!(!csv.enabled);
    assert_eq!(csv.plans, vec!["Pro".to_owned(), "Enterprise".to_owned()]);
    let usage = |e: &plan::Entitlements, k: LimitKind| {
        let l: &LimitUsage = e.limit(k).unwrap();
        (l.max, l.used)
    };
    assert_eq!(usage(&free, LimitKind::Products), (Some(100), 1));
    assert_eq!(usage(&free, LimitKind::Members), (Some(5), 2));
    assert_eq!(usage(&free, LimitKind::OrdersPerMonth), (Some(200), 0));
    assert_eq!(free.limit(LimitKind::Members).unwrap().unit, "members");

    set_plan(&db, tenant.id(), "PRO").await;
    let pro = plan::entitlements(&db, &ann).await.unwrap();
    assert_eq!(pro.plan_name, "Pro");
    assert!(pro.feature(Feature::CsvExport).unwrap().enabled);
    assert_eq!(usage(&pro, LimitKind::Products), (Some(10_000), 1));

    console::set_limit_override(
        &db,
        &console,
        tenant.id(),
        "max_products",
        LimitOverride::Max(7),
    )
    .await
    .unwrap();
    console::set_limit_override(
        &db,
        &console,
        tenant.id(),
        "max_members",
        LimitOverride::Unlimited,
    )
    .await
    .unwrap();
    console::set_feature_override(&db, &console, tenant.id(), "csv_export", Some(false))
        .await
        .unwrap();
    let overridden = plan::entitlements(&db, &ann).await.unwrap();
    assert!(!overridden.feature(Feature::CsvExport).unwrap().enabled);
    assert_eq!(usage(&overridden, LimitKind::Products), (Some(7), 1));
    assert_eq!(usage(&overridden, LimitKind::Members), (None, 2));
    assert_eq!(
        usage(&overridden, LimitKind::OrdersPerMonth),
        (Some(20_000), 0)
    );

    // Another tenant's overrides do not leak into this one.
    let (_, other) = tenant_and_owner(&db, "bravo").await;
    let theirs = plan::entitlements(&db, &other).await.unwrap();
    assert_eq!(usage(&theirs, LimitKind::Products), (Some(100), 0));
    assert_eq!(usage(&theirs, LimitKind::Members), (Some(5), 1));
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn require_feature_follows_the_plan_and_the_tenants_override(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let console = console_scope(&db).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;

    let err = plan::require_feature(&db, &ann, Feature::CsvExport)
        .await
        .unwrap_err();
    match err {
        RepoError::PlanRequired { feature, plans } => {
            assert_eq!(feature, "CSV export");
            assert_eq!(plans, vec!["Pro".to_owned(), "Enterprise".to_owned()]);
        }
        other => panic!("expected PlanRequired, got {other:?}"),
    }

    console::set_feature_override(&db, &console, tenant.id(), "csv_export", Some(true))
        .await
        .unwrap();
    plan::require_feature(&db, &ann, Feature::CsvExport)
        .await
        .unwrap();
    console::set_feature_override(&db, &console, tenant.id(), "csv_export", None)
        .await
        .unwrap();
    assert!(plan::require_feature(&db, &ann, Feature::CsvExport)
        .await
        .is_err());

    set_plan(&db, tenant.id(), "PRO").await;
    plan::require_feature(&db, &ann, Feature::CsvExport)
        .await
        .unwrap();
    console::set_feature_override(&db, &console, tenant.id(), "csv_export", Some(false))
        .await
        .unwrap();
    let err = plan::require_feature(&db, &ann, Feature::CsvExport)
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::PlanRequired { .. }), "{err:?}");

    // ENTERPRISE includes it too, but the tenant's override still wins.
    set_plan(&db, tenant.id(), "ENTERPRISE").await;
    assert!(plan::require_feature(&db, &ann, Feature::CsvExport)
        .await
        .is_err());
}

// --------------------------------------------------------------------------- limits --

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_product_limit_refuses_the_create_past_it_and_writes_nothing(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    set_limit(&db, tenant.id(), LimitKind::Products, 2).await;
    products::create(&db, &ann, &product("A", 100, 1))
        .await
        .unwrap();
    products::create(&db, &ann, &product("B", 100, 1))
        .await
        .unwrap();

    let err = products::create(&db, &ann, &product("C", 100, 1))
        .await
        .unwrap_err();
    match &err {
        RepoError::LimitReached { limit, max, unit } => {
            assert_eq!(
                (*limit, *max, unit.as_str()),
                (LimitKind::Products, 2, "products")
            );
        }
        other => panic!("expected LimitReached, got {other:?}"),
    }
    assert_eq!(all_products(&db, &ann).await, 2, "nothing was written");

    // The limit belongs to this tenant only.
    let (_, other) = tenant_and_owner(&db, "bravo").await;
    for sku in ["A", "B", "C"] {
        products::create(&db, &other, &product(sku, 100, 1))
            .await
            .unwrap();
    }

    // Lifting the cap lets the write through.
    let console = console_scope(&db).await;
    console::set_limit_override(
        &db,
        &console,
        tenant.id(),
        "max_products",
        LimitOverride::Unlimited,
    )
    .await
    .unwrap();
    products::create(&db, &ann, &product("C", 100, 1))
        .await
        .unwrap();
    assert_eq!(active_products(&db, &ann).await, 3);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn archiving_frees_a_product_slot_and_restoring_when_full_is_refused(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    set_limit(&db, tenant.id(), LimitKind::Products, 2).await;
    let a = products::create(&db, &ann, &product("A", 100, 1))
        .await
        .unwrap();
    let b = products::create(&db, &ann, &product("B", 100, 1))
        .await
        .unwrap();

    products::set_archived(&db, &ann, a, true).await.unwrap();
    products::create(&db, &ann, &product("C", 100, 1))
        .await
        .unwrap();
    assert_eq!(active_products(&db, &ann).await, 2);

    let err = products::set_archived(&db, &ann, a, false)
        .await
        .unwrap_err();
    assert!(is_limit(&err, LimitKind::Products, 2), "{err:?}");
    assert!(
        products::get(&db, &ann, a).await.unwrap().archived,
        "a refused restore leaves the product archived"
    );
    // "Restoring" a product that is not archived takes no new slot.
    products::set_archived(&db, &ann, b, false).await.unwrap();

    products::set_archived(&db, &ann, b, true).await.unwrap();
    products::set_archived(&db, &ann, a, false).await.unwrap();
    assert!(!products::get(&db, &ann, a).await.unwrap().archived);
    assert_eq!(active_products(&db, &ann).await, 2);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_monthly_order_limit_refuses_the_order_past_it_and_takes_no_stock(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    set_limit(&db, tenant.id(), LimitKind::OrdersPerMonth, 1).await;
    let mug = products::create(&db, &ann, &product("MUG", 100, 10))
        .await
        .unwrap();
    let line = [NewLine {
        product_id: mug,
        quantity: 2,
    }];
    orders::create(&db, &ann, None, &line).await.unwrap();

    let err = orders::create(&db, &ann, None, &line).await.unwrap_err();
    assert!(
        is_limit(&err, LimitKind::OrdersPerMonth, 1),
        "expected LimitReached, got {err:?}"
    );
    assert_eq!(products::get(&db, &ann, mug).await.unwrap().stock, 8);
    let page = orders::list(
        &db,
        &ann,
        &orders::OrderQuery {
            limit: 50,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(page.orders.len(), 1);
    let usage = page.usage.unwrap();
    assert_eq!((usage.max, usage.used), (Some(1), 1));
}

/// Ten creates race for the last free slot; the row lock in `limit_locks` lets one through.
#[sqlx::test(migrator = "db::MIGRATOR")]
async fn concurrent_creates_cannot_both_take_the_last_product_slot(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = Db::from_pool(app_pool(&owner, 12).await);
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    set_limit(&db, tenant.id(), LimitKind::Products, 5).await;
    for n in 0..4 {
        products::create(&db, &ann, &product(&format!("OLD-{n}"), 100, 1))
            .await
            .unwrap();
    }

    let outcomes = race(10, |n| {
        let (db, ann) = (db.clone(), ann.clone());
        async move { products::create(&db, &ann, &product(&format!("NEW-{n}"), 100, 1)).await }
    })
    .await;
    for err in exactly_one_winner(&outcomes) {
        assert!(
            is_limit(err, LimitKind::Products, 5),
            "a racing create failed uncleanly: {err:?}"
        );
    }
    assert_eq!(all_products(&db, &ann).await, 5);
}

/// The same race on a tenant whose lock row does not exist yet: the first writer creates it.
#[sqlx::test(migrator = "db::MIGRATOR")]
async fn concurrent_first_creates_share_one_lock_row(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = Db::from_pool(app_pool(&owner, 12).await);
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    set_limit(&db, tenant.id(), LimitKind::Products, 1).await;

    let outcomes = race(10, |n| {
        let (db, ann) = (db.clone(), ann.clone());
        async move { products::create(&db, &ann, &product(&format!("NEW-{n}"), 100, 1)).await }
    })
    .await;
    assert!(exactly_one_winner(&outcomes)
        .into_iter()
        .all(|e| is_limit(e, LimitKind::Products, 1)));
    assert_eq!(all_products(&db, &ann).await, 1);
}

// -------------------------------------------------------------------------- console --

/// A console sign-in replaces only the hash it checked: a password changed in between stays.
#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_console_sign_in_replaces_only_the_hash_it_checked(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    use db::platform::auth::Rehash;
    let db = app_db(&owner).await;
    let email = Email::parse("root@console.test").unwrap();
    let id = console::create_admin(&db, &email, &PersonName::parse("Root").unwrap(), "h1")
        .await
        .unwrap();
    let stored = || async {
        console::find_admin_credentials(&db, &email)
            .await
            .unwrap()
            .unwrap()
            .password_hash
    };
    let rehash = |checked, replacement| {
        Some(Rehash {
            checked,
            replacement,
        })
    };
    console::record_admin_sign_in(&db, id, rehash("h0", "stale"))
        .await
        .unwrap();
    assert_eq!(stored().await, "h1");
    console::record_admin_sign_in(&db, id, rehash("h1", "h1-again"))
        .await
        .unwrap();
    assert_eq!(stored().await, "h1-again");
    console::record_admin_sign_in(&db, id, None).await.unwrap();
    assert_eq!(stored().await, "h1-again");
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn console_admins_are_unique_per_email_and_found_by_credentials(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let email = Email::parse("root@console.test").unwrap();
    let id = console::create_admin(&db, &email, &PersonName::parse("Root").unwrap(), "h1")
        .await
        .unwrap();
    let err = console::create_admin(&db, &email, &PersonName::parse("Again").unwrap(), "h2")
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Conflict { field: "email" }),
        "{err:?}"
    );

    let scope = console::ConsoleScope::for_admin(&db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (scope.admin_id(), scope.email().as_str(), scope.name()),
        (id, "root@console.test", "Root")
    );
    assert!(console::ConsoleScope::for_admin(
        &db,
        domain::AdminId::from_uuid(uuid::Uuid::new_v4())
    )
    .await
    .unwrap()
    .is_none());
    let creds = console::find_admin_credentials(&db, &email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((creds.admin_id, creds.password_hash.as_str()), (id, "h1"));
    assert!(
        console::find_admin_credentials(&db, &Email::parse("nobody@console.test").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_tenant_list_searches_pages_and_counts_each_tenants_usage(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let console = console_scope(&db).await;
    let (alpha_tenant, alpha) = tenant_and_owner(&db, "alpha").await;
    let bo = add_member(&db, &alpha_tenant, "bo@alpha.test", Role::Member).await;
    let gone = add_member(&db, &alpha_tenant, "gone@alpha.test", Role::Member).await;
    db::tenant::members::remove(&db, &alpha, gone.member().user_id)
        .await
        .unwrap();
    let mug = products::create(&db, &alpha, &product("MUG", 100, 10))
        .await
        .unwrap();
    products::create(&db, &alpha, &product("CUP", 100, 10))
        .await
        .unwrap();
    let old = products::create(&db, &alpha, &product("OLD", 100, 10))
        .await
        .unwrap();
    products::set_archived(&db, &alpha, old, true)
        .await
        .unwrap();
    for scope in [&alpha, &bo] {
        orders::create(
            &db,
            scope,
            None,
            &[NewLine {
                product_id: mug,
                quantity: 1,
            }],
        )
        .await
        .unwrap();
    }
    let (bravo_tenant, _) = tenant_and_owner(&db, "bravo").await;
    let (charlie_tenant, _) = tenant_and_owner(&db, "charlie").await;
    set_plan(&db, bravo_tenant.id(), "PRO").await;

    let all = console::list_tenants(&db, &console, None, None, None, 50)
        .await
        .unwrap();
    let slugs: Vec<&str> = all.tenants.iter().map(|t| t.slug.as_str()).collect();
    assert_eq!(slugs, vec!["charlie", "bravo", "alpha"], "newest first");
    assert!(!all.has_more);
    let a = &all.tenants[2];
    assert_eq!(
        (a.members, a.products, a.orders_this_month),
        (2, 2, 2),
        "removed members, archived products are not counted"
    );
    assert_eq!(
        (a.name.as_str(), a.status),
        ("Shop alpha", TenantStatus::Active)
    );
    let b = &all.tenants[1];
    assert_eq!(
        (
            b.plan_code.as_str(),
            b.plan_name.as_str(),
            b.members,
            b.products
        ),
        ("PRO", "Pro", 1, 0)
    );

    let found = console::list_tenants(
        &db,
        &console,
        SearchText::parse(" BRAV ").unwrap().as_ref(),
        None,
        None,
        50,
    )
    .await
    .unwrap();
    assert_eq!(found.tenants.len(), 1);
    assert_eq!(found.tenants[0].id, bravo_tenant.id());
    let by_name = console::list_tenants(
        &db,
        &console,
        SearchText::parse("shop c").unwrap().as_ref(),
        None,
        None,
        50,
    )
    .await
    .unwrap();
    assert_eq!(by_name.tenants.len(), 1);
    assert_eq!(by_name.tenants[0].id, charlie_tenant.id());
    let wildcard = console::list_tenants(
        &db,
        &console,
        SearchText::parse("%").unwrap().as_ref(),
        None,
        None,
        50,
    )
    .await
    .unwrap();
    assert!(wildcard.tenants.is_empty(), "a typed % is a literal");

    let first = console::list_tenants(&db, &console, None, None, None, 2)
        .await
        .unwrap();
    assert!(first.has_more);
    assert_eq!(first.tenants.len(), 2);
    let last = first.tenants.last().unwrap();
    let second = console::list_tenants(
        &db,
        &console,
        None,
        None,
        Some(TenantCursor {
            created_at: last.created_at,
            id: last.id.as_uuid(),
        }),
        2,
    )
    .await
    .unwrap();
    assert!(!second.has_more);
    assert_eq!(second.tenants.len(), 1);
    assert_eq!(second.tenants[0].id, alpha_tenant.id());
    assert_eq!(second.tenants[0].orders_this_month, 2);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn tenant_detail_shows_plan_overrides_and_usage_of_one_tenant(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let console = console_scope(&db).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let (other, _) = tenant_and_owner(&db, "bravo").await;
    products::create(&db, &ann, &product("A", 100, 1))
        .await
        .unwrap();
    console::set_feature_override(&db, &console, tenant.id(), "csv_export", Some(true))
        .await
        .unwrap();
    console::set_limit_override(
        &db,
        &console,
        tenant.id(),
        "max_products",
        LimitOverride::Max(3),
    )
    .await
    .unwrap();
    console::set_limit_override(
        &db,
        &console,
        tenant.id(),
        "max_members",
        LimitOverride::Unlimited,
    )
    .await
    .unwrap();
    console::set_limit_override(
        &db,
        &console,
        other.id(),
        "max_orders_per_month",
        LimitOverride::Max(1),
    )
    .await
    .unwrap();

    let detail = console::tenant_detail(&db, &console, &Slug::parse("alpha").unwrap())
        .await
        .unwrap();
    assert_eq!(detail.overview.id, tenant.id());
    assert_eq!((detail.overview.members, detail.overview.products), (1, 1));
    assert_eq!(
        detail.feature_overrides,
        vec![console::FeatureOverride {
            feature: "csv_export".into(),
            enabled: true
        }]
    );
    assert_eq!(
        detail.limit_overrides,
        vec![
            console::LimitOverrideRow {
                limit: "max_members".into(),
                max: None
            },
            console::LimitOverrideRow {
                limit: "max_products".into(),
                max: Some(3)
            },
        ],
        "only this tenant's overrides"
    );
    assert!(
        detail
            .entitlements
            .feature(Feature::CsvExport)
            .unwrap()
            .enabled
    );
    let products_limit = detail.entitlements.limit(LimitKind::Products).unwrap();
    assert_eq!((products_limit.max, products_limit.used), (Some(3), 1));
    assert_eq!(
        detail
            .entitlements
            .limit(LimitKind::OrdersPerMonth)
            .unwrap()
            .max,
        Some(200)
    );

    let err = console::tenant_detail(&db, &console, &Slug::parse("nobody").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn change_plan_is_audited_and_writes_nothing_when_refused(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let pool = app_pool(&owner, 4).await;
    let db = Db::from_pool(pool.clone());
    let console = console_scope(&db).await;
    let (tenant, _) = tenant_and_owner(&db, "alpha").await;

    let err = console::change_plan(
        &db,
        Actor::Console(&console),
        tenant.id(),
        &PlanCode::new("GOLD"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, RepoError::Invalid { field: "plan" }),
        "{err:?}"
    );
    let err = console::change_plan(
        &db,
        Actor::Console(&console),
        TenantId::from_uuid(uuid::Uuid::new_v4()),
        &PlanCode::new("PRO"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
    assert_eq!(audit_rows(&pool).await, 0);
    assert_eq!(plan_of(&db, tenant.id()).await, "FREE");

    console::change_plan(
        &db,
        Actor::Console(&console),
        tenant.id(),
        &PlanCode::new("PRO"),
    )
    .await
    .unwrap();
    assert_eq!(plan_of(&db, tenant.id()).await, "PRO");
    assert_eq!(audit_rows(&pool).await, 1);
    let log = console::audit_log(
        &db,
        &console,
        &AuditFilter {
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let entry = &log.entries[0];
    assert_eq!(entry.action, "change_plan");
    assert_eq!(entry.actor, "root@console.test");
    assert_eq!(entry.tenant_slug.as_deref(), Some("alpha"));
    assert_eq!(entry.before, Some(serde_json::json!({ "plan": "FREE" })));
    assert_eq!(entry.after, Some(serde_json::json!({ "plan": "PRO" })));
    let admin: Option<uuid::Uuid> =
        sqlx::query_scalar("SELECT admin_id FROM console_audit WHERE id = $1")
            .bind(entry.id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(admin, Some(console.admin_id().as_uuid()));
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_system_actor_is_audited_by_name_without_an_admin(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let pool = app_pool(&owner, 4).await;
    let db = Db::from_pool(pool.clone());
    let (tenant, _) = tenant_and_owner(&db, "alpha").await;
    console::change_plan(
        &db,
        Actor::System("billing:test"),
        tenant.id(),
        &PlanCode::new("ENTERPRISE"),
    )
    .await
    .unwrap();
    assert_eq!(plan_of(&db, tenant.id()).await, "ENTERPRISE");
    let rows: Vec<(Option<uuid::Uuid>, String, String, Option<uuid::Uuid>)> =
        sqlx::query_as("SELECT admin_id, actor, action, target_tenant_id FROM console_audit")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        rows,
        vec![(
            None,
            "billing:test".to_owned(),
            "change_plan".to_owned(),
            Some(tenant.id().as_uuid())
        )]
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn suspending_and_reactivating_a_tenant_is_audited(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let console = console_scope(&db).await;
    let (tenant, _) = tenant_and_owner(&db, "alpha").await;
    let id = tenant.id();
    let status = move |db: Db| async move {
        db::platform::tenants::find_by_id(&db, id)
            .await
            .unwrap()
            .unwrap()
            .status()
    };

    console::set_status(&db, &console, tenant.id(), TenantStatus::Suspended)
        .await
        .unwrap();
    assert_eq!(status(db.clone()).await, TenantStatus::Suspended);
    console::set_status(&db, &console, tenant.id(), TenantStatus::Active)
        .await
        .unwrap();
    assert_eq!(status(db.clone()).await, TenantStatus::Active);
    let err = console::set_status(
        &db,
        &console,
        TenantId::from_uuid(uuid::Uuid::new_v4()),
        TenantStatus::Suspended,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");

    let log = console::audit_log(
        &db,
        &console,
        &AuditFilter {
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let trail: Vec<(&str, serde_json::Value, serde_json::Value)> = log
        .entries
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.before.clone().unwrap(),
                e.after.clone().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        trail,
        vec![
            (
                "reactivate",
                serde_json::json!({ "status": "suspended" }),
                serde_json::json!({ "status": "active" })
            ),
            (
                "suspend",
                serde_json::json!({ "status": "active" }),
                serde_json::json!({ "status": "suspended" })
            ),
        ],
        "newest first"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn overrides_refuse_unknown_codes_and_tenants_and_audit_each_change(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let pool = app_pool(&owner, 4).await;
    let db = Db::from_pool(pool.clone());
    let console = console_scope(&db).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let nowhere = TenantId::from_uuid(uuid::Uuid::new_v4());

    let err = console::set_feature_override(&db, &console, tenant.id(), "teleport", Some(true))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Invalid { field: "feature" }),
        "{err:?}"
    );
    let err = console::set_feature_override(&db, &console, nowhere, "csv_export", Some(true))
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
    let err = console::set_limit_override(
        &db,
        &console,
        tenant.id(),
        "max_planets",
        LimitOverride::Max(1),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, RepoError::Invalid { field: "limit" }),
        "{err:?}"
    );
    let err = console::set_limit_override(
        &db,
        &console,
        nowhere,
        "max_products",
        LimitOverride::Max(1),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
    assert_eq!(
        audit_rows(&pool).await,
        0,
        "refused changes are not audited"
    );

    console::set_feature_override(&db, &console, tenant.id(), "csv_export", Some(true))
        .await
        .unwrap();
    console::set_feature_override(&db, &console, tenant.id(), "csv_export", None)
        .await
        .unwrap();
    for value in [
        LimitOverride::Max(2),
        LimitOverride::Unlimited,
        LimitOverride::Inherit,
    ] {
        console::set_limit_override(&db, &console, tenant.id(), "max_products", value)
            .await
            .unwrap();
    }
    console::set_limit_override(
        &db,
        &console,
        tenant.id(),
        "max_products",
        LimitOverride::Max(4),
    )
    .await
    .unwrap();
    let err = console::set_limit_override(
        &db,
        &console,
        tenant.id(),
        "max_products",
        LimitOverride::Max(-1),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            RepoError::Refused(Refusal::OutOfBounds { min: 0, max: None })
        ),
        "{err:?}"
    );
    let limit = plan::entitlements(&db, &ann).await.unwrap();
    assert_eq!(
        limit.limit(LimitKind::Products).unwrap().max,
        Some(4),
        "a refused override leaves the previous one"
    );

    let log = console::audit_log(
        &db,
        &console,
        &AuditFilter {
            limit: 50,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut trail: Vec<(String, serde_json::Value, serde_json::Value)> = log
        .entries
        .into_iter()
        .map(|e| (e.action, e.before.unwrap(), e.after.unwrap()))
        .collect();
    trail.reverse();
    assert_eq!(
        trail,
        vec![
            (
                "set_feature_override".to_owned(),
                serde_json::json!({ "feature": "csv_export", "override": null }),
                serde_json::json!({ "feature": "csv_export", "override": true })
            ),
            (
                "set_feature_override".to_owned(),
                serde_json::json!({ "feature": "csv_export", "override": true }),
                serde_json::json!({ "feature": "csv_export", "override": null })
            ),
            (
                "set_limit_override".to_owned(),
                serde_json::json!({ "limit": "max_products", "override": "plan" }),
                serde_json::json!({ "limit": "max_products", "override": 2 })
            ),
            (
                "set_limit_override".to_owned(),
                serde_json::json!({ "limit": "max_products", "override": 2 }),
                serde_json::json!({ "limit": "max_products", "override": "unlimited" })
            ),
            (
                "set_limit_override".to_owned(),
                serde_json::json!({ "limit": "max_products", "override": "unlimited" }),
                serde_json::json!({ "limit": "max_products", "override": "plan" })
            ),
            (
                "set_limit_override".to_owned(),
                serde_json::json!({ "limit": "max_products", "override": "plan" }),
                serde_json::json!({ "limit": "max_products", "override": 4 })
            ),
        ]
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_audit_log_filters_by_tenant_action_and_actor_and_pages(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let ops = console_admin(&db, "ops@console.test").await;
    let sales = console_admin(&db, "sales@console.test").await;
    let (alpha, _) = tenant_and_owner(&db, "alpha").await;
    let (bravo, _) = tenant_and_owner(&db, "bravo").await;
    console::change_plan(
        &db,
        Actor::Console(&sales),
        alpha.id(),
        &PlanCode::new("PRO"),
    )
    .await
    .unwrap();
    console::set_status(&db, &ops, bravo.id(), TenantStatus::Suspended)
        .await
        .unwrap();
    console::set_status(&db, &ops, bravo.id(), TenantStatus::Active)
        .await
        .unwrap();
    console::change_plan(
        &db,
        Actor::System("billing:test"),
        bravo.id(),
        &PlanCode::new("PRO"),
    )
    .await
    .unwrap();
    console::set_feature_override(&db, &ops, alpha.id(), "csv_export", Some(false))
        .await
        .unwrap();

    let query = |filter: AuditFilter| {
        let db = db.clone();
        let ops = ops.clone();
        async move {
            console::audit_log(&db, &ops, &filter)
                .await
                .unwrap()
                .entries
                .into_iter()
                .map(|e| (e.action, e.tenant_slug.unwrap_or_default(), e.actor))
                .collect::<Vec<_>>()
        }
    };
    let s = |a: &str, t: &str, w: &str| (a.to_owned(), t.to_owned(), w.to_owned());

    assert_eq!(
        query(AuditFilter {
            tenant_slug: Some(Slug::parse("alpha").unwrap()),
            limit: 50,
            ..Default::default()
        })
        .await,
        vec![
            s("set_feature_override", "alpha", "ops@console.test"),
            s("change_plan", "alpha", "sales@console.test"),
        ]
    );
    assert_eq!(
        query(AuditFilter {
            action: Some("change_plan"),
            limit: 50,
            ..Default::default()
        })
        .await,
        vec![
            s("change_plan", "bravo", "billing:test"),
            s("change_plan", "alpha", "sales@console.test"),
        ]
    );
    assert_eq!(
        query(AuditFilter {
            actor: SearchText::parse("OPS@").unwrap(),
            tenant_slug: Some(Slug::parse("bravo").unwrap()),
            limit: 50,
            ..Default::default()
        })
        .await,
        vec![
            s("reactivate", "bravo", "ops@console.test"),
            s("suspend", "bravo", "ops@console.test"),
        ]
    );
    assert_eq!(
        query(AuditFilter {
            actor: SearchText::parse("billing").unwrap(),
            limit: 50,
            ..Default::default()
        })
        .await
        .len(),
        1
    );
    assert!(query(AuditFilter {
        tenant_slug: Some(Slug::parse("nobody").unwrap()),
        limit: 50,
        ..Default::default()
    })
    .await
    .is_empty());

    // Paging: two at a time, every entry exactly once, newest first.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = console::audit_log(
            &db,
            &ops,
            &AuditFilter {
                before,
                limit: 2,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(page.entries.len() <= 2);
        seen.extend(page.entries.iter().map(|e| (e.at, e.id)));
        let Some(last) = page.entries.last() else {
            break;
        };
        before = Some((last.at, last.id));
        if !page.has_more {
            break;
        }
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "strictly newest first"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_audit_log_is_append_only_for_the_app_role(_: PgPoolOptions, owner: PgConnectOptions) {
    let pool = app_pool(&owner, 2).await;
    let db = Db::from_pool(pool.clone());
    let (tenant, _) = tenant_and_owner(&db, "alpha").await;
    set_plan(&db, tenant.id(), "PRO").await;

    for statement in [
        "UPDATE console_audit SET actor = 'someone else'",
        "DELETE FROM console_audit",
        "TRUNCATE console_audit",
    ] {
        let err = sqlx::query(statement)
            .execute(&pool)
            .await
            .expect_err(statement);
        let code = err
            .as_database_error()
            .and_then(|e| e.code())
            .map(|c| c.into_owned());
        assert_eq!(code.as_deref(), Some("42501"), "{statement}: {err}");
    }
    let actor: String = sqlx::query_scalar("SELECT actor FROM console_audit")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(actor, "test");
}

// -------------------------------------------------------------------------- exports --

async fn pro_tenant(db: &Db, slug: &str) -> (db::Tenant, TenantScope) {
    let (tenant, scope) = tenant_and_owner(db, slug).await;
    set_plan(db, tenant.id(), "PRO").await;
    (tenant, scope)
}

async fn set_heartbeat_age(pool: &PgPool, tenant: TenantId, job: ExportId, secs: i64) {
    let mut tx = tenant_tx(pool, tenant).await;
    let updated = sqlx::query(
        "UPDATE export_jobs SET heartbeat_at = now() - make_interval(secs => $2) WHERE id = $1",
    )
    .bind(job.as_uuid())
    .bind(secs as f64)
    .execute(&mut *tx)
    .await
    .unwrap();
    assert_eq!(updated.rows_affected(), 1);
    tx.commit().await.unwrap();
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn exports_need_the_csv_export_feature(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = app_db(&owner).await;
    let (tenant, ann) = tenant_and_owner(&db, "alpha").await;
    let err = exports::request(&db, &ann, ExportKind::Products)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RepoError::PlanRequired { feature, plans }
            if feature == "CSV export" && plans == &vec!["Pro".to_owned(), "Enterprise".to_owned()]),
        "{err:?}"
    );
    assert!(exports::recent(&db, &ann, 10).await.unwrap().is_empty());

    set_plan(&db, tenant.id(), "PRO").await;
    exports::request(&db, &ann, ExportKind::Products)
        .await
        .unwrap();
    assert_eq!(exports::recent(&db, &ann, 10).await.unwrap().len(), 1);
}

/// An archive of the whole workspace waits alone (each reads every table) and does not use
/// up the CSV exports' places, which admins ask for without seeing the owners' archives.
#[sqlx::test(migrator = "db::MIGRATOR")]
async fn one_archive_at_a_time_apart_from_the_csv_queue(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = app_db(&owner).await;
    let (_, ann) = pro_tenant(&db, "alpha").await;
    exports::request(&db, &ann, ExportKind::Workspace)
        .await
        .unwrap();
    let err = exports::request(&db, &ann, ExportKind::Workspace)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::ArchiveUnderWay)),
        "{err:?}"
    );
    for _ in 0..3 {
        exports::request(&db, &ann, ExportKind::Products)
            .await
            .unwrap();
    }
    let err = exports::request(&db, &ann, ExportKind::Orders)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::TooManyPendingExports)),
        "{err:?}"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn more_than_three_pending_exports_are_refused(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = app_db(&owner).await;
    let (_, ann) = pro_tenant(&db, "alpha").await;
    let (_, other) = pro_tenant(&db, "bravo").await;
    let mut jobs = Vec::new();
    for _ in 0..3 {
        jobs.push(
            exports::request(&db, &ann, ExportKind::Orders)
                .await
                .unwrap(),
        );
    }
    let err = exports::request(&db, &ann, ExportKind::Products)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RepoError::Refused(Refusal::TooManyPendingExports)),
        "{err:?}"
    );
    assert_eq!(exports::recent(&db, &ann, 10).await.unwrap().len(), 3);
    // Another workspace's queue is its own.
    exports::request(&db, &other, ExportKind::Products)
        .await
        .unwrap();

    // A running job still counts; a finished one does not.
    let claimed = exports::claim_next(&db, 600.0).await.unwrap().unwrap();
    assert_eq!(claimed.id, jobs[0]);
    assert!(exports::request(&db, &ann, ExportKind::Products)
        .await
        .is_err());
    exports::finish(&db, &ann, jobs[0], 0, b"", KEEP)
        .await
        .unwrap();
    exports::request(&db, &ann, ExportKind::Products)
        .await
        .unwrap();
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_worker_claims_the_oldest_job_of_any_tenant_once(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (alpha, ann) = pro_tenant(&db, "alpha").await;
    let (bravo, bea) = pro_tenant(&db, "bravo").await;
    assert!(exports::claim_next(&db, 600.0).await.unwrap().is_none());

    let first = exports::request(&db, &ann, ExportKind::Products)
        .await
        .unwrap();
    let second = exports::request(&db, &bea, ExportKind::Orders)
        .await
        .unwrap();

    let claimed = exports::claim_next(&db, 600.0).await.unwrap().unwrap();
    assert_eq!((claimed.tenant_id, claimed.id), (alpha.id(), first));
    let claimed = exports::claim_next(&db, 600.0).await.unwrap().unwrap();
    assert_eq!((claimed.tenant_id, claimed.id), (bravo.id(), second));
    assert!(
        exports::claim_next(&db, 600.0).await.unwrap().is_none(),
        "running jobs with a fresh heartbeat are not claimed again"
    );

    assert_eq!(
        exports::job_for_worker(&db, &bravo, second).await.unwrap(),
        (ExportKind::Orders, bea.member().user_id)
    );
    let err = exports::job_for_worker(&db, &alpha, second)
        .await
        .unwrap_err();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
    let statuses: Vec<ExportStatus> = exports::recent(&db, &ann, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.status)
        .collect();
    assert_eq!(statuses, vec![ExportStatus::Running]);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_job_whose_worker_stopped_heartbeating_is_claimed_again(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let pool = app_pool(&owner, 4).await;
    let db = Db::from_pool(pool.clone());
    let (alpha, ann) = pro_tenant(&db, "alpha").await;
    let job = exports::request(&db, &ann, ExportKind::Products)
        .await
        .unwrap();
    exports::claim_next(&db, 60.0).await.unwrap().unwrap();
    assert!(exports::claim_next(&db, 60.0).await.unwrap().is_none());

    // Progress is a heartbeat: a job that reports it is alive.
    set_heartbeat_age(&pool, alpha.id(), job, 3600).await;
    exports::record_progress(&db, &ann, job, 5, 10)
        .await
        .unwrap();
    assert!(exports::claim_next(&db, 60.0).await.unwrap().is_none());
    let progress = exports::recent(&db, &ann, 1).await.unwrap().remove(0);
    assert_eq!((progress.rows_done, progress.rows_total), (5, Some(10)));

    set_heartbeat_age(&pool, alpha.id(), job, 3600).await;
    let again = exports::claim_next(&db, 60.0).await.unwrap().unwrap();
    assert_eq!((again.tenant_id, again.id), (alpha.id(), job));
    assert!(exports::claim_next(&db, 60.0).await.unwrap().is_none());
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_finished_export_is_downloaded_by_its_own_workspace_only(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (_, ann) = pro_tenant(&db, "alpha").await;
    let (_, other) = pro_tenant(&db, "bravo").await;
    let done = exports::request(&db, &ann, ExportKind::Products)
        .await
        .unwrap();
    let failed = exports::request(&db, &ann, ExportKind::Orders)
        .await
        .unwrap();
    let queued = exports::request(&db, &ann, ExportKind::Orders)
        .await
        .unwrap();
    assert_eq!(
        exports::claim_next(&db, 600.0).await.unwrap().unwrap().id,
        done
    );
    assert_eq!(
        exports::claim_next(&db, 600.0).await.unwrap().unwrap().id,
        failed
    );

    let err = exports::download(&db, &ann, done).await.err().unwrap();
    assert!(matches!(err, RepoError::NotFound), "running: {err:?}");
    exports::finish(&db, &ann, done, 2, b"sku,name\nA,a\nB,b\n", KEEP)
        .await
        .unwrap();
    exports::fail(&db, &ann, failed, "disk full").await.unwrap();

    let file = exports::download(&db, &ann, done).await.unwrap();
    assert_eq!(file.kind, ExportKind::Products);
    assert_eq!(file.content, b"sku,name\nA,a\nB,b\n");
    for id in [failed, queued] {
        let err = exports::download(&db, &ann, id).await.err().unwrap();
        assert!(matches!(err, RepoError::NotFound), "{err:?}");
    }
    let err = exports::download(&db, &other, done).await.err().unwrap();
    assert!(matches!(err, RepoError::NotFound), "{err:?}");
    assert!(exports::recent(&db, &other, 10).await.unwrap().is_empty());

    let recent = exports::recent(&db, &ann, 10).await.unwrap();
    let summary: Vec<_> = recent
        .iter()
        .map(|j| {
            (
                j.id,
                j.status,
                j.rows_done,
                j.size_bytes,
                j.error.as_deref(),
                j.finished_at.is_some(),
                j.requested_by.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (queued, ExportStatus::Queued, 0, None, None, false, "Owner"),
            (
                failed,
                ExportStatus::Failed,
                0,
                None,
                Some("disk full"),
                true,
                "Owner"
            ),
            (done, ExportStatus::Done, 2, Some(17), None, true, "Owner"),
        ],
        "newest first"
    );
    assert_eq!(exports::recent(&db, &ann, 1).await.unwrap().len(), 1);

    // A finished job is not finished again, nor touched by another workspace's worker.
    exports::finish(&db, &ann, done, 9, b"other", KEEP)
        .await
        .unwrap();
    exports::finish(&db, &other, done, 9, b"other", KEEP)
        .await
        .unwrap();
    assert_eq!(
        exports::download(&db, &ann, done).await.unwrap().content,
        b"sku,name\nA,a\nB,b\n"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn product_batches_page_through_every_product_in_creation_order(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (_, ann) = pro_tenant(&db, "alpha").await;
    let (_, other) = pro_tenant(&db, "bravo").await;
    products::create(&db, &other, &product("FOREIGN", 1, 1))
        .await
        .unwrap();
    let mut ids: Vec<ProductId> = Vec::new();
    for n in 0..5 {
        ids.push(
            products::create(&db, &ann, &product(&format!("P{n}"), 100 + n, n as i32))
                .await
                .unwrap(),
        );
    }
    products::set_archived(&db, &ann, ids[1], true)
        .await
        .unwrap();
    assert_eq!(
        exports::count_rows(&db, &ann, ExportKind::Products)
            .await
            .unwrap(),
        5
    );

    let mut seen = Vec::new();
    let mut after = None;
    let mut batches = 0;
    loop {
        let (rows, next) = exports::product_batch(&db, &ann, after, 2).await.unwrap();
        if rows.is_empty() {
            assert!(next.is_none());
            break;
        }
        batches += 1;
        assert!(rows.len() <= 2);
        seen.extend(
            rows.into_iter()
                .map(|r| (r.sku, r.price.minor(), r.archived)),
        );
        after = next;
    }
    assert_eq!(batches, 3);
    assert_eq!(
        seen,
        vec![
            ("P0".to_owned(), 100, false),
            ("P1".to_owned(), 101, true),
            ("P2".to_owned(), 102, false),
            ("P3".to_owned(), 103, false),
            ("P4".to_owned(), 104, false),
        ]
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn order_batches_page_by_order_number_with_every_line(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, ann) = pro_tenant(&db, "alpha").await;
    let bo = add_member(&db, &tenant, "bo@alpha.test", Role::Member).await;
    let (_, other) = pro_tenant(&db, "bravo").await;
    let mug = products::create(&db, &ann, &product("MUG", 250, 100))
        .await
        .unwrap();
    let cup = products::create(&db, &ann, &product("CUP", 100, 100))
        .await
        .unwrap();
    let theirs = products::create(&db, &other, &product("X", 1, 100))
        .await
        .unwrap();
    orders::create(
        &db,
        &other,
        None,
        &[NewLine {
            product_id: theirs,
            quantity: 1,
        }],
    )
    .await
    .unwrap();
    let line = |product_id, quantity| NewLine {
        product_id,
        quantity,
    };
    orders::create(&db, &ann, None, &[line(mug, 2), line(cup, 1)])
        .await
        .unwrap();
    orders::create(&db, &bo, None, &[line(cup, 3)])
        .await
        .unwrap();
    orders::create(&db, &ann, None, &[line(mug, 1)])
        .await
        .unwrap();
    assert_eq!(
        exports::count_rows(&db, &ann, ExportKind::Orders)
            .await
            .unwrap(),
        4
    );

    let (rows, last) = exports::order_batch(&db, &ann, 0, 2).await.unwrap();
    let got: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.number,
                r.line_no,
                r.sku.as_str(),
                r.quantity,
                r.unit_price.minor(),
                r.order_total.minor(),
                r.created_by.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (1, 1, "MUG", 2, 250, 600, "Owner"),
            (1, 2, "CUP", 1, 100, 600, "Owner"),
            (2, 1, "CUP", 3, 100, 300, "Name of bo@alpha.test"),
        ]
    );
    assert_eq!(last, Some(2));
    let (rows, last) = exports::order_batch(&db, &ann, 2, 2).await.unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| (r.number, r.line_no))
            .collect::<Vec<_>>(),
        vec![(3, 1)]
    );
    assert_eq!(rows[0].status, "PENDING");
    assert_eq!(last, Some(3));
    let (rows, last) = exports::order_batch(&db, &ann, 3, 2).await.unwrap();
    assert!(rows.is_empty());
    assert_eq!(last, None);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn racing_workers_never_claim_the_same_job(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = Db::from_pool(app_pool(&owner, 10).await);
    let (_, ann) = pro_tenant(&db, "alpha").await;
    let (_, bea) = pro_tenant(&db, "bravo").await;
    let mut queued = Vec::new();
    for scope in [&ann, &bea] {
        for kind in [
            ExportKind::Products,
            ExportKind::Orders,
            ExportKind::Products,
        ] {
            queued.push(exports::request(&db, scope, kind).await.unwrap());
        }
    }

    let workers = race(8, |_| {
        let db = db.clone();
        async move { exports::claim_next(&db, 600.0).await.unwrap() }
    })
    .await;
    let mut claimed: Vec<_> = workers.into_iter().flatten().map(|job| job.id).collect();
    claimed.sort_by_key(|id| id.as_uuid());
    queued.sort_by_key(|id| id.as_uuid());
    assert_eq!(claimed, queued, "each job claimed exactly once");
    assert!(exports::claim_next(&db, 600.0).await.unwrap().is_none());
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_late_failure_does_not_undo_a_finished_export(_: PgPoolOptions, owner: PgConnectOptions) {
    let pool = app_pool(&owner, 4).await;
    let db = Db::from_pool(pool.clone());
    let (alpha, ann) = pro_tenant(&db, "alpha").await;
    let job = exports::request(&db, &ann, ExportKind::Products)
        .await
        .unwrap();
    // Worker one claims the job and stalls; worker two takes it over and finishes it.
    exports::claim_next(&db, 60.0).await.unwrap().unwrap();
    set_heartbeat_age(&pool, alpha.id(), job, 3600).await;
    assert_eq!(
        exports::claim_next(&db, 60.0).await.unwrap().unwrap().id,
        job
    );
    exports::finish(&db, &ann, job, 1, b"sku\nA\n", KEEP)
        .await
        .unwrap();

    // Worker one wakes up and gives up on its copy.
    exports::fail(&db, &ann, job, "timed out").await.unwrap();
    exports::fail_unscoped(&db, alpha.id(), job, "gone")
        .await
        .unwrap();

    let listed = exports::recent(&db, &ann, 1).await.unwrap().remove(0);
    assert_eq!((listed.status, listed.error), (ExportStatus::Done, None));
    assert_eq!(
        exports::download(&db, &ann, job)
            .await
            .ok()
            .unwrap()
            .content,
        b"sku\nA\n"
    );
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_job_whose_requester_left_is_failed_for_its_workspace_only(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (alpha, ann) = pro_tenant(&db, "alpha").await;
    let (_, bea) = pro_tenant(&db, "bravo").await;
    let bo = add_member(&db, &alpha, "bo@alpha.test", Role::Admin).await;
    let job = exports::request(&db, &bo, ExportKind::Orders)
        .await
        .unwrap();
    let theirs = exports::request(&db, &bea, ExportKind::Orders)
        .await
        .unwrap();
    db::tenant::members::remove(&db, &ann, bo.member().user_id)
        .await
        .unwrap();

    let claimed = exports::claim_next(&db, 600.0).await.unwrap().unwrap();
    assert_eq!((claimed.tenant_id, claimed.id), (alpha.id(), job));
    let (_, requested_by) = exports::job_for_worker(&db, &alpha, job).await.unwrap();
    assert!(TenantScope::for_member(&db, &alpha, requested_by)
        .await
        .unwrap()
        .is_none());
    exports::fail_unscoped(&db, alpha.id(), job, "requester left")
        .await
        .unwrap();
    // The same job id on another tenant is untouched (and not even visible).
    exports::fail_unscoped(&db, alpha.id(), theirs, "wrong tenant")
        .await
        .unwrap();

    let ours = exports::recent(&db, &ann, 10).await.unwrap().remove(0);
    assert_eq!(
        (
            ours.status,
            ours.error.as_deref(),
            ours.requested_by.as_str()
        ),
        (
            ExportStatus::Failed,
            Some("requester left"),
            "Name of bo@alpha.test"
        )
    );
    let other = exports::recent(&db, &bea, 10).await.unwrap().remove(0);
    assert_eq!((other.status, other.error), (ExportStatus::Queued, None));
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_audit_log_finds_a_console_admin_by_name(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = app_db(&owner).await;
    let id = console::create_admin(
        &db,
        &Email::parse("x1@console.test").unwrap(),
        &PersonName::parse("Grace Hopper").unwrap(),
        "h",
    )
    .await
    .unwrap();
    let grace = console::ConsoleScope::for_admin(&db, id)
        .await
        .unwrap()
        .unwrap();
    let other = console_scope(&db).await;
    let (tenant, _) = tenant_and_owner(&db, "alpha").await;
    console::set_status(&db, &grace, tenant.id(), TenantStatus::Suspended)
        .await
        .unwrap();
    console::set_status(&db, &other, tenant.id(), TenantStatus::Active)
        .await
        .unwrap();

    let found = console::audit_log(
        &db,
        &other,
        &AuditFilter {
            actor: SearchText::parse("hopper").unwrap(),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let actions: Vec<(&str, &str)> = found
        .entries
        .iter()
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    assert_eq!(actions, vec![("suspend", "x1@console.test")]);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn the_console_lists_plans_and_the_gate_catalogue(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = app_db(&owner).await;
    let plans: Vec<(String, String)> = console::plans(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.code, p.name))
        .collect();
    assert_eq!(
        plans,
        vec![
            ("FREE".to_owned(), "Free".to_owned()),
            ("PRO".to_owned(), "Pro".to_owned()),
            ("ENTERPRISE".to_owned(), "Enterprise".to_owned()),
        ],
        "cheapest first"
    );
    let pool = app_pool(&owner, 1).await;
    let features: Vec<String> = sqlx::query_scalar("SELECT code FROM features ORDER BY code")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(
        features,
        Feature::ALL.iter().map(|f| f.code()).collect::<Vec<_>>(),
        "every feature the code gates exists in the database"
    );
    let limits: Vec<String> =
        sqlx::query_scalar("SELECT code FROM limit_kinds WHERE kind = 'quota' ORDER BY code")
            .fetch_all(&pool)
            .await
            .unwrap();
    let mut known: Vec<&str> = LimitKind::ALL.iter().map(|l| l.code()).collect();
    known.sort_unstable();
    assert_eq!(
        limits, known,
        "every limit the code counts exists in the database"
    );
    let shares: Vec<String> =
        sqlx::query_scalar("SELECT code FROM limit_kinds WHERE kind = 'share' ORDER BY code")
            .fetch_all(&pool)
            .await
            .unwrap();
    let mut enforced = db::tenant::shares::CODES.to_vec();
    enforced.sort_unstable();
    assert_eq!(
        shares, enforced,
        "every share the code enforces exists in the database"
    );
}

/// A tenant without a cap on a limit (ENTERPRISE) takes no lock for it: its creates do not
/// queue behind each other. With a cap, a create waits for the lock (and, here, gives up at
/// the lock timeout while another transaction holds it).
#[sqlx::test(migrator = "db::MIGRATOR")]
async fn only_a_capped_limit_takes_its_lock(_: PgPoolOptions, owner: PgConnectOptions) {
    let pool = app_pool(&owner, 4).await;
    let db = Db::from_pool(pool.clone()).with_lock_timeout(std::time::Duration::from_millis(200));
    let (tenant, scope) = tenant_and_owner(&db, "alpha").await;
    products::create(&db, &scope, &product("FIRST", 100, 1))
        .await
        .unwrap();
    // Another transaction holds the products limit's lock row, and keeps it.
    let mut holder = tenant_tx(&pool, tenant.id()).await;
    sqlx::query("SELECT 1 FROM limit_locks WHERE limit_code = 'max_products' FOR UPDATE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let capped = products::create(&db, &scope, &product("SECOND", 100, 1))
        .await
        .unwrap_err();
    assert!(
        matches!(capped, RepoError::LockTimeout { .. }),
        "FREE caps products, so the create queues: {capped:?}"
    );
    set_plan(&db, tenant.id(), "ENTERPRISE").await;
    products::create(&db, &scope, &product("THIRD", 100, 1))
        .await
        .expect("ENTERPRISE sets no cap: nothing to queue behind");
    holder.rollback().await.unwrap();
}
