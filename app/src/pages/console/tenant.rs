//! `/tenants/:slug`: one workspace as the console sees it, and the changes made there.

use domain::TenantStatus;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::console_page;
use crate::api::console::{
    load_tenant, ChangeTenantPlan, MoveTenant, MoveView, ProvisionTenant, PurgeResult,
    RequestTenantPurge, SetFeatureOverride, SetLimitOverride, SetTenantStatus, TenantDetailView,
};
use crate::components::{field_error, ErrorNotice, Field, Notice, NoticeKind};
use crate::AppError;

/// `/tenants/:slug` on the console host.
#[component]
pub fn ConsoleTenantPage() -> impl IntoView {
    let params = use_params_map();
    let actions = TenantActions {
        plan: ServerAction::new(),
        status: ServerAction::new(),
        feature: ServerAction::new(),
        limit: ServerAction::new(),
        purge: ServerAction::new(),
        provision: ServerAction::new(),
        relocate: ServerAction::new(),
    };
    // Bumped to read the page again while a move is under way (its progress panel).
    let tick = RwSignal::new(0_u32);
    let detail = Resource::new(
        move || {
            (
                tick.get(),
                actions.relocate.version().get(),
                params.read().get("slug").unwrap_or_default(),
                actions.plan.version().get(),
                actions.status.version().get(),
                actions.feature.version().get(),
                actions.limit.version().get(),
                actions.purge.version().get(),
                actions.provision.version().get(),
            )
        },
        |(_, _, slug, ..)| load_tenant(slug),
    );
    // Effects run in the browser only: the server renders the page once.
    Effect::new(move |_| {
        let moving = detail
            .get()
            .and_then(Result::ok)
            .and_then(|d| d.latest_move)
            .is_some_and(|m| m.open);
        if moving {
            set_timeout(
                move || tick.update(|t| *t = t.wrapping_add(1)),
                std::time::Duration::from_secs(1),
            );
        }
    });
    console_page(move || view! { <ConsoleTenant actions detail /> })
}

#[derive(Clone, Copy)]
struct TenantActions {
    plan: ServerAction<ChangeTenantPlan>,
    status: ServerAction<SetTenantStatus>,
    feature: ServerAction<SetFeatureOverride>,
    limit: ServerAction<SetLimitOverride>,
    purge: ServerAction<RequestTenantPurge>,
    provision: ServerAction<ProvisionTenant>,
    relocate: ServerAction<MoveTenant>,
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
            <Saved action=actions.purge text="Purge requested: the next run of the purge job erases it." />
            <Saved action=actions.provision text="It has a database of its own now." />
            <Saved action=actions.relocate text="Move started: its writes are paused until it is done (below)." />
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
    let status = detail.tenant.status;
    let status_text = match status {
        TenantStatus::Active => "Active.".to_owned(),
        TenantStatus::Suspended => match &detail.tenant.delete_after {
            None => "Suspended: its people are signed out and cannot sign in.".to_owned(),
            Some(_) => "Suspended, and to be purged by the next run of the purge job. Reactivating cancels the purge.".to_owned(),
        },
        TenantStatus::Deleting => format!(
            "Scheduled for deletion by its owner: closed, and erased after {}. Restoring makes it active again.",
            detail.tenant.delete_after.clone().unwrap_or_default()
        ),
        TenantStatus::Purged => "Erased: its data is gone.".to_owned(),
    };
    let current_plan = detail.plan_code.clone();
    let (plan_slug, status_slug, provision_slug) = (slug.clone(), slug.clone(), slug.clone());
    view! {
        <Title text=detail.tenant.name.clone() />
        <h1 class="text-2xl font-semibold">{detail.tenant.name.clone()}</h1>
        <p class="mt-1 text-sm text-slate-600">
            <a href=detail.workspace_url.clone() class="font-mono text-indigo-700 underline">{detail.workspace_url.clone()}</a>
            {format!(" · created {} · {} members · {} products · {} orders this month",
                detail.tenant.created_at, detail.tenant.members, detail.tenant.products, detail.tenant.orders_this_month)}
        </p>
        <p class="mt-1 text-sm text-slate-600" data-testid="tenant-data">{detail.data.clone()}</p>
        {(!detail.clusters.is_empty()).then(|| view! {
            <ActionForm action=actions.provision attr:class="mt-2 flex flex-wrap items-end gap-2">
                <input type="hidden" name="slug" value=provision_slug />
                <div>
                    <label for="cluster-select" class="block text-sm text-slate-700">"Give it a database of its own on"</label>
                    <select id="cluster-select" name="cluster" class="mt-1 block rounded-md border border-slate-300 px-2 py-1.5">
                        {detail.clusters.iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100">"Provision"</button>
            </ActionForm>
            <p class="mt-1 text-sm text-red-700">{move || field_error(actions.provision, "cluster").get()}</p>
        })}
        <Relocation slug=slug.clone() targets=detail.move_targets.clone() latest=detail.latest_move.clone() action=actions.relocate />
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
                <p class="mt-1 text-sm" data-testid="tenant-status">{status_text}</p>
                {(status != TenantStatus::Purged).then(|| view! {
                <ActionForm action=actions.status attr:class="mt-2">
                    <input type="hidden" name="slug" value=status_slug />
                    <input type="hidden" name="status" value=if suspended { "active" } else { "suspended" } />
                    <button type="submit" class=if suspended {
                        "rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100"
                    } else {
                        "rounded-md border border-red-300 px-3 py-1.5 text-sm text-red-700 hover:bg-red-50"
                    }>
                        {match status {
                            TenantStatus::Deleting => "Restore",
                            _ if suspended => "Reactivate",
                            _ => "Suspend",
                        }}
                    </button>
                </ActionForm>
                })}
            </section>
        </div>
        {(status != TenantStatus::Active).then(|| view! {
            <Erasure slug=slug.clone() status last_purge=detail.last_purge.clone() action=actions.purge
                requested=status == TenantStatus::Suspended && detail.tenant.delete_after.is_some() />
        })}
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
                                    <span class="ml-2 text-slate-600">{match l.used {
                                        Some(used) => format!("{used} used of {}", l.effective),
                                        None if l.effective == "unlimited" => "unlimited".to_owned(),
                                        None => format!("{} {}", l.effective, l.unit),
                                    }}</span>
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

/// A closed workspace's erasure: how its last purge ended, and "purge now" until one begins.
#[component]
fn Erasure(
    slug: String,
    status: TenantStatus,
    last_purge: Option<PurgeResult>,
    action: ServerAction<RequestTenantPurge>,
    /// A purge of this suspended workspace was asked for and has not run yet.
    requested: bool,
) -> impl IntoView {
    let purge_started = last_purge.is_some() || status == TenantStatus::Purged;
    // Refusals that concern the workspace rather than the reason (it is active again, or its
    // purge has begun): shown above the form, which has no field of that name.
    let (not_closed, erased) = (field_error(action, "purge"), field_error(action, "status"));
    let refused = move || not_closed.get().or_else(|| erased.get());
    view! {
        <section class="mt-6 rounded-lg border border-red-200 bg-white p-4" data-testid="erasure">
            <h2 class="font-semibold">"Erasure"</h2>
            {last_purge.map(|p| view! {
                <p class="mt-1 text-sm" data-testid="purge-result">
                    {format!("Purged on {}: {} rows removed. ", p.at, p.rows_removed)}
                    {if p.verified {
                        "Verified: no row of this workspace is left in any table.".to_owned()
                    } else {
                        format!("Not verified: rows remain in {}. Run the purge again.", p.remaining.join(", "))
                    }}
                </p>
            })}
            {move || refused().map(|text| view! { <Notice kind=NoticeKind::Error text /> })}
            {(!purge_started && !requested).then(|| view! {
                <p class="mt-1 text-sm text-slate-600">
                    "Purging erases every record of this workspace for good. It is done by the purge job ("
                    <code>"server tenant purge-due"</code>
                    ", which holds the database rights the web server does not have) on its next run; this page then shows its verification."
                </p>
                <ActionForm action attr:class="mt-3 flex flex-wrap items-start gap-2" attr:novalidate="true">
                    <input type="hidden" name="slug" value=slug />
                    <div class="w-80">
                        <Field name="reason" label="Reason (kept in the audit log)" autocomplete="off" error=field_error(action, "reason") />
                    </div>
                    <button type="submit" class="mt-6 rounded-md bg-red-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-red-800">"Purge now"</button>
                </ActionForm>
            })}
        </section>
    }
}

/// Where the workspace's data can go, and how its latest move stands (followed live while it
/// is under way).
#[component]
fn Relocation(
    slug: String,
    targets: Vec<String>,
    latest: Option<MoveView>,
    action: ServerAction<MoveTenant>,
) -> impl IntoView {
    if targets.is_empty() && latest.is_none() {
        return ().into_any();
    }
    let resuming = latest.as_ref().is_some_and(|m| m.open);
    view! {
        <section class="mt-6 rounded-lg border border-slate-200 bg-white p-4" data-testid="relocation">
            <h2 class="font-semibold">"Move its data"</h2>
            {latest.map(|m| view! {
                <div class="mt-2 text-sm" data-testid="move-progress">
                    <p class="font-medium">{m.state.clone()}</p>
                    <p class="text-slate-600">{format!("From {} to {}; started {} by {}.", m.from, m.to, m.started_at, m.started_by)}</p>
                    {m.rows_moved.map(|rows| view! { <p class="text-slate-600">{format!("{rows} rows copied.")}</p> })}
                    {m.source_kept_until.clone().map(|until| view! {
                        <p class="text-slate-600">{format!("The old copy is removed by the first purge job after {until}.")}</p>
                    })}
                    {m.failure.clone().map(|why| view! { <Notice kind=NoticeKind::Error text=why /> })}
                </div>
            })}
            {(!targets.is_empty()).then(|| view! {
                <ActionForm action attr:class="mt-2 flex flex-wrap items-end gap-2">
                    <input type="hidden" name="slug" value=slug />
                    <div>
                        <label for="move-to" class="block text-sm text-slate-700">"Move to"</label>
                        <select id="move-to" name="to" class="mt-1 block rounded-md border border-slate-300 px-2 py-1.5">
                            {targets.iter().map(|t| {
                                let label = if t == "shared" { "the shared database".to_owned() } else { format!("a database of its own on {t}") };
                                view! { <option value=t.clone()>{label}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                    <button type="submit" class="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100">
                        {if resuming { "Finish the move" } else { "Move" }}
                    </button>
                </ActionForm>
                <p class="mt-1 text-xs text-slate-500">"Its writes are refused while its rows are copied and checked (its pages still read); every other workspace carries on."</p>
                <p class="mt-1 text-sm text-red-700">{move || field_error(action, "to").get()}</p>
            })}
        </section>
    }
    .into_any()
}
