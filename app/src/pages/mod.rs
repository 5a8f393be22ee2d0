mod account;
mod api_tokens;
mod console;
mod customers;
mod exports;
mod imports;
mod layout;
mod orders;
mod products;
// Only in the server and the public site's own bundle (`public-site`).
#[cfg(any(feature = "ssr", feature = "public-site"))]
mod public;
mod team;
mod workspace;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::SiteKind;
use crate::components::{with_site, Frame};

use account::{ForgotPasswordPage, InvitePage, ProfilePage, ResetPasswordPage};
use api_tokens::ApiTokensPage;
use console::{ConsoleAuditPage, ConsoleLoadPage, ConsoleTenantPage};
use customers::{CustomerPage, CustomersPage};
use exports::ExportsPage;
use imports::{ImportPage, ImportPreviewPage};
use orders::{NewOrderPage, OrderPage, OrdersPage};
use products::{ProductPage, ProductsPage};
#[cfg(any(feature = "ssr", feature = "public-site"))]
pub use public::public_site;
use team::TeamPage;
use workspace::SignIn;

/// Declares an area: screens whose code the browser downloads only when one of them is shown.
/// The area's code is one wasm chunk (`cargo leptos --split`), loaded by its first screen and
/// preloaded by the server's page when it rendered one, so a first load costs no extra round
/// trip. Areas, not single screens: wasm-split gives every set of splits that share a function
/// a chunk of its own, and with a split per screen a page needed some eighty files.
macro_rules! lazy_area {
    ($area:ident, $show:ident, $preload:ident { $($route:ident => $page:ident,)* }) => {
        // Not in the public site's bundle, which shows no area: a `#[lazy]` function is
        // exported from the module, and so would be kept with everything it calls.
        #[cfg(not(feature = "public-site"))]
        pub mod $area {
            use leptos::prelude::*;

            // Each variant is named after the route struct that shows it, `...Screen`.
            #[allow(clippy::enum_variant_names)]
            #[derive(Clone, Copy)]
            pub enum Screen {
                $($route,)*
            }

            #[leptos::lazy]
            pub fn $show(screen: Screen) -> AnyView {
                match screen {
                    $(Screen::$route => view! { <super::$page /> }.into_any(),)*
                }
            }

            $(
                pub struct $route;

                impl leptos_router::LazyRoute for $route {
                    fn data() -> Self {
                        $route
                    }

                    async fn view(_this: Self) -> AnyView {
                        #[cfg(feature = "ssr")]
                        crate::ssr::chunks::preload(stringify!($show));
                        $show(Screen::$route).await
                    }

                    // As `#[lazy_route]` does: `#[lazy]` defines `__preload_<fn>` in the browser
                    // build. Awaited before the screen is shown, on a navigation or hydration.
                    async fn preload() {
                        #[cfg(target_arch = "wasm32")]
                        $preload().await;
                    }
                }
            )*
        }
    };
}

// A member's daily screens, an area per kind of record: a first visit to any one of them
// downloads that kind's screens only (bench/run: page weight), and moving on to another kind
// costs one small fetch, once.
lazy_area!(workspace_area, show_workspace, __preload_show_workspace {
    WorkspaceHomeScreen => WorkspaceHome,
    SignInScreen => SignIn,
});

lazy_area!(products_area, show_products, __preload_show_products {
    ProductsScreen => ProductsPage,
    ProductScreen => ProductPage,
});

lazy_area!(orders_area, show_orders, __preload_show_orders {
    OrdersScreen => OrdersPage,
    NewOrderScreen => NewOrderPage,
    OrderScreen => OrderPage,
});

lazy_area!(customers_area, show_customers, __preload_show_customers {
    CustomersScreen => CustomersPage,
    CustomerScreen => CustomerPage,
});

// Opened now and then, mostly by owners and admins.
lazy_area!(admin_area, show_admin, __preload_show_admin {
    TeamScreen => TeamPage,
    ExportsScreen => ExportsPage,
    ProfileScreen => ProfilePage,
    ApiTokensScreen => ApiTokensPage,
    ImportScreen => ImportPage,
    ImportPreviewScreen => ImportPreviewPage,
});

// Reached from an emailed link, usually once.
lazy_area!(link_area, show_link, __preload_show_link {
    InviteScreen => InvitePage,
    ForgotPasswordScreen => ForgotPasswordPage,
    ResetPasswordScreen => ResetPasswordPage,
});

lazy_area!(console_area, show_console, __preload_show_console {
    ConsoleHomeScreen => ConsoleHome,
    ConsoleSignInScreen => ConsoleSignIn,
    ConsoleTenantScreen => ConsoleTenantPage,
    ConsoleAuditScreen => ConsoleAuditPage,
    ConsoleLoadScreen => ConsoleLoadPage,
});

/// `/` in a workspace: the dashboard.
#[component]
fn WorkspaceHome() -> impl IntoView {
    let board = workspace::dashboard_resource();
    with_site(move |info| view! { <workspace::Dashboard info board /> })
}

/// `/` on the console: the tenant list.
#[component]
fn ConsoleHome() -> impl IntoView {
    let tenants = console::tenant_list_resource();
    console::console_page(move || view! { <console::ConsoleTenants page=tenants /> })
}

/// `/login` on the console.
#[component]
fn ConsoleSignIn() -> impl IntoView {
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
        SiteKind::SuspendedWorkspace { name, deleting } => {
            view! { <Suspended name deleting info /> }.into_any()
        }
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
fn Suspended(name: String, deleting: bool, info: crate::SiteInfo) -> impl IntoView {
    let (title, testid, heading, text) = if deleting {
        (
            "Workspace scheduled for deletion",
            "scheduled-for-deletion",
            "This workspace is scheduled for deletion",
            "Its owner deleted it, so nobody can sign in to it. Its data is kept for a while, then erased for good. If this was a mistake, its owner can reply to the email they received to have it restored.",
        )
    } else {
        (
            "Workspace suspended",
            "suspended",
            "This workspace is suspended",
            "Nobody can sign in to it at the moment. Its owner can contact support to reactivate it.",
        )
    };
    view! {
        <Title text=title />
        <Frame title=name info>
            <h1 class="text-2xl font-semibold" data-testid=testid>{heading}</h1>
            <p class="mt-2 text-slate-600">{text}</p>
        </Frame>
    }
}

/// Percent-encodes a query-string value (everything but unreserved characters).
pub(crate) fn encode_query(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            super::encode_query("50% off & more#1"),
            "50%25%20off%20%26%20more%231"
        );
        assert_eq!(super::encode_query("mug-1"), "mug-1");
    }
}
