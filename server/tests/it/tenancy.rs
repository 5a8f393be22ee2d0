//! Tenancy through the whole stack: Host → site, session → member, server functions, CSRF.
//! Every route and server function that touches tenant data is tried with another tenant's
//! session and must give nothing away.

use crate::support::{
    error_of, handoff_ticket, headers, location, session_cookie, set_cookie_header, Layout, TestApp,
};
use app::api::{CheckSlug, LoadSite, Register, SignIn, SignOut, SlugCheck};
use app::AppError;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

#[tokio::test]
async fn an_unknown_workspace_gets_a_404_page() {
    let app = TestApp::spawn().await;
    let response = app.get(Some("nobody-here"), "/", None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.text().await.unwrap().contains("No such workspace"));
    let response = app.get(Some("nobody-here"), "/login", None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn registration_hands_the_owner_a_host_only_session_on_the_workspace() {
    let app = TestApp::spawn().await;
    let cookie = app
        .register("acme", "ann@acme.test", "acme-password-1")
        .await;

    let page = app.get(Some("acme"), "/", Some(&cookie)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Welcome, Olive Owner"), "{html}");
    assert!(html.contains("ann@acme.test"));

    let response = app
        .sign_in("acme", "ann@acme.test", "acme-password-1")
        .await;
    let set_cookie = set_cookie_header(&response).expect("sign-in sets the session cookie");
    let lower = set_cookie.to_lowercase();
    assert!(
        lower.contains("httponly") && lower.contains("samesite=lax"),
        "{set_cookie}"
    );
    assert!(
        !lower.contains("domain="),
        "the cookie must stay on its own host: {set_cookie}"
    );
}

#[tokio::test]
async fn a_session_of_one_workspace_is_refused_on_another() {
    let app = TestApp::spawn().await;
    let a_cookie = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;

    // Pages.
    let page = app.get(Some("bravo"), "/", Some(&a_cookie)).await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("ann@alpha.test")
            && !html.contains("bob@bravo.test")
            && !html.contains("Shop"),
        "{html}"
    );

    // Server functions.
    let response = app
        .call::<LoadSite>(Some("bravo"), &[], Some(&a_cookie), HeaderMap::new())
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(!response.text().await.unwrap().contains("alpha"));

    // The public site and the console are not workspace A either.
    assert_eq!(
        app.get(None, "/", Some(&a_cookie)).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(Some("admin"), "/", Some(&a_cookie)).await.status(),
        StatusCode::FORBIDDEN
    );

    // On its own host the cookie still works.
    let own = app
        .call::<LoadSite>(Some("alpha"), &[], Some(&a_cookie), HeaderMap::new())
        .await;
    assert_eq!(own.status(), StatusCode::OK);
    assert!(own.text().await.unwrap().contains("ann@alpha.test"));
}

#[tokio::test]
async fn credentials_only_work_in_their_own_workspace() {
    let app = TestApp::spawn().await;
    app.register("alpha", "same@mail.test", "alpha-password-1")
        .await;
    app.register("bravo", "same@mail.test", "bravo-password-1")
        .await;
    app.register("charlie", "carl@charlie.test", "charlie-password-1")
        .await;

    let wrong_tenant_password = app
        .sign_in("bravo", "same@mail.test", "alpha-password-1")
        .await;
    let err = error_of(wrong_tenant_password).await;
    let generic = AppError::Refused {
        message: "That email and password don't match an account in this workspace.".into(),
    };
    assert_eq!(err, generic);
    // An account that exists only elsewhere reads exactly like a wrong password.
    let elsewhere = app
        .sign_in("charlie", "same@mail.test", "alpha-password-1")
        .await;
    assert_eq!(error_of(elsewhere).await, generic);

    let ok = app
        .sign_in("bravo", "same@mail.test", "bravo-password-1")
        .await;
    assert_eq!(location(&ok).as_deref(), Some("/"));
    let cookie = session_cookie(&ok).unwrap();
    let site = app
        .call::<LoadSite>(Some("bravo"), &[], Some(&cookie), HeaderMap::new())
        .await;
    let body = site.text().await.unwrap();
    assert!(body.contains("\"slug\":\"bravo\""), "{body}");
}

#[tokio::test]
async fn signing_in_issues_a_new_session_id_and_signing_out_kills_it_server_side() {
    let app = TestApp::spawn().await;
    app.register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let first = session_cookie(
        &app.sign_in("alpha", "ann@alpha.test", "alpha-password-1")
            .await,
    )
    .unwrap();

    // Signing in again while holding a session must not keep (or reuse) that session's id.
    let again = app
        .call::<SignIn>(
            Some("alpha"),
            &[
                ("email", "ann@alpha.test"),
                ("password", "alpha-password-1"),
            ],
            Some(&first),
            HeaderMap::new(),
        )
        .await;
    let second = session_cookie(&again).expect("a fresh cookie on sign-in");
    assert_ne!(second, first);
    let old = app
        .call::<LoadSite>(Some("alpha"), &[], Some(&first), HeaderMap::new())
        .await;
    assert!(
        old.text().await.unwrap().contains("\"viewer\":null"),
        "the previous id is dead"
    );

    let out = app
        .call::<SignOut>(Some("alpha"), &[], Some(&second), HeaderMap::new())
        .await;
    assert_eq!(location(&out).as_deref(), Some("/login"));
    // A copy of the old cookie no longer signs anybody in.
    let site = app
        .call::<LoadSite>(Some("alpha"), &[], Some(&second), HeaderMap::new())
        .await;
    assert!(site.text().await.unwrap().contains("\"viewer\":null"));
}

async fn register_alpha(app: &TestApp) -> reqwest::Response {
    app.call::<Register>(
        None,
        &[
            ("business_name", "Alpha"),
            ("slug", "alpha"),
            ("owner_name", "Ann"),
            ("email", "ann@alpha.test"),
            ("password", "alpha-password-1"),
        ],
        None,
        HeaderMap::new(),
    )
    .await
}

#[tokio::test]
async fn a_welcome_ticket_only_works_once_and_on_its_own_workspace() {
    let app = TestApp::spawn().await;
    app.register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    let ticket = handoff_ticket(&register_alpha(&app).await).unwrap();
    let public = app.public_origin();

    let on_bravo = app.post_welcome("bravo", &ticket, &public).await;
    assert_eq!(location(&on_bravo).as_deref(), Some("/login"));
    assert!(session_cookie(&on_bravo).is_none());

    let first = app.post_welcome("alpha", &ticket, &public).await;
    assert_eq!(location(&first).as_deref(), Some("/"));
    assert!(session_cookie(&first).is_some());
    let second = app.post_welcome("alpha", &ticket, &public).await;
    assert_eq!(location(&second).as_deref(), Some("/login"));
}

/// Login CSRF: a registrant must not be able to send someone a link (or a page of their own)
/// that signs that person in to the registrant's workspace.
#[tokio::test]
async fn the_registration_hand_off_signs_in_only_the_browser_that_registered() {
    let app = TestApp::spawn().await;
    let registered = register_alpha(&app).await;
    let ticket = handoff_ticket(&registered).unwrap();

    // A link with the ticket signs nobody in.
    let link = app
        .get(Some("alpha"), &format!("/welcome?ticket={ticket}"), None)
        .await;
    assert_eq!(location(&link).as_deref(), Some("/login"));
    assert!(session_cookie(&link).is_none());
    // A post from any other page is refused.
    for origin in ["http://evil.example", "http://alpha.localhost", "null"] {
        let forged = app.post_welcome("alpha", &ticket, origin).await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN, "{origin}");
    }
    // The public site's page posts the ticket only for the browser holding its cookie.
    let stranger = app.get(None, "/welcome", None).await;
    assert_eq!(location(&stranger).as_deref(), Some("/"));
    let cookie = format!("stockroom_handoff=alpha.{ticket}");
    let page = app.get(None, "/welcome", Some(&cookie)).await;
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("value=\"{ticket}\"")), "{html}");
    assert!(html.contains(&format!(
        "action=\"http://{}/welcome\"",
        app.host(Some("alpha"))
    )));
    assert!(policy.contains("form-action http://alpha."), "{policy}");
    // And the ticket still works, once, for that browser.
    let welcome = app
        .post_welcome("alpha", &ticket, &app.public_origin())
        .await;
    assert!(session_cookie(&welcome).is_some());
}

#[tokio::test]
async fn registration_and_slug_checks_live_only_on_the_public_site() {
    let app = TestApp::spawn().await;
    let cookie = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let check = app
        .call::<CheckSlug>(
            Some("alpha"),
            &[("slug", "newshop")],
            Some(&cookie),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(error_of(check).await, AppError::NotFound);

    let taken = app
        .call::<CheckSlug>(None, &[("slug", "alpha")], None, HeaderMap::new())
        .await;
    let taken: SlugCheck = serde_json::from_str(&taken.text().await.unwrap()).unwrap();
    assert_eq!(taken, SlugCheck::Taken);
    let reserved = app
        .call::<CheckSlug>(None, &[("slug", "admin")], None, HeaderMap::new())
        .await;
    let reserved: SlugCheck = serde_json::from_str(&reserved.text().await.unwrap()).unwrap();
    assert!(matches!(reserved, SlugCheck::Invalid(_)));
}

#[tokio::test]
async fn registration_reports_every_bad_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    app.register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let response = app
        .call::<Register>(
            None,
            &[
                ("business_name", " "),
                ("slug", "Bad_Slug"),
                ("owner_name", "Bo"),
                ("email", "nope"),
                ("password", "password123"),
            ],
            None,
            HeaderMap::new(),
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a refused form is not a server failure"
    );
    let err = error_of(response).await;
    for field in ["business_name", "slug", "email", "password"] {
        assert!(
            err.message_for(field).is_some(),
            "{field} has an error: {err:?}"
        );
    }
    assert!(err.message_for("owner_name").is_none());

    let duplicate = app
        .call::<Register>(
            None,
            &[
                ("business_name", "Again"),
                ("slug", "alpha"),
                ("owner_name", "Bo"),
                ("email", "bo@x.test"),
                ("password", "bo-password-12"),
            ],
            None,
            HeaderMap::new(),
        )
        .await;
    let err = error_of(duplicate).await;
    assert_eq!(
        err.message_for("slug").as_deref(),
        Some("This address is already taken. Please pick another one.")
    );
    // The refused attempt created no owner: bo cannot sign in to alpha.
    assert!(matches!(
        error_of(app.sign_in("alpha", "bo@x.test", "bo-password-12").await).await,
        AppError::Refused { .. }
    ));
}

#[tokio::test]
async fn cross_site_posts_are_refused_before_they_change_anything() {
    let app = TestApp::spawn().await;
    app.register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let form = [
        ("email", "ann@alpha.test"),
        ("password", "alpha-password-1"),
    ];

    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let response = app
            .call::<SignIn>(Some("alpha"), &form, None, headers(&[(name, value)]))
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}: {value}");
        assert!(session_cookie(&response).is_none());
    }

    // Without Sec-Fetch-Site, the Origin must be exactly this host.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = format!(
        "http://{}{}",
        app.addr,
        <SignIn as leptos::server_fn::ServerFn>::PATH
    );
    let sibling = format!("http://bravo.{}", app.base_domain);
    for origin in ["http://evil.example", sibling.as_str()] {
        let response = client
            .post(&url)
            .header("host", app.host(Some("alpha")))
            .header("origin", origin)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "origin {origin}");
    }
    let own_origin = format!("http://{}", app.host(Some("alpha")));
    let response = client
        .post(&url)
        .header("host", app.host(Some("alpha")))
        .header("origin", own_origin)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&response).as_deref(),
        Some("/"),
        "same-origin sign-in works"
    );
}

#[tokio::test]
async fn repeated_failures_throttle_sign_in_even_with_the_right_password() {
    let app = TestApp::spawn().await;
    app.register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    for _ in 0..5 {
        let response = app
            .sign_in("alpha", "ann@alpha.test", "wrong-password")
            .await;
        assert!(matches!(error_of(response).await, AppError::Refused { .. }));
    }
    let response = app
        .sign_in("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    match error_of(response).await {
        AppError::RateLimited { message } => assert!(message.contains("Too many"), "{message}"),
        other => panic!("expected throttling, got {other:?}"),
    }
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let health = client
        .get(format!("http://{}/healthz", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = client
        .get(format!("http://{}/readyz", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert!(
        ready.headers().get("x-request-id").is_some(),
        "every response carries its request id"
    );
}

#[tokio::test]
async fn find_my_workspace_mails_the_links_and_says_the_same_to_everyone() {
    use app::api::FindWorkspaces;
    let app = TestApp::spawn().await;
    app.register("alpha", "same@mail.test", "alpha-password-1")
        .await;
    app.register("bravo", "same@mail.test", "bravo-password-1")
        .await;
    app.register("charlie", "carl@charlie.test", "charlie-password-1")
        .await;

    let known = app
        .call::<FindWorkspaces>(None, &[("email", "same@mail.test")], None, HeaderMap::new())
        .await;
    let unknown = app
        .call::<FindWorkspaces>(None, &[("email", "who@mail.test")], None, HeaderMap::new())
        .await;
    assert_eq!(known.status(), StatusCode::OK);
    assert_eq!(unknown.status(), StatusCode::OK);
    assert_eq!(
        known.text().await.unwrap(),
        unknown.text().await.unwrap(),
        "the page never tells"
    );

    // The list is mailed after the answer; give it a moment.
    let mut mail = app.sent_mail();
    for _ in 0..50 {
        if !mail.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        mail = app.sent_mail();
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mail = app.sent_mail();
    assert_eq!(mail.len(), 1, "one message, to the known address only");
    // Quoted-printable folds long lines with a trailing '='; unfold before reading.
    let message = &mail[0].replace("=\r\n", "").replace("=\n", "");
    assert!(message.contains("To: same@mail.test"), "{message}");
    assert!(message.contains(&format!("http://alpha.{}/login", app.base_domain)));
    assert!(message.contains(&format!("http://bravo.{}/login", app.base_domain)));
    assert!(!message.contains("charlie"));

    // Only on the public site.
    let on_workspace = app
        .call::<FindWorkspaces>(
            Some("alpha"),
            &[("email", "same@mail.test")],
            None,
            HeaderMap::new(),
        )
        .await;
    assert_eq!(error_of(on_workspace).await, AppError::NotFound);
}

#[tokio::test]
async fn suspending_a_workspace_signs_its_people_out_and_shows_a_clear_page() {
    let app = TestApp::spawn().await;
    let cookie = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.database.set_tenant_status("alpha", "suspended").await;

    let page = app.get(Some("alpha"), "/", Some(&cookie)).await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("This workspace is suspended"));
    let sign_in = app
        .sign_in("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    assert_eq!(
        error_of(sign_in).await,
        AppError::NotFound,
        "nobody signs in to a suspended workspace"
    );

    // Reactivated, the old session is gone for good: it was ended, not merely hidden.
    app.database.set_tenant_status("alpha", "active").await;
    let site = app
        .call::<LoadSite>(Some("alpha"), &[], Some(&cookie), HeaderMap::new())
        .await;
    assert!(site.text().await.unwrap().contains("\"viewer\":null"));
}

#[tokio::test]
async fn sessions_end_at_the_absolute_timeout_however_active() {
    let app = TestApp::spawn_with(|config| config.sessions.absolute_timeout_hours = 0).await;
    let cookie = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let site = app
        .call::<LoadSite>(Some("alpha"), &[], Some(&cookie), HeaderMap::new())
        .await;
    assert!(site.text().await.unwrap().contains("\"viewer\":null"));
}

#[tokio::test]
async fn the_session_cookie_expires_after_the_idle_timeout() {
    let app = TestApp::spawn_with(|config| config.sessions.idle_timeout_mins = 30).await;
    app.register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let response = app
        .sign_in("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let cookie = set_cookie_header(&response).unwrap();
    assert!(cookie.contains("Max-Age=1800"), "{cookie}");
}

/// Signing in writes the whole session with a fresh expiry, so the requests right after it
/// have nothing to slide: they neither write the session again nor send its cookie anew.
#[tokio::test]
async fn requests_right_after_sign_in_leave_the_session_as_it_is() {
    let app = TestApp::spawn().await;
    app.register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let signed_in = app
        .sign_in("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let cookie = session_cookie(&signed_in).expect("signing in sets the session cookie");
    for _ in 0..2 {
        let site = app
            .call::<LoadSite>(Some("alpha"), &[], Some(&cookie), HeaderMap::new())
            .await;
        assert_eq!(site.status(), StatusCode::OK);
        assert_eq!(
            set_cookie_header(&site),
            None,
            "the session was written again"
        );
        let body = site.text().await.unwrap();
        assert!(body.contains("ann@alpha.test"), "still signed in: {body}");
    }
}

/// Every registered server function, called with workspace A's session on workspace B's host,
/// is refused and answers nothing of either workspace. New server functions are covered the
/// moment they exist, because the list comes from the registry, not from this file.
#[tokio::test]
async fn every_server_function_refuses_another_workspaces_session() {
    every_server_function_refuses_another_workspaces_session_in(Layout::Shared).await;
}

/// The sweep, with alpha and bravo placed as `layout` says (also run by `placed_tenancy`).
pub(crate) async fn every_server_function_refuses_another_workspaces_session_in(layout: Layout) {
    let app = TestApp::spawn_for(layout).await;
    let a_cookie = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    app.lay_out(layout).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let paths: Vec<_> = leptos::server_fn::axum::server_fn_paths().collect();
    assert!(
        paths.len() >= 6,
        "server functions are registered: {paths:?}"
    );
    for (path, method) in paths {
        let url = format!("http://{}{path}", app.addr);
        let request = if method == http::Method::GET {
            client.get(&url)
        } else {
            client.post(&url)
        };
        let response = request
            .header("host", app.host(Some("bravo")))
            .header("cookie", &a_cookie)
            .header("sec-fetch-site", "same-origin")
            .form(&[
                ("email", "ann@alpha.test"),
                ("slug", "alpha"),
                ("password", "alpha-password-1"),
                ("kind", "workspace"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        let body = response.text().await.unwrap();
        for secret in ["alpha", "bravo", "ann@", "bob@", "Olive"] {
            assert!(!body.contains(secret), "{path} leaked {secret}: {body}");
        }
    }
}

/// Same-session calls that name another workspace's product or order by id: the answer is the
/// same NotFound as for an id that never existed, and nothing changes.
#[tokio::test]
async fn foreign_product_and_order_ids_are_not_found_and_untouched() {
    foreign_product_and_order_ids_are_not_found_and_untouched_in(Layout::Shared).await;
}

pub(crate) async fn foreign_product_and_order_ids_are_not_found_and_untouched_in(layout: Layout) {
    use app::api::orders::{ChangeOrderStatus, LoadOrder, PlaceOrder};
    use app::api::products::{LoadProduct, SaveProduct, SetProductArchived};
    let app = TestApp::spawn_for(layout).await;
    let a = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let b = app
        .register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    app.lay_out(layout).await;

    let product_id = app
        .create_product("bravo", &b, "SECRET-1", "Bravo secret", "5")
        .await;
    let order_id = app.place_order("bravo", &b, &product_id, "2").await;

    let never = "00000000-0000-4000-8000-000000000000";
    for id in [product_id.as_str(), never] {
        let load = app
            .call::<LoadProduct>(Some("alpha"), &[("id", id)], Some(&a), HeaderMap::new())
            .await;
        assert_eq!(load.status(), StatusCode::NOT_FOUND);
        assert!(!load.text().await.unwrap().contains("secret"));
        let edit = app
            .call::<SaveProduct>(
                Some("alpha"),
                &[
                    ("id", id),
                    ("sku", "MINE"),
                    ("name", "Mine"),
                    ("description", ""),
                    ("price", "1"),
                    ("stock", "0"),
                ],
                Some(&a),
                HeaderMap::new(),
            )
            .await;
        assert_eq!(edit.status(), StatusCode::NOT_FOUND);
        let archive = app
            .call::<SetProductArchived>(
                Some("alpha"),
                &[("id", id), ("archived", "true")],
                Some(&a),
                HeaderMap::new(),
            )
            .await;
        assert_eq!(archive.status(), StatusCode::NOT_FOUND);
        let order = app
            .call::<PlaceOrder>(
                Some("alpha"),
                &[
                    ("customer_name", "Alpha's customer"),
                    ("customer_email", "customer@alpha.test"),
                    ("lines[0][product_id]", id),
                    ("lines[0][quantity]", "1"),
                ],
                Some(&a),
                HeaderMap::new(),
            )
            .await;
        let err = error_of(order).await;
        assert_eq!(
            err.message_for("line-1").as_deref(),
            Some("This product does not exist.")
        );
    }
    for id in [order_id.as_str(), never] {
        let load = app
            .call::<LoadOrder>(Some("alpha"), &[("id", id)], Some(&a), HeaderMap::new())
            .await;
        assert_eq!(load.status(), StatusCode::NOT_FOUND);
        let cancel = app
            .call::<ChangeOrderStatus>(
                Some("alpha"),
                &[("id", id), ("to", "CANCELLED")],
                Some(&a),
                HeaderMap::new(),
            )
            .await;
        assert_eq!(cancel.status(), StatusCode::NOT_FOUND);
    }

    // Bravo's data is exactly as Bravo left it.
    let product = app
        .call::<LoadProduct>(
            Some("bravo"),
            &[("id", product_id.as_str())],
            Some(&b),
            HeaderMap::new(),
        )
        .await;
    let body = product.text().await.unwrap();
    assert!(
        body.contains("\"stock\":3") && body.contains("\"archived\":false"),
        "{body}"
    );
    let order = app
        .call::<LoadOrder>(
            Some("bravo"),
            &[("id", order_id.as_str())],
            Some(&b),
            HeaderMap::new(),
        )
        .await;
    assert!(order
        .text()
        .await
        .unwrap()
        .contains("\"status\":\"PENDING\""));

    // The pages of those ids, opened in alpha, are plain 404s that show nothing of bravo.
    for path in [
        format!("/products/{product_id}"),
        format!("/orders/{order_id}"),
    ] {
        let page = app.get(Some("alpha"), &path, Some(&a)).await;
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{path}");
        let html = page.text().await.unwrap();
        assert!(
            !html.contains("SECRET") && !html.contains("Bravo"),
            "{path} leaked bravo's data"
        );
    }
}

#[tokio::test]
async fn lists_and_dashboard_show_only_the_callers_workspace() {
    lists_and_dashboard_show_only_the_callers_workspace_in(Layout::Shared).await;
}

pub(crate) async fn lists_and_dashboard_show_only_the_callers_workspace_in(layout: Layout) {
    use app::api::dashboard::LoadDashboard;
    use app::api::orders::ListOrders;
    use app::api::products::ListProducts;
    let app = TestApp::spawn_for(layout).await;
    let a = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let b = app
        .register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    app.lay_out(layout).await;
    let product_id = app
        .create_product("bravo", &b, "BRAVO-ONLY", "Bravo only", "2")
        .await;
    app.place_order("bravo", &b, &product_id, "2").await;

    for body in [
        app.call::<ListProducts>(Some("alpha"), &[], Some(&a), HeaderMap::new())
            .await
            .text()
            .await
            .unwrap(),
        app.call::<ListOrders>(Some("alpha"), &[], Some(&a), HeaderMap::new())
            .await
            .text()
            .await
            .unwrap(),
        app.call::<LoadDashboard>(Some("alpha"), &[], Some(&a), HeaderMap::new())
            .await
            .text()
            .await
            .unwrap(),
    ] {
        assert!(
            !body.contains("BRAVO")
                && !body.contains("Bravo only")
                && !body.contains("\"orders\":1"),
            "{body}"
        );
    }
    let theirs = app
        .call::<LoadDashboard>(Some("bravo"), &[], Some(&b), HeaderMap::new())
        .await
        .text()
        .await
        .unwrap();
    assert!(theirs.contains("\"total_orders\":1"), "{theirs}");
    // Signed out, nothing at all.
    let anonymous = app
        .call::<ListProducts>(Some("bravo"), &[], None, HeaderMap::new())
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

/// The dashboard shows what the workspace uses of its own plan, and only its own.
#[tokio::test]
async fn the_dashboard_shows_the_workspaces_use_of_its_plan() {
    let app = TestApp::spawn().await;
    let a = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let b = app
        .register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    for n in 0..3 {
        app.create_product("bravo", &b, &format!("B-{n}"), "Bravo thing", "2")
            .await;
    }
    app.set_plan("bravo", "PRO").await;
    let page = |slug: &'static str, cookie: String| {
        let app = &app;
        async move {
            let html = app
                .get(Some(slug), "/", Some(&cookie))
                .await
                .text()
                .await
                .unwrap();
            let start = html
                .find("data-testid=\"plan-usage\"")
                .expect("a plan section");
            html[start..].split("</section>").next().unwrap().to_owned()
        }
    };
    let bravo = page("bravo", b).await;
    assert!(bravo.contains("Your plan: Pro"), "{bravo}");
    assert!(bravo.contains("3 / 10000 products"), "{bravo}");
    assert!(bravo.contains("6000 requests a minute"), "{bravo}");
    let alpha = page("alpha", a).await;
    assert!(alpha.contains("Your plan: Free"), "{alpha}");
    assert!(alpha.contains("0 / 100 products"), "{alpha}");
    assert!(alpha.contains("1 / 5 members"), "{alpha}");
}

#[tokio::test]
async fn bad_product_input_names_each_field_and_writes_nothing() {
    use app::api::products::{ListProducts, SaveProduct};
    let app = TestApp::spawn().await;
    let a = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let bad = app
        .call::<SaveProduct>(
            Some("alpha"),
            &[
                ("sku", "has space"),
                ("name", " "),
                ("description", ""),
                ("price", "-2"),
                ("stock", "1.5"),
            ],
            Some(&a),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err = error_of(bad).await;
    assert_eq!(
        err.message_for("price").as_deref(),
        Some("The price cannot be negative.")
    );
    assert!(
        err.message_for("sku").is_some()
            && err.message_for("name").is_some()
            && err.message_for("stock").is_some()
    );

    let ok = [
        ("sku", "MUG"),
        ("name", "Mug"),
        ("description", ""),
        ("price", "abc"),
        ("stock", "-1"),
    ];
    let err = error_of(
        app.call::<SaveProduct>(Some("alpha"), &ok, Some(&a), HeaderMap::new())
            .await,
    )
    .await;
    assert!(err.message_for("price").unwrap().contains("digits"));
    assert_eq!(
        err.message_for("stock").as_deref(),
        Some("This cannot be negative.")
    );

    let first = [
        ("sku", "MUG"),
        ("name", "Mug"),
        ("description", ""),
        ("price", "2"),
        ("stock", "1"),
    ];
    assert!(location(
        &app.call::<SaveProduct>(Some("alpha"), &first, Some(&a), HeaderMap::new())
            .await
    )
    .is_some());
    let dup = [
        ("sku", "mug"),
        ("name", "Other mug"),
        ("description", ""),
        ("price", "2"),
        ("stock", "1"),
    ];
    let err = error_of(
        app.call::<SaveProduct>(Some("alpha"), &dup, Some(&a), HeaderMap::new())
            .await,
    )
    .await;
    assert!(err.message_for("sku").is_some(), "{err:?}");

    let list = app
        .call::<ListProducts>(Some("alpha"), &[], Some(&a), HeaderMap::new())
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        list.matches("\"sku\"").count(),
        1,
        "only the one valid product exists: {list}"
    );
}

#[tokio::test]
async fn a_member_is_refused_every_managers_action_over_http() {
    use app::api::orders::ChangeOrderStatus;
    use app::api::products::{SaveProduct, SetProductArchived};
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let product = app.create_product("alpha", &owner, "MUG", "Mug", "5").await;
    let tenant = db::platform::tenants::find_by_slug(
        &app.database.db,
        &domain::Slug::parse("alpha").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    let hash = app::ssr::passwords::PasswordHasher::new(
        app::ssr::passwords::HashCost {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        },
        1,
    )
    .unwrap()
    .hash(&domain::Password::new_choice("member-password-1").unwrap())
    .await
    .unwrap();
    db::platform::operator::add_member(
        &app.database.db,
        &tenant,
        &domain::Email::parse("mo@alpha.test").unwrap(),
        &domain::PersonName::parse("Mo").unwrap(),
        domain::Role::Member,
        &hash,
    )
    .await
    .unwrap();
    let member = session_cookie(
        &app.sign_in("alpha", "mo@alpha.test", "member-password-1")
            .await,
    )
    .unwrap();

    let create = [
        ("sku", "NEW"),
        ("name", "New"),
        ("description", ""),
        ("price", "1"),
        ("stock", "1"),
    ];
    let response = app
        .call::<SaveProduct>(Some("alpha"), &create, Some(&member), HeaderMap::new())
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let archive = [("id", product.as_str()), ("archived", "true")];
    let response = app
        .call::<SetProductArchived>(Some("alpha"), &archive, Some(&member), HeaderMap::new())
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // Members place and progress orders; cancelling (which returns stock) is a manager's call.
    let order = app.place_order("alpha", &member, &product, "2").await;
    let confirm = [("id", order.as_str()), ("to", "CONFIRMED")];
    assert_eq!(
        app.call::<ChangeOrderStatus>(Some("alpha"), &confirm, Some(&member), HeaderMap::new())
            .await
            .status(),
        StatusCode::OK
    );
    let cancel = [("id", order.as_str()), ("to", "CANCELLED")];
    assert_eq!(
        app.call::<ChangeOrderStatus>(Some("alpha"), &cancel, Some(&member), HeaderMap::new())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call::<ChangeOrderStatus>(Some("alpha"), &cancel, Some(&owner), HeaderMap::new())
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn anonymous_actions_are_rate_limited_without_giving_anything_away() {
    use app::api::FindWorkspaces;
    let app = TestApp::spawn_with(|config| {
        config.limits.registrations_per_hour_per_address = 2;
        config.limits.workspace_lookups_per_hour_per_email = 1;
    })
    .await;
    app.register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.register("bravo", "ann@alpha.test", "bravo-password-1")
        .await;
    let third = app
        .call::<Register>(
            None,
            &[
                ("business_name", "Third"),
                ("slug", "charlie"),
                ("owner_name", "Cy"),
                ("email", "cy@charlie.test"),
                ("password", "charlie-password-1"),
            ],
            None,
            HeaderMap::new(),
        )
        .await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(matches!(
        error_of(third).await,
        AppError::RateLimited { .. }
    ));

    // The second lookup for one mailbox answers exactly like the first, but sends nothing.
    for _ in 0..2 {
        let answer = app
            .call::<FindWorkspaces>(None, &[("email", "ann@alpha.test")], None, HeaderMap::new())
            .await;
        assert_eq!(answer.status(), StatusCode::OK);
    }
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(app.sent_mail().len(), 1);
}
