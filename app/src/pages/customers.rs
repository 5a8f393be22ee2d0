use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::layout::workspace_page;
use super::orders::OrderTable;
use crate::api::customers::{
    list_customers, load_customer, CustomerListPage, CustomerView, SaveCustomer,
};
use crate::api::orders::{list_orders, OrderListPage};
use crate::components::{
    field_error, focus_first_error, form_error, ErrorNotice, Field, Notice, NoticeKind,
    SubmitButton, TextArea,
};
use crate::AppError;

/// `/customers`: every customer by name, searchable by name or email.
#[component]
pub fn CustomersPage() -> impl IntoView {
    let query = use_query_map();
    let page = Resource::new(
        move || {
            (
                query.read().get("q").unwrap_or_default(),
                query.read().get("after"),
            )
        },
        |(q, after)| list_customers((!q.is_empty()).then_some(q), after),
    );
    workspace_page(move |_| view! { <CustomerList page /> })
}

#[component]
fn CustomerList(page: Resource<Result<CustomerListPage, AppError>>) -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("q").unwrap_or_default();
    view! {
        <Title text="Customers" />
        <div class="flex flex-wrap items-end justify-between gap-3">
            <h1 class="text-2xl font-semibold">"Customers"</h1>
            <Form method="GET" action="/customers" attr:class="flex flex-wrap gap-2" attr:role="search">
                <label for="customer-search" class="sr-only">"Search by name or email"</label>
                <input
                    id="customer-search"
                    type="search"
                    name="q"
                    value=search
                    placeholder="Search name or email"
                    class="w-full max-w-56 rounded-md border border-slate-300 px-3 py-1.5"
                />
                <button type="submit" class="rounded-md border border-slate-300 bg-white px-3 py-1.5 hover:bg-slate-100">"Search"</button>
            </Form>
        </div>
        <a href="/customers/new" class="mt-4 inline-flex rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700">"New customer"</a>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading customers…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(err) => view! { <ErrorNotice err /> }.into_any(),
                    Ok(page) => {
                        let next = page.next.clone().map(|after| {
                            format!("/customers?q={}&after={after}", super::encode_query(&search()))
                        });
                        view! {
                            <CustomerTable customers=page.customers />
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
fn CustomerTable(customers: Vec<CustomerView>) -> impl IntoView {
    if customers.is_empty() {
        return view! { <p class="mt-6 text-slate-600" data-testid="no-customers">"No customers found."</p> }.into_any();
    }
    view! {
        <div class="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-slate-600">
                    <tr>
                        <th scope="col" class="px-4 py-2 font-medium">"Name"</th>
                        <th scope="col" class="px-4 py-2 font-medium">"Email"</th>
                        <th scope="col" class="hidden px-4 py-2 font-medium sm:table-cell">"Phone"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {customers
                        .into_iter()
                        .map(|c| {
                            view! {
                                <tr data-testid="customer-row">
                                    <td class="px-4 py-2"><a href=format!("/customers/{}", c.id) class="font-medium text-indigo-700 hover:underline">{c.name}</a></td>
                                    <td class="break-all px-4 py-2 text-slate-700">{c.email}</td>
                                    <td class="hidden px-4 py-2 text-slate-600 sm:table-cell">{c.phone}</td>
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

/// `/customers/new` and `/customers/:id`: a customer's details, editable by any member,
/// and their orders.
#[component]
pub fn CustomerPage() -> impl IntoView {
    let params = use_params_map();
    let save = ServerAction::<SaveCustomer>::new();
    let id = move || params.read().get("id").filter(|id| id != "new");
    let customer = Resource::new(
        move || (id(), save.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => load_customer(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let orders = Resource::new(id, |id| async move {
        match id {
            Some(id) => list_orders(None, Some(id), None).await.map(Some),
            None => Ok(None),
        }
    });
    workspace_page(move |_| view! { <CustomerEditor customer orders save /> })
}

#[component]
fn CustomerEditor(
    customer: Resource<Result<Option<CustomerView>, AppError>>,
    orders: Resource<Result<Option<OrderListPage>, AppError>>,
    save: ServerAction<SaveCustomer>,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (customer.await, orders.await) {
                    (Err(err), _) | (_, Err(err)) => view! { <ErrorNotice err /> }.into_any(),
                    (Ok(customer), Ok(orders)) => view! {
                        <CustomerForm customer=customer.clone() save />
                        {customer.zip(orders).map(|(customer, orders)| view! { <CustomerOrders customer orders /> })}
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn CustomerForm(customer: Option<CustomerView>, save: ServerAction<SaveCustomer>) -> impl IntoView {
    let query = use_query_map();
    let is_new = customer.is_none();
    let id = customer
        .as_ref()
        .map(|c| c.id.to_string())
        .unwrap_or_default();
    let title = customer
        .as_ref()
        .map(|c| c.name.clone())
        .unwrap_or_else(|| "New customer".to_owned());
    let field = |value: Option<String>| RwSignal::new(value.unwrap_or_default());
    let name = field(customer.as_ref().map(|c| c.name.clone()));
    let email = field(customer.as_ref().map(|c| c.email.clone()));
    let phone = field(customer.as_ref().map(|c| c.phone.clone()));
    let address = field(customer.as_ref().map(|c| c.address.clone()));
    let error_for = move |name: &'static str| field_error(save, name);
    let general_error = form_error(save);
    focus_first_error(save);
    let saved =
        move || query.read().get("saved").is_some() && !matches!(save.value().get(), Some(Err(_)));
    view! {
        <Title text=title.clone() />
        <div class="max-w-xl">
            <h1 class="text-2xl font-semibold">{title}</h1>
            {move || saved().then(|| view! { <p class="mt-3 rounded-md bg-emerald-50 px-4 py-2 text-sm text-emerald-800" role="status">"Saved."</p> })}
            <ActionForm action=save attr:class="mt-6 space-y-3" attr:novalidate="true">
                <input type="hidden" name="id" value=id />
                <CustomerFields name email phone address error_for=move |f| error_for(f) />
                {move || general_error.get().map(|text| view! { <Notice kind=NoticeKind::Error text /> })}
                <SubmitButton label=if is_new { "Add customer" } else { "Save changes" } pending=save.pending() />
            </ActionForm>
        </div>
    }
}

/// The fields of a customer, named as both the customers page and the order form send them.
#[component]
pub fn CustomerFields(
    name: RwSignal<String>,
    email: RwSignal<String>,
    phone: RwSignal<String>,
    address: RwSignal<String>,
    error_for: impl Fn(&'static str) -> Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <Field name="customer_name" label="Name" autocomplete="off" value=name error=error_for("customer_name") />
        <Field name="customer_email" label="Email" kind="email" autocomplete="off" value=email error=error_for("customer_email") />
        <Field name="customer_phone" label="Phone (optional)" kind="tel" autocomplete="off" value=phone error=error_for("customer_phone") />
        <TextArea name="customer_address" label="Shipping address (optional)" rows=3 autocomplete="off" value=address error=error_for("customer_address") />
    }
}

#[component]
fn CustomerOrders(customer: CustomerView, orders: OrderListPage) -> impl IntoView {
    let id = customer.id.to_string();
    view! {
        <section class="mt-10">
            <div class="flex flex-wrap items-center justify-between gap-3">
                <h2 class="text-lg font-semibold">{format!("Orders of {}", customer.name)}</h2>
                <a href=format!("/orders/new?customer_id={id}") class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700">"New order for this customer"</a>
            </div>
            <OrderTable orders=orders.orders />
            {orders.next.is_some().then(|| view! {
                <a href=format!("/orders?customer={id}") class="mt-4 inline-block text-indigo-700 underline">"All their orders →"</a>
            })}
        </section>
    }
}
