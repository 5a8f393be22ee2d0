use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::layout::workspace_page;
use crate::api::products::{
    list_products, load_product, ProductDetail, ProductListPage, ProductView, SaveProduct,
    SetProductArchived,
};
use crate::components::{
    field_error, focus_first_error, form_error, ErrorNotice, Field, Notice, NoticeKind,
    SubmitButton,
};
use crate::AppError;

#[component]
pub fn ProductsPage() -> impl IntoView {
    let query = use_query_map();
    let page = Resource::new(
        move || {
            (
                query.read().get("q").unwrap_or_default(),
                query.read().get("after"),
                query.read().get("archived").is_some(),
            )
        },
        |(q, after, archived)| list_products((!q.is_empty()).then_some(q), after, Some(archived)),
    );
    workspace_page(move |_| view! { <ProductList page /> })
}

#[component]
fn ProductList(page: Resource<Result<ProductListPage, AppError>>) -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("q").unwrap_or_default();
    let show_archived = move || query.read().get("archived").is_some();
    view! {
        <Title text="Products" />
        <div class="flex flex-wrap items-end justify-between gap-3">
            <h1 class="text-2xl font-semibold">"Products"</h1>
            <Form method="GET" action="/products" attr:class="flex gap-2" attr:role="search">
                <label for="product-search" class="sr-only">"Search by name or SKU"</label>
                <input
                    id="product-search"
                    type="search"
                    name="q"
                    value=search
                    placeholder="Search name or SKU"
                    class="w-56 rounded-md border border-slate-300 px-3 py-1.5"
                />
                <button type="submit" class="rounded-md border border-slate-300 bg-white px-3 py-1.5 hover:bg-slate-100">"Search"</button>
            </Form>
        </div>
        <Suspense fallback=|| view! { <p class="mt-6 text-slate-500">"Loading products…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(err) => view! { <ErrorNotice err /> }.into_any(),
                    Ok(page) => {
                        let archived = if show_archived() { "&archived=1" } else { "" };
                        let next = page
                            .next
                            .clone()
                            .map(|after| format!("/products?q={}{archived}&after={after}", super::encode_query(&search())));
                        view! {
                            <div class="mt-4 flex flex-wrap items-center gap-4">
                                {page.can_manage.then(|| {
                                    if page.usage.as_ref().is_some_and(|u| u.is_full()) {
                                        view! {
                                            <span class="inline-flex cursor-not-allowed rounded-md bg-slate-200 px-4 py-2 text-sm font-medium text-slate-500" aria-disabled="true" title="Your plan's product limit is reached" data-testid="new-product-disabled">"New product"</span>
                                        }.into_any()
                                    } else {
                                        view! {
                                            <a href="/products/new" class="inline-flex rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700">"New product"</a>
                                        }.into_any()
                                    }
                                })}
                                {page.can_manage.then(|| view! {
                                    <a href="/products/import" class="inline-flex rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-medium hover:bg-slate-100">"Import from CSV"</a>
                                })}
                                {page.usage.clone().map(|u| view! {
                                    <span class=if u.is_full() { "text-sm font-medium text-amber-800" } else { "text-sm text-slate-600" } data-testid="product-usage">
                                        {u.label()}
                                        {u.is_full().then_some(" (limit reached: archive a product or ask for a bigger plan)")}
                                    </span>
                                })}
                                <a
                                    href=move || if show_archived() { "/products".to_owned() } else { "/products?archived=1".to_owned() }
                                    class="text-sm text-indigo-700 underline"
                                >
                                    {move || if show_archived() { "Hide archived products" } else { "Show archived products" }}
                                </a>
                            </div>
                            <ProductTable products=page.products />
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
fn ProductTable(products: Vec<ProductView>) -> impl IntoView {
    if products.is_empty() {
        return view! { <p class="mt-6 text-slate-600" data-testid="no-products">"No products yet."</p> }.into_any();
    }
    view! {
        <div class="mt-4 overflow-x-auto rounded-lg border border-slate-200 bg-white">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-50 text-left text-slate-600">
                    <tr>
                        <th scope="col" class="px-4 py-2 font-medium">"Name"</th>
                        <th scope="col" class="px-4 py-2 font-medium">"SKU"</th>
                        <th scope="col" class="px-4 py-2 text-right font-medium">"Price"</th>
                        <th scope="col" class="px-4 py-2 text-right font-medium">"Stock"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {products
                        .into_iter()
                        .map(|p| {
                            let href = format!("/products/{}", p.id.as_uuid());
                            view! {
                                <tr data-testid="product-row">
                                    <td class="px-4 py-2">
                                        <a href=href class="font-medium text-indigo-700 hover:underline">{p.name}</a>
                                        {p.archived.then(|| view! { <span class="ml-2 rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600">"Archived"</span> })}
                                    </td>
                                    <td class="px-4 py-2 font-mono text-slate-600">{p.sku}</td>
                                    <td class="px-4 py-2 text-right tabular-nums">{p.price}</td>
                                    <td class="px-4 py-2 text-right tabular-nums" data-testid="product-stock">{p.stock}</td>
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

/// `/products/new` and `/products/:id`: the edit form for ADMIN and OWNER, a read-only card
/// for members.
#[component]
pub fn ProductPage() -> impl IntoView {
    let params = use_params_map();
    let archive = ServerAction::<SetProductArchived>::new();
    let save = ServerAction::<SaveProduct>::new();
    let detail = Resource::new(
        move || {
            (
                params.read().get("id"),
                archive.version().get(),
                save.version().get(),
            )
        },
        |(id, _, _)| load_product(id.filter(|id| id != "new")),
    );
    workspace_page(move |_| view! { <ProductEditor detail save archive /> })
}

#[component]
fn ProductEditor(
    detail: Resource<Result<ProductDetail, AppError>>,
    save: ServerAction<SaveProduct>,
    archive: ServerAction<SetProductArchived>,
) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(err) => view! { <ErrorNotice err /> }.into_any(),
                    Ok(detail) if !detail.can_manage => match detail.product {
                        Some(product) => view! { <ProductCard product /> }.into_any(),
                        None => view! {
                            <Title text="New product" />
                            <Notice kind=NoticeKind::Error text=AppError::Forbidden.to_string() />
                        }
                        .into_any(),
                    },
                    Ok(detail) => view! { <ProductForm product=detail.product currency=detail.currency save archive /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProductCard(product: ProductView) -> impl IntoView {
    view! {
        <Title text=product.name.clone() />
        <h1 class="text-2xl font-semibold">{product.name}</h1>
        <dl class="mt-4 grid max-w-md grid-cols-2 gap-2 text-sm">
            <dt class="text-slate-500">"SKU"</dt><dd class="font-mono">{product.sku}</dd>
            <dt class="text-slate-500">"Price"</dt><dd>{product.price}</dd>
            <dt class="text-slate-500">"Stock"</dt><dd>{product.stock}</dd>
        </dl>
        <p class="mt-4 whitespace-pre-line text-slate-700">{product.description}</p>
    }
}

#[component]
fn ProductForm(
    product: Option<ProductView>,
    currency: String,
    save: ServerAction<SaveProduct>,
    archive: ServerAction<SetProductArchived>,
) -> impl IntoView {
    let query = use_query_map();
    let is_new = product.is_none();
    let id = product
        .as_ref()
        .map(|p| p.id.as_uuid().to_string())
        .unwrap_or_default();
    let version = product
        .as_ref()
        .map(|p| p.version.clone())
        .unwrap_or_default();
    let archived = product.as_ref().is_some_and(|p| p.archived);
    let field = |value: Option<String>| RwSignal::new(value.unwrap_or_default());
    let sku = field(product.as_ref().map(|p| p.sku.clone()));
    let name = field(product.as_ref().map(|p| p.name.clone()));
    let description = field(product.as_ref().map(|p| p.description.clone()));
    let price = field(product.as_ref().map(|p| p.price_input.clone()));
    let stock = field(product.as_ref().map(|p| p.stock.to_string()));
    let error_for = move |name: &'static str| field_error(save, name);
    let general_error = form_error(save);
    focus_first_error(save);
    let saved =
        move || query.read().get("saved").is_some() && !matches!(save.value().get(), Some(Err(_)));
    let title = if is_new {
        "New product".to_owned()
    } else {
        product.as_ref().map(|p| p.name.clone()).unwrap_or_default()
    };
    let archive_id = id.clone();
    view! {
        <Title text=title.clone() />
        <div class="max-w-xl">
            <h1 class="text-2xl font-semibold">{title}</h1>
            {archived.then(|| view! { <p class="mt-1 text-sm text-amber-700" data-testid="archived-note">"Archived: it cannot be ordered. Past orders still show it."</p> })}
            {move || saved().then(|| view! { <p class="mt-3 rounded-md bg-emerald-50 px-4 py-2 text-sm text-emerald-800" role="status">"Saved."</p> })}
            <ActionForm action=save attr:class="mt-6 space-y-3" attr:novalidate="true">
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="version" value=version />
                <Field name="name" label="Name" value=name error=error_for("name") />
                <Field name="sku" label="SKU" value=sku hint="Unique in this workspace; letters, digits and - _ . /" error=error_for("sku") />
                <div class="space-y-1">
                    <label for="field-description" class="block text-sm font-medium text-slate-700">"Description"</label>
                    <textarea
                        id="field-description"
                        name="description"
                        rows="3"
                        prop:value=move || description.get()
                        on:input=move |ev| description.set(event_target_value(&ev))
                        class="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 shadow-sm"
                    >
                        {description.get_untracked()}
                    </textarea>
                    <p class="min-h-4 text-sm text-red-700">{move || error_for("description").get()}</p>
                </div>
                <div class="grid gap-3 sm:grid-cols-2">
                    <Field name="price" label=format!("Price ({currency})") value=price error=error_for("price") />
                    <Field name="stock" label="Stock" value=stock error=error_for("stock") />
                </div>
                {move || general_error.get().map(|text| view! { <Notice kind=NoticeKind::Error text /> })}
                <SubmitButton label=if is_new { "Create product" } else { "Save changes" } pending=save.pending() />
            </ActionForm>
            {(!is_new).then(|| view! {
                <ActionForm action=archive attr:class="mt-4">
                    <input type="hidden" name="id" value=archive_id />
                    <input type="hidden" name="archived" value=(!archived).to_string() />
                    <button type="submit" class="rounded-md border border-slate-300 px-4 py-2 text-sm hover:bg-slate-100">
                        {if archived { "Restore product" } else { "Archive product" }}
                    </button>
                </ActionForm>
            })}
        </div>
    }
}
