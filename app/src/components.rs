use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::{AppError, SiteInfo};

pub type SiteResource = Resource<Result<SiteInfo, AppError>>;

/// The actions that change who is signed in, shared so the site resource can follow them.
#[derive(Clone, Copy)]
pub struct SessionActions {
    pub sign_in: ServerAction<crate::api::SignIn>,
    pub sign_out: ServerAction<crate::api::SignOut>,
    pub console_sign_in: ServerAction<crate::api::console::ConsoleSignIn>,
    /// Accepting an invitation and resetting a password sign the person in too.
    pub accept_invitation: ServerAction<crate::api::account::AcceptInvitation>,
    pub reset_password: ServerAction<crate::api::account::ResetPassword>,
}

impl SessionActions {
    /// Changes whenever someone signs in or out on this page. A resource whose answer depends
    /// on who is signed in lists it among its sources, so it fetches again after either.
    pub fn version(&self) -> [usize; 5] {
        [
            self.sign_in.version().get(),
            self.sign_out.version().get(),
            self.console_sign_in.version().get(),
            self.accept_invitation.version().get(),
            self.reset_password.version().get(),
        ]
    }
}

/// Renders `render` with the current site once it is known; a failed lookup shows its message.
///
/// `render` runs more than once per server render (Suspense resolves its children in passes),
/// so a page must create its resources and actions before calling this, never inside
/// `render`: a resource made in there is made, and fetched, again on every pass (measured in
/// bench/: three product-list queries per products page).
pub fn with_site<V: IntoView + 'static>(
    render: impl Fn(SiteInfo) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let site = expect_context::<SiteResource>();
    view! {
        <Suspense fallback=|| view! { <p class="p-8 text-slate-500">"Loading…"</p> }>
            {move || {
                let render = render.clone();
                Suspend::new(async move {
                    match site.await {
                        Ok(info) => render(info).into_any(),
                        Err(err) => view! { <Notice kind=NoticeKind::Error text=err.to_string() /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The frame every page sits in: a header with the product or workspace name, then content.
#[component]
pub fn Frame(#[prop(into)] title: String, info: SiteInfo, children: Children) -> impl IntoView {
    let signed_in = info
        .viewer
        .as_ref()
        .map(|v| v.name.clone())
        .or_else(|| info.console_admin.clone());
    view! {
        <header class="border-b border-slate-200 bg-white">
            <div class="mx-auto flex max-w-5xl items-center justify-between gap-4 px-4 py-3">
                <a href="/" class="font-semibold tracking-tight text-indigo-700">{title}</a>
                {signed_in.map(|name| view! { <SignOutForm name /> })}
            </div>
        </header>
        <main class="mx-auto max-w-5xl px-4 py-8">{children()}</main>
    }
}

#[component]
fn SignOutForm(name: String) -> impl IntoView {
    let action = expect_context::<SessionActions>().sign_out;
    view! {
        <ActionForm action attr:class="flex items-center gap-3 text-sm">
            <span class="hidden text-slate-600 sm:inline" data-testid="viewer-name">{name}</span>
            <button type="submit" class="rounded-md border border-slate-300 px-3 py-1.5 hover:bg-slate-100">
                "Sign out"
            </button>
        </ActionForm>
    }
}

/// A failed load shown in place of the page's content. While the server renders the page,
/// the error also becomes the page's status (another workspace's id is a 404 like any other).
#[component]
pub fn ErrorNotice(err: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        let status = match err {
            AppError::NotFound => Some(http::StatusCode::NOT_FOUND),
            AppError::Forbidden => Some(http::StatusCode::FORBIDDEN),
            AppError::Unavailable | AppError::Moving => Some(http::StatusCode::SERVICE_UNAVAILABLE),
            AppError::Internal { .. } => Some(http::StatusCode::INTERNAL_SERVER_ERROR),
            _ => None,
        };
        if let (Some(status), Some(response)) =
            (status, use_context::<leptos_axum::ResponseOptions>())
        {
            response.set_status(status);
        }
    }
    view! { <Notice kind=NoticeKind::Error text=err.to_string() /> }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Error,
}

#[component]
pub fn Notice(kind: NoticeKind, #[prop(into)] text: String) -> impl IntoView {
    let class = match kind {
        NoticeKind::Error => {
            "rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800"
        }
    };
    // Focusable from script (not by Tab), so a failed submission can move the focus here.
    view! { <p class=class role="alert" tabindex="-1">{text}</p> }
}

/// A labelled input with its own error line underneath, tied together for screen readers.
#[component]
pub fn Field(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional, into)] autocomplete: Option<&'static str>,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional)] value: Option<RwSignal<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let described = error_id.clone();
    let value = value.unwrap_or_else(|| RwSignal::new(String::new()));
    view! {
        <div class="space-y-1">
            <label for=id.clone() class="block text-sm font-medium text-slate-700">{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                // The attribute carries the value in the server's HTML (no JavaScript needed);
                // the property and the handler keep it live once hydrated.
                value=value.get_untracked()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=described
                class="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200 aria-[invalid=true]:border-red-500"
            />
            {hint.map(|hint| view! { <p class="text-xs text-slate-500">{hint}</p> })}
            <p id=error_id class="min-h-4 text-sm text-red-700" aria-live="polite">{move || error.get()}</p>
        </div>
    }
}

/// A labelled multi-line input with its own error line, like [`Field`].
#[component]
pub fn TextArea(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    #[prop(default = 3)] rows: u32,
    #[prop(optional, into)] autocomplete: Option<&'static str>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional)] value: Option<RwSignal<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let described = error_id.clone();
    let value = value.unwrap_or_else(|| RwSignal::new(String::new()));
    view! {
        <div class="space-y-1">
            <label for=id.clone() class="block text-sm font-medium text-slate-700">{label}</label>
            <textarea
                id=id
                name=name
                rows=rows
                autocomplete=autocomplete
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=described
                class="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200 aria-[invalid=true]:border-red-500"
            >
                {value.get_untracked()}
            </textarea>
            <p id=error_id class="min-h-4 text-sm text-red-700" aria-live="polite">{move || error.get()}</p>
        </div>
    }
}

#[component]
pub fn SubmitButton(
    #[prop(into)] label: String,
    #[prop(into)] pending: Signal<bool>,
) -> impl IntoView {
    view! {
        <button
            type="submit"
            disabled=move || pending.get()
            class="inline-flex w-full items-center justify-center rounded-md bg-indigo-600 px-4 py-2 font-medium text-white shadow-sm hover:bg-indigo-700 disabled:cursor-wait disabled:opacity-60"
        >
            {move || if pending.get() { "Please wait…".to_owned() } else { label.clone() }}
        </button>
    }
}

/// The message a failed submission of `action` has for one form field.
pub fn field_error<S>(action: ServerAction<S>, field: impl Into<String>) -> Signal<Option<String>>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let field = field.into();
    Signal::derive(move || match action.value().get() {
        Some(Err(err)) => err.message_for(&field),
        _ => None,
    })
}

/// Once a submission of `action` fails, moves the focus to the first field of the page's
/// content marked invalid, or else to its first alert: keyboard and screen reader users land
/// on what to fix instead of staying on the button.
pub fn focus_first_error<S>(action: ServerAction<S>)
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Err(_))) {
            // After this render has put the messages and markers in place.
            #[cfg(feature = "hydrate")]
            request_animation_frame(|| {
                use leptos::wasm_bindgen::JsCast;
                let document = document();
                let first = |selector: &str| document.query_selector(selector).ok().flatten();
                if let Some(target) = first("main [aria-invalid='true']")
                    .or_else(|| first("main [role='alert']"))
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = target.focus();
                }
            });
        }
    });
}

/// Moves the focus to the first element of `ids` that takes it (one that exists and is not
/// disabled): at once if one is on the page already, as when an arrow key moves between
/// matches (a keyboard's next key may come before the next frame, and must land there);
/// otherwise after the current render, for what the same change is about to draw. Only in
/// the browser: keyboard handlers call it.
pub fn focus_first_of(ids: Vec<String>) {
    #[cfg(feature = "hydrate")]
    if !focus_first_present(&ids) {
        request_animation_frame(move || {
            focus_first_present(&ids);
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ids;
}

#[cfg(feature = "hydrate")]
fn focus_first_present(ids: &[String]) -> bool {
    use leptos::wasm_bindgen::JsCast;
    let document = document();
    ids.iter().any(|id| {
        document
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            .is_some_and(|element| {
                let _ = element.focus();
                document.active_element().is_some_and(|a| a == *element)
            })
    })
}

/// The message of a failed submission that belongs to no single field (field problems are
/// shown beside their fields instead).
pub fn form_error<S>(action: ServerAction<S>) -> Signal<Option<String>>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || match action.value().get() {
        Some(Err(AppError::Validation { .. })) | Some(Ok(_)) | None => None,
        Some(Err(err)) => Some(err.to_string()),
    })
}
