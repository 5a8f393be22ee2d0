use domain::OrderStatus;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::layout::workspace_page;
use crate::api::orders::{
    line_field, list_orders, load_order, orderable_products, ChangeOrderStatus, OrderListPage,
    OrderRow, OrderView, OrderableProduct, PlaceOrder,
};
use crate::components::{field_error, form_error, ErrorNotice, Notice, NoticeKind, SubmitButton};
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
                query.read().get("after"),
            )
        },
        |(status, after)| list_orders((!status.is_empty()).then_some(status), after),
    );
    workspace_page(move |_| view! { <OrderList page /> })
}

#[component]
fn OrderList(page: Resource<Result<OrderListPage, AppError>>) -> impl IntoView {
    let query = use_query_map();
    let status = move || query.read().get("status").unwrap_or_default();
    let filter = move |value: &'static str, label: &'static str| {
        let href = if value.is_empty() {
            "/orders".to_owned()
        } else {
            format!("/orders?status={value}")
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
                        let next = page.next.clone().map(|after| format!("/orders?status={}&after={after}", status()));
                        view! {
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
fn OrderTable(orders: Vec<OrderRow>) -> impl IntoView {
    if orders.is_empty() {
        return view! { <p class="mt-6 text-slate-600">"No orders here yet."</p> }.into_any();
    }
    view! {
        <div class="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-slate-600">
                    <tr>
                        <th scope="col" class="px-4 py-2 font-medium">"Order"</th>
                        <th scope="col" class="px-4 py-2 font-medium">"Status"</th>
                        <th scope="col" class="hidden px-4 py-2 font-medium sm:table-cell">"Placed"</th>
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
                                    <td class="px-4 py-2"><A href=href attr:class="font-medium text-indigo-700 hover:underline">{format!("#{}", o.number)}</A></td>
                                    <td class="px-4 py-2">{status_badge(o.status)}</td>
                                    <td class="hidden px-4 py-2 text-slate-600 sm:table-cell">{format!("{} by {}", o.created_at, o.created_by)}</td>
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

/// Lines shown before hydration (and without JavaScript); blank ones are ignored.
const INITIAL_LINES: usize = 3;

#[component]
pub fn NewOrderPage() -> impl IntoView {
    let action = ServerAction::<PlaceOrder>::new();
    let products = Resource::new(|| (), |_| orderable_products());
    workspace_page(move |_| view! { <NewOrderForm action products /> })
}

#[component]
fn NewOrderForm(
    action: ServerAction<PlaceOrder>,
    products: Resource<Result<Vec<OrderableProduct>, AppError>>,
) -> impl IntoView {
    let lines = RwSignal::new(INITIAL_LINES);
    let general_error = form_error(action);
    view! {
        <Title text="New order" />
        <h1 class="text-2xl font-semibold">"New order"</h1>
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading products…"</p> }>
            {move || Suspend::new(async move {
                let options = match products.await {
                    Ok(options) => options,
                    Err(err) => return view! { <Notice kind=NoticeKind::Error text=err.to_string() /> }.into_any(),
                };
                view! {
                    <ActionForm action attr:class="mt-6 max-w-2xl space-y-3" attr:novalidate="true">
                        <For each=move || 0..lines.get() key=|i| *i let:index>
                            {
                                let line = index + 1;
                                let options = options.clone();
                                let error_id = format!("line-{line}-error");
                                let described_by = error_id.clone();
                                view! {
                                    <fieldset class="rounded-md border border-slate-200 bg-white p-3">
                                        <legend class="px-1 text-sm font-medium text-slate-700">{format!("Line {line}")}</legend>
                                        <div class="flex flex-wrap gap-3">
                                            <label class="min-w-0 flex-1">
                                                <span class="sr-only">{format!("Product for line {line}")}</span>
                                                <select name=format!("lines[{index}][product_id]") aria-describedby=described_by.clone() class="w-full rounded-md border border-slate-300 bg-white px-2 py-2">
                                                    <option value="">"Choose a product…"</option>
                                                    {options.into_iter().map(|p| view! { <option value=p.id>{p.label}</option> }).collect_view()}
                                                </select>
                                            </label>
                                            <label class="w-28">
                                                <span class="sr-only">{format!("Quantity for line {line}")}</span>
                                                <input name=format!("lines[{index}][quantity]") inputmode="numeric" placeholder="Qty" aria-describedby=described_by.clone()
                                                    class="w-full rounded-md border border-slate-300 px-2 py-2" />
                                            </label>
                                        </div>
                                        <p id=error_id class="mt-1 min-h-4 text-sm text-red-700" aria-live="polite" data-testid=format!("line-{line}-error")>{move || field_error(action, line_field(line)).get()}</p>
                                    </fieldset>
                                }
                            }
                        </For>
                        <button type="button" on:click=move |_| lines.update(|n| *n += 1)
                            class="rounded-md border border-dashed border-slate-300 px-3 py-1.5 text-sm text-slate-700 hover:bg-slate-100">
                            "Add another line"
                        </button>
                        {move || general_error.get().map(|text| view! { <Notice kind=NoticeKind::Error text /> })}
                        <SubmitButton label="Place order" pending=action.pending() />
                    </ActionForm>
                }
                .into_any()
            })}
        </Suspense>
    }
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
