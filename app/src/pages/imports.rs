//! `/products/import` (choose a file) and `/products/import/:id` (its preview, then its
//! progress and result). ADMIN and OWNER. The upload is a plain form post to the server's
//! upload route, so it works the same with and without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::layout::workspace_page;
use crate::api::imports::{
    load_import, ApplyImport, FileProblem, ImportRowView, ImportState, ImportView, MAX_FILE_BYTES,
    MAX_FILE_ROWS,
};
use crate::components::{focus_first_error, ErrorNotice, Notice, NoticeKind};
use crate::AppError;

/// Where the file is posted (the server's upload route) and the template is served.
pub const UPLOAD_URL: &str = "/products/import/upload";
pub const TEMPLATE_URL: &str = "/products/import/template.csv";

#[component]
pub fn ImportPage() -> impl IntoView {
    workspace_page(|info| {
        let manager = info
            .viewer
            .as_ref()
            .is_some_and(|v| v.role.at_least(domain::Role::Admin));
        if manager {
            view! { <ImportForm /> }.into_any()
        } else {
            view! {
                <Title text="Import products" />
                <ErrorNotice err=AppError::Forbidden />
            }
            .into_any()
        }
    })
}

#[component]
fn ImportForm() -> impl IntoView {
    let query = use_query_map();
    let problem = move || {
        query.with(|q| {
            FileProblem::from_query(
                &q.get("problem").unwrap_or_default(),
                &q.get("detail").unwrap_or_default(),
            )
        })
    };
    let megabytes = MAX_FILE_BYTES / (1024 * 1024);
    view! {
        <Title text="Import products" />
        <div class="max-w-2xl">
            <h1 class="text-2xl font-semibold">"Import products"</h1>
            <p class="mt-2 text-slate-700">
                "Bring your catalogue in from a spreadsheet: save it as a CSV file (\u{201c}CSV UTF-8\u{201d}) and upload it here. You will see what each line would do before anything changes."
            </p>
            <h2 class="mt-6 font-semibold">"The file"</h2>
            <ul class="mt-2 list-disc space-y-1 pl-5 text-sm text-slate-700">
                <li>"The first line names the columns, in any order: " <code>"sku"</code> ", " <code>"name"</code> ", " <code>"price"</code> ", " <code>"stock"</code> ", and optionally " <code>"description"</code> " and " <code>"currency"</code> ". Other columns are ignored, so a file exported from Stockroom imports as it is."</li>
                <li>"A product whose SKU is already in your catalogue is updated; any other is added. Lines that match what is there already change nothing, so importing the same file twice is harmless."</li>
                <li>"Prices use a decimal point and no currency sign, like " <code>"12.50"</code> ". Stock is a whole number, zero or more."</li>
                <li>{format!("At most {megabytes} MB and {MAX_FILE_ROWS} products per file. New products count against your plan's product limit.")}</li>
                <li>"If any line has a problem, nothing is imported: the preview says which lines and why."</li>
            </ul>
            <a href=TEMPLATE_URL rel="external" download="" class="mt-3 inline-block text-sm text-indigo-700 underline">"Download a template (CSV)"</a>
            {move || problem().map(|p| view! { <div class="mt-6" data-testid="import-problem"><Notice kind=NoticeKind::Error text=p.message() /></div> })}
            <form method="post" action=UPLOAD_URL enctype="multipart/form-data" class="mt-6 space-y-3 rounded-lg border border-slate-200 bg-white p-4">
                <div class="space-y-1">
                    <label for="import-file" class="block text-sm font-medium text-slate-700">"CSV file"</label>
                    <input id="import-file" type="file" name="file" accept=".csv,text/csv" required
                        aria-describedby="import-file-hint"
                        class="block w-full text-sm file:mr-3 file:rounded-md file:border file:border-slate-300 file:bg-white file:px-3 file:py-1.5" />
                    <p id="import-file-hint" class="text-xs text-slate-600">{format!("UTF-8, comma-separated, at most {megabytes} MB.")}</p>
                </div>
                <button type="submit" class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700">"Upload and preview"</button>
            </form>
        </div>
    }
}

#[component]
pub fn ImportPreviewPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let apply = ServerAction::<ApplyImport>::new();
    // Bumped while the import runs in the background, so its progress updates.
    let tick = RwSignal::new(0u32);
    let import = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                query.read().get("problems").is_some(),
                query
                    .read()
                    .get("after")
                    .and_then(|a| a.parse::<i32>().ok()),
                apply.version().get(),
                tick.get(),
            )
        },
        |(id, problems, after, _, _)| load_import(id, Some(problems), after),
    );
    // Here, outside the page's `Suspense`: an effect that reads a resource under one makes
    // that `Suspense` wait for every reload (the whole page would flash each second).
    Effect::new(move |_| {
        let running = import
            .get()
            .and_then(Result::ok)
            .is_some_and(|v| matches!(v.state, ImportState::Waiting | ImportState::Running));
        if running {
            set_timeout(
                move || tick.update(|t| *t += 1),
                std::time::Duration::from_millis(1000),
            );
        }
    });
    workspace_page(move |_| view! { <ImportPreview import apply /> })
}

#[component]
fn ImportPreview(
    import: Resource<Result<ImportView, AppError>>,
    apply: ServerAction<ApplyImport>,
) -> impl IntoView {
    focus_first_error(apply);
    view! {
        <Title text="Import preview" />
        <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match import.await {
                    Err(err) => view! { <ErrorNotice err /> }.into_any(),
                    Ok(view) => view! { <ImportBody view apply /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ImportBody(view: ImportView, apply: ServerAction<ApplyImport>) -> impl IntoView {
    let query = use_query_map();
    let problems_only = move || query.read().get("problems").is_some();
    let apply_error = move || match apply.value().get() {
        Some(Err(err)) => Some(err.to_string()),
        _ => None,
    };
    let base = format!("/products/import/{}", view.id);
    let next = view.next.map(|after| {
        let filter = if problems_only() { "problems=1&" } else { "" };
        format!("{base}?{filter}after={after}")
    });
    let can_apply = view.state == ImportState::Preview && view.rows_invalid == 0;
    view! {
        <h1 class="text-2xl font-semibold">"Import products"</h1>
        <p class="mt-1 break-all text-sm text-slate-600">{format!("{} · uploaded {}", view.file_name, view.uploaded)}</p>
        <div class="mt-4" aria-live="polite" data-testid="import-status">
            <ImportStatusLine view=view.clone() />
        </div>
        {move || apply_error().map(|text| view! { <div class="mt-3"><Notice kind=NoticeKind::Error text /></div> })}
        {can_apply.then(|| view! {
            <ActionForm action=apply attr:class="mt-4">
                <input type="hidden" name="id" value=view.id.clone() />
                <button type="submit" disabled=move || apply.pending().get()
                    class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700 disabled:opacity-60">
                    {format!("Import {} products", view.rows_new + view.rows_update)}
                </button>
            </ActionForm>
        })}
        <nav class="mt-8 flex flex-wrap gap-2 text-sm" aria-label="Lines to show">
            <a href=base.clone() aria-current=move || (!problems_only()).then_some("page")
                class="rounded-full border border-slate-200 px-3 py-1 hover:bg-slate-100 aria-[current=page]:border-indigo-300 aria-[current=page]:bg-indigo-50">"Every line"</a>
            <a href=format!("{base}?problems=1") aria-current=move || problems_only().then_some("page")
                class="rounded-full border border-slate-200 px-3 py-1 hover:bg-slate-100 aria-[current=page]:border-indigo-300 aria-[current=page]:bg-indigo-50">"Lines with problems"</a>
        </nav>
        <ImportRows rows=view.rows />
        {next.map(|href| view! { <a href=href class="mt-4 inline-block text-indigo-700 underline">"Next lines →"</a> })}
        <a href="/products/import" class="mt-6 block text-sm text-indigo-700 underline">"Upload another file"</a>
    }
}

/// What the import is at: a preview's counts, a running import's progress, the result.
#[component]
fn ImportStatusLine(view: ImportView) -> impl IntoView {
    match view.state {
        ImportState::Preview if view.rows_invalid > 0 => view! {
            <Notice kind=NoticeKind::Error text=format!(
                "{} of {} lines have problems, so nothing can be imported. Correct them in your file and upload it again.",
                view.rows_invalid, view.rows_total
            ) />
        }
        .into_any(),
        ImportState::Preview => view! {
            <p class="text-slate-800">
                {format!(
                    "{} lines: {} new products, {} updates, {} unchanged. Nothing has been imported yet.",
                    view.rows_total, view.rows_new, view.rows_update, view.rows_unchanged
                )}
            </p>
            {view.limit_warning.map(|w| view! { <p class="mt-2 rounded-md border border-amber-200 bg-amber-50 px-4 py-2 text-sm text-amber-900">{w}</p> })}
        }
        .into_any(),
        ImportState::Waiting | ImportState::Running => view! {
            <p class="text-slate-800">{format!("Importing… {}%", view.percent)}</p>
            <div class="mt-2 h-2 w-64 max-w-full rounded bg-slate-100" role="progressbar" aria-label="Import progress"
                aria-valuemin="0" aria-valuemax="100" aria-valuenow=view.percent>
                <div class="h-2 rounded bg-indigo-500" style=format!("width: {}%", view.percent)></div>
            </div>
            <p class="mt-2 text-sm text-slate-600">"This page follows the progress (without JavaScript, reload it). You may also leave: the import carries on."</p>
        }
        .into_any(),
        ImportState::Done => view! {
            <p class="rounded-md bg-emerald-50 px-4 py-2 text-emerald-900" data-testid="import-done">
                {format!(
                    "Imported: {} products added, {} updated, {} unchanged{}.",
                    view.created, view.updated, view.unchanged,
                    if view.refused > 0 { format!(", {} not added", view.refused) } else { String::new() }
                )}
            </p>
            {view.refused_reason.filter(|_| view.refused > 0).map(|r| view! { <p class="mt-2 text-sm text-amber-900">{format!("{} {r}", view.refused)}</p> })}
        }
        .into_any(),
        ImportState::Failed => view! {
            <Notice kind=NoticeKind::Error text=view.error.unwrap_or_else(|| "The import stopped.".into()) />
        }
        .into_any(),
    }
}

#[component]
fn ImportRows(rows: Vec<ImportRowView>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="mt-4 text-sm text-slate-600">"No lines to show."</p> }.into_any();
    }
    // Focusable: the table can be wider than a phone, and has nothing else a keyboard could
    // scroll it by.
    view! {
        <div class="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white focus-visible:outline-2 focus-visible:outline-indigo-600" tabindex="0" role="region" aria-label="Lines of the file">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-slate-600">
                    <tr>
                        <th scope="col" class="px-3 py-2 font-medium">"Line"</th>
                        <th scope="col" class="px-3 py-2 font-medium">"SKU"</th>
                        <th scope="col" class="px-3 py-2 font-medium">"Name"</th>
                        <th scope="col" class="px-3 py-2 text-right font-medium">"Price"</th>
                        <th scope="col" class="px-3 py-2 text-right font-medium">"Stock"</th>
                        <th scope="col" class="px-3 py-2 font-medium">"Verdict"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {rows.into_iter().map(|row| view! {
                        <tr data-testid="import-row" class=if row.is_problem { "bg-red-50" } else { "" }>
                            <td class="px-3 py-2 tabular-nums">{row.line}</td>
                            <td class="px-3 py-2 font-mono">{row.sku}</td>
                            <td class="px-3 py-2">{row.name}</td>
                            <td class="px-3 py-2 text-right tabular-nums">{row.price}</td>
                            <td class="px-3 py-2 text-right tabular-nums">{row.stock}</td>
                            <td class="px-3 py-2">
                                <span class="font-medium" data-testid="import-verdict">{row.verdict}</span>
                                {row.problem.map(|p| view! { <span class="block text-red-800">{p}</span> })}
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
