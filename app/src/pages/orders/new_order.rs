//! `/orders/new`: a customer (found, or added on the spot), products found as they are
//! typed, a quantity and a running total per line and for the order, then one post that
//! places it. The whole form works without JavaScript (see `draft`).

use domain::{Currency, Money};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::draft::Draft;
use super::pickers::{CustomerPicker, ProductPicker, ProductSearch, SearchBox};
use crate::api::customers::{list_customers, CustomerListPage};
use crate::api::orders::{line_field, PlaceOrder, LINES_FIELD};
use crate::api::picker::{load_order_draft, search_products, OrderDraft, ProductMatch};
use crate::components::{
    field_error, focus_first_error, focus_first_of, form_error, ErrorNotice, Notice, NoticeKind,
    SubmitButton,
};
use crate::pages::layout::workspace_page;
use crate::AppError;

/// One product on the order being written, with its quantity as typed.
///
/// The quantity is reference-counted rather than owned by the reactive scope it is made in:
/// a line added from a search result outlives that result's part of the page.
#[derive(Clone)]
pub struct Line {
    pub product: ProductMatch,
    pub quantity: ArcRwSignal<String>,
}

impl Line {
    pub fn new(product: ProductMatch, quantity: String) -> Self {
        Line {
            product,
            quantity: ArcRwSignal::new(quantity),
        }
    }

    /// Price times quantity, when the quantity is a whole number of at least one.
    fn amount(&self, quantity: &str) -> Option<Money> {
        let quantity = domain::parse_quantity(quantity).ok()?;
        Money::from_minor(self.product.price_minor).checked_mul(i64::from(quantity))
    }
}

#[component]
pub fn NewOrderPage() -> impl IntoView {
    let action = ServerAction::<PlaceOrder>::new();
    let query = use_query_map();
    let draft = Memo::new(move |_| Draft::from_query(&query.read()));
    let loaded = Resource::new(
        move || draft.get(),
        |draft| load_order_draft(draft.customer_id.clone(), draft.product_ids()),
    );
    let opened = draft.get_untracked();
    let products_box = SearchBox::new(opened.product_search.clone());
    let customers_box = SearchBox::new(opened.customer_search.clone());
    let products = Resource::new(
        move || (products_box.term.get(), draft.get().product_after),
        |(term, after)| async move {
            if term.trim().is_empty() {
                return Ok(None);
            }
            search_products(term, after).await.map(Some)
        },
    );
    let customers = Resource::new(
        move || customers_box.term.get(),
        |term| async move {
            if term.trim().is_empty() {
                return Ok(None);
            }
            list_customers(Some(term), None).await.map(Some)
        },
    );
    let products = ProductSearch::new(products_box, products);
    workspace_page(move |_| {
        view! { <NewOrderForm action draft loaded products customers_box customers /> }
    })
}

#[component]
fn NewOrderForm(
    action: ServerAction<PlaceOrder>,
    draft: Memo<Draft>,
    loaded: Resource<Result<OrderDraft, AppError>>,
    products: ProductSearch,
    customers_box: SearchBox,
    customers: Resource<Result<Option<CustomerListPage>, AppError>>,
) -> impl IntoView {
    view! {
        <Title text="New order" />
        <h1 class="text-2xl font-semibold">"New order"</h1>
        <Suspense fallback=|| view! { <p class="mt-4 text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let draft = draft.get();
                match loaded.await {
                    Err(err) => view! { <ErrorNotice err /> }.into_any(),
                    Ok(loaded) => view! {
                        <OrderEditor action draft loaded products customers_box customers />
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OrderEditor(
    action: ServerAction<PlaceOrder>,
    draft: Draft,
    loaded: OrderDraft,
    products: ProductSearch,
    customers_box: SearchBox,
    customers: Resource<Result<Option<CustomerListPage>, AppError>>,
) -> impl IntoView {
    let currency = Currency::parse(&loaded.currency);
    let lines = RwSignal::new(
        loaded
            .products
            .into_iter()
            .map(|product| {
                let quantity = draft
                    .lines
                    .iter()
                    .find(|(id, _)| *id == product.id)
                    .map(|(_, q)| q.clone())
                    .unwrap_or_else(|| "1".into());
                Line::new(product, quantity)
            })
            .collect::<Vec<_>>(),
    );
    let chosen = RwSignal::new(loaded.customer);
    let new_customer = draft.new_customer.map(RwSignal::new);
    // Set once hydrated: the buttons only a page without JavaScript needs then go away.
    let scripted = RwSignal::new(false);
    Effect::new(move |_| scripted.set(true));
    let general_error = form_error(action);
    focus_first_error(action);
    view! {
        <ActionForm action attr:class="mt-6 max-w-3xl space-y-8" attr:novalidate="true">
            // First in the form, so Enter in any field updates the draft instead of placing
            // the order (without JavaScript; with it, Enter does nothing here).
            <button type="submit" class="sr-only" tabindex="-1" aria-hidden="true" formmethod="get" formaction="/orders/new"
                on:click=|ev| ev.prevent_default()>"Update"</button>
            <CustomerPicker search=customers_box customers chosen new_customer action />
            <section aria-labelledby="products-heading" class="space-y-4">
                <h2 id="products-heading" class="text-lg font-semibold">"Products"</h2>
                <ProductPicker found=products lines />
                <OrderLines lines currency=currency.clone() action scripted />
            </section>
            {move || general_error.get().map(|text| view! { <Notice kind=NoticeKind::Error text /> })}
            <div class="max-w-xs">
                <SubmitButton label="Place order" pending=action.pending() />
            </div>
        </ActionForm>
    }
}

#[component]
fn OrderLines(
    lines: RwSignal<Vec<Line>>,
    currency: Option<Currency>,
    action: ServerAction<PlaceOrder>,
    scripted: RwSignal<bool>,
) -> impl IntoView {
    let lines_error = field_error(action, LINES_FIELD);
    let currency = StoredValue::new(currency);
    let shown = move |amount: Option<Money>| {
        currency.with_value(|currency| match (currency, amount) {
            (Some(currency), Some(amount)) => amount.display(currency).to_string(),
            _ => "—".to_owned(),
        })
    };
    let total = move || {
        lines.with(|lines| {
            lines.iter().try_fold(Money::ZERO, |sum, line| {
                line.amount(&line.quantity.get())
                    .and_then(|amount| sum.checked_add(amount))
            })
        })
    };
    let entries = move || lines.get().into_iter().enumerate().collect::<Vec<_>>();
    view! {
        <p id="lines-error" class="min-h-4 text-sm text-red-700" aria-live="polite" data-testid="lines-error">{move || lines_error.get()}</p>
        <Show when=move || lines.with(|l| !l.is_empty())
            fallback=|| view! { <p class="text-sm text-slate-600" data-testid="no-lines">"No products on this order yet: find them above."</p> }>
            <ul class="divide-y divide-slate-100 rounded-md border border-slate-200 bg-white" aria-label="Products on this order">
                <For each=entries
                    key=|(index, line)| (*index, line.product.id.clone())
                    let:entry>
                    {
                        let (index, line) = entry;
                        let number = index + 1;
                        let error = field_error(action, line_field(number));
                        let error_id = format!("line-{number}-error");
                        let quantity = line.quantity.clone();
                        let stock = line.product.stock;
                        let id = line.product.id.clone();
                        let amount = {
                            let (line, quantity) = (line.clone(), quantity.clone());
                            move || shown(line.amount(&quantity.get()))
                        };
                        let short = {
                            let quantity = quantity.clone();
                            move || domain::parse_quantity(&quantity.get()).is_ok_and(|q| q > stock)
                        };
                        let (shown_quantity, typed_quantity) = (quantity.clone(), quantity.clone());
                        view! {
                            <li class="flex flex-wrap items-center gap-x-4 gap-y-1 px-3 py-3" data-testid="order-line">
                                <input type="hidden" name=format!("lines[{index}][product_id]") value=id.clone() />
                                <div class="min-w-40 flex-1">
                                    <p class="font-medium">{line.product.name.clone()}</p>
                                    <p class="text-xs text-slate-600">
                                        <span class="font-mono">{line.product.sku.clone()}</span>
                                        {format!(" · {} each · {} in stock", line.product.price, stock)}
                                    </p>
                                </div>
                                <div class="w-24">
                                    <label for=format!("qty-{id}") class="block text-xs text-slate-600">
                                        "Quantity"<span class="sr-only">{format!(" of {}", line.product.name)}</span>
                                    </label>
                                    <input id=format!("qty-{id}") name=format!("lines[{index}][quantity]") inputmode="numeric" autocomplete="off"
                                        value=quantity.get_untracked()
                                        prop:value=move || shown_quantity.get()
                                        on:input=move |ev| typed_quantity.set(event_target_value(&ev))
                                        aria-invalid=move || error.get().is_some().to_string()
                                        aria-describedby=error_id.clone()
                                        class="w-full rounded-md border border-slate-300 px-2 py-1.5 aria-[invalid=true]:border-red-500" />
                                </div>
                                <p class="w-32 text-right tabular-nums" data-testid="line-total">{amount}</p>
                                <button type="submit" name="remove" value=index.to_string() formmethod="get" formaction="/orders/new"
                                    aria-label=format!("Remove {}", line.product.name)
                                    on:click=move |ev| {
                                        ev.prevent_default();
                                        lines.update(|lines| { lines.remove(index); });
                                        focus_first_of(vec!["product-search".into()]);
                                    }
                                    class="rounded-md px-2 py-1 text-sm text-red-700 hover:bg-red-50">"Remove"</button>
                                <p id=error_id class="basis-full text-sm text-red-700" aria-live="polite" data-testid=format!("line-{number}-error")>
                                    {move || error.get().or_else(|| short().then(|| format!("Only {stock} in stock.")))}
                                </p>
                            </li>
                        }
                    }
                </For>
            </ul>
            <div class="flex flex-wrap items-center justify-between gap-3 rounded-md bg-slate-100 px-3 py-2">
                <span class="font-medium">"Order total"</span>
                <output class="text-lg font-semibold tabular-nums" aria-live="polite" data-testid="draft-total">{move || shown(total())}</output>
            </div>
            <button type="submit" formmethod="get" formaction="/orders/new" class:hidden=move || scripted.get()
                class="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm hover:bg-slate-100">"Update totals"</button>
        </Show>
    }
}
