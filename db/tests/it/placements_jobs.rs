//! A dedicated workspace's exports and imports wait in its own database, and the workers,
//! which claim from the control database's queue, still find them there: claimed once, taken
//! over when their worker stops, and not looked for any more once done.

use std::time::Duration;

use crate::common::{product, set_plan, workspace};
use db::platform::tenants::find_by_slug;
use db::tenant::exports::{self, ExportKind};
use db::tenant::imports::{self, ImportLine, Run};
use db::testing::fresh_database;
use db::{PoolLimits, TenantScope};
use domain::Slug;

fn limits() -> PoolLimits {
    crate::common::placement_limits()
}

#[tokio::test]
async fn a_dedicated_workspaces_jobs_are_claimed_from_its_own_database() {
    let test = fresh_database().await;
    let db = test.db_with_clusters(limits());
    workspace(&db, "alpha", "owner@alpha.test").await;
    let (bravo, owner) = workspace(&db, "bravo", "owner@bravo.test").await;
    let database = test.place_dedicated(bravo.id().as_uuid()).await;
    let bravo = find_by_slug(&db, &Slug::parse("bravo").unwrap())
        .await
        .unwrap()
        .unwrap();
    let scope = TenantScope::for_member(&db, &bravo, owner)
        .await
        .unwrap()
        .unwrap();
    set_plan(&db, bravo.id(), "ENTERPRISE").await;
    assert!(exports::claim_next(&db, 60.0).await.unwrap().is_none());

    let id = exports::request(&db, &scope, ExportKind::Products)
        .await
        .unwrap();
    let b = bravo.id().as_uuid();
    assert_eq!(test.count_rows(Some(&database), "export_jobs", b).await, 1);
    assert_eq!(test.count_rows(None, "export_jobs", b).await, 0);
    let job = exports::claim_next(&db, 60.0)
        .await
        .unwrap()
        .expect("bravo's export is found in its own database");
    assert_eq!((job.tenant_id, job.id), (bravo.id(), id));
    assert!(
        exports::claim_next(&db, 60.0).await.unwrap().is_none(),
        "claimed once"
    );
    let taken_over = exports::claim_next(&db, 0.0)
        .await
        .unwrap()
        .expect("a job whose worker stopped is claimed again");
    assert_eq!(taken_over.id, id);
    // Kept for no time at all: expired as soon as it is done.
    exports::finish(&db, &scope, id, 0, b"sku\n", Duration::ZERO)
        .await
        .unwrap();
    assert!(exports::claim_next(&db, 0.0).await.unwrap().is_none());
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        exports::discard_expired(&db).await.unwrap(),
        1,
        "its file is discarded in its own database"
    );
    let gone = exports::download(&db, &scope, id).await;
    assert!(
        matches!(
            gone,
            Err(db::RepoError::Refused(db::Refusal::ExportExpired))
        ),
        "{:?}",
        gone.map(|_| ())
    );
    assert_eq!(exports::discard_expired(&db).await.unwrap(), 0);

    let preview = imports::create_preview(
        &db,
        &scope,
        "catalogue.csv",
        &[ImportLine::Product {
            line_no: 2,
            input: product("IMP-1", 100, 1),
        }],
    )
    .await
    .unwrap();
    imports::start(&db, &scope, preview, Run::InBackground)
        .await
        .unwrap();
    let import = imports::claim_next(&db, 60.0)
        .await
        .unwrap()
        .expect("bravo's import is found in its own database");
    assert_eq!((import.tenant_id, import.id), (bravo.id(), preview));
    imports::fail(&db, &scope, preview, "stopped by the test")
        .await
        .unwrap();
    assert!(imports::claim_next(&db, 0.0).await.unwrap().is_none());
}
