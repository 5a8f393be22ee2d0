use leptos::prelude::*;
use leptos_meta::Title;

use super::layout::workspace_page;
use crate::api::exports::{load_exports, ExportRow, ExportsView, RequestExport};
use crate::components::{ErrorNotice, Notice, NoticeKind};
use crate::AppError;

/// `/exports`: CSV exports of products and orders, and for owners the whole workspace in one
/// archive, with their progress and download links.
#[component]
pub fn ExportsPage() -> impl IntoView {
    let request = ServerAction::<RequestExport>::new();
    // Bumped while an export is still running, so its progress updates without a reload.
    let tick = RwSignal::new(0u32);
    let view_data = Resource::new(
        move || (request.version().get(), tick.get()),
        |_| load_exports(),
    );
    workspace_page(move |_| view! { <Exports request tick view_data /> })
}

#[component]
fn Exports(
    request: ServerAction<RequestExport>,
    tick: RwSignal<u32>,
    view_data: Resource<Result<ExportsView, AppError>>,
) -> impl IntoView {
    Effect::new(move |_| {
        let pending = view_data
            .get()
            .and_then(Result::ok)
            .is_some_and(|v| v.exports.iter().any(|e| e.pending));
        if pending {
            set_timeout(
                move || tick.update(|t| *t += 1),
                std::time::Duration::from_millis(1000),
            );
        }
    });
    view! {
        <Title text="Exports" />
        <h1 class="text-2xl font-semibold">"Exports"</h1>
        <p class="mt-1 text-slate-600">"Download your products or orders as CSV files, for spreadsheets and accounting."</p>
        <Transition fallback=|| view! { <p class="mt-6 text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Err(err) => view! { <ErrorNotice err /> }.into_any(),
                    Ok(data) => view! { <ExportsBody data request /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ExportsBody(data: ExportsView, request: ServerAction<RequestExport>) -> impl IntoView {
    let locked = data.locked.clone();
    let disabled = locked.is_some();
    let button = move |kind: &'static str, label: &'static str| {
        view! {
            <ActionForm action=request>
                <input type="hidden" name="kind" value=kind />
                <button
                    type="submit"
                    disabled=move || disabled || request.pending().get()
                    class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700 disabled:cursor-not-allowed disabled:bg-slate-300 disabled:text-slate-600"
                >
                    {label}
                </button>
            </ActionForm>
        }
    };
    let owner = data.owner;
    view! {
        {locked.map(|err| view! { <UpgradePrompt err /> })}
        <div class="mt-4 flex flex-wrap gap-3" data-testid="export-buttons">
            {button("products", "Export products")}
            {button("orders", "Export orders")}
        </div>
        {owner.then(|| view! { <WholeWorkspace request /> })}
        {move || match request.value().get() {
            Some(Err(err)) => Some(view! { <Notice kind=NoticeKind::Error text=err.to_string() /> }),
            _ => None,
        }}
        <section class="mt-8">
            <h2 class="text-lg font-semibold">"Recent exports"</h2>
            {if data.exports.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-600">"No exports yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-2 divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white text-sm">
                        {data.exports.into_iter().map(|e| view! { <ExportLine export=e /> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn ExportLine(export: ExportRow) -> impl IntoView {
    view! {
        <li class="flex flex-wrap items-center justify-between gap-3 px-4 py-3" data-testid="export-row">
            <div class="min-w-48">
                <span class="font-medium">{export.kind}</span>
                <span class="ml-2 text-slate-600" data-testid="export-status">{export.status}</span>
                <span class="block text-xs text-slate-500">{format!("Asked for by {} on {}", export.requested_by, export.requested_at)}</span>
                {export.error.map(|e| view! { <span class="block text-xs text-red-700">{e}</span> })}
            </div>
            {export.pending.then(|| view! {
                <div class="w-48">
                    <div class="h-2 rounded bg-slate-100" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=export.percent>
                        <div class="h-2 rounded bg-indigo-500" style=format!("width: {}%", export.percent)></div>
                    </div>
                    <span class="text-xs text-slate-500">{export.progress.clone()}</span>
                </div>
            })}
            {export.download.map(|href| view! {
                <div class="text-right">
                    <a href=href rel="external" download="" class="rounded-md border border-slate-300 px-3 py-1.5 hover:bg-slate-100" data-testid="export-download">
                        {format!("{} ({})", export.download_label, export.progress)}
                    </a>
                    {export.available_until.map(|until| view! { <span class="mt-1 block text-xs text-slate-500">{until}</span> })}
                </div>
            })}
        </li>
    }
}

/// The owners' copy of everything: not a plan feature, so offered even where CSV exports are
/// locked.
#[component]
fn WholeWorkspace(request: ServerAction<RequestExport>) -> impl IntoView {
    view! {
        <section class="mt-8 rounded-lg border border-slate-200 bg-white p-4" data-testid="workspace-export">
            <h2 class="text-lg font-semibold">"Everything in this workspace"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "One archive with every record of this workspace — products, stock, customers, orders, members and their history — "
                "as JSON files with a manifest of their counts and checksums. Passwords and access tokens are never included. "
                "Only owners can ask for it and download it."
            </p>
            <ActionForm action=request attr:class="mt-3">
                <input type="hidden" name="kind" value="workspace" />
                <button
                    type="submit"
                    disabled=move || request.pending().get()
                    class="rounded-md border border-slate-300 px-4 py-2 text-sm font-medium hover:bg-slate-100 disabled:cursor-not-allowed disabled:text-slate-400"
                    data-testid="export-workspace"
                >
                    "Export the whole workspace"
                </button>
            </ActionForm>
        </section>
    }
}

/// Shown instead of a generic error when the plan does not include a feature.
#[component]
pub fn UpgradePrompt(err: AppError) -> impl IntoView {
    let hint = err.upgrade_hint().unwrap_or_default();
    view! {
        <div class="mt-4 rounded-md border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900" data-testid="upgrade-prompt">
            <p class="font-medium">{err.to_string()}</p>
            <p>{hint}</p>
        </div>
    }
}
