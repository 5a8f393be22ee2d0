//! The platform console and plans through the whole stack: console accounts are not tenant
//! accounts, console changes take effect on the tenant's next request, every change is
//! audited, and the gated CSV export really works and stays inside its workspace.

use crate::support::{error_of, session_cookie, TestApp};
use app::api::console::{
    AuditView, ChangeTenantPlan, ConsoleSignIn, ListTenants, LoadAudit, LoadOverview, LoadTenant,
    RequestTenantPurge, SetFeatureOverride, SetLimitOverride, SetTenantStatus, TenantDetailView,
    TenantListView,
};
use app::api::exports::RequestExport;
use app::api::LoadSite;
use app::AppError;
use leptos::server_fn::ServerFn;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

const ADMIN: &str = "root@platform.test";
const ADMIN_PASSWORD: &str = "console-password-1";

fn console_paths() -> Vec<&'static str> {
    vec![
        ListTenants::PATH,
        LoadTenant::PATH,
        ChangeTenantPlan::PATH,
        SetTenantStatus::PATH,
        SetFeatureOverride::PATH,
        SetLimitOverride::PATH,
        LoadAudit::PATH,
        LoadOverview::PATH,
        RequestTenantPurge::PATH,
    ]
}

async fn post(
    app: &TestApp,
    host: &str,
    path: &str,
    cookie: &str,
    args: &[(&str, &str)],
) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://{}{path}", app.addr))
        .header("host", host)
        .header("cookie", cookie)
        .header("sec-fetch-site", "same-origin")
        .form(args)
        .send()
        .await
        .unwrap()
}

async fn detail(app: &TestApp, console: &str, slug: &str) -> TenantDetailView {
    let response = app
        .call::<LoadTenant>(
            Some("admin"),
            &[("slug", slug)],
            Some(console),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_tenant_session_cannot_reach_the_console_and_the_other_way_round() {
    let app = TestApp::spawn().await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let console = app.console_admin(ADMIN, ADMIN_PASSWORD).await;
    let args = [
        ("slug", "alpha"),
        ("plan", "ENTERPRISE"),
        ("status", "suspended"),
        ("feature", "csv_export"),
        ("limit", "max_products"),
        ("value", "on"),
        ("reason", "asked"),
    ];

    for path in console_paths() {
        // On its own host, a tenant owner is nobody to the console.
        let response = post(&app, &app.host(Some("alpha")), path, &owner, &args).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        // On the console's host, a tenant cookie is refused outright.
        let response = post(&app, &app.host(Some("admin")), path, &owner, &args).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        let body = response.text().await.unwrap();
        assert!(
            !body.contains("alpha") && !body.contains("Shop"),
            "{path}: {body}"
        );
        // Anonymous on the console: sign in first.
        let response = post(&app, &app.host(Some("admin")), path, "", &args).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let tenant = detail(&app, &console, "alpha").await;
    assert_eq!(tenant.plan_code, "FREE", "none of that changed the plan");

    // A call whose arguments do not decode is the caller's mistake: 400, and a plain message.
    let malformed = post(
        &app,
        &app.host(Some("admin")),
        SetFeatureOverride::PATH,
        &console,
        &[("slug", "alpha")],
    )
    .await;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert!(matches!(
        error_of(malformed).await,
        AppError::Transport { .. }
    ));
    assert!(!tenant.tenant.suspended);

    // A console session presented on a workspace is refused, not read as a member.
    let response = app
        .call::<LoadSite>(Some("alpha"), &[], Some(&console), HeaderMap::new())
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let page = app.get(Some("alpha"), "/products", Some(&console)).await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);

    // Tenant credentials do not open the console.
    let response = app
        .call::<ConsoleSignIn>(
            Some("admin"),
            &[
                ("email", "ann@alpha.test"),
                ("password", "alpha-password-1"),
            ],
            None,
            HeaderMap::new(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie(&response).is_none());
    // And console sign-in exists only on the console's host.
    let response = app
        .call::<ConsoleSignIn>(
            Some("alpha"),
            &[("email", ADMIN), ("password", ADMIN_PASSWORD)],
            None,
            HeaderMap::new(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn console_sign_in_is_throttled_with_one_generic_message() {
    let app = TestApp::spawn().await;
    app.console_admin(ADMIN, ADMIN_PASSWORD).await;
    let attempt = |email: &'static str, password: &'static str| {
        let app = &app;
        async move {
            app.call::<ConsoleSignIn>(
                Some("admin"),
                &[("email", email), ("password", password)],
                None,
                HeaderMap::new(),
            )
            .await
        }
    };
    let unknown = error_of(attempt("nobody@platform.test", "whatever-1234").await).await;
    let wrong = error_of(attempt(ADMIN, "wrong-password-1").await).await;
    assert_eq!(
        unknown, wrong,
        "an unknown account and a wrong password read the same"
    );
    for _ in 0..4 {
        attempt(ADMIN, "wrong-password-1").await;
    }
    let throttled = attempt(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(session_cookie(&throttled).is_none());
}

#[tokio::test]
async fn the_tenant_list_shows_each_tenants_plan_status_and_size() {
    let app = TestApp::spawn().await;
    let alpha = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    let product = app.create_product("alpha", &alpha, "MUG", "Mug", "5").await;
    app.create_product("alpha", &alpha, "CUP", "Cup", "5").await;
    app.place_order("alpha", &alpha, &product, "1").await;
    let console = app.console_admin(ADMIN, ADMIN_PASSWORD).await;

    let list: TenantListView = app
        .call::<ListTenants>(Some("admin"), &[], Some(&console), HeaderMap::new())
        .await
        .json()
        .await
        .unwrap();
    let slugs: Vec<_> = list.tenants.iter().map(|t| t.slug.as_str()).collect();
    assert_eq!(slugs, ["bravo", "alpha"], "newest first");
    let row = &list.tenants[1];
    assert_eq!(
        (
            row.plan.as_str(),
            row.suspended,
            row.members,
            row.products,
            row.orders_this_month
        ),
        ("Free", false, 1, 2, 1)
    );
    let found: TenantListView = app
        .call::<ListTenants>(
            Some("admin"),
            &[("search", "brav")],
            Some(&console),
            HeaderMap::new(),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found.tenants.len(), 1);
    assert_eq!(found.tenants[0].slug, "bravo");
}

#[tokio::test]
async fn an_upgrade_unlocks_csv_export_on_the_next_request_and_the_file_stays_in_its_workspace() {
    let app = TestApp::spawn().await;
    let alpha = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let bravo = app
        .register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    let product = app
        .create_product("alpha", &alpha, "-CMD", "=HYPERLINK(\"x\")", "5")
        .await;
    app.place_order("alpha", &alpha, &product, "2").await;
    let console = app.console_admin(ADMIN, ADMIN_PASSWORD).await;

    // FREE: the export is refused with an upgrade prompt, not a generic error.
    let refused = app
        .call::<RequestExport>(
            Some("alpha"),
            &[("kind", "products")],
            Some(&alpha),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    match error_of(refused).await {
        AppError::PlanRequired { feature, plans } => {
            assert_eq!(feature, "CSV export");
            assert_eq!(plans, ["Pro", "Enterprise"]);
        }
        other => panic!("expected PlanRequired, got {other:?}"),
    }
    assert!(app.exports("alpha", &alpha).await.locked.is_some());

    // Bad input to the console changes nothing.
    let unknown = app
        .call::<ChangeTenantPlan>(
            Some("admin"),
            &[("slug", "alpha"), ("plan", "PLATINUM")],
            Some(&console),
            HeaderMap::new(),
        )
        .await;
    assert!(error_of(unknown).await.message_for("plan").is_some());
    let nobody = app
        .call::<ChangeTenantPlan>(
            Some("admin"),
            &[("slug", "nobody"), ("plan", "PRO")],
            Some(&console),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(nobody.status(), StatusCode::NOT_FOUND);
    assert_eq!(detail(&app, &console, "alpha").await.plan_code, "FREE");

    let upgrade = app
        .call::<ChangeTenantPlan>(
            Some("admin"),
            &[("slug", "alpha"), ("plan", "PRO")],
            Some(&console),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(upgrade.status(), StatusCode::OK);
    assert!(
        app.exports("alpha", &alpha).await.locked.is_none(),
        "the next request sees PRO"
    );
    assert!(
        app.exports("bravo", &bravo).await.locked.is_some(),
        "bravo is still FREE"
    );

    for kind in ["products", "orders"] {
        let queued = app
            .call::<RequestExport>(
                Some("alpha"),
                &[("kind", kind)],
                Some(&alpha),
                HeaderMap::new(),
            )
            .await;
        assert_eq!(queued.status(), StatusCode::OK, "{kind}");
    }
    let done = crate::support::eventually_async(|| async {
        let view = app.exports("alpha", &alpha).await;
        (view.exports.len() == 2 && view.exports.iter().all(|e| e.done)).then_some(view)
    })
    .await;
    let by_kind = |kind: &str| {
        done.exports
            .iter()
            .find(|e| e.kind == kind)
            .unwrap()
            .download
            .clone()
            .unwrap()
    };

    let products = app
        .get(Some("alpha"), &by_kind("Products"), Some(&alpha))
        .await;
    assert_eq!(products.status(), StatusCode::OK);
    assert!(products.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(products.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("alpha-products-"));
    let csv = products.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "sku,name,description,price,currency,stock,archived,created_at"
    );
    let row = lines.next().unwrap();
    assert!(
        row.starts_with("'-CMD,\"'=HYPERLINK(\"\"x\"\")\",,9.99,USD,3,no,"),
        "formulas are defused: {row}"
    );
    assert_eq!(lines.next(), None);

    let orders = app
        .get(Some("alpha"), &by_kind("Orders"), Some(&alpha))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(orders.lines().count(), 2, "{orders}");
    assert!(orders.lines().nth(1).unwrap().starts_with("1,"), "{orders}");

    // Nobody outside alpha gets the file: not bravo's owner on either host, not anonymous.
    let path = by_kind("Products");
    assert_eq!(
        app.get(Some("bravo"), &path, Some(&bravo)).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(Some("alpha"), &path, Some(&bravo)).await.status(),
        StatusCode::FORBIDDEN
    );
    let anonymous = app.get(Some("alpha"), &path, None).await;
    assert!(
        anonymous.status().is_redirection(),
        "{}",
        anonymous.status()
    );
    assert!(app.exports("bravo", &bravo).await.exports.is_empty());

    // The upgrade is in the audit log, with before and after.
    let audit: AuditView = app
        .call::<LoadAudit>(
            Some("admin"),
            &[("tenant", "alpha")],
            Some(&console),
            HeaderMap::new(),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        audit.entries.len(),
        1,
        "refused changes are not audited: {audit:?}"
    );
    let entry = &audit.entries[0];
    assert_eq!(
        (entry.action.as_str(), entry.actor.as_str()),
        ("change_plan", ADMIN)
    );
    assert!(
        entry.before.contains("FREE") && entry.after.contains("PRO"),
        "{entry:?}"
    );
}

#[tokio::test]
async fn overrides_and_suspension_apply_to_one_tenant_and_are_audited() {
    let app = TestApp::spawn().await;
    let alpha = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let bravo = app
        .register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    let console = app.console_admin(ADMIN, ADMIN_PASSWORD).await;
    let call = |path: &'static str, args: Vec<(&'static str, &'static str)>| {
        let app = &app;
        let console = console.clone();
        async move { post(app, &app.host(Some("admin")), path, &console, &args).await }
    };

    // A feature switched on for alpha alone, whatever its plan says.
    let on = call(
        SetFeatureOverride::PATH,
        vec![
            ("slug", "alpha"),
            ("feature", "csv_export"),
            ("value", "on"),
        ],
    )
    .await;
    assert_eq!(on.status(), StatusCode::OK);
    assert!(app.exports("alpha", &alpha).await.locked.is_none());
    assert!(app.exports("bravo", &bravo).await.locked.is_some());

    // A product limit of 1 for alpha: the second product is refused, with the limit named.
    let negative = call(
        SetLimitOverride::PATH,
        vec![
            ("slug", "alpha"),
            ("limit", "max_products"),
            ("value", "-3"),
        ],
    )
    .await;
    assert!(error_of(negative)
        .await
        .message_for("limit-max_products")
        .is_some());
    let unknown = call(
        SetLimitOverride::PATH,
        vec![("slug", "alpha"), ("limit", "max_planets"), ("value", "3")],
    )
    .await;
    assert!(error_of(unknown).await.message_for("limit").is_some());
    let missing = call(
        SetLimitOverride::PATH,
        vec![
            ("slug", "nobody"),
            ("limit", "max_products"),
            ("value", "3"),
        ],
    )
    .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let one = call(
        SetLimitOverride::PATH,
        vec![("slug", "alpha"), ("limit", "max_products"), ("value", "1")],
    )
    .await;
    assert_eq!(one.status(), StatusCode::OK);
    app.create_product("alpha", &alpha, "ONE", "One", "1").await;
    let second = app
        .call::<app::api::products::SaveProduct>(
            Some("alpha"),
            &[
                ("sku", "TWO"),
                ("name", "Two"),
                ("description", ""),
                ("price", "1"),
                ("stock", "1"),
            ],
            Some(&alpha),
            HeaderMap::new(),
        )
        .await;
    match error_of(second).await {
        AppError::LimitReached { message } => assert!(message.contains("1 products"), "{message}"),
        other => panic!("expected LimitReached, got {other:?}"),
    }
    app.create_product("bravo", &bravo, "TWO", "Two", "1").await;
    app.create_product("bravo", &bravo, "THREE", "Three", "1")
        .await;
    let limits = detail(&app, &console, "alpha").await.limits;
    let products = limits.iter().find(|l| l.code == "max_products").unwrap();
    assert_eq!(
        (
            products.used,
            products.effective.as_str(),
            products.setting.as_str()
        ),
        (Some(1), "1", "1")
    );

    // Suspension: alpha's people are signed out at once (even a session that makes no
    // request while suspended); reactivation lets them sign in again.
    let idle = session_cookie(
        &app.sign_in("alpha", "ann@alpha.test", "alpha-password-1")
            .await,
    )
    .unwrap();
    let suspend = call(
        SetTenantStatus::PATH,
        vec![("slug", "alpha"), ("status", "suspended")],
    )
    .await;
    assert_eq!(suspend.status(), StatusCode::OK);
    let page = app.get(Some("alpha"), "/", Some(&alpha)).await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    assert!(page.text().await.unwrap().contains("suspended"));
    assert!(session_cookie(
        &app.sign_in("alpha", "ann@alpha.test", "alpha-password-1")
            .await
    )
    .is_none());
    assert_eq!(
        app.get(Some("bravo"), "/", Some(&bravo)).await.status(),
        StatusCode::OK
    );
    let reactivate = call(
        SetTenantStatus::PATH,
        vec![("slug", "alpha"), ("status", "active")],
    )
    .await;
    assert_eq!(reactivate.status(), StatusCode::OK);
    let idle_site: app::SiteInfo = app
        .call::<LoadSite>(Some("alpha"), &[], Some(&idle), HeaderMap::new())
        .await
        .json()
        .await
        .unwrap();
    assert!(
        idle_site.viewer.is_none(),
        "the suspension ended every session"
    );
    assert!(session_cookie(
        &app.sign_in("alpha", "ann@alpha.test", "alpha-password-1")
            .await
    )
    .is_some());

    let audit: AuditView = app
        .call::<LoadAudit>(Some("admin"), &[], Some(&console), HeaderMap::new())
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<_> = audit.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "reactivate",
            "suspend",
            "set_limit_override",
            "set_feature_override"
        ],
        "one row per change, newest first"
    );
    assert!(audit
        .entries
        .iter()
        .all(|e| e.tenant.as_deref() == Some("alpha")));
    let filtered: AuditView = app
        .call::<LoadAudit>(
            Some("admin"),
            &[("action", "suspend")],
            Some(&console),
            HeaderMap::new(),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered.entries.len(), 1);
    assert!(
        filtered.entries[0].before.contains("active")
            && filtered.entries[0].after.contains("suspended")
    );
}
