//! A workspace being moved, as its people and its API clients see it: while its writes are
//! frozen, every write (server function, API) is refused with a 503 that says why and when to
//! retry, its pages and API reads carry on, and every other workspace is untouched.

use std::time::Duration;

use db::platform::moves::{Moved, Phase, Target};
use db::testing::TEST_CLUSTER;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::json;

use crate::api;
use crate::support::TestApp;

async fn move_bravo(app: &TestApp, stop_after: Option<Phase>) -> Moved {
    let tenant = app.tenant("bravo").await;
    let target = Target::Cluster(TEST_CLUSTER.into());
    app.database
        .run_move(tenant.id(), &target, stop_after)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_frozen_workspace_refuses_every_write_with_a_clear_503_and_keeps_reading() {
    let app = TestApp::spawn_with_clusters(|_, _| {}).await;
    let a = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let b = app
        .register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    app.create_product("bravo", &b, "KEPT-1", "Kept", "5").await;
    let token = api::token(&app, "bravo", &b, "write").await;

    assert!(matches!(
        move_bravo(&app, Some(Phase::Frozen)).await,
        Moved::Stopped(Phase::Frozen)
    ));

    // The screens' write: a typed error the page shows, 503, and when to come back.
    let refused = app
        .call::<app::api::products::SaveProduct>(
            Some("bravo"),
            &[
                ("sku", "LOST-1"),
                ("name", "Lost"),
                ("description", ""),
                ("price", "1.00"),
                ("stock", "1"),
            ],
            Some(&b),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()[RETRY_AFTER], "60");
    let error: app::AppError = serde_json::from_str(&refused.text().await.unwrap()).unwrap();
    assert_eq!(error, app::AppError::Moving);

    // The API's write: a problem with Retry-After; its reads go on.
    let write = api::post(
        &app,
        "bravo",
        "/products",
        &token,
        json!({"sku": "LOST-2", "name": "Lost", "price": {"amount_minor": 100, "currency": "USD"}, "stock": 1}),
    )
    .await;
    assert_eq!(
        write.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        write.text
    );
    assert_eq!(write.headers[RETRY_AFTER], "60");
    assert!(write.text.contains("being moved"), "{}", write.text);
    let read = api::get(&app, "bravo", "/products", &token).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    let skus: Vec<&str> = read.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["sku"].as_str())
        .collect();
    assert_eq!(skus, ["KEPT-1"]);

    // The page reads as usual.
    let page = app.get(Some("bravo"), "/products", Some(&b)).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("KEPT-1"));

    // Another workspace writes as usual.
    app.create_product("alpha", &a, "ALPHA-1", "Alpha", "1")
        .await;

    // Once moved, bravo writes again (same session, same token), and nothing refused arrived.
    assert!(matches!(move_bravo(&app, None).await, Moved::Done(_)));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let made = loop {
        let made = api::post(
            &app,
            "bravo",
            "/products",
            &token,
            json!({"sku": "AFTER-1", "name": "After", "price": {"amount_minor": 100, "currency": "USD"}, "stock": 1}),
        )
        .await;
        if made.status != StatusCode::SERVICE_UNAVAILABLE || tokio::time::Instant::now() > deadline
        {
            break made;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    app.create_product("bravo", &b, "AFTER-2", "After", "1")
        .await;
    let read = api::get(&app, "bravo", "/products?limit=50", &token).await;
    let mut skus: Vec<String> = read.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["sku"].as_str().map(str::to_owned))
        .collect();
    skus.sort();
    assert_eq!(skus, ["AFTER-1", "AFTER-2", "KEPT-1"], "{:?}", read.body);
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `server tenant move`, as the operator runs it, with the test cluster (and a dead one)
/// in its settings.
fn tenant_move(database: &db::testing::TestDatabase, args: &[&str]) -> std::process::Output {
    let owner_url = database.owner_url();
    crate::support::server_command_with(
        database,
        &[&["tenant", "move"], args].concat(),
        &[
            ("STOCKROOM_CLUSTER_TEST_URL", database.app_url()),
            ("STOCKROOM_CLUSTER_TEST_OWNER_URL", owner_url.as_str()),
            (
                "STOCKROOM_CLUSTER_DEAD_URL",
                "postgres://stockroom_app:x@127.0.0.1:1/stockroom",
            ),
            (
                "STOCKROOM_CLUSTER_DEAD_OWNER_URL",
                "postgres://stockroom_owner:x@127.0.0.1:1/stockroom",
            ),
        ],
    )
}

#[tokio::test]
async fn tenant_move_moves_a_workspace_and_refuses_bad_requests_in_one_line() {
    let database = db::testing::fresh_database().await;
    let (alpha, _) = crate::support::registered_workspace(&database, "alpha", "Shop").await;
    let name = db::platform::provision::database_name(alpha.id());
    let refused = |out: &std::process::Output, needle: &str| {
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{needle}: refused");
        assert!(stderr.contains(needle), "{needle}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    };

    refused(
        &tenant_move(&database, &["alpha", "--to", "nowhere"]),
        "--to: no cluster `nowhere` in [clusters]",
    );
    refused(
        &tenant_move(&database, &["alpha", "--to", "dead"]),
        "--to: cannot reach a database of this move",
    );
    refused(
        &tenant_move(&database, &["alpha", "--to", "shared"]),
        "--to: This workspace already lives in the shared database",
    );
    refused(&tenant_move(&database, &["ghost", "--to", "test"]), "ghost");
    refused(
        &tenant_move(&database, &["Not A Slug", "--to", "test"]),
        "SLUG",
    );
    assert!(
        !database.database_exists(&name).await,
        "nothing made by a refused move"
    );

    let out = tenant_move(&database, &["alpha", "--to", "test", "--hold-secs", "0"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("alpha: writes frozen"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "alpha: moved from the shared database to database {name} on cluster test"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("public.users: 1 rows"), "{stdout}");
    assert!(database.database_exists(&name).await);

    let out = tenant_move(&database, &["alpha", "--to", "shared", "--hold-secs", "0"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !database.database_exists(&name).await,
        "its database is dropped"
    );
    assert_eq!(
        database
            .count_rows(None, "users", alpha.id().as_uuid())
            .await,
        1
    );

    // With a hold, the source stays until the hold is over, then `purge-due` removes it.
    let out = tenant_move(&database, &["alpha", "--to", "test", "--hold-secs", "1"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("alpha: the source is kept until"),
        "{stdout}"
    );
    let a = alpha.id().as_uuid();
    assert_eq!(database.count_rows(None, "users", a).await, 1, "kept");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let out = crate::support::server_command(&database, &["tenant", "purge-due"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("alpha: the copy its move left in the shared database is removed"),
        "{stdout}"
    );
    assert_eq!(database.count_rows(None, "users", a).await, 0);
    assert_eq!(database.count_rows(Some(&name), "users", a).await, 1);

    // Back, keeping its own database for a second: the same command run again once the hold
    // is over drops it (its source is on a cluster, which the command reaches too).
    let out = tenant_move(&database, &["alpha", "--to", "shared", "--hold-secs", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(database.database_exists(&name).await, "kept for the hold");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let out = tenant_move(&database, &["alpha", "--to", "shared"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("alpha: source removed"), "{stdout}");
    assert!(
        !database.database_exists(&name).await,
        "dropped once the hold is over"
    );
    assert_eq!(database.count_rows(None, "users", a).await, 1);
}

/// `server tenant move` killed with SIGKILL at some moment of its run (which moment depends on
/// the machine: each delay lands somewhere between the start and the end), then run again:
/// the workspace ends in exactly one place, every row equal to the original.
#[tokio::test]
async fn tenant_move_killed_at_any_moment_then_run_again_leaves_one_complete_copy() {
    use db::platform::generator::{generate_workspace, WorkspaceSpec};
    let database = db::testing::fresh_database().await;
    let mut places = Vec::new();
    for (n, delay_ms) in [30_u64, 120, 250, 500, 900].into_iter().enumerate() {
        let slug = format!("killed{n}");
        let tenant = generate_workspace(
            &database.db,
            &WorkspaceSpec {
                slug: &domain::Slug::parse(&slug).unwrap(),
                owner_email: &domain::Email::parse(&format!("owner@{slug}.test")).unwrap(),
                owner_password_hash: "hash",
                plan: &domain::PlanCode::new("ENTERPRISE"),
                products: 100,
                orders: 1000,
                stock: 1000,
            },
        )
        .await
        .unwrap();
        let t = tenant.as_uuid();
        let original = database.fingerprint(TEST_CLUSTER, None, t).await;
        let owner_url = database.owner_url();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["tenant", "move", &slug, "--to", "test", "--hold-secs", "0"])
            .env("STOCKROOM_CONFIG", "/nonexistent/Leptos.toml")
            .env("STOCKROOM_DATABASE_URL", database.app_url())
            .env("STOCKROOM_DATABASE_OWNER_URL", &owner_url)
            .env("STOCKROOM_CLUSTER_TEST_URL", database.app_url())
            .env("STOCKROOM_CLUSTER_TEST_OWNER_URL", &owner_url)
            .env("STOCKROOM_LOG_FILTER", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        child.kill().unwrap(); // SIGKILL
        let killed = child.wait_with_output().unwrap();
        let phases = text(&killed.stdout);
        places.push(
            phases
                .lines()
                .last()
                .unwrap_or("before any phase")
                .to_owned(),
        );

        let again = tenant_move(&database, &[&slug, "--to", "test", "--hold-secs", "0"]);
        let stderr = text(&again.stderr);
        assert!(
            again.status.success() || stderr.contains("already lives in database"),
            "{slug} after a kill at {delay_ms} ms ({phases}): {stderr}"
        );
        let name = db::platform::provision::database_name(tenant);
        assert_eq!(
            database.fingerprint(TEST_CLUSTER, Some(&name), t).await,
            original,
            "{slug}: complete in its new place"
        );
        let left: i64 = database
            .fingerprint(TEST_CLUSTER, None, t)
            .await
            .values()
            .map(|(rows, _)| rows)
            .sum();
        assert_eq!(left, 0, "{slug}: nothing left in the shared database");
    }
    // Where the kills landed, for whoever reads the test's output.
    println!("killed after: {places:?}");
}
