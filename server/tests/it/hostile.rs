//! Every server function, fed hostile text in each of its arguments: control characters
//! (a NUL made PostgreSQL answer 500), text far beyond every limit, odd Unicode. No input
//! may get a 5xx; a text field that a form shows gets a 4xx naming that field.

use leptos::server_fn::ServerFn;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRng, TestRunner};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::support::TestApp;
use app::api::{
    account, api_tokens, console, customers, dashboard, exports, imports, orders, picker, products,
    team,
};

/// Who calls: which host, signed in as whom.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum As {
    /// The public site, signed out.
    Anyone,
    /// A workspace, signed out.
    Visitor,
    Owner,
    /// The console, signed out.
    ConsoleVisitor,
    ConsoleAdmin,
}

/// What an argument is, for what its refusal must look like.
#[derive(Clone, Copy)]
pub(crate) enum Arg {
    /// A form field: refused with a message on this field.
    Field(&'static str),
    /// Anything else (an id, a token, a password): refused or ignored, never a 5xx.
    Other,
}

pub(crate) struct Function {
    pub(crate) path: &'static str,
    pub(crate) caller: As,
    /// Every argument with a valid value; each is replaced by hostile text in turn.
    pub(crate) args: &'static [(&'static str, &'static str, Arg)],
}

const ID: &str = "8e0a5b6e-0c1c-4f0a-9f5a-2d1f1c3b4a59";

/// Every server function with valid arguments; the test below fails on one missing here.
pub(crate) fn functions() -> Vec<Function> {
    use Arg::{Field, Other};
    use As::{Anyone, ConsoleAdmin, ConsoleVisitor, Owner, Visitor};
    let f = |path, caller, args| Function { path, caller, args };
    vec![
        f(app::api::LoadSite::PATH, Owner, &[]),
        f(
            app::api::CheckSlug::PATH,
            Anyone,
            &[("slug", "free-shop", Other)],
        ),
        f(
            app::api::Register::PATH,
            Anyone,
            &[
                ("business_name", "Shop", Field("business_name")),
                ("slug", "new-shop", Field("slug")),
                ("owner_name", "Olive", Field("owner_name")),
                ("email", "o@new.test", Field("email")),
                ("password", "owner-password-1", Other),
            ],
        ),
        f(
            app::api::SignIn::PATH,
            Visitor,
            &[
                ("email", "ann@alpha.test", Field("email")),
                ("password", "x", Other),
            ],
        ),
        f(app::api::SignOut::PATH, Visitor, &[]),
        f(
            app::api::FindWorkspaces::PATH,
            Anyone,
            &[("email", "ann@alpha.test", Field("email"))],
        ),
        f(
            account::LoadInvitation::PATH,
            Visitor,
            &[("token", "0", Other)],
        ),
        f(
            account::AcceptInvitation::PATH,
            Visitor,
            &[
                ("token", "0", Other),
                ("name", "Newcomer", Field("name")),
                ("password", "newcomer-password-1", Other),
            ],
        ),
        f(
            account::RequestPasswordReset::PATH,
            Visitor,
            &[("email", "ann@alpha.test", Field("email"))],
        ),
        f(
            account::CheckResetLink::PATH,
            Visitor,
            &[("token", "0", Other)],
        ),
        f(
            account::ResetPassword::PATH,
            Visitor,
            &[("token", "0", Other), ("password", "new-password-1", Other)],
        ),
        f(account::LoadProfile::PATH, Owner, &[]),
        f(
            account::UpdateProfile::PATH,
            Owner,
            &[("name", "Ann", Field("name"))],
        ),
        f(
            account::ChangePassword::PATH,
            Owner,
            &[
                ("current", "wrong", Field("current")),
                ("new_password", "another-password-1", Other),
            ],
        ),
        f(
            products::ListProducts::PATH,
            Owner,
            &[("search", "mug", Field("search")), ("after", "", Other)],
        ),
        f(products::LoadProduct::PATH, Owner, &[("id", ID, Other)]),
        f(
            products::SaveProduct::PATH,
            Owner,
            &[
                ("id", "", Other),
                ("version", "", Other),
                ("sku", "MUG-1", Field("sku")),
                ("name", "Mug", Field("name")),
                ("description", "", Field("description")),
                ("price", "1.50", Field("price")),
                ("stock", "3", Field("stock")),
            ],
        ),
        f(
            products::SetProductArchived::PATH,
            Owner,
            &[("id", ID, Other), ("archived", "true", Other)],
        ),
        f(
            orders::ListOrders::PATH,
            Owner,
            &[
                ("status", "", Field("status")),
                ("customer", "", Other),
                ("after", "", Other),
            ],
        ),
        f(orders::LoadOrder::PATH, Owner, &[("id", ID, Other)]),
        f(
            orders::PlaceOrder::PATH,
            Owner,
            &[
                ("customer_id", "", Other),
                ("customer_name", "New Customer", Field("customer_name")),
                (
                    "customer_email",
                    "new@customer.test",
                    Field("customer_email"),
                ),
                (
                    "customer_phone",
                    "+44 131 496 0000",
                    Field("customer_phone"),
                ),
                ("customer_address", "1 High St", Field("customer_address")),
                ("lines[0][product_id]", ID, Field("line-1")),
                ("lines[0][quantity]", "1", Field("line-1")),
            ],
        ),
        f(
            picker::SearchProducts::PATH,
            Owner,
            &[("search", "mug", Field("search")), ("after", "", Other)],
        ),
        f(
            picker::LoadOrderDraft::PATH,
            Owner,
            &[("customer_id", ID, Other), ("products[0]", ID, Other)],
        ),
        f(
            customers::ListCustomers::PATH,
            Owner,
            &[("search", "harb", Field("search")), ("after", "", Other)],
        ),
        f(customers::LoadCustomer::PATH, Owner, &[("id", ID, Other)]),
        f(
            customers::SaveCustomer::PATH,
            Owner,
            &[
                ("id", "", Other),
                ("customer_name", "Harbour Café", Field("customer_name")),
                (
                    "customer_email",
                    "orders@harbour.test",
                    Field("customer_email"),
                ),
                ("customer_phone", "", Field("customer_phone")),
                ("customer_address", "", Field("customer_address")),
            ],
        ),
        f(
            imports::LoadImport::PATH,
            Owner,
            &[
                ("id", ID, Other),
                ("problems", "true", Other),
                ("after", "0", Other),
            ],
        ),
        f(imports::ApplyImport::PATH, Owner, &[("id", ID, Other)]),
        f(
            orders::ChangeOrderStatus::PATH,
            Owner,
            &[("id", ID, Other), ("to", "CONFIRMED", Field("status"))],
        ),
        f(dashboard::LoadDashboard::PATH, Owner, &[]),
        f(team::LoadTeam::PATH, Owner, &[]),
        f(
            team::InviteMember::PATH,
            Owner,
            &[
                ("email", "new@alpha.test", Field("email")),
                ("role", "MEMBER", Field("role")),
            ],
        ),
        f(team::ResendInvitation::PATH, Owner, &[("id", ID, Other)]),
        f(team::RevokeInvitation::PATH, Owner, &[("id", ID, Other)]),
        f(
            team::ChangeMemberRole::PATH,
            Owner,
            &[("id", ID, Other), ("role", "ADMIN", Field("role"))],
        ),
        f(team::RemoveMember::PATH, Owner, &[("id", ID, Other)]),
        f(team::TransferOwnership::PATH, Owner, &[("id", ID, Other)]),
        // The password is not alpha's: whatever the other argument, nothing is deleted.
        f(
            team::DeleteWorkspace::PATH,
            Owner,
            &[
                ("slug", "alpha", Field("slug")),
                ("password", "not-the-password", Field("password")),
            ],
        ),
        f(api_tokens::LoadApiTokens::PATH, Owner, &[]),
        f(
            api_tokens::CreateApiToken::PATH,
            Owner,
            &[
                ("name", "Web shop", Field("name")),
                ("role", "read", Field("role")),
                ("expires_in_days", "30", Field("expires_in_days")),
            ],
        ),
        f(
            api_tokens::RevokeApiToken::PATH,
            Owner,
            &[("id", ID, Other)],
        ),
        f(exports::LoadExports::PATH, Owner, &[]),
        f(
            exports::RequestExport::PATH,
            Owner,
            &[("kind", "products", Field("kind"))],
        ),
        f(
            console::ConsoleSignIn::PATH,
            ConsoleVisitor,
            &[
                ("email", "root@platform.test", Field("email")),
                ("password", "x", Other),
            ],
        ),
        f(
            console::ListTenants::PATH,
            ConsoleAdmin,
            &[
                ("search", "alp", Field("search")),
                ("status", "deleting", Field("status")),
                ("after", "", Other),
            ],
        ),
        f(
            console::LoadTenant::PATH,
            ConsoleAdmin,
            &[("slug", "alpha", Other)],
        ),
        f(
            console::ChangeTenantPlan::PATH,
            ConsoleAdmin,
            &[("slug", "alpha", Other), ("plan", "PRO", Field("plan"))],
        ),
        f(
            console::ProvisionTenant::PATH,
            ConsoleAdmin,
            &[
                ("slug", "alpha", Other),
                ("cluster", "east", Field("cluster")),
            ],
        ),
        f(
            console::MoveTenant::PATH,
            ConsoleAdmin,
            &[("slug", "alpha", Other), ("to", "shared", Field("to"))],
        ),
        f(
            console::SetTenantStatus::PATH,
            ConsoleAdmin,
            &[
                ("slug", "alpha", Other),
                ("status", "active", Field("status")),
            ],
        ),
        f(
            console::RequestTenantPurge::PATH,
            ConsoleAdmin,
            &[
                ("slug", "alpha", Other),
                ("reason", "asked to leave", Field("reason")),
            ],
        ),
        f(
            console::SetFeatureOverride::PATH,
            ConsoleAdmin,
            &[
                ("slug", "alpha", Other),
                ("feature", "csv_export", Field("feature")),
                ("value", "plan", Field("value")),
            ],
        ),
        f(
            console::SetLimitOverride::PATH,
            ConsoleAdmin,
            &[
                ("slug", "alpha", Other),
                ("limit", "max_products", Field("limit")),
                ("value", "", Other),
            ],
        ),
        f(
            console::LoadAudit::PATH,
            ConsoleAdmin,
            &[
                ("tenant", "", Field("tenant")),
                ("action", "", Field("action")),
                ("actor", "", Field("actor")),
                ("before", "", Other),
            ],
        ),
        f(console::LoadOverview::PATH, ConsoleAdmin, &[]),
    ]
}

/// Text no form should take: a control character between ordinary characters, or text far
/// longer than any field allows, in several scripts.
fn hostile() -> impl Strategy<Value = String> {
    let control = prop_oneof![0u32..0x20, Just(0x7f), 0x80u32..0xa0];
    prop_oneof![
        ("[a-zA-Z0-9]{1,6}", control, "[a-zA-Z0-9@.]{1,6}")
            .prop_map(|(a, c, b)| { format!("{a}{}{b}", char::from_u32(c).unwrap_or('\u{0}')) }),
        ("\\PC{1,4}", 6000usize..7000)
            .prop_map(|(s, n)| s.repeat(n / s.chars().count().max(1) + 1)),
    ]
}

/// A few dozen hostile values, the same on every run (seeded), so a failure can be replayed.
fn samples(count: usize) -> Vec<String> {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &[13; 32]),
    );
    (0..count)
        .map(|_| hostile().new_tree(&mut runner).unwrap().current())
        .collect()
}

#[tokio::test]
async fn no_server_function_answers_hostile_text_with_a_5xx() {
    let app = TestApp::spawn_with(|config| {
        config.limits.registrations_per_hour_per_address = 10_000;
        config.limits.workspace_lookups_per_hour_per_address = 10_000;
        config.limits.link_attempts_per_hour_per_address = 10_000;
        config.limits.sign_in_failures_per_address = 10_000;
        config.limits.sign_in_failures_per_account = 10_000;
    })
    .await;
    let owner = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let admin = app
        .console_admin("root@platform.test", "console-password-1")
        .await;
    // Hundreds of calls in a few seconds: alpha's request rate is not what this tests.
    app.lift_rate("alpha").await;
    let functions = functions();
    // The table covers every server function: a new one must say what its arguments are.
    let listed: Vec<&str> = functions.iter().map(|f| f.path).collect();
    for (path, _) in leptos::server_fn::axum::server_fn_paths() {
        assert!(listed.contains(&path), "{path} is missing from this table");
    }
    let samples = samples(12);
    for function in &functions {
        let (slug, cookie) = match function.caller {
            As::Anyone => (None, None),
            As::Visitor => (Some("alpha"), None),
            As::Owner => (Some("alpha"), Some(owner.as_str())),
            As::ConsoleVisitor => (Some("admin"), None),
            As::ConsoleAdmin => (Some("admin"), Some(admin.as_str())),
        };
        for (index, (name, _, kind)) in function.args.iter().enumerate() {
            for value in &samples {
                let args: Vec<(&str, &str)> = function
                    .args
                    .iter()
                    .enumerate()
                    .map(|(i, (n, valid, _))| {
                        (*n, if i == index { value.as_str() } else { *valid })
                    })
                    .collect();
                let response = app.call_path(function.path, slug, &args, cookie).await;
                let status = response.status();
                let body = response.text().await.unwrap();
                let shown = || {
                    let value: String = value.chars().take(40).collect();
                    format!("{} {name}={value:?}…: {status} {body}", function.path)
                };
                assert!(status.as_u16() < 500, "{}", shown());
                if let Arg::Field(field) = kind {
                    assert!(status.is_client_error(), "{}", shown());
                    let err: app::AppError = serde_json::from_str(&body).unwrap();
                    assert!(err.message_for(field).is_some(), "{}", shown());
                }
            }
        }
    }
    // Nothing any of it did broke the workspace.
    let site = app
        .call::<app::api::LoadSite>(Some("alpha"), &[], Some(&owner), HeaderMap::new())
        .await;
    assert_eq!(site.status(), StatusCode::OK);
}
