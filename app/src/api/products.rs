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
    pub usage: Option<super::team::UsageView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductDetail {
    pub product: Option<ProductView>,
    pub can_manage: bool,
    pub currency: String,
}

pub const PAGE_SIZE: i64 = 25;

#[cfg(feature = "ssr")]
const STALE: &str = "This product changed after you opened it (an order may have taken stock). Reload the page to see the current figures, then make your change again.";

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

/// Opaque keyset cursor: the last row's creation time (nanoseconds) and id.
#[cfg(feature = "ssr")]
pub(crate) fn encode_cursor(created_at: time::OffsetDateTime, id: uuid::Uuid) -> String {
    format!("{}_{}", created_at.unix_timestamp_nanos(), id.simple())
}

#[cfg(feature = "ssr")]
pub(crate) fn decode_cursor(cursor: &str) -> Option<(time::OffsetDateTime, uuid::Uuid)> {
    let (nanos, id) = cursor.split_once('_')?;
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(nanos.parse().ok()?).ok()?;
    Some((at, uuid::Uuid::parse_str(id).ok()?))
}

#[server]
pub async fn list_products(
    search: Option<String>,
    after: Option<String>,
    archived: Option<bool>,
) -> Result<ProductListPage, AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};
            use db::tenant::products::{list, ProductCursor, ProductQuery};

            let ctx = request_context()?;
            let scope = ctx.require_scope()?;
            let tenant = ctx.require_workspace()?;
            let after = after
                .as_deref()
                .filter(|c| !c.is_empty())
                .map(|c| decode_cursor(c).ok_or(AppError::NotFound))
                .transpose()?
                .map(|(created_at, id)| ProductCursor { created_at, id });
            let page = list(
                &services()?.db,
                scope,
                &ProductQuery {
                    search,
                    include_archived: archived.unwrap_or(false),
                    with_usage: after.is_none(),
                    after,
                    limit: PAGE_SIZE,
                },
            )
            .await
            .map_err(|e| ctx.repo_error(e))?;
            let next = page
                .has_more
                .then(|| {
                    page.products
                        .last()
                        .map(|p| encode_cursor(p.created_at, p.id.as_uuid()))
                })
                .flatten();
            Ok(ProductListPage {
                products: page
                    .products
                    .iter()
                    .map(|p| view_of(p, tenant.currency()))
                    .collect(),
                next,
                can_manage: scope.member().role.at_least(domain::Role::Admin),
                usage: page.usage.as_ref().map(super::team::usage_of),
            })
        }
        .await,
    )
}

/// One product, or (with no id) just what the new-product form needs to know.
#[server]
pub async fn load_product(id: Option<String>) -> Result<ProductDetail, AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};

            let ctx = request_context()?;
            let scope = ctx.require_scope()?;
            let tenant = ctx.require_workspace()?;
            let product = match id.as_deref() {
                None | Some("") => None,
                Some(raw) => {
                    let id = uuid::Uuid::parse_str(raw).map_err(|_| AppError::NotFound)?;
                    let product =
                        db::tenant::products::get(&services()?.db, scope, ProductId::from_uuid(id))
                            .await
                            .map_err(|e| ctx.repo_error(e))?;
                    Some(view_of(&product, tenant.currency()))
                }
            };
            Ok(ProductDetail {
                product,
                can_manage: scope.member().role.at_least(domain::Role::Admin),
                currency: tenant.currency().as_str().to_owned(),
            })
        }
        .await,
    )
}

/// Creates (no `id`) or edits a product. Every field problem is reported at once; nothing is
/// written unless all fields are valid.
#[server]
pub async fn save_product(
    id: Option<String>,
    version: Option<String>,
    sku: String,
    name: String,
    description: String,
    price: String,
    stock: String,
) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};
            use crate::FieldErrors;
            use db::tenant::products::{self, ProductInput};

            let ctx = request_context()?;
            let scope = ctx.require_scope()?;
            let tenant = ctx.require_workspace()?;
            if !scope.member().role.at_least(domain::Role::Admin) {
                return Err(AppError::Forbidden);
            }
            let mut errors = FieldErrors::default();
            let sku = errors.check("sku", domain::Sku::parse(&sku));
            let name = errors.check("name", domain::ProductName::parse(&name));
            let description = errors.check(
                "description",
                if description.chars().count() > 5000 {
                    Err("Use at most 5000 characters.")
                } else {
                    Ok(description.trim().to_owned())
                },
            );
            let price = errors.check("price", domain::Money::parse(&price, tenant.currency()));
            let stock = errors.check("stock", domain::parse_stock(&stock));
            errors.into_result()?;
            let (Some(sku), Some(name), Some(description), Some(price), Some(stock)) =
                (sku, name, description, price, stock)
            else {
                return Err(ctx.internal("save_product", "field check passed without values"));
            };
            let input = ProductInput {
                sku,
                name,
                description,
                price,
                stock,
            };
            let db = services()?.db;
            let saved = match id.as_deref().filter(|s| !s.is_empty()) {
                Some(raw) => {
                    let id = ProductId::from_uuid(
                        uuid::Uuid::parse_str(raw).map_err(|_| AppError::NotFound)?,
                    );
                    // A missing or garbled version can only be stale: it is compared, never trusted.
                    let version = version
                        .as_deref()
                        .and_then(|v| v.parse::<i128>().ok())
                        .and_then(|nanos| {
                            time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
                        })
                        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                    products::update(&db, scope, id, version, &input)
                        .await
                        .map(|()| id)
                }
                None => products::create(&db, scope, &input).await,
            }
            .map_err(|e| match e {
                db::RepoError::Conflict { field: "version" } => AppError::Refused {
                    message: STALE.into(),
                },
                other => ctx.repo_error(other),
            })?;
            leptos_axum::redirect(&format!("/products/{}?saved=1", saved.as_uuid()));
            Ok(())
        }
        .await,
    )
}

#[server]
pub async fn set_product_archived(id: String, archived: bool) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};

            let ctx = request_context()?;
            let scope = ctx.require_scope()?;
            let id =
                ProductId::from_uuid(uuid::Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?);
            db::tenant::products::set_archived(&services()?.db, scope, id, archived)
                .await
                .map_err(|e| ctx.repo_error(e))?;
            Ok(())
        }
        .await,
    )
}
