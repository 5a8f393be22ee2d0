//! Every screen of Stockroom and the server functions behind them. Built twice: with `ssr` into
//! the server, with `hydrate` into the browser's wasm bundle.
// The public site's bundle (`public-site`) compiles every screen and shows three of them.
#![cfg_attr(feature = "public-site", allow(dead_code, unused_imports))]

pub mod api;
mod codec;
mod components;
mod error;
mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
#[cfg(not(feature = "public-site"))]
use leptos_router::{
    components::{Route, Router, Routes},
    path, Lazy, SsrMode,
};

pub use api::SiteInfo;
pub use error::{AllParsed, AppError, FieldError, FieldErrors};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    ssr::security::set_page_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HashedStylesheet options=options.clone() id="leptos" />
                {hydration_scripts(options)}
                <MetaTags />
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

/// The scripts that make the page live: the public site's pages have a bundle of their own
/// (`ssr::bundles`), every other site's pages cargo-leptos's.
fn hydration_scripts(options: LeptosOptions) -> AnyView {
    #[cfg(feature = "ssr")]
    if route_tree() == RouteTree::Public {
        return ssr::bundles::public_hydration_scripts(&options).into_any();
    }
    view! { <HydrationScripts options /> }.into_any()
}

/// Which site's routes a page has. The Host decides it, so it never changes while a page
/// lives: the server computes it from the request and hands it to the browser with the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum RouteTree {
    Public,
    Workspace,
    Console,
    NoWorkspace,
    Suspended,
    /// Every path of every site, for the server's route listing (no request is being served).
    Listing,
}

fn route_tree() -> RouteTree {
    #[cfg(feature = "ssr")]
    {
        use crate::ssr::{RequestContext, Site};
        let site = leptos::prelude::with_context::<http::request::Parts, _>(|parts| {
            parts
                .extensions
                .get::<std::sync::Arc<RequestContext>>()
                .map(|ctx| ctx.site.clone())
        })
        .flatten();
        match site {
            _ if leptos_router::RouteList::is_generating() => RouteTree::Listing,
            Some(Site::Public) => RouteTree::Public,
            Some(Site::Workspace(_)) => RouteTree::Workspace,
            Some(Site::Console) => RouteTree::Console,
            Some(Site::UnknownWorkspace) => RouteTree::NoWorkspace,
            Some(Site::SuspendedWorkspace(_)) => RouteTree::Suspended,
            None => RouteTree::Listing,
        }
    }
    // The browser reads the server's answer while hydrating; this is never reached there.
    #[cfg(not(feature = "ssr"))]
    RouteTree::Public
}

#[component]
pub fn App() -> impl IntoView {
    // First, before any resource: it shares their id sequence with the browser.
    let tree = SharedValue::new(route_tree).into_inner();
    provide_meta_context();
    #[cfg(feature = "ssr")]
    ssr::chunks::take_over_preloads();
    let session_actions = components::SessionActions {
        sign_in: ServerAction::new(),
        sign_out: ServerAction::new(),
        console_sign_in: ServerAction::new(),
        accept_invitation: ServerAction::new(),
        reset_password: ServerAction::new(),
    };
    provide_context(session_actions);
    // Tells every page which site it is on and who is signed in; fetched with the page and
    // again whenever a sign-in or sign-out completes.
    let site = Resource::new_blocking(move || session_actions.version(), |_| api::load_site());
    provide_context(site);

    view! {
        <Title formatter=|text: String| format!("{text} · Stockroom") />
        {site_pages(tree)}
    }
}

/// The public site's pages come without a router (`pages::public_site`); each other site's
/// are a route table.
fn site_pages(tree: RouteTree) -> AnyView {
    #[cfg(any(feature = "ssr", feature = "public-site"))]
    if tree == RouteTree::Public {
        return pages::public_site();
    }
    #[cfg(not(feature = "public-site"))]
    return view! { <Router>{routes(tree)}</Router> }.into_any();
    // The public site's bundle hydrates the public site's pages only.
    #[cfg(feature = "public-site")]
    view! { <pages::NotFound /> }.into_any()
}

/// Each site's own pages, so a page only ever asks for what its own site serves.
// Async: the whole page is rendered before it is sent, so it reads complete without
// JavaScript and its status code can still change.
#[cfg(not(feature = "public-site"))]
fn routes(tree: RouteTree) -> AnyView {
    use pages::*;
    match tree {
        RouteTree::Workspace => view! {
            <Routes fallback=NotFound>
                <Route path=path!("/") view={Lazy::<workspace_area::WorkspaceHomeScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/login") view={Lazy::<workspace_area::SignInScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/products") view={Lazy::<products_area::ProductsScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/products/import") view={Lazy::<admin_area::ImportScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/products/import/:id") view={Lazy::<admin_area::ImportPreviewScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/products/:id") view={Lazy::<products_area::ProductScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/orders") view={Lazy::<orders_area::OrdersScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/orders/new") view={Lazy::<orders_area::NewOrderScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/orders/:id") view={Lazy::<orders_area::OrderScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/customers") view={Lazy::<customers_area::CustomersScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/customers/:id") view={Lazy::<customers_area::CustomerScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/team") view={Lazy::<admin_area::TeamScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/profile") view={Lazy::<admin_area::ProfileScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/exports") view={Lazy::<admin_area::ExportsScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/invite/:token") view={Lazy::<link_area::InviteScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/forgot") view={Lazy::<link_area::ForgotPasswordScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/reset/:token") view={Lazy::<link_area::ResetPasswordScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/settings/api") view={Lazy::<admin_area::ApiTokensScreen>::new()} ssr=SsrMode::Async />
            </Routes>
        }
        .into_any(),
        RouteTree::Console => view! {
            <Routes fallback=NotFound>
                <Route path=path!("/") view={Lazy::<console_area::ConsoleHomeScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/login") view={Lazy::<console_area::ConsoleSignInScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/tenants/:slug") view={Lazy::<console_area::ConsoleTenantScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/audit") view={Lazy::<console_area::ConsoleAuditScreen>::new()} ssr=SsrMode::Async />
                <Route path=path!("/load") view={Lazy::<console_area::ConsoleLoadScreen>::new()} ssr=SsrMode::Async />
            </Routes>
        }
        .into_any(),
        // Whatever the path, the page says there is no such workspace (status 404).
        RouteTree::NoWorkspace => view! {
            <Routes fallback=NotFound>
                <Route path=path!("/") view=NotFound ssr=SsrMode::Async />
            </Routes>
        }
        .into_any(),
        // Whatever the path, the page says the workspace is suspended (status 403).
        RouteTree::Suspended => view! {
            <Routes fallback=SuspendedPage>
                <Route path=path!("/") view=SuspendedPage ssr=SsrMode::Async />
            </Routes>
        }
        .into_any(),
        // The server registers one handler per path; which site's page it shows is decided
        // per request above.
        #[cfg(feature = "ssr")]
        RouteTree::Listing => view! {
            <Routes fallback=NotFound>
                <Route path=path!("/") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/register") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/find") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/login") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/products") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/products/import") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/products/import/:id") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/products/:id") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/orders") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/orders/new") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/orders/:id") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/customers") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/customers/:id") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/team") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/profile") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/exports") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/invite/:token") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/forgot") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/reset/:token") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/tenants/:slug") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/audit") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/load") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/welcome") view=ServerPage />
                <Route path=path!("/settings/api") view=NotFound ssr=SsrMode::Async />
                <Route path=path!("/docs/api") view=ServerPage />
            </Routes>
        }
        .into_any(),
        // The public site has no route table (`site_pages`); the browser's bundle never
        // hydrates a route listing.
        _ => view! { <NotFound /> }.into_any(),
    }
}

/// Paths the server answers itself, outside the app (see `pages::ServerPage`); the server
/// leaves them out of the routes it registers for the app.
pub const SERVER_PAGES: [&str; 2] = ["/welcome", "/docs/api"];
