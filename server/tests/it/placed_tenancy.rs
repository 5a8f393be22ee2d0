//! The cross-tenant sweeps of `tenancy`, run again with the workspaces' data in databases of
//! their own: one dedicated and the other shared, either way round, both dedicated, and each
//! moved there (and back) by `server tenant move` after it began.
//! Nothing of one workspace reaches the other's session, whichever database serves it.

use crate::support::{Layout, TestApp};
use crate::tenancy::{
    every_server_function_refuses_another_workspaces_session_in,
    foreign_product_and_order_ids_are_not_found_and_untouched_in,
    lists_and_dashboard_show_only_the_callers_workspace_in,
};

const PLACED: [Layout; 4] = [
    Layout::BravoDedicated,
    Layout::AlphaDedicated,
    Layout::BothDedicated,
    Layout::Moved,
];

#[tokio::test]
async fn every_server_function_refuses_another_workspaces_session_on_every_placement() {
    for layout in PLACED {
        every_server_function_refuses_another_workspaces_session_in(layout).await;
    }
}

#[tokio::test]
async fn foreign_ids_are_not_found_and_untouched_on_every_placement() {
    for layout in PLACED {
        foreign_product_and_order_ids_are_not_found_and_untouched_in(layout).await;
    }
}

#[tokio::test]
async fn lists_and_dashboard_show_only_the_callers_workspace_on_every_placement() {
    for layout in PLACED {
        lists_and_dashboard_show_only_the_callers_workspace_in(layout).await;
    }
}

#[tokio::test]
async fn the_console_shows_where_a_workspaces_data_lives_and_counts_it_there() {
    use app::api::console::{LoadTenant, TenantDetailView};
    use reqwest::header::HeaderMap;
    let app = TestApp::spawn_for(Layout::BravoDedicated).await;
    app.register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let b = app
        .register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    app.lay_out(Layout::BravoDedicated).await;
    app.create_product("bravo", &b, "B-1", "Bravo thing", "2")
        .await;
    let console = app
        .console_admin("root@platform.test", "console-password-1")
        .await;
    let detail = |slug: &'static str| {
        let console = console.clone();
        let app = &app;
        async move {
            let response = app
                .call::<LoadTenant>(
                    Some("admin"),
                    &[("slug", slug)],
                    Some(&console),
                    HeaderMap::new(),
                )
                .await;
            assert_eq!(response.status(), reqwest::StatusCode::OK);
            response.json::<TenantDetailView>().await.unwrap()
        }
    };
    let bravo = detail("bravo").await;
    assert!(
        bravo
            .data
            .starts_with("In a database of its own, stockroom_w_")
            && bravo.data.contains(" on cluster test: "),
        "{}",
        bravo.data
    );
    assert_eq!(
        (bravo.tenant.members, bravo.tenant.products),
        (1, 1),
        "counted in its own database"
    );
    let alpha = detail("alpha").await;
    assert!(
        alpha.data.starts_with("In the shared database: "),
        "{}",
        alpha.data
    );

    // The registry's list counts bravo where its rows are too.
    let list: app::api::console::TenantListView = app
        .call::<app::api::console::ListTenants>(
            Some("admin"),
            &[],
            Some(&console),
            HeaderMap::new(),
        )
        .await
        .json()
        .await
        .unwrap();
    let row = list.tenants.iter().find(|t| t.slug == "bravo").unwrap();
    assert_eq!(
        (row.members, row.products),
        (1, 1),
        "listed with its own counts"
    );

    // The Load page: the registered clusters and the pool bravo's requests opened.
    let load: app::api::console::LoadView = app
        .call::<app::api::console::LoadOverview>(
            Some("admin"),
            &[],
            Some(&console),
            HeaderMap::new(),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        load.clusters.contains(&"test".to_owned()),
        "{:?}",
        load.clusters
    );
    let bravo_pool = load
        .databases
        .iter()
        .find(|row| row.slug.as_deref() == Some("bravo"))
        .unwrap_or_else(|| panic!("bravo's pool is listed: {:?}", load.databases));
    assert_eq!(bravo_pool.cluster, "test");
    assert!(bravo_pool.database.starts_with("stockroom_w_"));
    assert!(
        load.databases_summary.contains("of at most 8 pools open"),
        "{}",
        load.databases_summary
    );
    let busy = load.busiest.iter().find(|w| w.slug == "bravo").unwrap();
    assert_eq!((busy.members, busy.products), (1, 1));
    assert!(
        busy.rows >= 2,
        "its rows are counted in its own database: {}",
        busy.rows
    );
}

#[tokio::test]
async fn the_console_gives_a_new_workspace_a_database_of_its_own_where_the_server_can() {
    use app::api::console::{LoadTenant, ProvisionTenant, TenantDetailView};
    use reqwest::header::HeaderMap;
    let app = TestApp::spawn_with_clusters(|config, database| {
        config.clusters.insert(
            db::testing::TEST_CLUSTER.to_owned(),
            server::config::ClusterConfig {
                url: database.app_url().to_owned(),
                owner_url: database.owner_url(),
            },
        );
        config.database.owner_url = database.owner_url();
    })
    .await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let console = app
        .console_admin("root@platform.test", "console-password-1")
        .await;
    let detail = || async {
        app.call::<LoadTenant>(
            Some("admin"),
            &[("slug", "alpha")],
            Some(&console),
            HeaderMap::new(),
        )
        .await
        .json::<TenantDetailView>()
        .await
        .unwrap()
    };
    assert_eq!(detail().await.clusters, ["test"], "offered where it can");

    let provision = |cluster: &'static str| {
        let console = console.clone();
        let app = &app;
        async move {
            app.call::<ProvisionTenant>(
                Some("admin"),
                &[("slug", "alpha"), ("cluster", cluster)],
                Some(&console),
                HeaderMap::new(),
            )
            .await
        }
    };
    let unknown = provision("nowhere").await;
    assert_eq!(unknown.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(detail().await.data.starts_with("In the shared database"));

    let placed = provision("test").await;
    assert_eq!(placed.status(), reqwest::StatusCode::OK);
    let after = detail().await;
    assert!(
        after.data.starts_with("In a database of its own"),
        "{}",
        after.data
    );
    assert!(after.clusters.is_empty(), "not offered again");
    assert!(
        app.signed_in("alpha", &owner).await,
        "its owner stays signed in"
    );
    app.create_product("alpha", &owner, "A-1", "Alpha thing", "1")
        .await;
}

#[tokio::test]
async fn a_server_without_owner_urls_offers_no_provisioning() {
    use app::api::console::{LoadTenant, ProvisionTenant, TenantDetailView};
    use reqwest::header::HeaderMap;
    let app = TestApp::spawn().await;
    app.register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let console = app
        .console_admin("root@platform.test", "console-password-1")
        .await;
    let detail: TenantDetailView = app
        .call::<LoadTenant>(
            Some("admin"),
            &[("slug", "alpha")],
            Some(&console),
            HeaderMap::new(),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(detail.clusters.is_empty());
    let refused = app
        .call::<ProvisionTenant>(
            Some("admin"),
            &[("slug", "alpha"), ("cluster", "test")],
            Some(&console),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(refused.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let body = refused.text().await.unwrap();
    assert!(body.contains("server tenant provision"), "{body}");
}

#[tokio::test]
async fn the_console_moves_a_workspace_with_its_data_and_follows_the_move() {
    use app::api::console::{LoadTenant, MoveTenant, TenantDetailView};
    use reqwest::header::HeaderMap;
    let app = TestApp::spawn_with_clusters(|config, database| {
        config.clusters.insert(
            db::testing::TEST_CLUSTER.to_owned(),
            server::config::ClusterConfig {
                url: database.app_url().to_owned(),
                owner_url: database.owner_url(),
            },
        );
        config.database.owner_url = database.owner_url();
        config.placements.move_hold_secs = 0;
    })
    .await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.create_product("alpha", &owner, "A-1", "Alpha thing", "3")
        .await;
    let console = app
        .console_admin("root@platform.test", "console-password-1")
        .await;
    let detail = || async {
        app.call::<LoadTenant>(
            Some("admin"),
            &[("slug", "alpha")],
            Some(&console),
            HeaderMap::new(),
        )
        .await
        .json::<TenantDetailView>()
        .await
        .unwrap()
    };
    let relocate = |to: &'static str| {
        let console = console.clone();
        let app = &app;
        async move {
            app.call::<MoveTenant>(
                Some("admin"),
                &[("slug", "alpha"), ("to", to)],
                Some(&console),
                HeaderMap::new(),
            )
            .await
        }
    };
    // Until the move is done, as the page's progress panel follows it.
    let settled = || async {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let now = detail().await;
            let open = now.latest_move.as_ref().is_some_and(|m| m.open);
            if tokio::time::Instant::now() > deadline {
                return now;
            }
            if !open {
                // Read again: one answer reads the placement before the move's state, so
                // it could show a move that closed just after its placement was read.
                return detail().await;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    };
    assert_eq!(detail().await.move_targets, ["test"]);

    let refused = relocate("nowhere").await;
    assert_eq!(refused.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let refused = relocate("shared").await;
    assert_eq!(refused.status(), reqwest::StatusCode::FORBIDDEN);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("already lives in the shared database"),
        "moving to where it is"
    );

    assert_eq!(relocate("test").await.status(), reqwest::StatusCode::OK);
    let there = settled().await;
    let done = there.latest_move.clone().expect("its move is shown");
    assert_eq!(done.state, "Moved", "{done:?}");
    assert!(done.rows_moved.unwrap_or(0) >= 2, "{done:?}");
    assert!(
        there.data.starts_with("In a database of its own"),
        "{}",
        there.data
    );
    assert_eq!(there.move_targets, ["shared"]);
    assert!(app.signed_in("alpha", &owner).await, "still signed in");
    app.create_product("alpha", &owner, "A-2", "Alpha other", "1")
        .await;

    assert_eq!(relocate("shared").await.status(), reqwest::StatusCode::OK);
    let back = settled().await;
    assert_eq!(back.latest_move.unwrap().state, "Moved");
    assert!(
        back.data.starts_with("In the shared database"),
        "{}",
        back.data
    );
    let products = app.get(Some("alpha"), "/products", Some(&owner)).await;
    let page = products.text().await.unwrap();
    assert!(page.contains("A-1") && page.contains("A-2"));
}
