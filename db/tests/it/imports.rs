//! Product imports: a preview writes no product, applying is idempotent by SKU and counted
//! against the plan's limit (also when two imports race), and nothing crosses workspaces.

use db::tenant::imports::{self, ImportLine, ImportStatus, Outcome, Run, Verdict};
use db::tenant::products::{self, ProductQuery};
use db::{Refusal, RepoError, TenantScope};
use domain::{ImportId, LimitKind};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::common::{add_member, app_db, product, race, set_limit, set_plan, tenant_and_owner};

fn line(line_no: i32, sku: &str, price_minor: i64, stock: i32) -> ImportLine {
    ImportLine::Product {
        line_no,
        input: product(sku, price_minor, stock),
    }
}

fn lines(skus: std::ops::Range<i32>) -> Vec<ImportLine> {
    skus.map(|n| line(n + 2, &format!("IMP-{n:04}"), 100 + i64::from(n), 5))
        .collect()
}

async fn all_products(db: &db::Db, scope: &TenantScope) -> Vec<products::Product> {
    let mut found = Vec::new();
    let mut after = None;
    loop {
        let page = products::list(
            db,
            scope,
            &ProductQuery {
                include_archived: true,
                limit: 200,
                after,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        after = page.products.last().map(|p| products::ProductCursor {
            created_at: p.created_at,
            id: p.id.as_uuid(),
        });
        found.extend(page.products);
        if !page.has_more {
            break;
        }
    }
    found.sort_by(|a, b| a.sku.cmp(&b.sku));
    found
}

/// Applies an import to the end the way a request does, batch after batch.
async fn apply(db: &db::Db, scope: &TenantScope, id: ImportId) -> ImportStatus {
    imports::start(db, scope, id, Run::Here).await.unwrap();
    loop {
        match imports::apply_batch(db, scope, id).await.unwrap() {
            ImportStatus::Running => continue,
            status => return status,
        }
    }
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_preview_writes_nothing_and_applying_twice_changes_nothing_the_second_time(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, alpha) = tenant_and_owner(&db, "alpha").await;
    set_plan(&db, tenant.id(), "ENTERPRISE").await;
    products::create(&db, &alpha, &product("IMP-0000", 100, 5))
        .await
        .unwrap();
    products::create(&db, &alpha, &product("IMP-0001", 999, 5))
        .await
        .unwrap();
    let before = all_products(&db, &alpha).await;

    // 0000 is the same, 0001 changes its price, 0002..0599 are new (more than one batch).
    let file = lines(0..600);
    let preview = imports::create_preview(&db, &alpha, "catalogue.csv", &file)
        .await
        .unwrap();
    assert_eq!(
        all_products(&db, &alpha).await,
        before,
        "the preview wrote products"
    );
    let summary = imports::get(&db, &alpha, preview).await.unwrap();
    assert_eq!(summary.status, ImportStatus::Preview);
    assert_eq!(
        (
            summary.rows_total,
            summary.rows_new,
            summary.rows_update,
            summary.rows_unchanged
        ),
        (600, 598, 1, 1)
    );
    let shown = imports::rows(&db, &alpha, preview, false, 0, 3)
        .await
        .unwrap();
    assert_eq!(
        shown.iter().map(|r| r.verdict).collect::<Vec<_>>(),
        [Verdict::Unchanged, Verdict::Update, Verdict::New]
    );

    assert_eq!(apply(&db, &alpha, preview).await, ImportStatus::Done);
    let summary = imports::get(&db, &alpha, preview).await.unwrap();
    assert_eq!(
        (
            summary.created,
            summary.updated,
            summary.unchanged,
            summary.refused
        ),
        (598, 1, 1, 0)
    );
    let after_first = all_products(&db, &alpha).await;
    assert_eq!(after_first.len(), 600);
    assert_eq!(after_first[1].price, domain::Money::from_minor(101));
    assert_eq!(
        imports::rows(&db, &alpha, preview, false, 2, 1)
            .await
            .unwrap()[0]
            .outcome,
        Some(Outcome::Updated)
    );

    // Applying the same import again, and the same file once more: nothing moves, not even
    // a product's version.
    assert_eq!(apply(&db, &alpha, preview).await, ImportStatus::Done);
    let again = imports::create_preview(&db, &alpha, "catalogue.csv", &file)
        .await
        .unwrap();
    assert_eq!(
        imports::get(&db, &alpha, again)
            .await
            .unwrap()
            .rows_unchanged,
        600
    );
    assert_eq!(apply(&db, &alpha, again).await, ImportStatus::Done);
    let summary = imports::get(&db, &alpha, again).await.unwrap();
    assert_eq!(
        (summary.created, summary.updated, summary.unchanged),
        (0, 0, 600)
    );
    assert_eq!(all_products(&db, &alpha).await, after_first);
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_file_with_an_error_line_is_refused_whole(_: PgPoolOptions, owner: PgConnectOptions) {
    let db = app_db(&owner).await;
    let (_, alpha) = tenant_and_owner(&db, "alpha").await;
    let mut file = lines(0..3);
    file.push(ImportLine::Invalid {
        line_no: 5,
        sku: "BAD".into(),
        name: "Bad".into(),
        problem: "Stock: This cannot be negative.".into(),
    });
    let id = imports::create_preview(&db, &alpha, "bad.csv", &file)
        .await
        .unwrap();
    let summary = imports::get(&db, &alpha, id).await.unwrap();
    assert_eq!((summary.rows_invalid, summary.rows_new), (1, 3));
    let problems = imports::rows(&db, &alpha, id, true, 0, 10).await.unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(
        problems[0].problem.as_deref(),
        Some("Stock: This cannot be negative.")
    );
    for run in [Run::Here, Run::InBackground] {
        assert!(matches!(
            imports::start(&db, &alpha, id, run).await,
            Err(RepoError::Refused(Refusal::ImportHasErrors))
        ));
    }
    assert_eq!(
        imports::apply_batch(&db, &alpha, id).await.unwrap(),
        ImportStatus::Preview
    );
    assert!(all_products(&db, &alpha).await.is_empty());
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn two_imports_at_once_stay_within_the_product_limit(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, alpha) = tenant_and_owner(&db, "alpha").await;
    set_limit(&db, tenant.id(), LimitKind::Products, 700).await;
    for n in 0..100 {
        products::create(&db, &alpha, &product(&format!("OLD-{n}"), 1, 1))
            .await
            .unwrap();
    }
    // Two files of 500 new products each (one batch apiece), and one product both update.
    let mut first = lines(0..500);
    let mut second = lines(1000..1500);
    first.push(line(600, "OLD-0", 5, 5));
    second.push(line(600, "OLD-0", 5, 5));
    let a = imports::create_preview(&db, &alpha, "a.csv", &first)
        .await
        .unwrap();
    let b = imports::create_preview(&db, &alpha, "b.csv", &second)
        .await
        .unwrap();
    let outcomes = race(2, |i| {
        let (db, alpha) = (db.clone(), alpha.clone());
        let id = [a, b][i];
        async move { apply(&db, &alpha, id).await }
    })
    .await;
    assert_eq!(outcomes, [ImportStatus::Done, ImportStatus::Done]);
    let active = all_products(&db, &alpha).await.len();
    assert_eq!(active, 700, "exactly up to the limit");
    let (sa, sb) = (
        imports::get(&db, &alpha, a).await.unwrap(),
        imports::get(&db, &alpha, b).await.unwrap(),
    );
    assert_eq!(sa.created + sb.created, 600);
    assert_eq!(sa.refused + sb.refused, 400);
    assert_eq!(sa.refused_at_limit.or(sb.refused_at_limit), Some(700));
    let refused = imports::rows(
        &db,
        &alpha,
        if sa.refused > 0 { a } else { b },
        true,
        0,
        500,
    )
    .await
    .unwrap();
    assert!(refused.iter().all(|r| r.outcome == Some(Outcome::Refused)));
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn imports_belong_to_their_workspace_and_its_managers(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (alpha_tenant, alpha) = tenant_and_owner(&db, "alpha").await;
    let (_, bravo) = tenant_and_owner(&db, "bravo").await;
    let member = add_member(&db, &alpha_tenant, "m@alpha.test", domain::Role::Member).await;
    let id = imports::create_preview(&db, &alpha, "a.csv", &lines(0..3))
        .await
        .unwrap();

    assert!(matches!(
        imports::get(&db, &bravo, id).await,
        Err(RepoError::NotFound)
    ));
    assert!(matches!(
        imports::start(&db, &bravo, id, Run::Here).await,
        Err(RepoError::NotFound)
    ));
    assert!(matches!(
        imports::apply_batch(&db, &bravo, id).await,
        Err(RepoError::NotFound)
    ));
    assert!(imports::rows(&db, &bravo, id, false, 0, 10)
        .await
        .unwrap()
        .is_empty());
    for refused in [
        imports::create_preview(&db, &member, "m.csv", &lines(0..1))
            .await
            .map(|_| ()),
        imports::get(&db, &member, id).await.map(|_| ()),
        imports::start(&db, &member, id, Run::Here)
            .await
            .map(|_| ()),
    ] {
        assert!(matches!(refused, Err(RepoError::Forbidden)), "{refused:?}");
    }
    assert_eq!(
        imports::get(&db, &alpha, id).await.unwrap().status,
        ImportStatus::Preview
    );
    assert!(all_products(&db, &bravo).await.is_empty());
}

#[sqlx::test(migrator = "db::MIGRATOR")]
async fn a_large_import_waits_for_the_worker_who_runs_it_as_its_starter(
    _: PgPoolOptions,
    owner: PgConnectOptions,
) {
    let db = app_db(&owner).await;
    let (tenant, alpha) = tenant_and_owner(&db, "alpha").await;
    let id = imports::create_preview(&db, &alpha, "big.csv", &lines(0..10))
        .await
        .unwrap();
    assert_eq!(
        imports::start(&db, &alpha, id, Run::InBackground)
            .await
            .unwrap(),
        ImportStatus::Queued
    );
    // Not running yet: a batch applied before the worker claims it writes nothing.
    assert_eq!(
        imports::apply_batch(&db, &alpha, id).await.unwrap(),
        ImportStatus::Queued
    );
    let claimed = imports::claim_next(&db, 60.0)
        .await
        .unwrap()
        .expect("a waiting import");
    assert_eq!((claimed.tenant_id, claimed.id), (tenant.id(), id));
    assert!(
        imports::claim_next(&db, 60.0).await.unwrap().is_none(),
        "claimed once"
    );
    assert_eq!(
        imports::job_for_worker(&db, &tenant, id).await.unwrap(),
        Some(alpha.member().user_id)
    );
    while imports::apply_batch(&db, &alpha, id).await.unwrap() == ImportStatus::Running {}
    assert_eq!(imports::get(&db, &alpha, id).await.unwrap().created, 10);
    // Starting it again now changes nothing.
    assert_eq!(
        imports::start(&db, &alpha, id, Run::InBackground)
            .await
            .unwrap(),
        ImportStatus::Done
    );
}
