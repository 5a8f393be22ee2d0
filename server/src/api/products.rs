//! `/api/v1/products`: list (keyset pages, search), read, create, replace, archive. Reads
//! need any token; writes a read-write token whose creator is an ADMIN or OWNER (the
//! repository checks the role, as for the screens).

use axum::http::StatusCode;
use axum::Json;
use db::tenant::products::{self, ProductCursor, ProductInput, ProductQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::call::ApiCall;
use super::cursor::{self, List};
use super::extract::{ApiJson, ApiQuery, IdPath};
use super::problem::{ApiError, FieldProblem, Kind};
use super::shared::{all_valid, check, limit, timestamp, Money};

#[derive(Debug, Serialize, ToSchema)]
pub struct Product {
    pub id: Uuid,
    /// Upper-case, unique in the workspace.
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub stock: i32,
    /// Archived products cannot be ordered; orders placed before keep them.
    pub archived: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Opaque. Send it back with a change: a product changed since (by a colleague, or an
    /// order taking stock) refuses the change with 409 instead of overwriting it.
    pub version: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductPage {
    /// Newest first.
    pub data: Vec<Product>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A product's fields as a client sends them (to create it, or to replace them).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    /// 1–64 letters, digits, `-`, `_`, `.`, `/`; stored upper-case.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[A-Za-z0-9._/-]+$",
        example = "MUG-1"
    )]
    pub sku: String,
    #[schema(min_length = 1, max_length = 200, example = "Enamel mug")]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub description: String,
    pub price: Money,
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub stock: i64,
}

/// A product's new fields, with the version they were read at.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductChange {
    /// The `version` of the product as last read.
    pub version: String,
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[A-Za-z0-9._/-]+$",
        example = "MUG-1"
    )]
    pub sku: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub description: String,
    pub price: Money,
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub stock: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProductListParams {
    /// Matches anywhere in the name or SKU, ignoring case.
    #[param(max_length = 100)]
    pub search: Option<String>,
    /// Items per page, 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Also list archived products (default false).
    pub include_archived: Option<bool>,
}

fn view(product: &products::Product, currency: &domain::Currency) -> Product {
    Product {
        id: product.id.as_uuid(),
        sku: product.sku.clone(),
        name: product.name.clone(),
        description: product.description.clone(),
        price: Money::of(product.price, currency),
        stock: product.stock,
        archived: product.archived,
        created_at: timestamp(product.created_at),
        version: product.version.unix_timestamp_nanos().to_string(),
    }
}

/// List products
///
/// Newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/products", tag = "products", params(ProductListParams),
    responses((status = 200, description = "A page of products", body = ProductPage)))]
pub async fn list_products(
    call: ApiCall,
    ApiQuery(params): ApiQuery<ProductListParams>,
) -> Result<Json<ProductPage>, ApiError> {
    let tenant = call.tenant.id();
    let search = domain::SearchText::parse(params.search.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::field(Kind::InvalidParameter, "search", e.to_string()))?;
    let after = params
        .cursor
        .as_deref()
        .map(|c| cursor::decode(tenant, List::Products, c))
        .transpose()?
        .map(|(created_at, id)| ProductCursor { created_at, id });
    let page = call
        .run(products::list(
            call.db(),
            call.scope(),
            &ProductQuery {
                search,
                include_archived: params.include_archived.unwrap_or(false),
                after,
                limit: limit(params.limit)?,
                with_usage: false,
            },
        ))
        .await?;
    let next_cursor = page
        .has_more
        .then(|| page.products.last())
        .flatten()
        .map(|p| cursor::encode(tenant, List::Products, p.created_at, p.id.as_uuid()));
    Ok(Json(ProductPage {
        data: page
            .products
            .iter()
            .map(|p| view(p, call.currency()))
            .collect(),
        next_cursor,
    }))
}

/// Get a product
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "products",
    params(("id" = Uuid, Path, description = "The product's id")),
    responses((status = 200, description = "The product", body = Product)))]
pub async fn get_product(call: ApiCall, IdPath(id): IdPath) -> Result<Json<Product>, ApiError> {
    read(&call, domain::ProductId::from_uuid(id))
        .await
        .map(Json)
}

async fn read(call: &ApiCall, id: domain::ProductId) -> Result<Product, ApiError> {
    let product = call.run(products::get(call.db(), call.scope(), id)).await?;
    Ok(view(&product, call.currency()))
}

/// The fields of a product, checked by the same parsers as the screens' form.
fn input(
    call: &ApiCall,
    fields: (&str, &str, &str, &Money, i64),
    errors: &mut Vec<FieldProblem>,
) -> Option<ProductInput> {
    let (sku, name, description, price, stock) = fields;
    let sku = check(errors, "sku", domain::Sku::parse(sku));
    let name = check(errors, "name", domain::ProductName::parse(name));
    let description = check(
        errors,
        "description",
        domain::Description::parse(description),
    );
    let price = price.parse("price", call.currency(), errors);
    let stock = check(errors, "stock", domain::parse_stock(&stock.to_string()));
    Some(ProductInput {
        sku: sku?,
        name: name?,
        description: description?,
        price: price?,
        stock: stock?,
    })
}

/// A version as [`Product::version`] writes it.
fn version(raw: &str) -> Result<time::OffsetDateTime, &'static str> {
    raw.parse::<i128>()
        .ok()
        .and_then(|nanos| time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok())
        .filter(|at| (1..=9999).contains(&at.year()))
        .ok_or("Send the product's version as you last read it.")
}

/// Create a product
///
/// Counts against the plan's product limit.
#[utoipa::path(post, path = "/api/v1/products", tag = "products", request_body = NewProduct,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: see Idempotency")),
    responses((status = 201, description = "The product as created", body = Product)))]
pub async fn create_product(
    call: ApiCall,
    ApiJson(body): ApiJson<NewProduct>,
) -> Result<(StatusCode, Json<Product>), ApiError> {
    let mut errors = Vec::new();
    let fields = (
        &*body.sku,
        &*body.name,
        &*body.description,
        &body.price,
        body.stock,
    );
    let input = input(&call, fields, &mut errors);
    let input = all_valid(errors, input)?;
    let id = call
        .run(products::create(call.db(), call.scope(), &input))
        .await?;
    Ok((StatusCode::CREATED, Json(read(&call, id).await?)))
}

/// Replace a product's fields
///
/// Send every field, and the `version` the product was read at.
#[utoipa::path(put, path = "/api/v1/products/{id}", tag = "products", request_body = ProductChange,
    params(("id" = Uuid, Path, description = "The product's id")),
    responses((status = 200, description = "The product as changed", body = Product)))]
pub async fn update_product(
    call: ApiCall,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ProductChange>,
) -> Result<Json<Product>, ApiError> {
    let id = domain::ProductId::from_uuid(id);
    let mut errors = Vec::new();
    let version = check(&mut errors, "version", version(&body.version));
    let fields = (
        &*body.sku,
        &*body.name,
        &*body.description,
        &body.price,
        body.stock,
    );
    let input = input(&call, fields, &mut errors);
    let (version, input) = all_valid(errors, version.zip(input))?;
    call.run(products::update(
        call.db(),
        call.scope(),
        id,
        version,
        &input,
    ))
    .await?;
    read(&call, id).await.map(Json)
}

/// Archive a product
///
/// It can no longer be ordered; archiving an archived product changes nothing.
#[utoipa::path(post, path = "/api/v1/products/{id}/archive", tag = "products",
    params(("id" = Uuid, Path, description = "The product's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: see Idempotency")),
    responses((status = 200, description = "The archived product", body = Product)))]
pub async fn archive_product(call: ApiCall, IdPath(id): IdPath) -> Result<Json<Product>, ApiError> {
    let id = domain::ProductId::from_uuid(id);
    call.run(products::set_archived(call.db(), call.scope(), id, true))
        .await?;
    read(&call, id).await.map(Json)
}
