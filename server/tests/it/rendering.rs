//! Pages render to the end whatever else the process does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::support::{build_router, headers, location, TestApp};

/// Listing a router's routes switches resource loading off for the whole process while it
/// runs (leptos_server's `SuppressResourceLoad`), and a resource first polled in that window
/// never resolves: its page waited for the request timeout and answered 503 (issue 21, seen
/// as a console test that waited 30 s). Routers are now built from one listing made before
/// anything serves, so building more of them while pages render stalls nothing.
#[tokio::test]
async fn building_routers_while_pages_render_stalls_no_page() {
    let app = TestApp::spawn().await;
    let cookie = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    // Pages as fast as they come for two seconds: far more than alpha's plan allows.
    app.lift_rate("alpha").await;
    let stop = Arc::new(AtomicBool::new(false));
    let builder = std::thread::spawn({
        let (stop, db, outbox) = (stop.clone(), app.database.db.clone(), app.outbox.clone());
        move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let _inside = runtime.enter();
            let mut built = 0;
            while !stop.load(Ordering::Relaxed) {
                drop(build_router(db.clone(), &outbox));
                built += 1;
            }
            built
        }
    });
    let started = Instant::now();
    let mut pages = 0;
    while started.elapsed() < Duration::from_secs(2) {
        // A dashboard (its figures are a resource) and a page of a workspace that does not
        // exist (the site itself is a resource): both render resources every time.
        for (slug, cookie, expected) in [
            (Some("alpha"), Some(cookie.as_str()), StatusCode::OK),
            (Some("nobody-here"), None, StatusCode::NOT_FOUND),
        ] {
            let page = tokio::time::timeout(Duration::from_secs(5), app.get(slug, "/", cookie))
                .await
                .expect("the page answered within 5 s");
            assert_eq!(page.status(), expected);
            pages += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let built = builder.join().unwrap();
    assert!(
        built > 5 && pages > 5,
        "{built} routers built, {pages} pages"
    );
}

/// An answer that fits in a connection's first flight goes out as it is: compressing it saves
/// no round trip. Pages, and answers past that size, are gzipped for a client that takes gzip.
#[tokio::test]
async fn pages_and_answers_past_the_first_flight_are_compressed_small_answers_are_not() {
    use app::api::products::{ListProducts, SaveProduct};
    let app = TestApp::spawn().await;
    let cookie = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.lift_rate("alpha").await;
    let gzip = || headers(&[("accept-encoding", "gzip")]);
    let encoding = |response: &reqwest::Response| {
        response
            .headers()
            .get("content-encoding")
            .map(|value| value.to_str().unwrap().to_owned())
    };

    app.create_product("alpha", &cookie, "SKU-1", "Widget", "5")
        .await;
    let small = app
        .call::<ListProducts>(Some("alpha"), &[], Some(&cookie), gzip())
        .await;
    assert_eq!(small.status(), StatusCode::OK);
    assert_eq!(encoding(&small), None);
    assert!(small.text().await.unwrap().contains("SKU-1"));

    let page = app
        .get_with(Some("alpha"), "/products", Some(&cookie), gzip())
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(encoding(&page).as_deref(), Some("gzip"));

    let description = "A long description. ".repeat(40);
    for n in 2..=25 {
        let response = app
            .call::<SaveProduct>(
                Some("alpha"),
                &[
                    ("sku", &format!("SKU-{n}")),
                    ("name", "Widget"),
                    ("description", &description),
                    ("price", "9.99"),
                    ("stock", "5"),
                ],
                Some(&cookie),
                headers(&[]),
            )
            .await;
        assert!(
            location(&response).is_some(),
            "saved: {}",
            response.status()
        );
    }
    let large = app
        .call::<ListProducts>(Some("alpha"), &[], Some(&cookie), gzip())
        .await;
    assert_eq!(large.status(), StatusCode::OK);
    assert_eq!(encoding(&large).as_deref(), Some("gzip"));
    let without = app
        .call::<ListProducts>(Some("alpha"), &[], Some(&cookie), headers(&[]))
        .await;
    assert_eq!(encoding(&without), None);
    assert!(without.text().await.unwrap().len() > 14_000);
}

/// The public site's pages hydrate with a bundle of their own (`app::ssr::bundles`) and never
/// load the workspaces' bundle, which cannot show them; every other site's pages load it.
#[tokio::test]
async fn only_the_workspace_and_console_sites_load_the_main_bundle() {
    // The code files a page names (the stylesheet is shared).
    fn scripts(page: &str) -> Vec<&str> {
        page.split('"')
            .filter(|part| part.starts_with("/pkg/") && !part.ends_with(".css"))
            .collect()
    }
    let app = TestApp::spawn().await;
    app.register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    for path in ["/", "/register", "/find", "/no-such-page"] {
        let page = app.get(None, path, None).await.text().await.unwrap();
        assert!(page.contains("</html>"), "{path} rendered");
        let named = scripts(&page);
        assert!(
            named.iter().all(|file| file.starts_with("/pkg/public.")),
            "public {path} loads {named:?}"
        );
    }
    for (slug, path) in [
        (Some("alpha"), "/login"),
        (Some("admin"), "/login"),
        (Some("nobody-here"), "/"),
    ] {
        let page = app.get(slug, path, None).await.text().await.unwrap();
        let named = scripts(&page);
        assert!(
            named.iter().any(|file| file.starts_with("/pkg/stockroom"))
                && !named.iter().any(|file| file.starts_with("/pkg/public.")),
            "{slug:?} {path} loads {named:?}"
        );
    }
}

/// The public site chooses its page by path without a router (`app::pages::public_site`) and
/// reads its own query string: decoded, first value wins, and whatever it holds is only text.
#[tokio::test]
async fn the_public_site_shows_its_three_pages_by_path_and_404_for_the_rest() {
    let app = TestApp::spawn().await;
    for (path, status, heading) in [
        ("/", StatusCode::OK, "Already have a workspace?"),
        ("/register", StatusCode::OK, "Create your workspace"),
        ("/find", StatusCode::OK, "Find your workspace"),
        ("/registers", StatusCode::NOT_FOUND, "Page not found"),
        ("/find/more", StatusCode::NOT_FOUND, "Page not found"),
    ] {
        let page = app.get(None, path, None).await;
        assert_eq!(page.status(), status, "{path}");
        let body = page.text().await.unwrap();
        assert!(body.contains(heading), "{path} shows {heading}");
    }

    let page = app
        .get(None, "/register?slug=acme%2Doutdoor&slug=second", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"value="acme-outdoor""#),
        "decoded, first value"
    );

    let page = app
        .get(
            None,
            "/register?slug=%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
            None,
        )
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let body = page.text().await.unwrap();
    assert!(
        !body.contains("<script>alert(1)"),
        "the query is text, never markup"
    );
}

/// A page's address typed with a trailing slash leads to the page on every site, its query
/// kept; an address that a browser would read as another host's is never where it leads.
#[tokio::test]
async fn a_trailing_slash_leads_to_the_page() {
    let app = TestApp::spawn().await;
    app.register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    for (slug, path, page) in [
        (None, "/register/?slug=acme", "/register?slug=acme"),
        (Some("alpha"), "/login/", "/login"),
        (Some("admin"), "/login/", "/login"),
    ] {
        let response = app.get(slug, path, None).await;
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT, "{path}");
        assert_eq!(location(&response).as_deref(), Some(page), "{path}");
        assert_eq!(app.get(slug, page, None).await.status(), StatusCode::OK);
    }
    let response = app.get(None, "//evil.example/", None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(location(&response), None);
}
