//! Operator commands, run as the real binary against a scratch database.

use std::process::Output;

use domain::{Email, Slug};

use crate::support::{registered_workspace as workspace, tenant_command as tenant};

fn purge(database: &db::testing::TestDatabase, args: &[&str]) -> Output {
    tenant(database, &[&["purge"], args].concat())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn tenant_purge_erases_a_suspended_workspace_and_refuses_anything_else() {
    let database = db::testing::fresh_database().await;
    for slug in ["alpha", "bravo"] {
        workspace(&database, slug, "Shop").await;
    }
    let refusals: [(&[&str], &str); 4] = [
        (&["alpha", "--reason", "left"], "is active: suspend it"),
        (&["nobody", "--reason", "left"], "no workspace `nobody`"),
        (&["NOT A SLUG!", "--reason", "left"], "SLUG:"),
        (&["alpha", "--reason", "  "], "--reason:"),
    ];
    for (args, expected) in refusals {
        let out = purge(&database, args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    }
    let alpha = db::platform::tenants::find_by_slug(&database.db, &Slug::parse("alpha").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        db::platform::auth::find_credentials(
            &database.db,
            &alpha,
            &Email::parse("owner@alpha.test").unwrap()
        )
        .await
        .unwrap()
        .is_some(),
        "refusals erase nothing"
    );

    database.set_tenant_status("alpha", "suspended").await;
    let out = purge(&database, &["alpha", "--reason", "asked to leave"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("alpha: public.users: 1 rows removed"),
        "{stdout}"
    );
    assert!(stdout.contains("alpha: verified"), "{stdout}");
    assert!(db::platform::auth::find_credentials(
        &database.db,
        &alpha,
        &Email::parse("owner@alpha.test").unwrap()
    )
    .await
    .unwrap()
    .is_none());
    let bravo = db::platform::tenants::find_by_slug(&database.db, &Slug::parse("bravo").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(db::platform::auth::find_credentials(
        &database.db,
        &bravo,
        &Email::parse("owner@bravo.test").unwrap()
    )
    .await
    .unwrap()
    .is_some());
    // Erased, the workspace is gone: its address is free, and a second purge finds nothing.
    let again = purge(&database, &["alpha", "--reason", "once more"]);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("no workspace `alpha`"));
    // The address of an erased workspace can be registered again.
    workspace(&database, "alpha", "New alpha").await;
}

#[tokio::test]
async fn tenant_purge_due_erases_the_workspaces_whose_grace_period_is_over() {
    let database = db::testing::fresh_database().await;
    let mut owners = Vec::new();
    for slug in ["due", "later", "kept"] {
        owners.push(workspace(&database, slug, "Shop").await);
    }
    for ((tenant, owner), grace) in owners.iter().zip([0, 86_400]) {
        let scope = db::TenantScope::for_member(&database.db, tenant, *owner)
            .await
            .unwrap()
            .unwrap();
        db::platform::lifecycle::schedule_deletion(
            &database.db,
            &scope,
            std::time::Duration::from_secs(grace),
        )
        .await
        .unwrap();
    }
    let out = tenant(&database, &["purge-due"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("due: verified"), "{stdout}");
    assert!(stdout.contains("1 workspaces due, 1 erased"), "{stdout}");
    let status = |slug: &'static str| {
        let db = database.db.clone();
        async move {
            db::platform::tenants::find_by_slug(&db, &Slug::parse(slug).unwrap())
                .await
                .unwrap()
                .map(|t| t.status())
        }
    };
    assert_eq!(status("due").await, None, "erased, its address given back");
    assert_eq!(status("later").await, Some(domain::TenantStatus::Deleting));
    assert_eq!(status("kept").await, Some(domain::TenantStatus::Active));
}

/// A migration that needs a table to itself while a long transaction reads it gives up after
/// the lock timeout instead of queueing (and every request behind it), and applies once the
/// table is free.
#[tokio::test]
async fn a_migration_that_would_wait_on_a_busy_table_fails_fast_then_applies() {
    let database = db::testing::fresh_database().await;
    let dir = std::env::temp_dir().join(format!("stockroom-migrations-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("29990101000000_busy_table.sql"),
        "ALTER TABLE products ADD COLUMN busy_test integer;\n",
    )
    .unwrap();
    let limits = db::MigrationLimits {
        lock_timeout: std::time::Duration::from_millis(200),
        statement_timeout: std::time::Duration::from_secs(30),
    };

    let reader = database.read_in_open_transaction("products").await;
    let started = std::time::Instant::now();
    let refused = database.migrate_extra(&dir, limits).await.unwrap_err();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "waited {:?}",
        started.elapsed()
    );
    assert!(refused.to_string().contains("lock timeout"), "{refused}");

    drop(reader);
    database.migrate_extra(&dir, limits).await.unwrap();
    std::fs::remove_dir_all(&dir).ok();
}

/// A server whose database lacks the newest migration it expects answers every request with
/// a clear 503 and `Retry-After` (pages, server functions, the API), says why on its readiness
/// probe, and serves again by itself once `server migrate` has run.
#[tokio::test]
async fn a_database_one_migration_behind_is_refused_until_server_migrate() {
    use app::api::LoadSite;
    use reqwest::StatusCode;

    let database = db::testing::fresh_database_one_migration_behind().await;
    let app = crate::support::TestApp::spawn_on(
        database,
        |config| config.database.schema_check_secs = 1,
        crate::support::test_hasher(),
    )
    .await;
    let page = crate::support::eventually_async(|| async {
        let page = app.get(None, "/", None).await;
        (page.status() == StatusCode::SERVICE_UNAVAILABLE).then_some(page)
    })
    .await;
    assert_eq!(page.headers()["retry-after"], "30");
    assert!(page.text().await.unwrap().contains("being upgraded"));
    let workspace = app.get(Some("alpha"), "/login", None).await;
    assert_eq!(workspace.status(), StatusCode::SERVICE_UNAVAILABLE);
    let call = app
        .call::<LoadSite>(None, &[], None, reqwest::header::HeaderMap::new())
        .await;
    assert_eq!(call.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        crate::support::error_of(call).await,
        app::AppError::Unavailable
    );
    let api = app.get(Some("alpha"), "/api/v1/products", None).await;
    assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(api.headers()["retry-after"], "30");
    assert_eq!(
        app.get(None, "/healthz", None).await.status(),
        StatusCode::OK
    );
    let ready = app.get(None, "/readyz", None).await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready.text().await.unwrap().contains("migrations"));

    let migrated = crate::support::server_command(&app.database, &["migrate"]);
    assert!(migrated.status.success(), "{migrated:?}");
    crate::support::eventually_async(|| async {
        (app.get(None, "/", None).await.status() == StatusCode::OK).then_some(())
    })
    .await;
    assert_eq!(
        app.get(None, "/readyz", None).await.status(),
        StatusCode::OK
    );
    app.register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
}
