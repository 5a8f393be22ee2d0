//! Every screen of Stockroom and the server functions behind them. Built twice: with `ssr` into
//! the server, with `hydrate` into the browser's wasm bundle.

pub mod api;
mod components;
mod error;
mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

pub use api::SiteInfo;
pub use error::{AppError, FieldError, FieldErrors};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
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
    let site = Resource::new_blocking(
        move || {
            (
                session_actions.sign_in.version().get(),
                session_actions.sign_out.version().get(),
                session_actions.console_sign_in.version().get(),
                session_actions.accept_invitation.version().get(),
                session_actions.reset_password.version().get(),
            )
        },
        |_| api::load_site(),
    );
    provide_context(site);

    view! {
        <Title formatter=|text: String| format!("{text} · Stockroom") />
        <Router>
            <Routes fallback=pages::NotFound>
                // Async: the whole page is rendered before it is sent, so it reads complete
                // without JavaScript and its status code can still change.
                <Route path=path!("/") view=pages::Home ssr=SsrMode::Async />
                <Route path=path!("/register") view=pages::Register ssr=SsrMode::Async />
                <Route path=path!("/login") view=pages::SignIn ssr=SsrMode::Async />
                <Route path=path!("/find") view=pages::FindWorkspace ssr=SsrMode::Async />
                <Route path=path!("/products") view=pages::ProductsPage ssr=SsrMode::Async />
                <Route path=path!("/products/:id") view=pages::ProductPage ssr=SsrMode::Async />
                <Route path=path!("/orders") view=pages::OrdersPage ssr=SsrMode::Async />
                <Route path=path!("/orders/new") view=pages::NewOrderPage ssr=SsrMode::Async />
                <Route path=path!("/orders/:id") view=pages::OrderPage ssr=SsrMode::Async />
                <Route path=path!("/team") view=pages::TeamPage ssr=SsrMode::Async />
                <Route path=path!("/profile") view=pages::ProfilePage ssr=SsrMode::Async />
                <Route path=path!("/exports") view=pages::ExportsPage ssr=SsrMode::Async />
                <Route path=path!("/invite/:token") view=pages::InvitePage ssr=SsrMode::Async />
                <Route path=path!("/forgot") view=pages::ForgotPasswordPage ssr=SsrMode::Async />
                <Route path=path!("/reset/:token") view=pages::ResetPasswordPage ssr=SsrMode::Async />
                <Route path=path!("/tenants/:slug") view=pages::ConsoleTenantPage ssr=SsrMode::Async />
                <Route path=path!("/audit") view=pages::ConsoleAuditPage ssr=SsrMode::Async />
            </Routes>
        </Router>
    }
}
