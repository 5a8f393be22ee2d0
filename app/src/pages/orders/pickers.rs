//! The order form's two pickers, each a search box with a list of matches as buttons. Without
//! JavaScript, searching and choosing are GETs of the whole form (see `draft`); with it the
//! same buttons act in place, the search follows the typing (after a pause of 200 ms), and
//! the arrow keys move between the box and its matches.

use std::time::Duration;

use leptos::prelude::*;

use super::new_order::Line;
use crate::api::customers::{CustomerListPage, CustomerView};
use crate::api::orders::PlaceOrder;
use crate::api::picker::{search_products, ProductMatch, ProductMatches};
use crate::components::{field_error, focus_first_of};
use crate::pages::customers::CustomerFields;
use crate::AppError;

/// Where the no-JavaScript form's searches and choices go.
const DRAFT_URL: &str = "/orders/new";
/// How long typing must pause before a search is sent.
const DEBOUNCE: Duration = Duration::from_millis(200);

/// A search box's text as typed, and the text last searched for.
#[derive(Clone, Copy)]
pub struct SearchBox {
    pub typed: RwSignal<String>,
    pub term: RwSignal<String>,
    /// Bumped on every keystroke, so only the last one of a burst searches.
    keystrokes: StoredValue<u64>,
}

impl SearchBox {
    pub fn new(initial: String) -> Self {
        SearchBox {
            typed: RwSignal::new(initial.clone()),
            term: RwSignal::new(initial),
            keystrokes: StoredValue::new(0),
        }
    }

    fn typed(&self, text: String) {
        self.typed.set(text.clone());
        self.keystrokes.update_value(|n| *n += 1);
        let mine = self.keystrokes.get_value();
        let (keystrokes, term) = (self.keystrokes, self.term);
        set_timeout(
            move || {
                if keystrokes.get_value() == mine {
                    term.set(text);
                }
            },
            DEBOUNCE,
        );
    }

    /// Searches now (Enter, or the search button).
    fn now(&self) {
        self.keystrokes.update_value(|n| *n += 1);
        self.term.set(self.typed.get_untracked());
    }

    fn clear(&self) {
        self.keystrokes.update_value(|n| *n += 1);
        self.typed.set(String::new());
        self.term.set(String::new());
    }
}

/// Arrow keys between a search box (`box_id`) and its matches (`{prefix}-{n}`): down from the
/// box to the first match, up from the first back to the box, Escape back to the box.
fn move_focus(ev: &leptos::ev::KeyboardEvent, box_id: &str, prefix: &str, from: Option<usize>) {
    let target = |n: usize| format!("{prefix}-{n}");
    let ids: Vec<String> = match (ev.key().as_str(), from) {
        ("ArrowDown", None) => (0..50).map(target).collect(),
        ("ArrowDown", Some(n)) => (n + 1..n + 50).map(target).collect(),
        ("ArrowUp", Some(n)) => (0..n)
            .rev()
            .map(target)
            .chain([box_id.to_owned()])
            .collect(),
        ("Escape", Some(_)) => vec![box_id.to_owned()],
        _ => return,
    };
    ev.prevent_default();
    focus_first_of(ids);
}

/// The product search: what is typed, what it found, and a sentence for screen readers.
#[derive(Clone, Copy)]
pub struct ProductSearch {
    pub search: SearchBox,
    pub products: Resource<Result<Option<ProductMatches>, AppError>>,
    announce: RwSignal<String>,
}

impl ProductSearch {
    /// Made by the page, outside any `Suspense`: the effect that words the result reads the
    /// resource, and a resource read under a `Suspense` would make it wait (and re-mount the
    /// whole form, taking the focus from the search box) on every search.
    pub fn new(
        search: SearchBox,
        products: Resource<Result<Option<ProductMatches>, AppError>>,
    ) -> Self {
        let announce = RwSignal::new(String::new());
        Effect::new(move |_| {
            if let Some(Ok(found)) = products.get() {
                announce.set(match found {
                    None => String::new(),
                    Some(found) if found.matches.is_empty() => "No product matches.".into(),
                    Some(found) => format!(
                        "{} products found{}.",
                        found.matches.len(),
                        if found.next.is_some() {
                            ", more below"
                        } else {
                            ""
                        }
                    ),
                });
            }
        });
        ProductSearch {
            search,
            products,
            announce,
        }
    }
}

#[component]
pub fn ProductPicker(found: ProductSearch, lines: RwSignal<Vec<Line>>) -> impl IntoView {
    let ProductSearch {
        search,
        products,
        announce,
    } = found;
    // Later pages fetched with "More matches", kept until the search changes.
    let more = RwSignal::new(Vec::<ProductMatch>::new());
    let more_next = RwSignal::new(None::<Option<String>>);
    Effect::new(move |_| {
        search.term.track();
        more.set(Vec::new());
        more_next.set(None);
    });
    let add = move |product: ProductMatch| {
        let id = product.id.clone();
        lines.update(|lines| match lines.iter().find(|l| l.product.id == id) {
            Some(line) => line.quantity.update(|q| {
                if let Ok(n) = q.trim().parse::<u32>() {
                    *q = n.saturating_add(1).to_string();
                }
            }),
            None => lines.push(Line::new(product, "1".into())),
        });
        search.clear();
        focus_first_of(vec![format!("qty-{id}")]);
    };
    let load_more = move |after: String| {
        let term = search.term.get_untracked();
        leptos::task::spawn_local(async move {
            if let Ok(page) = search_products(term, Some(after)).await {
                more.update(|m| m.extend(page.matches));
                more_next.set(Some(page.next));
            }
        });
    };
    view! {
        <div class="space-y-2">
            <label for="product-search" class="block text-sm font-medium text-slate-700">"Find a product"</label>
            <p id="product-search-hint" class="text-xs text-slate-500">"By name, or by SKU from three characters on. The down arrow moves to the matches."</p>
            <div class="flex flex-wrap gap-2">
                <input
                    id="product-search"
                    type="search"
                    name="product_q"
                    autocomplete="off"
                    aria-describedby="product-search-hint"
                    value=search.typed.get_untracked()
                    prop:value=move || search.typed.get()
                    on:input=move |ev| search.typed(event_target_value(&ev))
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                            search.now();
                        } else {
                            move_focus(&ev, "product-search", "match", None);
                        }
                    }
                    class="min-w-0 flex-1 rounded-md border border-slate-300 px-3 py-2"
                />
                <button type="submit" formmethod="get" formaction=DRAFT_URL
                    on:click=move |ev| { ev.prevent_default(); search.now(); }
                    class="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm hover:bg-slate-100">"Search"</button>
            </div>
            <p class="sr-only" aria-live="polite">{move || announce.get()}</p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match products.await {
                        Err(err) => view! { <p class="text-sm text-red-700" role="alert">{err.to_string()}</p> }.into_any(),
                        Ok(None) => ().into_any(),
                        Ok(Some(found)) => {
                            let first = found.matches;
                            let first_next = found.next;
                            let next = move || more_next.get().unwrap_or_else(|| first_next.clone());
                            view! {
                                <ul id="product-matches" class="divide-y divide-slate-100 rounded-md border border-slate-200 bg-white" aria-label="Matching products" data-testid="product-matches">
                                    {move || {
                                        let all: Vec<ProductMatch> = first.iter().cloned().chain(more.get()).collect();
                                        if all.is_empty() {
                                            return view! { <li class="px-3 py-2 text-sm text-slate-600">"No product matches."</li> }.into_any();
                                        }
                                        all.into_iter().enumerate().map(|(n, product)| {
                                            let chosen = product.clone();
                                            view! {
                                                <li>
                                                    <button type="submit" id=format!("match-{n}") name="add" value=product.id.clone()
                                                        formmethod="get" formaction=DRAFT_URL disabled=product.stock <= 0
                                                        on:click=move |ev| { ev.prevent_default(); add(chosen.clone()); }
                                                        on:keydown=move |ev| move_focus(&ev, "product-search", "match", Some(n))
                                                        class="flex w-full flex-wrap items-baseline justify-between gap-x-4 px-3 py-2 text-left text-sm hover:bg-indigo-50 focus:bg-indigo-50 disabled:cursor-not-allowed disabled:text-slate-500 disabled:hover:bg-white"
                                                        data-testid="product-match">
                                                        <span>
                                                            <span class="sr-only">"Add "</span>
                                                            <span class="font-medium">{product.name.clone()}</span>
                                                            <span class="ml-2 font-mono text-xs text-slate-600">{product.sku.clone()}</span>
                                                        </span>
                                                        <span class="tabular-nums text-slate-700">
                                                            {product.price.clone()}
                                                            {if product.stock > 0 { format!(" · {} in stock", product.stock) } else { " · out of stock".into() }}
                                                        </span>
                                                    </button>
                                                </li>
                                            }
                                        }).collect_view().into_any()
                                    }}
                                </ul>
                                {move || next().map(|after| {
                                    let cursor = after.clone();
                                    view! {
                                        <button type="submit" name="product_after" value=after formmethod="get" formaction=DRAFT_URL
                                            on:click=move |ev| { ev.prevent_default(); load_more(cursor.clone()); }
                                            class="text-sm text-indigo-700 underline">"More matches"</button>
                                    }
                                })}
                            }
                            .into_any()
                        }
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
pub fn CustomerPicker(
    search: SearchBox,
    customers: Resource<Result<Option<CustomerListPage>, AppError>>,
    chosen: RwSignal<Option<CustomerView>>,
    new_customer: [RwSignal<String>; 4],
    action: ServerAction<PlaceOrder>,
) -> impl IntoView {
    let error = field_error(action, "customer");
    let error_for = move |field: &'static str| field_error(action, field);
    let [name, email, phone, address] = new_customer;
    view! {
        <section aria-labelledby="customer-heading" class="space-y-3">
            <h2 id="customer-heading" class="text-lg font-semibold">"Customer"</h2>
            <p id="customer-error" class="min-h-4 text-sm text-red-700" aria-live="polite" data-testid="customer-error">{move || error.get()}</p>
            {move || match chosen.get() {
                Some(customer) => view! {
                    <div class="flex flex-wrap items-start justify-between gap-3 rounded-md border border-slate-200 bg-white p-3 text-sm" data-testid="chosen-customer">
                        <input type="hidden" name="customer_id" value=customer.id.to_string() />
                        <div>
                            <p class="font-medium">{customer.name.clone()}</p>
                            <p class="break-all text-slate-700">{customer.email.clone()}</p>
                            {(!customer.phone.is_empty()).then(|| view! { <p class="text-slate-700">{customer.phone.clone()}</p> })}
                            {(!customer.address.is_empty()).then(|| view! { <p class="whitespace-pre-line text-slate-700">{customer.address.clone()}</p> })}
                        </div>
                        <button type="submit" name="change_customer" value="1" formmethod="get" formaction=DRAFT_URL
                            on:click=move |ev| { ev.prevent_default(); chosen.set(None); focus_first_of(vec!["customer-search".into()]); }
                            class="rounded-md border border-slate-300 px-3 py-1.5 hover:bg-slate-100">"Change customer"</button>
                    </div>
                }
                .into_any(),
                None => view! {
                    <div class="space-y-2">
                        <label for="customer-search" class="block text-sm font-medium text-slate-700">"Find a customer"</label>
                        <div class="flex flex-wrap gap-2">
                            <input id="customer-search" type="search" name="customer_q" autocomplete="off"
                                aria-invalid=move || error.get().is_some().to_string()
                                aria-describedby="customer-error"
                                value=search.typed.get_untracked()
                                prop:value=move || search.typed.get()
                                on:input=move |ev| search.typed(event_target_value(&ev))
                                on:keydown=move |ev| {
                                    if ev.key() == "Enter" {
                                        ev.prevent_default();
                                        search.now();
                                    } else {
                                        move_focus(&ev, "customer-search", "customer-match", None);
                                    }
                                }
                                class="min-w-0 flex-1 rounded-md border border-slate-300 px-3 py-2 aria-[invalid=true]:border-red-500" />
                            <button type="submit" formmethod="get" formaction=DRAFT_URL
                                on:click=move |ev| { ev.prevent_default(); search.now(); }
                                class="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm hover:bg-slate-100">"Find"</button>
                        </div>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                match customers.await {
                                    Err(err) => view! { <p class="text-sm text-red-700" role="alert">{err.to_string()}</p> }.into_any(),
                                    Ok(None) => ().into_any(),
                                    Ok(Some(found)) if found.customers.is_empty() => view! { <p class="text-sm text-slate-600" role="status">"No customer matches: add them below."</p> }.into_any(),
                                    Ok(Some(found)) => view! {
                                        <ul class="divide-y divide-slate-100 rounded-md border border-slate-200 bg-white" aria-label="Matching customers">
                                            {found.customers.into_iter().enumerate().map(|(n, customer)| {
                                                let picked = customer.clone();
                                                view! {
                                                    <li>
                                                        <button type="submit" id=format!("customer-match-{n}") name="customer_pick" value=customer.id.to_string()
                                                            formmethod="get" formaction=DRAFT_URL
                                                            on:click=move |ev| { ev.prevent_default(); chosen.set(Some(picked.clone())); search.clear(); focus_first_of(vec!["product-search".into()]); }
                                                            on:keydown=move |ev| move_focus(&ev, "customer-search", "customer-match", Some(n))
                                                            class="flex w-full flex-wrap justify-between gap-x-4 px-3 py-2 text-left text-sm hover:bg-indigo-50 focus:bg-indigo-50"
                                                            data-testid="customer-match">
                                                            <span class="font-medium"><span class="sr-only">"Choose "</span>{customer.name.clone()}</span>
                                                            <span class="break-all text-slate-600">{customer.email.clone()}</span>
                                                        </button>
                                                    </li>
                                                }
                                            }).collect_view()}
                                        </ul>
                                    }
                                    .into_any(),
                                }
                            })}
                        </Transition>
                        <fieldset class="space-y-3 rounded-md border border-slate-200 bg-white p-3">
                            <legend class="px-1 text-sm font-medium text-slate-700">"Or add a new customer"</legend>
                            <CustomerFields name email phone address error_for=move |f| error_for(f) />
                        </fieldset>
                    </div>
                }
                .into_any(),
            }}
        </section>
    }
}
