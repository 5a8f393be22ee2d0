//! API tokens: made and revoked on the settings page, refused from the call after their
//! revocation, acting with their creator's current role, counted by the plan, and worth
//! nothing on the screens.

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::json;

use super::{get, post, revoke, token};
use crate::support::{error_of, TestApp};
use app::api::api_tokens::{ApiTokensView, CreateApiToken, LoadApiTokens};
use app::AppError;

/// Revoked: refused on its next call (on another process too: `nodes.rs`), still listed.
#[tokio::test]
async fn a_revoked_token_is_refused_on_its_next_call_and_still_listed() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.lift_rate("alpha").await;
    let secret = token(&app, "alpha", &owner, "read").await;
    for _ in 0..2 {
        assert_eq!(
            get(&app, "alpha", "/products", &secret).await.status,
            StatusCode::OK
        );
    }
    revoke(&app, "alpha", &owner, &secret).await;
    assert_eq!(
        get(&app, "alpha", "/products", &secret).await.status,
        StatusCode::UNAUTHORIZED
    );

    // The list still shows it, as revoked, with when it was last used.
    let listed = app
        .call::<LoadApiTokens>(Some("alpha"), &[], Some(&owner), HeaderMap::new())
        .await;
    let view: ApiTokensView = serde_json::from_str(&listed.text().await.unwrap()).unwrap();
    assert_eq!(view.tokens.len(), 1);
    assert_eq!(view.tokens[0].state, "Revoked");
    assert_ne!(view.tokens[0].last_used, "Never");
    assert!(secret.starts_with(&view.tokens[0].prefix));
    assert!(!listed_contains_secret(&view, &secret));
}

fn listed_contains_secret(view: &ApiTokensView, secret: &str) -> bool {
    serde_json::to_string(view).unwrap().contains(&secret[12..])
}

#[tokio::test]
async fn a_write_token_acts_with_its_creators_current_role() {
    use app::api::team::{ChangeMemberRole, LoadTeam, RemoveMember, TeamView};
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.lift_rate("alpha").await;
    let admin = app
        .add_member(
            "alpha",
            "ada@alpha.test",
            domain::Role::Admin,
            "ada-password-12",
        )
        .await;
    let write = token(&app, "alpha", &admin, "write").await;
    let new_product = |sku: &str| json!({"sku": sku, "name": "Mug", "price": {"amount_minor": 100, "currency": "USD"}, "stock": 5});
    let made = post(&app, "alpha", "/products", &write, new_product("MUG-1")).await;
    assert_eq!(made.status, StatusCode::CREATED);
    let mug = made.body["id"].as_str().unwrap().to_owned();
    let team = app
        .call::<LoadTeam>(Some("alpha"), &[], Some(&owner), HeaderMap::new())
        .await;
    let team: TeamView = serde_json::from_str(&team.text().await.unwrap()).unwrap();
    let ada = team
        .members
        .iter()
        .find(|m| m.email == "ada@alpha.test")
        .unwrap()
        .id
        .clone();

    // Demoted to member: the token may still order, no longer manage products.
    let demoted = app
        .call::<ChangeMemberRole>(
            Some("alpha"),
            &[("id", &ada), ("role", "MEMBER")],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(demoted.status(), StatusCode::OK);
    let refused = post(&app, "alpha", "/products", &write, new_product("MUG-2")).await;
    assert_eq!(
        (refused.status, refused.problem()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let ordered = post(
        &app,
        "alpha",
        "/orders",
        &write,
        json!({"lines": [{"product_id": mug, "quantity": 1}]}),
    )
    .await;
    assert_eq!(ordered.status, StatusCode::CREATED);

    // Removed: the token is worth nothing.
    let removed = app
        .call::<RemoveMember>(
            Some("alpha"),
            &[("id", &ada)],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(removed.status(), StatusCode::OK);
    assert_eq!(
        get(&app, "alpha", "/products", &write).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn tokens_count_against_the_plan_and_only_managers_make_them() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.lift_rate("alpha").await;
    let member = app
        .add_member(
            "alpha",
            "mo@alpha.test",
            domain::Role::Member,
            "mo-password-123",
        )
        .await;
    let create = |cookie: String| {
        let app = &app;
        async move {
            app.call::<CreateApiToken>(
                Some("alpha"),
                &[
                    ("name", "Shop"),
                    ("role", "write"),
                    ("expires_in_days", "30"),
                ],
                Some(&cookie),
                HeaderMap::new(),
            )
            .await
        }
    };
    assert_eq!(
        error_of(create(member.clone()).await).await,
        AppError::Forbidden
    );
    let first = create(owner.clone()).await;
    let first: serde_json::Value = serde_json::from_str(&first.text().await.unwrap()).unwrap();
    create(owner.clone()).await;
    // The free plan allows two.
    let third = create(owner.clone()).await;
    assert!(matches!(
        error_of(third).await,
        AppError::LimitReached { .. }
    ));
    revoke(&app, "alpha", &owner, first["secret"].as_str().unwrap()).await;
    assert_eq!(create(owner.clone()).await.status(), StatusCode::OK);

    // Bad choices are refused on their fields.
    let bad = app
        .call::<CreateApiToken>(
            Some("alpha"),
            &[("name", " "), ("role", "admin"), ("expires_in_days", "3")],
            Some(&owner),
            HeaderMap::new(),
        )
        .await;
    let err = error_of(bad).await;
    for field in ["name", "role", "expires_in_days"] {
        assert!(err.message_for(field).is_some(), "{field}: {err:?}");
    }
}

/// A token is worth nothing outside the API: every server function behind the screens and
/// the console, and every screen, answers a request that carries only a bearer token
/// exactly as it answers one that carries nothing.
#[tokio::test]
async fn a_token_does_not_sign_anyone_in_to_the_screens() {
    use crate::hostile::{functions, As};
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.lift_rate("alpha").await;
    let secret = token(&app, "alpha", &owner, "write").await;
    super::product(&app, "alpha", &secret, "TOKEN-ONLY-1", 5).await;
    let bearer = format!("Bearer {secret}");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let send =
        |path: String, slug: &'static str, args: Vec<(&'static str, &'static str)>, token: bool| {
            let (app, client, bearer) = (&app, &client, &bearer);
            async move {
                let mut request = client
                    .post(format!("http://{}{path}", app.addr))
                    .header("host", app.host(Some(slug)))
                    .header("sec-fetch-site", "same-origin")
                    .form(&args);
                if token {
                    request = request.header("authorization", bearer);
                }
                let response = request.send().await.unwrap();
                (response.status(), response.text().await.unwrap())
            }
        };

    let mut refused = 0;
    for function in functions() {
        let slug = match function.caller {
            As::Owner => "alpha",
            As::ConsoleAdmin => "admin",
            _ => continue,
        };
        let args: Vec<_> = function.args.iter().map(|(n, v, _)| (*n, *v)).collect();
        let path = function.path.to_owned();
        let (status, body) = send(path.clone(), slug, args.clone(), true).await;
        let stranger = send(path.clone(), slug, args, false).await;
        assert_eq!((status, &body), (stranger.0, &stranger.1), "{path}");
        assert!(
            !body.contains("TOKEN-ONLY-1") && !body.contains("ann@"),
            "{path}: {body}"
        );
        if status == StatusCode::UNAUTHORIZED {
            refused += 1;
        }
    }
    // Every function but the site's description needs a member or a console admin.
    let guarded = functions()
        .iter()
        .filter(|f| matches!(f.caller, As::Owner | As::ConsoleAdmin))
        .count();
    assert_eq!(refused, guarded - 1);

    for path in [
        "/",
        "/products",
        "/orders",
        "/team",
        "/settings/api",
        "/exports",
    ] {
        let page = |token: bool| {
            let (app, client, bearer) = (&app, &client, &bearer);
            async move {
                let mut request = client
                    .get(format!("http://{}{path}", app.addr))
                    .header("host", app.host(Some("alpha")));
                if token {
                    request = request.header("authorization", bearer);
                }
                let response = request.send().await.unwrap();
                let (status, location) = (
                    response.status(),
                    response.headers().get("location").cloned(),
                );
                let text = response.text().await.unwrap();
                (
                    status,
                    location,
                    text.contains("TOKEN-ONLY-1"),
                    text.contains("Olive Owner"),
                )
            }
        };
        let with_token = page(true).await;
        assert_eq!(with_token, page(false).await, "{path}");
        assert!(
            !with_token.2 && !with_token.3,
            "{path} shows a member's page"
        );
    }
}
