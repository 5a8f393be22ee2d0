//! The order form's pickers: products found as people type (by name or SKU, a page at a
//! time), and the form's draft (the customer and products it names) read back from its
//! address, so the form works the same after a reload or without JavaScript.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::customers::CustomerView;
use crate::AppError;

/// A product as the picker offers it. `price_minor` lets the page total the order as it is
/// filled in; the server totals it again when it is placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductMatch {
    pub id: String,
    pub sku: String,
    pub name: String,
    /// "USD 12.50"
    pub price: String,
    pub price_minor: i64,
    pub stock: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductMatches {
    pub matches: Vec<ProductMatch>,
    /// Pass as `after` for the next page; `None` on the last page.
    pub next: Option<String>,
    /// The workspace's currency, for totals.
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDraft {
    pub customer: Option<CustomerView>,
    /// The draft's products that can still be ordered (active ones of this workspace).
    pub products: Vec<ProductMatch>,
    pub currency: String,
}

#[cfg(feature = "ssr")]
fn match_of(
    id: domain::ProductId,
    sku: &str,
    name: &str,
    price: domain::Money,
    stock: i32,
    currency: &domain::Currency,
) -> ProductMatch {
    ProductMatch {
        id: id.to_string(),
        sku: sku.to_owned(),
        name: name.to_owned(),
        price: price.display(currency).to_string(),
        price_minor: price.minor(),
        stock,
    }
}

/// Active products whose name starts with `search` (one or two characters) or whose name or
/// SKU contains it (three or more), by name, ten at a time. Blank finds nothing.
#[server(output = crate::codec::TextJson)]
pub async fn search_products(
    search: String,
    after: Option<String>,
) -> Result<ProductMatches, AppError> {
    let call = crate::ssr::MemberCall::open()?;
    let currency = call.currency();
    let empty = || ProductMatches {
        matches: Vec::new(),
        next: None,
        currency: currency.as_str().to_owned(),
    };
    let Some(search) = super::common::search("search", Some(&search))? else {
        return Ok(empty());
    };
    let after = after
        .as_deref()
        .filter(|a| !a.is_empty())
        .map(|raw| {
            uuid::Uuid::parse_str(raw.trim())
                .map(domain::ProductId::from_uuid)
                .map_err(|_| AppError::NotFound)
        })
        .transpose()?;
    let page = call
        .run(db::tenant::products::search(
            call.db(),
            call.scope(),
            &search,
            after,
        ))
        .await?;
    Ok(ProductMatches {
        next: page
            .has_more
            .then(|| page.matches.last().map(|m| m.id.to_string()))
            .flatten(),
        matches: page
            .matches
            .iter()
            .map(|m| match_of(m.id, &m.sku, &m.name, m.price, m.stock, currency))
            .collect(),
        currency: currency.as_str().to_owned(),
    })
}

/// The customer and products a draft order names (ids that name nothing of this workspace,
/// or archived products, are left out), in the order given.
#[server(output = crate::codec::TextJson)]
pub async fn load_order_draft(
    #[server(default)] customer_id: String,
    #[server(default)] products: Vec<String>,
) -> Result<OrderDraft, AppError> {
    let call = crate::ssr::MemberCall::open()?;
    let currency = call.currency();
    let customer = match super::customers::customer_id(&customer_id) {
        Err(_) => None,
        Ok(id) => match db::tenant::customers::get(call.db(), call.scope(), id).await {
            Ok(customer) => Some(super::customers::view_of(&customer)),
            Err(db::RepoError::NotFound) => None,
            Err(other) => return Err(call.fail(other)),
        },
    };
    let ids: Vec<domain::ProductId> = products
        .iter()
        .filter_map(|raw| uuid::Uuid::parse_str(raw.trim()).ok())
        .map(domain::ProductId::from_uuid)
        .take(db::tenant::orders::MAX_LINES)
        .collect();
    let found = if ids.is_empty() {
        Vec::new()
    } else {
        call.run(db::tenant::products::by_ids(call.db(), call.scope(), &ids))
            .await?
    };
    let products = ids
        .iter()
        .filter_map(|id| found.iter().find(|p| p.id == *id && !p.archived))
        .map(|p| match_of(p.id, &p.sku, &p.name, p.price, p.stock, currency))
        .collect();
    Ok(OrderDraft {
        customer,
        products,
        currency: currency.as_str().to_owned(),
    })
}
