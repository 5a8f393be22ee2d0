//! The operator's commands for workspaces' own databases. `server tenant provision` places a
//! new workspace in a database of its own on a cluster the settings register, says so step
//! by step, does nothing the second time, and refuses what it cannot do in one line that names
//! the argument or setting. `server migrate` migrates every workspace database after the
//! control database and names the ones it could not.

use std::process::Output;

use db::platform::tenants::{find_by_slug, Placement};
use domain::Slug;

use crate::support::{registered_workspace, server_command_with, TestApp};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Settings given in the environment, as a deployer would.
type Settings<'a> = &'a [(&'a str, &'a str)];

fn provision(
    database: &db::testing::TestDatabase,
    args: &[&str],
    cluster: &[(&str, &str)],
) -> Output {
    server_command_with(
        database,
        &[&["tenant", "provision"], args].concat(),
        cluster,
    )
}

async fn workspace(database: &db::testing::TestDatabase, slug: &str) -> db::Tenant {
    registered_workspace(database, slug, "Shop").await.0
}

#[tokio::test]
async fn tenant_provision_places_a_workspace_on_a_registered_cluster_and_refuses_the_rest() {
    let database = db::testing::fresh_database().await;
    for slug in ["alpha", "bravo"] {
        workspace(&database, slug).await;
    }
    let owner_url = database.owner_url();
    let registered = [
        ("STOCKROOM_CLUSTER_EAST_URL", database.app_url()),
        ("STOCKROOM_CLUSTER_EAST_OWNER_URL", owner_url.as_str()),
    ];
    let without_owner = [("STOCKROOM_CLUSTER_EAST_URL", database.app_url())];
    let refusals: [(&[&str], Settings, &str); 4] = [
        (
            &["alpha", "--cluster", "west"],
            &registered,
            "--cluster: no cluster `west` in [clusters] (registered: east)",
        ),
        (
            &["alpha", "--cluster", "east"],
            &without_owner,
            "clusters.east.owner_url is not set",
        ),
        (
            &["nobody", "--cluster", "east"],
            &registered,
            "SLUG: no workspace `nobody`",
        ),
        (&["NOT A SLUG!", "--cluster", "east"], &registered, "SLUG:"),
    ];
    for (args, settings, expected) in refusals {
        let out = provision(&database, args, settings);
        assert!(!out.status.success(), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    }

    let out = provision(&database, &["alpha", "--cluster", "east"], &registered);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("alpha: database created"), "{stdout}");
    assert!(
        stdout.contains("alpha: switched: served from its own database"),
        "{stdout}"
    );
    assert!(
        stdout.contains("alpha: placed in database stockroom_w_"),
        "{stdout}"
    );
    let alpha = find_by_slug(&database.db, &Slug::parse("alpha").unwrap())
        .await
        .unwrap()
        .unwrap();
    let home = match alpha.placement() {
        Placement::Dedicated { home, ready: true } => home.clone(),
        other => panic!("alpha is placed {other:?}"),
    };
    assert_eq!(home.cluster, "east");
    assert_eq!(
        database
            .count_rows(Some(&home.database), "users", alpha.id().as_uuid())
            .await,
        1
    );
    assert_eq!(
        database
            .count_rows(None, "users", alpha.id().as_uuid())
            .await,
        0
    );

    let again = provision(&database, &["alpha", "--cluster", "east"], &registered);
    assert!(again.status.success());
    assert!(
        text(&again.stdout).contains("already in database"),
        "{}",
        text(&again.stdout)
    );

    // Bravo is untouched.
    let bravo = find_by_slug(&database.db, &Slug::parse("bravo").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bravo.placement(), &Placement::Shared);
}

#[tokio::test]
async fn server_migrate_brings_every_workspace_database_up_and_names_the_ones_it_cannot() {
    let database = db::testing::fresh_database().await;
    let alpha = workspace(&database, "alpha").await.id().as_uuid();
    let bravo = workspace(&database, "bravo").await.id().as_uuid();
    let charlie = workspace(&database, "charlie").await.id().as_uuid();
    let behind = database.place_dedicated_one_migration_behind(alpha).await;
    let current = database.place_dedicated(bravo).await;
    let gone = format!("stockroom_w_{}", charlie.simple());
    database
        .place_in_registry_only(charlie, "dead", &gone)
        .await;
    let all = db::MIGRATOR.iter().count() as i64;
    assert_eq!(database.applied_migrations(&behind).await, all - 1);
    let owner_url = database.owner_url();
    let clusters = [
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
    ];

    // One at a time, in the registry's order ("dead" first): it fails, and no other starts.
    let out = server_command_with(&database, &["migrate", "--jobs", "1"], &clusters);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains(&format!("dead/{gone}: FAILED")), "{stdout}");
    assert!(
        stdout.contains(&format!("test/{behind}: not started")),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!("not migrated: dead/{gone}, test/")),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert_eq!(database.applied_migrations(&behind).await, all - 1);

    // Going on after the failure: every reachable database is migrated, the dead one named.
    let args = ["migrate", "--jobs", "4", "--continue-on-error"];
    let out = server_command_with(&database, &args, &clusters);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("test/{behind}: migrated")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("test/{current}: migrated")),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 of 3 workspace databases migrated"),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!("not migrated: dead/{gone}")),
        "{stderr}"
    );
    assert!(!stderr.contains("test/"), "{stderr}");
    assert_eq!(database.applied_migrations(&behind).await, all);

    let refused = server_command_with(&database, &["migrate", "--jobs", "0"], &clusters);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("--jobs"),
        "{}",
        text(&refused.stderr)
    );
}

#[tokio::test]
async fn new_workspaces_get_a_database_of_their_own_at_registration_when_the_deployer_says_so() {
    let app = TestApp::spawn_with_clusters(|config, database| {
        config.clusters.insert(
            db::testing::TEST_CLUSTER.to_owned(),
            server::config::ClusterConfig {
                url: database.app_url().to_owned(),
                owner_url: database.owner_url(),
            },
        );
        config.database.owner_url = database.owner_url();
        config.placements.new_workspaces = db::testing::TEST_CLUSTER.to_owned();
    })
    .await;
    let cookie = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    assert!(
        app.signed_in("alpha", &cookie).await,
        "the owner is signed in"
    );
    let alpha = find_by_slug(&app.database.db, &Slug::parse("alpha").unwrap())
        .await
        .unwrap()
        .unwrap();
    let home = match alpha.placement() {
        Placement::Dedicated { home, ready: true } => home.clone(),
        other => panic!("alpha is placed {other:?}"),
    };
    let a = alpha.id().as_uuid();
    assert_eq!(
        app.database
            .count_rows(Some(&home.database), "users", a)
            .await,
        1
    );
    assert_eq!(app.database.count_rows(None, "users", a).await, 0);
    app.create_product("alpha", &cookie, "FIRST", "First thing", "3")
        .await;
    assert_eq!(
        app.database
            .count_rows(Some(&home.database), "products", a)
            .await,
        1
    );
}

#[tokio::test]
async fn tenant_purge_drops_a_dedicated_workspaces_database_and_what_the_platform_kept() {
    let database = db::testing::fresh_database().await;
    let (alpha, owner) = registered_workspace(&database, "alpha", "Shop").await;
    let a = alpha.id().as_uuid();
    let home = database.place_dedicated(a).await;
    // A server still holds an idle connection to it, as one that served it lately would.
    let limits = db::PoolLimits {
        per_database: 2,
        max_pools: 4,
        idle_close: std::time::Duration::from_secs(600),
        acquire_timeout: std::time::Duration::from_secs(5),
    };
    let serving = database.db_with_clusters(limits);
    let placed = find_by_slug(&serving, &Slug::parse("alpha").unwrap())
        .await
        .unwrap()
        .unwrap();
    db::TenantScope::for_member(&serving, &placed, owner)
        .await
        .unwrap()
        .expect("served from its own database");
    database.set_tenant_status("alpha", "suspended").await;

    let owner_url = database.owner_url();
    let registered = [
        ("STOCKROOM_CLUSTER_TEST_URL", database.app_url()),
        ("STOCKROOM_CLUSTER_TEST_OWNER_URL", owner_url.as_str()),
    ];
    let purge = |settings: Settings| {
        server_command_with(
            &database,
            &["tenant", "purge", "alpha", "--reason", "left"],
            settings,
        )
    };
    let refused = purge(&[("STOCKROOM_CLUSTER_TEST_URL", database.app_url())]);
    assert!(!refused.status.success());
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("clusters.test.owner_url is not set"),
        "{stderr}"
    );
    assert!(
        database.database_exists(&home).await,
        "refused, nothing dropped"
    );

    let out = purge(&registered);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!("alpha: database {home} on cluster test dropped")),
        "{stdout}"
    );
    assert!(stdout.contains("verified"), "{stdout}");
    assert!(!database.database_exists(&home).await);
    assert_eq!(database.count_rows(None, "member_directory", a).await, 0);
    let purged = db::platform::tenants::find_by_id(&database.db, alpha.id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(purged.status(), domain::TenantStatus::Purged);
    assert_eq!(
        purged.placement(),
        &Placement::Shared,
        "names no database any more"
    );
}

#[tokio::test]
async fn tenant_provision_records_nothing_for_an_unreachable_cluster_or_a_foreign_database() {
    let database = db::testing::fresh_database().await;
    let alpha = workspace(&database, "alpha").await;
    let owner_url = database.owner_url();
    let clusters = [
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
    ];
    let shared = || async {
        find_by_slug(&database.db, &Slug::parse("alpha").unwrap())
            .await
            .unwrap()
            .unwrap()
            .placement()
            .clone()
    };

    let out = provision(&database, &["alpha", "--cluster", "dead"], &clusters);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("--cluster: cannot reach cluster `dead`"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert_eq!(shared().await, Placement::Shared, "nothing recorded");

    // A database by the name alpha's would have, made by someone else: left alone.
    let name = db::platform::provision::database_name(alpha.id());
    database
        .run_as_owner(&[&format!("CREATE DATABASE {name}")])
        .await;
    let out = provision(&database, &["alpha", "--cluster", "test"], &clusters);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!(
            "--cluster: The cluster already has a database named {name}"
        )),
        "{stderr}"
    );
    assert_eq!(shared().await, Placement::Shared, "nothing recorded");
    assert!(database.database_exists(&name).await, "nothing dropped");
}
