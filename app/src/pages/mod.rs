mod account;
mod console;
mod exports;
mod layout;
mod orders;
mod products;
mod public;
mod team;
mod workspace;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::SiteKind;
use crate::components::{with_site, Frame};

pub use account::{ForgotPasswordPage, InvitePage, ProfilePage, ResetPasswordPage};
pub use console::{ConsoleAuditPage, ConsoleTenantPage};
pub use exports::ExportsPage;
pub use orders::{NewOrderPage, OrderPage, OrdersPage};
pub use products::{ProductPage, ProductsPage};
pub use public::{FindWorkspace, Register};
pub use team::TeamPage;
pub use workspace::SignIn;

/// `/` on the public site.
#[component]
pub fn PublicHome() -> impl IntoView {
    with_site(|info| view! { <public::Landing info /> })
}

/// `/` in a workspace: the dashboard.
#[component]
pub fn WorkspaceHome() -> impl IntoView {
    let board = workspace::dashboard_resource();
    with_site(move |info| view! { <workspace::Dashboard info board /> })
}

/// `/` on the console: the tenant list.
#[component]
pub fn ConsoleHome() -> impl IntoView {
    let tenants = console::tenant_list_resource();
    console::console_page(move || view! { <console::ConsoleTenants page=tenants /> })
}

/// `/login` on the console.
#[component]
pub fn ConsoleSignIn() -> impl IntoView {
    with_site(console::console_sign_in)
}

/// A page the server writes itself (the registration hand-off), reached here only by a
/// navigation inside the app, such as the redirect after a registration: load it from the
/// server. The server never renders this.
#[component]
pub fn ServerPage() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
    view! { <p class="p-8 text-slate-500">"Loading…"</p> }
}

/// Every page of a suspended workspace. The server sets status 403.
#[component]
pub fn SuspendedPage() -> impl IntoView {
    with_site(|info| match info.kind.clone() {
        SiteKind::SuspendedWorkspace { name } => view! { <Suspended name info /> }.into_any(),
        _ => view! { <NotFound /> }.into_any(),
    })
}

#[component]
pub fn NotFound() -> impl IntoView {
    with_site(|info| match info.kind {
        SiteKind::UnknownWorkspace => view! { <NoSuchWorkspace info /> }.into_any(),
        _ => {
            #[cfg(feature = "ssr")]
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(http::StatusCode::NOT_FOUND);
            }
            view! {
                <Title text="Page not found" />
                <Frame title="Stockroom" info>
                    <h1 class="text-2xl font-semibold">"Page not found"</h1>
                    <p class="mt-2 text-slate-600">"There is nothing at this address."</p>
                    <a href="/" class="mt-4 inline-block text-indigo-700 underline">"Go to the start page"</a>
                </Frame>
            }
            .into_any()
        }
    })
}

/// Shown for any page of a subdomain that names no workspace. The server sets status 404.
#[component]
pub fn NoSuchWorkspace(info: crate::SiteInfo) -> impl IntoView {
    let public_url = info.public_url.clone();
    view! {
        <Title text="No such workspace" />
        <Frame title="Stockroom" info>
            <h1 class="text-2xl font-semibold" data-testid="no-such-workspace">"No such workspace"</h1>
            <p class="mt-2 text-slate-600">
                "There is no workspace at this address. Check the spelling, or find your workspace from the start page."
            </p>
            <a href=public_url class="mt-4 inline-block text-indigo-700 underline">"Go to Stockroom"</a>
        </Frame>
    }
}

#[component]
fn Suspended(name: String, info: crate::SiteInfo) -> impl IntoView {
    view! {
        <Title text="Workspace suspended" />
        <Frame title=name info>
            <h1 class="text-2xl font-semibold" data-testid="suspended">"This workspace is suspended"</h1>
            <p class="mt-2 text-slate-600">
                "Nobody can sign in to it at the moment. Its owner can contact support to reactivate it."
            </p>
        </Frame>
    }
}
