use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{check_slug, FindWorkspaces, Register as RegisterFn, SiteKind, SlugCheck};
use crate::components::{
    field_error, focus_first_error, form_error, with_site, Field, Frame, Notice, NoticeKind,
    SubmitButton,
};
use crate::{AppError, SiteInfo};

/// The public site's pages, by path. It has three, and every way out of it leads to another
/// host (a workspace, the console), so it has no client-side router: a link is a page load,
/// a few KB of HTML with the bundle already cached, and the bundle goes without the router.
pub fn public_site() -> AnyView {
    // A server function that answers with a redirect (registration's hand-off) is followed
    // by the router's hook elsewhere; here, by the browser.
    #[cfg(not(feature = "ssr"))]
    let _ = leptos::server_fn::redirect::set_redirect_hook(|to: &str| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().set_href(to);
        }
    });
    match page_address().0.as_str() {
        "/" => view! { <PublicHome /> }.into_any(),
        "/register" => view! { <Register /> }.into_any(),
        "/find" => view! { <FindWorkspace /> }.into_any(),
        _ => view! { <super::NotFound /> }.into_any(),
    }
}

/// The page's path and query string: the request's on the server, the address bar's in the
/// browser (the same address, so both render the same page).
fn page_address() -> (String, String) {
    #[cfg(feature = "ssr")]
    let address = use_context::<http::request::Parts>().map(|parts| {
        let query = parts.uri.query().unwrap_or_default().to_owned();
        (parts.uri.path().to_owned(), query)
    });
    #[cfg(not(feature = "ssr"))]
    let address = web_sys::window().and_then(|window| {
        let location = window.location();
        let query = location.search().ok()?;
        Some((
            location.pathname().ok()?,
            query.trim_start_matches('?').to_owned(),
        ))
    });
    address.unwrap_or_default()
}

/// The first value of `name` in the page's query string.
fn query_value(name: &str) -> Option<String> {
    let (_, query) = page_address();
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// `/` on the public site.
#[component]
fn PublicHome() -> impl IntoView {
    with_site(|info| view! { <Landing info /> })
}

#[component]
fn Landing(info: SiteInfo) -> impl IntoView {
    let base = info.base_domain.clone();
    let wanted = RwSignal::new(String::new());
    // Reacts as the person types once the page is hydrated; before that the link still works.
    let preview = move || {
        let typed = wanted.get().trim().to_lowercase();
        let label = if typed.is_empty() {
            "your-business".to_owned()
        } else {
            typed
        };
        format!("{label}.{base}")
    };
    let register_href = move || format!("/register?slug={}", wanted.get().trim().to_lowercase());
    view! {
        <Title text="Inventory and orders for your team" />
        <Frame title="Stockroom" info>
            <section class="grid gap-10 py-6 md:grid-cols-2 md:items-center">
                <div>
                    <h1 class="text-3xl font-bold tracking-tight sm:text-4xl">
                        "Products, stock and orders for your whole team."
                    </h1>
                    <p class="mt-4 text-lg text-slate-600">
                        "Your own workspace on its own address. Nobody else's data, ever."
                    </p>
                </div>
                <div class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm">
                    <label for="wanted-slug" class="block text-sm font-medium text-slate-700">
                        "Pick your workspace address"
                    </label>
                    <input
                        id="wanted-slug"
                        class="mt-1 block w-full rounded-md border border-slate-300 px-3 py-2"
                        placeholder="your-business"
                        bind:value=wanted
                    />
                    <p class="mt-2 text-sm text-slate-600">
                        "Your team will sign in at "
                        <span class="font-mono text-indigo-700" data-testid="slug-preview">{preview}</span>
                    </p>
                    <p class="mt-4 text-center text-sm text-slate-600">
                        "Already have a workspace? "
                        <a href="/find" class="text-indigo-700 underline">"Find it"</a>
                    </p>
                    <a
                        href=register_href
                        class="mt-4 inline-flex w-full justify-center rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-700"
                    >
                        "Create your workspace"
                    </a>
                </div>
            </section>
        </Frame>
    }
}

#[component]
fn Register() -> impl IntoView {
    let action = ServerAction::<RegisterFn>::new();
    let slug = RwSignal::new(query_value("slug").unwrap_or_default());
    // Made here, not in the form: see `with_site`.
    let availability = Resource::new(
        move || slug.get(),
        |typed| async move {
            if typed.trim().is_empty() {
                return None;
            }
            check_slug(typed).await.ok()
        },
    );
    with_site(move |info| match info.kind {
        SiteKind::Public => view! { <RegisterForm info action slug availability /> }.into_any(),
        _ => view! { <super::NotFound /> }.into_any(),
    })
}

#[component]
fn RegisterForm(
    info: SiteInfo,
    action: ServerAction<RegisterFn>,
    slug: RwSignal<String>,
    availability: Resource<Option<SlugCheck>>,
) -> impl IntoView {
    let base = info.base_domain.clone();
    let error_for = move |field: &'static str| field_error(action, field);
    let slug_error = Signal::derive(move || {
        error_for("slug")
            .get()
            .or_else(|| match availability.get().flatten() {
                Some(SlugCheck::Invalid(message)) => Some(message),
                Some(SlugCheck::Taken) => {
                    Some("This address is already taken. Please pick another one.".into())
                }
                _ => None,
            })
    });
    let general_error = form_error(action);
    focus_first_error(action);
    view! {
        <Title text="Create your workspace" />
        <Frame title="Stockroom" info>
            <div class="mx-auto max-w-md">
                <h1 class="text-2xl font-semibold">"Create your workspace"</h1>
                <p class="mt-1 text-slate-600">"You will be its owner and can invite your team afterwards."</p>
                <ActionForm action attr:class="mt-6 space-y-3" attr:novalidate="true">
                    <Field name="business_name" label="Business name" autocomplete="organization" error=error_for("business_name") />
                    <Field
                        name="slug"
                        label="Workspace address"
                        value=slug
                        hint=format!("3–40 characters: a–z, 0–9 and hyphens. Becomes your-address.{base}")
                        error=slug_error
                    />
                    <Transition fallback=|| ()>
                        {move || {
                            (availability.get().flatten() == Some(SlugCheck::Available))
                                .then(|| view! { <p class="-mt-2 text-sm text-emerald-700" data-testid="slug-available">"This address is available."</p> })
                        }}
                    </Transition>
                    <Field name="owner_name" label="Your name" autocomplete="name" error=error_for("owner_name") />
                    <Field name="email" label="Email" kind="email" autocomplete="email" error=error_for("email") />
                    <Field
                        name="password"
                        label="Password"
                        kind="password"
                        autocomplete="new-password"
                        hint="At least 10 characters. Common passwords are refused."
                        error=error_for("password")
                    />
                    {move || general_error.get().map(|text| view! { <Notice kind=NoticeKind::Error text /> })}
                    <SubmitButton label="Create workspace" pending=action.pending() />
                </ActionForm>
            </div>
        </Frame>
    }
}

#[component]
fn FindWorkspace() -> impl IntoView {
    with_site(|info| match info.kind {
        SiteKind::Public => view! { <FindWorkspaceForm info /> }.into_any(),
        _ => view! { <super::NotFound /> }.into_any(),
    })
}

#[component]
fn FindWorkspaceForm(info: SiteInfo) -> impl IntoView {
    let action = ServerAction::<FindWorkspaces>::new();
    let email_error = Signal::derive(move || match action.value().get() {
        Some(Err(err)) => err.message_for("email"),
        _ => None,
    });
    let outcome = move || {
        match action.value().get() {
        Some(Ok(())) => Some(
            view! {
                <p class="rounded-md border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm text-emerald-800" role="status" data-testid="find-sent">
                    "If that address belongs to any workspaces, we have emailed it their sign-in links."
                </p>
            }
            .into_any(),
        ),
        Some(Err(AppError::Validation { .. })) | None => None,
        Some(Err(err)) => Some(view! { <Notice kind=NoticeKind::Error text=err.to_string() /> }.into_any()),
    }
    };
    view! {
        <Title text="Find your workspace" />
        <Frame title="Stockroom" info>
            <div class="mx-auto max-w-md">
                <h1 class="text-2xl font-semibold">"Find your workspace"</h1>
                <p class="mt-1 text-slate-600">"Enter the email you sign in with and we will send you the addresses of your workspaces."</p>
                <ActionForm action attr:class="mt-6 space-y-3" attr:novalidate="true">
                    <Field name="email" label="Email" kind="email" autocomplete="email" error=email_error />
                    {outcome}
                    <SubmitButton label="Email me my workspaces" pending=action.pending() />
                </ActionForm>
            </div>
        </Frame>
    }
}
