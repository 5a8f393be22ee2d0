//! `/audit`: every console action, newest first.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::console_page;
use crate::api::console::{load_audit, AuditView};
use crate::components::ErrorNotice;
use crate::AppError;

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
                    {domain::AUDIT_ACTIONS.into_iter().map(|a| view! {
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
                                // Focusable: the table can be wider than a phone, and has
                                // nothing else a keyboard could scroll it by.
                                view! {
                                    <div class="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white focus-visible:outline-2 focus-visible:outline-indigo-600" tabindex="0" role="region" aria-label="Audit entries">
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
