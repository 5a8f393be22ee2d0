//! The platform console's screens, on `admin.<base>` only.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::{Form, Redirect, A};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::console::{
    list_tenants, load_audit, load_tenant, AuditView, ChangeTenantPlan, SetFeatureOverride,
    SetLimitOverride, SetTenantStatus, TenantDetailView, TenantListView, TenantRow,
};
use crate::api::SiteKind;
use crate::components::{
    field_error, form_error, with_site, ErrorNotice, Field, Frame, Notice, NoticeKind,
    SessionActions, SubmitButton,
};
use crate::{AppError, SiteInfo};

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

/// The tenant list, made by the route before it knows which site it is on (see `with_site`);
/// anywhere but the console the call answers "not found" without any query.
pub fn tenant_list_resource() -> TenantListResource {
    let query = use_query_map();
    Resource::new(
        move || {
            (
                query.read().get("q").unwrap_or_default(),
                query.read().get("after"),
            )
        },
        |(q, after)| list_tenants((!q.is_empty()).then_some(q), after),
    )
}

/// `/` on the console host: the tenant list.
#[component]
pub fn ConsoleTenants(page: TenantListResource) -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("q").unwrap_or_default();
    view! {
        <Title text="Tenants" />
        <div class="flex flex-wrap items-end justify-between gap-3">
            <h1 class="text-2xl font-semibold">"Tenants"</h1>
            <Form method="GET" action="/" attr:class="flex gap-2" attr:role="search">
                <label for="tenant-search" class="sr-only">"Search by address or name"</label>
                <input id="tenant-search" type="search" name="q" value=search placeholder="Search address or name"
                    class="w-56 rounded-md border border-slate-300 px-3 py-1.5" />
                <button type="submit" class="rounded-md border border-slate-300 bg-white px-3 py-1.5 hover:bg-slate-100">"Search"</button>
            </Form>
        </div>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading tenants…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(err) => view! { <ErrorNotice err /> }.into_any(),
                    Ok(page) => {
                        let next = page.next.clone().map(|after| format!("/?q={}&after={after}", search()));
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
                                <A href=format!("/tenants/{}", t.slug) attr:class="font-medium text-indigo-700 hover:underline">{t.name}</A>
                                <span class="block font-mono text-xs text-slate-500">{t.slug}</span>
                            </td>
                            <td class="px-4 py-2" data-testid="tenant-plan">{t.plan}</td>
                            <td class="px-4 py-2">{if t.suspended { "Suspended" } else { "Active" }}</td>
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

/// `/tenants/:slug` on the console host.
#[component]
pub fn ConsoleTenantPage() -> impl IntoView {
    let params = use_params_map();
    let actions = TenantActions {
        plan: ServerAction::new(),
        status: ServerAction::new(),
        feature: ServerAction::new(),
        limit: ServerAction::new(),
    };
    let detail = Resource::new(
        move || {
            (
                params.read().get("slug").unwrap_or_default(),
                actions.plan.version().get(),
                actions.status.version().get(),
                actions.feature.version().get(),
                actions.limit.version().get(),
            )
        },
        |(slug, ..)| load_tenant(slug),
    );
    console_page(move || view! { <ConsoleTenant actions detail /> })
}

#[derive(Clone, Copy)]
struct TenantActions {
    plan: ServerAction<ChangeTenantPlan>,
    status: ServerAction<SetTenantStatus>,
    feature: ServerAction<SetFeatureOverride>,
    limit: ServerAction<SetLimitOverride>,
}

#[component]
fn ConsoleTenant(
    actions: TenantActions,
    detail: Resource<Result<TenantDetailView, AppError>>,
) -> impl IntoView {
    view! {
        <div aria-live="polite" class="space-y-2">
            <Saved action=actions.plan text="Plan changed. It applies from the tenant's next request." />
            <Saved action=actions.status text="Status changed." />
            <Saved action=actions.feature text="Feature setting saved." />
            <Saved action=actions.limit text="Limit saved." />
        </div>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(err) => view! { <ErrorNotice err /> }.into_any(),
                    Ok(detail) => view! { <TenantDetail detail actions /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Saved<S>(action: ServerAction<S>, text: &'static str) -> impl IntoView
where
    S: ServerFn<Error = AppError, Output = ()> + Clone + Send + Sync + 'static,
{
    move || {
        match action.value().get() {
        Some(Ok(())) => Some(view! { <p class="rounded-md bg-emerald-50 px-4 py-2 text-sm text-emerald-800" role="status">{text}</p> }.into_any()),
        Some(Err(AppError::Validation { .. })) | None => None,
        Some(Err(err)) => Some(view! { <Notice kind=NoticeKind::Error text=err.to_string() /> }.into_any()),
    }
    }
}

#[component]
fn TenantDetail(detail: TenantDetailView, actions: TenantActions) -> impl IntoView {
    let slug = detail.tenant.slug.clone();
    let suspended = detail.tenant.suspended;
    let current_plan = detail.plan_code.clone();
    let (plan_slug, status_slug) = (slug.clone(), slug.clone());
    view! {
        <Title text=detail.tenant.name.clone() />
        <h1 class="text-2xl font-semibold">{detail.tenant.name.clone()}</h1>
        <p class="mt-1 text-sm text-slate-600">
            <a href=detail.workspace_url.clone() class="font-mono text-indigo-700 underline">{detail.workspace_url.clone()}</a>
            {format!(" · created {} · {} members · {} products · {} orders this month",
                detail.tenant.created_at, detail.tenant.members, detail.tenant.products, detail.tenant.orders_this_month)}
        </p>
        <div class="mt-6 grid gap-6 md:grid-cols-2">
            <section class="rounded-lg border border-slate-200 bg-white p-4">
                <h2 class="font-semibold">"Plan"</h2>
                <ActionForm action=actions.plan attr:class="mt-2 flex items-end gap-2">
                    <input type="hidden" name="slug" value=plan_slug />
                    <div class="grow">
                        <label for="plan-select" class="block text-sm text-slate-700">"Plan"</label>
                        <select id="plan-select" name="plan" class="mt-1 block w-full rounded-md border border-slate-300 px-2 py-1.5" data-testid="plan-select">
                            {detail.plans.iter().map(|p| view! {
                                <option value=p.code.clone() selected=p.code == current_plan>{p.name.clone()}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <button type="submit" class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-700">"Change plan"</button>
                </ActionForm>
                <p class="mt-1 text-sm text-red-700">{move || field_error(actions.plan, "plan").get()}</p>
            </section>
            <section class="rounded-lg border border-slate-200 bg-white p-4">
                <h2 class="font-semibold">"Status"</h2>
                <p class="mt-1 text-sm" data-testid="tenant-status">{if suspended { "Suspended: its people are signed out and cannot sign in." } else { "Active." }}</p>
                <ActionForm action=actions.status attr:class="mt-2">
                    <input type="hidden" name="slug" value=status_slug />
                    <input type="hidden" name="status" value=if suspended { "active" } else { "suspended" } />
                    <button type="submit" class=if suspended {
                        "rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100"
                    } else {
                        "rounded-md border border-red-300 px-3 py-1.5 text-sm text-red-700 hover:bg-red-50"
                    }>
                        {if suspended { "Reactivate" } else { "Suspend" }}
                    </button>
                </ActionForm>
            </section>
        </div>
        <section class="mt-6 rounded-lg border border-slate-200 bg-white p-4">
            <h2 class="font-semibold">"Features"</h2>
            <ul class="mt-2 divide-y divide-slate-100 text-sm">
                {detail.features.into_iter().map(|f| {
                    let slug = slug.clone();
                    view! {
                        <li class="flex flex-wrap items-center justify-between gap-2 py-2" data-testid="feature-row">
                            <span>
                                <span class="font-medium">{f.name.clone()}</span>
                                <span class="ml-2 text-slate-600">{if f.enabled { "on" } else { "off" }}</span>
                            </span>
                            <ActionForm action=actions.feature attr:class="flex items-center gap-2">
                                <input type="hidden" name="slug" value=slug />
                                <input type="hidden" name="feature" value=f.code.clone() />
                                <label class="sr-only" for=format!("feature-{}", f.code)>{format!("{} override", f.name)}</label>
                                <select id=format!("feature-{}", f.code) name="value" class="rounded-md border border-slate-300 px-2 py-1">
                                    <option value="plan" selected=f.setting == "plan">"Follow the plan"</option>
                                    <option value="on" selected=f.setting == "on">"Always on"</option>
                                    <option value="off" selected=f.setting == "off">"Always off"</option>
                                </select>
                                <button type="submit" class="rounded-md border border-slate-300 px-2 py-1 hover:bg-slate-100">"Save"</button>
                            </ActionForm>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
        <section class="mt-6 rounded-lg border border-slate-200 bg-white p-4">
            <h2 class="font-semibold">"Limits"</h2>
            <p class="text-sm text-slate-600">"Leave a field empty to follow the plan; type a number or \"unlimited\" to override it for this tenant."</p>
            <ul class="mt-2 divide-y divide-slate-100 text-sm">
                {detail.limits.into_iter().map(|l| {
                    let slug = slug.clone();
                    let field = format!("limit-{}", l.code);
                    let value = RwSignal::new(l.setting.clone());
                    view! {
                        <li class="py-2" data-testid="limit-row">
                            <ActionForm action=actions.limit attr:class="flex flex-wrap items-start justify-between gap-2" attr:novalidate="true">
                                <span class="pt-2">
                                    <span class="font-medium">{l.name.clone()}</span>
                                    <span class="ml-2 text-slate-600">{format!("{} used of {}", l.used, l.effective)}</span>
                                </span>
                                <input type="hidden" name="slug" value=slug />
                                <input type="hidden" name="limit" value=l.code.clone() />
                                <div class="flex items-start gap-2">
                                    <div class="w-40">
                                        <Field name="value" label=format!("{} override", l.name) value error=field_error(actions.limit, field) />
                                    </div>
                                    <button type="submit" class="mt-6 rounded-md border border-slate-300 px-2 py-1.5 hover:bg-slate-100">"Save"</button>
                                </div>
                            </ActionForm>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
        <a href=format!("/audit?tenant={slug}") class="mt-6 inline-block text-indigo-700 underline">"This tenant's audit log"</a>
    }
}

/// `/audit` on the console host: every console action, newest first, filterable.
#[component]
pub fn ConsoleAuditPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |key: &str| query.read().get(key).filter(|v| !v.is_empty());
    let page = Resource::new(
        move || (get("tenant"), get("action"), get("actor"), get("before")),
        |(tenant, action, actor, before)| load_audit(tenant, action, actor, before),
    );
    console_page(move || view! { <ConsoleAudit page /> })
}

#[component]
fn ConsoleAudit(page: Resource<Result<AuditView, AppError>>) -> impl IntoView {
    let query = use_query_map();
    let get = move |key: &str| query.read().get(key).filter(|v| !v.is_empty());
    view! {
        <Title text="Audit log" />
        <h1 class="text-2xl font-semibold">"Audit log"</h1>
        <Form method="GET" action="/audit" attr:class="mt-4 flex flex-wrap items-end gap-3 text-sm">
            <label class="block">"Tenant address"
                <input name="tenant" value=move || get("tenant").unwrap_or_default() class="mt-1 block w-40 rounded-md border border-slate-300 px-2 py-1" />
            </label>
            <label class="block">"Action"
                <select name="action" class="mt-1 block rounded-md border border-slate-300 px-2 py-1">
                    <option value="">"Any"</option>
                    {["change_plan", "set_feature_override", "set_limit_override", "suspend", "reactivate"].into_iter().map(|a| view! {
                        <option value=a selected=move || get("action").as_deref() == Some(a)>{a}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="block">"Who"
                <input name="actor" value=move || get("actor").unwrap_or_default() class="mt-1 block w-48 rounded-md border border-slate-300 px-2 py-1" />
            </label>
            <button type="submit" class="rounded-md border border-slate-300 bg-white px-3 py-1 hover:bg-slate-100">"Filter"</button>
        </Form>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(err) => view! { <ErrorNotice err /> }.into_any(),
                    Ok(audit) => {
                        let filters: String = ["tenant", "action", "actor"].iter()
                            .filter_map(|k| get(k).map(|v| format!("&{k}={v}")))
                            .collect();
                        let next = audit.next.clone().map(|before| format!("/audit?before={before}{filters}"));
                        view! {
                            {if audit.entries.is_empty() {
                                view! { <p class="mt-6 text-slate-600">"Nothing recorded yet."</p> }.into_any()
                            } else {
                                view! {
                                    <div class="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white">
                                        <table class="min-w-full divide-y divide-slate-200 text-sm">
                                            <thead class="bg-slate-50 text-left text-slate-600">
                                                <tr>
                                                    <th scope="col" class="px-3 py-2 font-medium">"When"</th>
                                                    <th scope="col" class="px-3 py-2 font-medium">"Who"</th>
                                                    <th scope="col" class="px-3 py-2 font-medium">"What"</th>
                                                    <th scope="col" class="px-3 py-2 font-medium">"Tenant"</th>
                                                    <th scope="col" class="px-3 py-2 font-medium">"Before"</th>
                                                    <th scope="col" class="px-3 py-2 font-medium">"After"</th>
                                                </tr>
                                            </thead>
                                            <tbody class="divide-y divide-slate-100">
                                                {audit.entries.into_iter().map(|e| view! {
                                                    <tr data-testid="audit-row">
                                                        <td class="whitespace-nowrap px-3 py-2 text-slate-600">{e.at}</td>
                                                        <td class="px-3 py-2">{e.actor}</td>
                                                        <td class="px-3 py-2 font-mono" data-testid="audit-action">{e.action}</td>
                                                        <td class="px-3 py-2 font-mono">{e.tenant.unwrap_or_default()}</td>
                                                        <td class="px-3 py-2 font-mono text-xs">{e.before}</td>
                                                        <td class="px-3 py-2 font-mono text-xs">{e.after}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                }.into_any()
                            }}
                            {next.map(|href| view! { <a href=href class="mt-4 inline-block text-indigo-700 underline">"Older entries →"</a> })}
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
