use domain::OrderStatus;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

mod draft;
mod new_order;
mod pickers;

pub use new_order::NewOrderPage;

use super::layout::workspace_page;
use crate::api::orders::{
    list_orders, load_order, ChangeOrderStatus, OrderListPage, OrderRow, OrderView,
};
use crate::components::{ErrorNotice, Notice, NoticeKind};
use crate::AppError;

fn status_badge(status: OrderStatus) -> impl IntoView {
    let colour = match status {
        OrderStatus::Pending => "bg-amber-50 text-amber-800",
        OrderStatus::Confirmed => "bg-sky-50 text-sky-800",
        OrderStatus::Shipped => "bg-indigo-50 text-indigo-800",
        OrderStatus::Delivered => "bg-emerald-50 text-emerald-800",
        OrderStatus::Cancelled => "bg-slate-100 text-slate-600",
    };
    view! { <span class=format!("rounded px-2 py-0.5 text-xs font-medium {colour}") data-testid="order-status">{status.label()}</span> }
}

#[component]
pub fn OrdersPage() -> impl IntoView {
    let query = use_query_map();
    let page = Resource::new(
        move || {
            (
                query.read().get("status").unwrap_or_default(),
                query.read().get("customer").unwrap_or_default(),
                query.read().get("after"),
            )
        },
        |(status, customer, after)| {
            list_orders(
                (!status.is_empty()).then_some(status),
                (!customer.is_empty()).then_some(customer),
                after,
            )
        },
    );
    workspace_page(move |_| view! { <OrderList page /> })
}

#[component]
fn OrderList(page: Resource<Result<OrderListPage, AppError>>) -> impl IntoView {
    let query = use_query_map();
    let status = move || query.read().get("status").unwrap_or_default();
    let customer = move || query.read().get("customer").unwrap_or_default();
    // The customer filter stays while the status changes, and the other way round.
    let filter = move |value: &'static str, label: &'static str| {
        // Follows the query: moving between filters keeps this component and changes only it.
        let href = move || match (value, customer()) {
            ("", c) if c.is_empty() => "/orders".to_owned(),
            ("", c) => format!("/orders?customer={c}"),
            (v, c) if c.is_empty() => format!("/orders?status={v}"),
            (v, c) => format!("/orders?status={v}&customer={c}"),
        };
        view! {
            <A href=href attr:aria-current=move || (status() == value).then_some("page")
                attr:class="rounded-full border border-slate-200 px-3 py-1 text-sm hover:bg-slate-100 aria-[current=page]:border-indigo-300 aria-[current=page]:bg-indigo-50 aria-[current=page]:text-indigo-700">
                {label}
            </A>
        }
    };
    view! {
        <Title text="Orders" />
        <div class="flex flex-wrap items-center justify-between gap-3">
            <h1 class="text-2xl font-semibold">"Orders"</h1>
            <a href="/orders/new" class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700">"New order"</a>
        </div>
        <nav class="mt-4 flex flex-wrap gap-2" aria-label="Filter by status">
            {filter("", "All")}
            {OrderStatus::ALL.into_iter().map(|s| filter(s.as_str(), s.label())).collect_view()}
        </nav>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading orders…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(err) => view! { <ErrorNotice err /> }.into_any(),
                    Ok(page) => {
                        let next = page.next.clone().map(|after| format!("/orders?status={}&customer={}&after={after}", status(), customer()));
                        view! {
                            {page.customer.clone().map(|c| view! {
                                <p class="mt-3 flex flex-wrap items-center gap-2 text-sm" data-testid="customer-filter">
                                    <span>"Orders of "<a href=format!("/customers/{}", c.id) class="font-medium text-indigo-700 underline">{c.name}</a></span>
                                    <a href=if status().is_empty() { "/orders".to_owned() } else { format!("/orders?status={}", status()) } class="rounded-full border border-slate-200 px-2 py-0.5 text-slate-700 hover:bg-slate-100">"Show every customer"</a>
                                </p>
                            })}
                            {page.usage.clone().map(|u| view! {
                                <p class=if u.is_full() { "mt-3 text-sm font-medium text-amber-800" } else { "mt-3 text-sm text-slate-600" } data-testid="order-usage">
                                    {u.label()}
                                    {u.is_full().then_some(" (your plan's monthly limit is reached: new orders are refused until next month or a bigger plan)")}
                                </p>
                            })}
                            <OrderTable orders=page.orders />
                            {next.map(|href| view! { <a href=href class="mt-4 inline-block text-indigo-700 underline">"Next page →"</a> })}
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
pub(super) fn OrderTable(orders: Vec<OrderRow>) -> impl IntoView {
    if orders.is_empty() {
        return view! { <p class="mt-6 text-slate-600">"No orders here yet."</p> }.into_any();
    }
    view! {
        <div class="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-slate-600">
                    <tr>
                        <th scope="col" class="px-4 py-2 font-medium">"Order"</th>
                        <th scope="col" class="px-4 py-2 font-medium">"Customer"</th>
                        <th scope="col" class="px-4 py-2 font-medium">"Status"</th>
                        <th scope="col" class="hidden px-4 py-2 font-medium md:table-cell">"Placed"</th>
                        <th scope="col" class="px-4 py-2 text-right font-medium">"Total"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {orders
                        .into_iter()
                        .map(|o| {
                            let href = format!("/orders/{}", o.id.as_uuid());
                            view! {
                                <tr data-testid="order-row">
                                    <td class="px-4 py-2"><a href=href class="font-medium text-indigo-700 hover:underline">{format!("#{}", o.number)}</a></td>
                                    <td class="px-4 py-2">
                                        {match o.customer {
                                            Some(c) => view! { <a href=format!("/orders?customer={}", c.id) class="text-slate-800 hover:underline" title="Orders of this customer">{c.name}</a> }.into_any(),
                                            None => view! { <span class="text-slate-500">"—"</span> }.into_any(),
                                        }}
                                    </td>
                                    <td class="px-4 py-2">{status_badge(o.status)}</td>
                                    <td class="hidden px-4 py-2 text-slate-600 md:table-cell">{format!("{} by {}", o.created_at, o.created_by)}</td>
                                    <td class="px-4 py-2 text-right tabular-nums">{o.total}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let change = ServerAction::<ChangeOrderStatus>::new();
    let order = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                change.version().get(),
            )
        },
        |(id, _)| load_order(id),
    );
    workspace_page(move |_| view! { <OrderDetail change order /> })
}

#[component]
fn OrderDetail(
    change: ServerAction<ChangeOrderStatus>,
    order: Resource<Result<OrderView, AppError>>,
) -> impl IntoView {
    let change_error = move || match change.value().get() {
        Some(Err(err)) => Some(err.to_string()),
        _ => None,
    };
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading order…"</p> }>
            {move || Suspend::new(async move {
                let view = match order.await {
                    Ok(view) => view,
                    Err(err) => return view! { <ErrorNotice err /> }.into_any(),
                };
                let id = view.order.id.as_uuid().to_string();
                view! {
                    <Title text=format!("Order #{}", view.order.number) />
                    <div class="flex flex-wrap items-center gap-3">
                        <h1 class="text-2xl font-semibold">{format!("Order #{}", view.order.number)}</h1>
                        {status_badge(view.order.status)}
                    </div>
                    <p class="mt-1 text-sm text-slate-600">{format!("Placed {} by {}", view.order.created_at, view.order.created_by)}</p>
                    {view.customer.clone().map(|c| view! {
                        <section class="mt-4 max-w-md rounded-lg border border-slate-200 bg-white p-4 text-sm" aria-labelledby="order-customer" data-testid="order-customer">
                            <h2 id="order-customer" class="font-semibold">"Customer"</h2>
                            <p class="mt-1"><a href=format!("/customers/{}", c.id) class="font-medium text-indigo-700 underline">{c.name}</a></p>
                            <p class="break-all text-slate-700">{c.email}</p>
                            {(!c.phone.is_empty()).then(|| view! { <p class="text-slate-700">{c.phone}</p> })}
                            {(!c.address.is_empty()).then(|| view! { <p class="mt-1 whitespace-pre-line text-slate-700">{c.address}</p> })}
                        </section>
                    })}
                    <div class="mt-4 flex flex-wrap gap-2">
                        {view.next_steps.clone().into_iter().map(|step| {
                            let id = id.clone();
                            let (label, style) = match step {
                                OrderStatus::Confirmed => ("Confirm", "bg-indigo-600 text-white hover:bg-indigo-700"),
                                OrderStatus::Shipped => ("Mark shipped", "bg-indigo-600 text-white hover:bg-indigo-700"),
                                OrderStatus::Delivered => ("Mark delivered", "bg-indigo-600 text-white hover:bg-indigo-700"),
                                OrderStatus::Cancelled => ("Cancel order", "border border-red-300 text-red-700 hover:bg-red-50"),
                                OrderStatus::Pending => ("Reopen", "border border-slate-300"),
                            };
                            view! {
                                <ActionForm action=change>
                                    <input type="hidden" name="id" value=id />
                                    <input type="hidden" name="to" value=step.as_str() />
                                    <button type="submit" disabled=move || change.pending().get()
                                        class=format!("rounded-md px-4 py-2 text-sm font-medium disabled:opacity-60 {style}")>{label}</button>
                                </ActionForm>
                            }
                        }).collect_view()}
                    </div>
                    {move || change_error().map(|text| view! { <div class="mt-3"><Notice kind=NoticeKind::Error text /></div> })}
                    <div class="mt-6 overflow-x-auto rounded-lg border border-slate-200 bg-white">
                        <table class="min-w-full divide-y divide-slate-200 text-sm">
                            <thead class="bg-slate-50 text-left text-slate-600">
                                <tr>
                                    <th scope="col" class="px-4 py-2 font-medium">"Product"</th>
                                    <th scope="col" class="px-4 py-2 text-right font-medium">"Unit price"</th>
                                    <th scope="col" class="px-4 py-2 text-right font-medium">"Qty"</th>
                                    <th scope="col" class="px-4 py-2 text-right font-medium">"Amount"</th>
                                </tr>
                            </thead>
                            <tbody class="divide-y divide-slate-100">
                                {view.lines.into_iter().map(|l| view! {
                                    <tr>
                                        <td class="px-4 py-2">{l.product_name}<span class="ml-2 font-mono text-xs text-slate-500">{l.sku}</span></td>
                                        <td class="px-4 py-2 text-right tabular-nums">{l.unit_price}</td>
                                        <td class="px-4 py-2 text-right tabular-nums">{l.quantity}</td>
                                        <td class="px-4 py-2 text-right tabular-nums">{l.amount}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                            <tfoot>
                                <tr>
                                    <th scope="row" colspan="3" class="px-4 py-2 text-right font-medium">"Total"</th>
                                    <td class="px-4 py-2 text-right font-semibold tabular-nums" data-testid="order-total">{view.order.total}</td>
                                </tr>
                            </tfoot>
                        </table>
                    </div>
                    <h2 class="mt-8 text-lg font-semibold">"History"</h2>
                    <ol class="mt-2 space-y-1 text-sm text-slate-700" data-testid="order-history">
                        {view.events.into_iter().map(|e| view! {
                            <li>
                                <span class="font-medium">{match e.from { Some(_) => e.to.label().to_owned(), None => "Placed".to_owned() }}</span>
                                {format!(" by {} on {}", e.by, e.at)}
                            </li>
                        }).collect_view()}
                    </ol>
                }
                .into_any()
            })}
        </Suspense>
    }
}
