//! The platform console's screens, on `admin.<base>` only.

use domain::TenantStatus;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, Redirect};
use leptos_router::hooks::use_query_map;

use crate::api::console::{list_tenants, TenantListView, TenantRow};
use crate::api::SiteKind;
use crate::components::{
    field_error, focus_first_error, form_error, with_site, ErrorNotice, Field, Frame, Notice,
    NoticeKind, SessionActions, SubmitButton,
};
use crate::{AppError, SiteInfo};

mod audit;
mod load;
mod tenant;

pub use audit::ConsoleAuditPage;
pub use load::ConsoleLoadPage;
pub use tenant::ConsoleTenantPage;

/// A console page: signed-in console admins only (others get the sign-in form), with the
/// console's navigation above `render`'s content.
pub fn console_page<V: IntoView + 'static>(
    render: impl Fn() -> V + Clone + Send + Sync + 'static,
) -> impl IntoView {
    with_site(move |info| console_frame(info, render.clone()))
}

pub fn console_frame<V: IntoView + 'static>(info: SiteInfo, render: impl Fn() -> V) -> AnyView {
    match info.kind {
        SiteKind::Console if info.console_admin.is_some() => {
            let content = render();
            view! {
                <Frame title="Stockroom console" info>
                    <nav class="-mt-4 mb-6 flex gap-1 border-b border-slate-200 pb-3" aria-label="Console">
                        <a href="/" class="rounded-md px-3 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100">"Tenants"</a>
                        <a href="/load" class="rounded-md px-3 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100">"Load"</a>
                        <a href="/audit" class="rounded-md px-3 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100">"Audit log"</a>
                    </nav>
                    {content}
                </Frame>
            }
            .into_any()
        }
        SiteKind::Console => view! { <ConsoleSignInForm info /> }.into_any(),
        _ => view! { <super::NotFound /> }.into_any(),
    }
}

/// `/login` on the console host, for a site already read.
pub fn console_sign_in(info: SiteInfo) -> AnyView {
    if info.console_admin.is_some() {
        view! { <Redirect path="/" /> }.into_any()
    } else {
        console_frame(info, || ())
    }
}

#[component]
fn ConsoleSignInForm(info: SiteInfo) -> impl IntoView {
    let action = expect_context::<SessionActions>().console_sign_in;
    let general_error = form_error(action);
    focus_first_error(action);
    view! {
        <Title text="Console sign-in" />
        <Frame title="Stockroom console" info>
            <div class="mx-auto max-w-sm">
                <h1 class="text-2xl font-semibold">"Platform console"</h1>
                <p class="mt-1 text-slate-600">"For the people who run Stockroom. Workspace members sign in on their workspace's own address."</p>
                <ActionForm action attr:class="mt-6 space-y-3" attr:novalidate="true">
                    <Field name="email" label="Email" kind="email" autocomplete="username" error=field_error(action, "email") />
                    <Field name="password" label="Password" kind="password" autocomplete="current-password" error=field_error(action, "password") />
                    {move || general_error.get().map(|text| view! { <Notice kind=NoticeKind::Error text /> })}
                    <SubmitButton label="Sign in" pending=action.pending() />
                </ActionForm>
            </div>
        </Frame>
    }
}

pub type TenantListResource = Resource<Result<TenantListView, AppError>>;

/// The tenant list, made by the page before `with_site` (see there). It fetches again after a
/// sign-in on the same page, which is where the console's sign-in form shows.
pub fn tenant_list_resource() -> TenantListResource {
    let query = use_query_map();
    let signed_in = expect_context::<SessionActions>();
    Resource::new(
        move || {
            (
                signed_in.version(),
                query.read().get("q").unwrap_or_default(),
                query.read().get("status").unwrap_or_default(),
                query.read().get("after"),
            )
        },
        |(_, q, status, after)| {
            list_tenants(
                (!q.is_empty()).then_some(q),
                (!status.is_empty()).then_some(status),
                after,
            )
        },
    )
}

/// `/` on the console host: the tenant list.
#[component]
pub fn ConsoleTenants(page: TenantListResource) -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("q").unwrap_or_default();
    let status = move || query.read().get("status").unwrap_or_default();
    view! {
        <Title text="Tenants" />
        <div class="flex flex-wrap items-end justify-between gap-3">
            <h1 class="text-2xl font-semibold">"Tenants"</h1>
            <Form method="GET" action="/" attr:class="flex flex-wrap gap-2" attr:role="search">
                <label for="tenant-search" class="sr-only">"Search by address or name"</label>
                <input id="tenant-search" type="search" name="q" value=search placeholder="Search address or name"
                    class="w-56 rounded-md border border-slate-300 px-3 py-1.5" />
                <label for="tenant-status" class="sr-only">"Status"</label>
                <select id="tenant-status" name="status" class="rounded-md border border-slate-300 bg-white px-2 py-1.5" data-testid="tenant-status-filter">
                    <option value="">"Any status"</option>
                    {[TenantStatus::Active, TenantStatus::Suspended, TenantStatus::Deleting, TenantStatus::Purged].into_iter().map(|s| view! {
                        <option value=s.as_db() selected=move || status() == s.as_db()>{status_label(s)}</option>
                    }).collect_view()}
                </select>
                <button type="submit" class="rounded-md border border-slate-300 bg-white px-3 py-1.5 hover:bg-slate-100">"Search"</button>
            </Form>
        </div>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading tenants…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(err) => view! { <ErrorNotice err /> }.into_any(),
                    Ok(page) => {
                        let next = page.next.clone().map(|after| {
                            format!("/?q={}&status={}&after={after}", super::encode_query(&search()), super::encode_query(&status()))
                        });
                        view! {
                            <TenantTable tenants=page.tenants />
                            {next.map(|href| view! { <a href=href class="mt-4 inline-block text-indigo-700 underline">"Next page →"</a> })}
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn TenantTable(tenants: Vec<TenantRow>) -> impl IntoView {
    if tenants.is_empty() {
        return view! { <p class="mt-6 text-slate-600">"No tenants match."</p> }.into_any();
    }
    view! {
        <div class="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-slate-600">
                    <tr>
                        <th scope="col" class="px-4 py-2 font-medium">"Tenant"</th>
                        <th scope="col" class="px-4 py-2 font-medium">"Plan"</th>
                        <th scope="col" class="px-4 py-2 font-medium">"Status"</th>
                        <th scope="col" class="px-4 py-2 text-right font-medium">"Members"</th>
                        <th scope="col" class="px-4 py-2 text-right font-medium">"Products"</th>
                        <th scope="col" class="px-4 py-2 text-right font-medium">"Orders this month"</th>
                        <th scope="col" class="px-4 py-2 font-medium">"Created"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {tenants.into_iter().map(|t| view! {
                        <tr data-testid="tenant-row">
                            <td class="px-4 py-2">
                                <a href=format!("/tenants/{}", t.slug) class="font-medium text-indigo-700 hover:underline">{t.name}</a>
                                <span class="block font-mono text-xs text-slate-500">{t.slug}</span>
                            </td>
                            <td class="px-4 py-2" data-testid="tenant-plan">{t.plan}</td>
                            <td class="px-4 py-2" data-testid="tenant-row-status">
                                {status_label(t.status)}
                                {t.delete_after.map(|at| view! { <span class="block text-xs text-slate-500">{format!("erased after {at}")}</span> })}
                            </td>
                            <td class="px-4 py-2 text-right tabular-nums">{t.members}</td>
                            <td class="px-4 py-2 text-right tabular-nums">{t.products}</td>
                            <td class="px-4 py-2 text-right tabular-nums">{t.orders_this_month}</td>
                            <td class="px-4 py-2 text-slate-600">{t.created_at}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// A workspace's status, as the console's lists and pages name it.
pub(crate) fn status_label(status: domain::TenantStatus) -> &'static str {
    match status {
        domain::TenantStatus::Active => "Active",
        domain::TenantStatus::Suspended => "Suspended",
        domain::TenantStatus::Deleting => "Scheduled for deletion",
        domain::TenantStatus::Purged => "Erased",
    }
}
