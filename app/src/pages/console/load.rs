//! `/load`: the busiest workspaces now and over the last hour, and the pool's use.

use leptos::prelude::*;
use leptos_meta::Title;

use super::console_page;
use crate::api::common::approx_size;
use crate::api::console::{load_overview, DatabasePoolRow, LoadRow, LoadView};
use crate::components::ErrorNotice;
use crate::AppError;

#[component]
pub fn ConsoleLoadPage() -> impl IntoView {
    let page = Resource::new(|| (), |_| load_overview());
    console_page(move || view! { <ConsoleLoad page /> })
}

#[component]
fn ConsoleLoad(page: Resource<Result<LoadView, AppError>>) -> impl IntoView {
    view! {
        <Title text="Load" />
        <h1 class="text-2xl font-semibold">"Load"</h1>
        <p class="mt-1 text-sm text-slate-600">"As this server process sees it; busiest first, by requests and database time with recent minutes weighing most."</p>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(err) => view! { <ErrorNotice err /> }.into_any(),
                    Ok(load) => view! { <LoadTables load /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn LoadTables(load: LoadView) -> impl IntoView {
    let pool = format!(
        "{} of {} connections in use ({} open)",
        load.pool_in_use, load.pool_max, load.pool_open
    );
    view! {
        <section class="mt-4 rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="pool-heading">
            <h2 id="pool-heading" class="font-semibold">"Database pool"</h2>
            <p class="text-sm" data-testid="pool-use">{pool}</p>
        </section>
        <WorkspaceDatabases clusters=load.clusters databases=load.databases summary=load.databases_summary />
        <section class="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white" aria-labelledby="busiest-heading">
            <h2 id="busiest-heading" class="p-4 pb-0 font-semibold">"Busiest workspaces"</h2>
            {if load.busiest.is_empty() {
                view! { <p class="p-4 text-slate-600">"No workspace has sent a request to this process yet."</p> }.into_any()
            } else {
                view! {
                    <table class="mt-2 w-full text-left text-sm">
                        <thead class="text-slate-600">
                            <tr>
                                <th scope="col" class="px-4 py-2">"Workspace"</th>
                                <th scope="col" class="px-2 py-2">"Last hour"</th>
                                <th scope="col" class="px-2 py-2 text-right">"Requests (last minute / hour)"</th>
                                <th scope="col" class="px-2 py-2 text-right">"Refused (429)"</th>
                                <th scope="col" class="px-2 py-2 text-right">"Errors"</th>
                                <th scope="col" class="px-2 py-2 text-right">"Database time"</th>
                                <th scope="col" class="px-2 py-2 text-right">"Members / products / orders this month"</th>
                                <th scope="col" class="px-4 py-2 text-right">"Data"</th>
                            </tr>
                        </thead>
                        <tbody class="divide-y divide-slate-100">
                            {load.busiest.into_iter().map(|row| view! { <LoadTableRow row /> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            <p class="p-4 text-sm text-slate-600">{format!("All other workspaces: {} requests in the last minute.", load.others_last_minute)}</p>
        </section>
    }
}

/// The clusters and this process's pools to workspaces' own databases.
#[component]
fn WorkspaceDatabases(
    clusters: Vec<String>,
    databases: Vec<DatabasePoolRow>,
    summary: String,
) -> impl IntoView {
    view! {
        <section class="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="databases-heading">
            <h2 id="databases-heading" class="font-semibold">"Workspace databases"</h2>
            {if clusters.is_empty() {
                view! { <p class="text-sm text-slate-600" data-testid="clusters">"No cluster is registered: every workspace is in the shared database."</p> }.into_any()
            } else {
                view! {
                    <p class="text-sm" data-testid="clusters">{format!("Clusters: {}.", clusters.join(", "))}</p>
                    <p class="text-sm" data-testid="database-pools">{summary}</p>
                    <table class="mt-2 w-full text-left text-sm">
                        <thead class="text-slate-600">
                            <tr>
                                <th scope="col" class="py-2 pr-2">"Cluster"</th>
                                <th scope="col" class="px-2 py-2">"Database"</th>
                                <th scope="col" class="px-2 py-2">"Workspace"</th>
                                <th scope="col" class="py-2 pl-2 text-right">"Connections in use / open"</th>
                            </tr>
                        </thead>
                        <tbody class="divide-y divide-slate-100">
                            {databases.into_iter().map(|row| view! {
                                <tr data-testid="database-pool-row">
                                    <td class="py-2 pr-2">{row.cluster}</td>
                                    <td class="px-2 py-2 font-mono">{row.database}</td>
                                    <td class="px-2 py-2">{row.slug.map(|slug| view! {
                                        <a href=format!("/tenants/{slug}") class="text-indigo-700 underline">{slug.clone()}</a>
                                    })}</td>
                                    <td class="py-2 pl-2 text-right tabular-nums">{format!("{} / {}", row.in_use, row.connections)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn LoadTableRow(row: LoadRow) -> impl IntoView {
    let label = format!("Requests per minute over the last hour for {}", row.slug);
    view! {
        <tr data-testid="load-row">
            <td class="px-4 py-2">
                <a href=format!("/tenants/{}", row.slug) class="font-medium text-indigo-700 underline">{row.slug.clone()}</a>
                <span class="block text-slate-600">{format!("{} · {}", row.name, row.plan)}</span>
            </td>
            <td class="px-2 py-2"><Sparkline values=row.per_minute label /></td>
            <td class="px-2 py-2 text-right tabular-nums">{format!("{} / {}", row.requests_last_minute, row.requests_last_hour)}</td>
            <td class="px-2 py-2 text-right tabular-nums">{row.limited_last_hour}</td>
            <td class="px-2 py-2 text-right tabular-nums">{row.failed_last_hour}</td>
            <td class="px-2 py-2 text-right tabular-nums">{format!("{:.1} s", row.db_ms_last_hour as f64 / 1000.0)}</td>
            <td class="px-2 py-2 text-right tabular-nums">{format!("{} / {} / {}", row.members, row.products, row.orders_this_month)}</td>
            <td class="px-4 py-2 text-right tabular-nums" data-testid="load-data">
                {format!("≈ {}", approx_size(row.approx_bytes))}
                <span class="block text-slate-600">{format!("{} rows", row.rows)}</span>
            </td>
        </tr>
    }
}

/// A small server-rendered line of per-minute counts, scaled to its own peak.
#[component]
fn Sparkline(values: Vec<u64>, label: String) -> impl IntoView {
    const WIDTH: f64 = 120.0;
    const HEIGHT: f64 = 24.0;
    let peak = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = WIDTH / (values.len().max(2) - 1) as f64;
    let points: String = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1} ",
                i as f64 * step,
                HEIGHT - (*v as f64 / peak) * (HEIGHT - 2.0) - 1.0
            )
        })
        .collect();
    view! {
        <svg width="120" height="24" viewBox="0 0 120 24" role="img" aria-label=label class="text-indigo-600">
            <polyline points=points fill="none" stroke="currentColor" stroke-width="1.5" />
        </svg>
    }
}
