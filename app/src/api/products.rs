//! Products: list, read, create, edit, archive. ADMIN and OWNER manage; MEMBER reads (the
//! repository enforces it; the UI only mirrors it).

use domain::ProductId;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductView {
    pub id: ProductId,
    pub sku: String,
    pub name: String,
    pub description: String,
    /// "USD 12.50"
    pub price: String,
    /// "12.50", for the edit form.
    pub price_input: String,
    pub stock: i32,
    pub archived: bool,
    /// Opaque: handed back on save so a stale form cannot overwrite newer figures.
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductListPage {
    pub products: Vec<ProductView>,
    /// Pass as `after` for the next page; `None` on the last page.
    pub next: Option<String>,
    pub can_manage: bool,
    /// The plan's product limit and its usage, when the plan has one (first page only).
    pub usage: Option<super::common::UsageView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductDetail {
    pub product: Option<ProductView>,
    pub can_manage: bool,
    pub currency: String,
}

#[cfg(feature = "ssr")]
pub(crate) fn view_of(
    product: &db::tenant::products::Product,
    currency: &domain::Currency,
) -> ProductView {
    ProductView {
        id: product.id,
        sku: product.sku.clone(),
        name: product.name.clone(),
        description: product.description.clone(),
        price: product.price.display(currency).to_string(),
        price_input: product.price.to_decimal_string(currency),
        stock: product.stock,
        archived: product.archived,
        version: product.version.unix_timestamp_nanos().to_string(),
    }
}

#[server(output = crate::codec::TextJson)]
pub async fn list_products(
    search: Option<String>,
    after: Option<String>,
    archived: Option<bool>,
) -> Result<ProductListPage, AppError> {
    use super::common::{next_cursor, page_after, usage_of, PAGE_SIZE};
    use db::tenant::products::{list, ProductCursor, ProductQuery};

    let call = crate::ssr::MemberCall::open()?;
    let search = super::common::search("search", search.as_deref())?;
    let after =
        page_after(after.as_deref())?.map(|(created_at, id)| ProductCursor { created_at, id });
    let page = call
        .run(list(
            call.db(),
            call.scope(),
            &ProductQuery {
                search,
                include_archived: archived.unwrap_or(false),
                with_usage: after.is_none(),
                after,
                limit: PAGE_SIZE,
            },
        ))
        .await?;
    Ok(ProductListPage {
        next: next_cursor(page.has_more, &page.products, |p| {
            (p.created_at, p.id.as_uuid())
        }),
        products: page
            .products
            .iter()
            .map(|p| view_of(p, call.currency()))
            .collect(),
        can_manage: call.role().at_least(domain::Role::Admin),
        usage: page.usage.as_ref().map(usage_of),
    })
}

/// A product id from a form or a link; one that does not parse names nothing.
#[cfg(feature = "ssr")]
fn product_id(raw: &str) -> Result<ProductId, AppError> {
    uuid::Uuid::parse_str(raw.trim())
        .map(ProductId::from_uuid)
        .map_err(|_| AppError::NotFound)
}

/// One product, or (with no id) just what the new-product form needs to know.
#[server(output = crate::codec::TextJson)]
pub async fn load_product(id: Option<String>) -> Result<ProductDetail, AppError> {
    let call = crate::ssr::MemberCall::open()?;
    let product = match id.as_deref().filter(|raw| !raw.is_empty()) {
        None => None,
        Some(raw) => {
            let product = call
                .run(db::tenant::products::get(
                    call.db(),
                    call.scope(),
                    product_id(raw)?,
                ))
                .await?;
            Some(view_of(&product, call.currency()))
        }
    };
    Ok(ProductDetail {
        product,
        can_manage: call.role().at_least(domain::Role::Admin),
        currency: call.currency().as_str().to_owned(),
    })
}

/// Creates (no `id`) or edits a product. Every field problem is reported at once; nothing is
/// written unless all fields are valid.
#[server(output = crate::codec::TextJson)]
pub async fn save_product(
    id: Option<String>,
    version: Option<String>,
    sku: String,
    name: String,
    description: String,
    price: String,
    stock: String,
) -> Result<(), AppError> {
    use crate::FieldErrors;
    use db::tenant::products::{self, ProductInput};

    let call = crate::ssr::MemberCall::open()?;
    call.require(domain::Role::Admin)?;
    let mut errors = FieldErrors::default();
    let sku = errors.check("sku", domain::Sku::parse(&sku));
    let name = errors.check("name", domain::ProductName::parse(&name));
    let description = errors.check("description", domain::Description::parse(&description));
    let price = errors.check("price", domain::Money::parse(&price, call.currency()));
    let stock = errors.check("stock", domain::parse_stock(&stock));
    let (sku, name, description, price, stock) =
        errors.into_values((sku, name, description, price, stock))?;
    let input = ProductInput {
        sku,
        name,
        description,
        price,
        stock,
    };
    let saved = match id.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => {
            let id = product_id(raw)?;
            // A missing or garbled version can only be stale: it is compared, never trusted.
            let version = version
                .as_deref()
                .and_then(|v| v.parse::<i128>().ok())
                .and_then(|nanos| time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok())
                .filter(|at| (1..=9999).contains(&at.year()))
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            call.run(products::update(
                call.db(),
                call.scope(),
                id,
                version,
                &input,
            ))
            .await?;
            id
        }
        None => {
            call.run(products::create(call.db(), call.scope(), &input))
                .await?
        }
    };
    leptos_axum::redirect(&format!("/products/{}?saved=1", saved.as_uuid()));
    Ok(())
}

#[server(output = crate::codec::TextJson)]
pub async fn set_product_archived(id: String, archived: bool) -> Result<(), AppError> {
    let call = crate::ssr::MemberCall::open()?;
    call.run(db::tenant::products::set_archived(
        call.db(),
        call.scope(),
        product_id(&id)?,
        archived,
    ))
    .await
}
