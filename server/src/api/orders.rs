//! `/api/v1/orders`: list (by status and creation date, keyset pages), read with lines and
//! history, place, move along the workflow. Placing and moving need a read-write token;
//! cancelling (which puts stock back) needs a creator who is an ADMIN or OWNER.

use axum::http::StatusCode;
use axum::Json;
use db::tenant::orders::{self, NewLine, OrderCursor, OrderQuery};
use domain::OrderStatus;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::call::ApiCall;
use super::cursor::{self, List};
use super::extract::{ApiJson, ApiQuery, IdPath};
use super::problem::ApiError;
use super::shared::{all_valid, check, limit, parse_timestamp, timestamp, Money};

/// Where an order is: PENDING → CONFIRMED → SHIPPED → DELIVERED, or CANCELLED from PENDING
/// or CONFIRMED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Pending,
    Confirmed,
    Shipped,
    Delivered,
    Cancelled,
}

impl From<OrderStatus> for Status {
    fn from(status: OrderStatus) -> Self {
        match status {
            OrderStatus::Pending => Status::Pending,
            OrderStatus::Confirmed => Status::Confirmed,
            OrderStatus::Shipped => Status::Shipped,
            OrderStatus::Delivered => Status::Delivered,
            OrderStatus::Cancelled => Status::Cancelled,
        }
    }
}

impl From<Status> for OrderStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::Pending => OrderStatus::Pending,
            Status::Confirmed => OrderStatus::Confirmed,
            Status::Shipped => OrderStatus::Shipped,
            Status::Delivered => OrderStatus::Delivered,
            Status::Cancelled => OrderStatus::Cancelled,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderSummary {
    pub id: Uuid,
    /// Counts up from 1 in each workspace.
    pub number: i64,
    pub status: Status,
    pub total: Money,
    pub line_count: i64,
    /// The name of the member (or the creator of the token) who placed it.
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    /// Newest first.
    pub data: Vec<OrderSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A line as placed: name and price are copied from the product at that moment.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLine {
    pub line_no: i32,
    pub product_id: Uuid,
    pub sku: String,
    pub product_name: String,
    pub unit_price: Money,
    pub quantity: i32,
    pub amount: Money,
}

/// One move of an order, with who made it and when.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusChange {
    /// Absent for the order's placing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Status>,
    pub to: Status,
    pub by: String,
    #[schema(format = DateTime)]
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Order {
    pub id: Uuid,
    pub number: i64,
    pub status: Status,
    pub total: Money,
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub lines: Vec<OrderLine>,
    /// Oldest first.
    pub history: Vec<StatusChange>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrderLine {
    pub product_id: Uuid,
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub quantity: i64,
}

/// An order to place: every line is served, or nothing is written.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    /// 1–100 lines, each product once.
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Vec<NewOrderLine>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChangeRequest {
    pub status: Status,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrderListParams {
    /// Only orders in this status.
    pub status: Option<Status>,
    /// Only orders placed at or after this moment (RFC 3339).
    #[param(format = DateTime)]
    pub created_from: Option<String>,
    /// Only orders placed before this moment (RFC 3339).
    #[param(format = DateTime)]
    pub created_before: Option<String>,
    /// Items per page, 1–100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn summary(order: &orders::OrderSummary, currency: &domain::Currency) -> OrderSummary {
    OrderSummary {
        id: order.id.as_uuid(),
        number: order.number,
        status: order.status.into(),
        total: Money::of(order.total, currency),
        line_count: order.line_count,
        created_by: order.created_by.clone(),
        created_at: timestamp(order.created_at),
    }
}

/// List orders
///
/// Newest first, a page at a time, optionally only one status or a span of creation time.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(OrderListParams),
    responses((status = 200, description = "A page of orders", body = OrderPage)))]
pub async fn list_orders(
    call: ApiCall,
    ApiQuery(params): ApiQuery<OrderListParams>,
) -> Result<Json<OrderPage>, ApiError> {
    let tenant = call.tenant.id();
    let moment = |field: &str, raw: &Option<String>| {
        raw.as_deref()
            .map(|raw| parse_timestamp(field, raw))
            .transpose()
    };
    let query = OrderQuery {
        status: params.status.map(OrderStatus::from),
        customer: None,
        created_from: moment("created_from", &params.created_from)?,
        created_before: moment("created_before", &params.created_before)?,
        after: params
            .cursor
            .as_deref()
            .map(|c| cursor::decode(tenant, List::Orders, c))
            .transpose()?
            .map(|(created_at, id)| OrderCursor { created_at, id }),
        limit: limit(params.limit)?,
    };
    let page = call
        .run(orders::list(call.db(), call.scope(), &query))
        .await?;
    let next_cursor = page
        .has_more
        .then(|| page.orders.last())
        .flatten()
        .map(|o| cursor::encode(tenant, List::Orders, o.created_at, o.id.as_uuid()));
    Ok(Json(OrderPage {
        data: page
            .orders
            .iter()
            .map(|o| summary(o, call.currency()))
            .collect(),
        next_cursor,
    }))
}

/// Get an order
///
/// With its lines and the history of its status.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders",
    params(("id" = Uuid, Path, description = "The order's id")),
    responses((status = 200, description = "The order", body = Order)))]
pub async fn get_order(call: ApiCall, IdPath(id): IdPath) -> Result<Json<Order>, ApiError> {
    read(&call, domain::OrderId::from_uuid(id)).await.map(Json)
}

async fn read(call: &ApiCall, id: domain::OrderId) -> Result<Order, ApiError> {
    let detail = call.run(orders::get(call.db(), call.scope(), id)).await?;
    let currency = call.currency();
    let head = summary(&detail.summary, currency);
    Ok(Order {
        id: head.id,
        number: head.number,
        status: head.status,
        total: head.total,
        created_by: head.created_by,
        created_at: head.created_at,
        lines: detail
            .lines
            .iter()
            .map(|l| OrderLine {
                line_no: l.line_no,
                product_id: l.product_id.as_uuid(),
                sku: l.sku.clone(),
                product_name: l.product_name.clone(),
                unit_price: Money::of(l.unit_price, currency),
                quantity: l.quantity,
                amount: Money::of(
                    l.unit_price
                        .checked_mul(i64::from(l.quantity))
                        .unwrap_or_default(),
                    currency,
                ),
            })
            .collect(),
        history: detail
            .events
            .iter()
            .map(|e| StatusChange {
                from: e.from.map(Status::from),
                to: e.to.into(),
                by: e.by.clone(),
                at: timestamp(e.at),
            })
            .collect(),
    })
}

/// Place an order
///
/// In one transaction: every line is checked and its stock taken, or nothing is written and
/// every line at fault is named. Prices are copied onto the lines. Counts against the plan's
/// orders per month.
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = NewOrder,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: see Idempotency")),
    responses((status = 201, description = "The order as placed", body = Order)))]
pub async fn place_order(
    call: ApiCall,
    ApiJson(body): ApiJson<NewOrder>,
) -> Result<(StatusCode, Json<Order>), ApiError> {
    let mut errors = Vec::new();
    let lines: Vec<Option<NewLine>> = body
        .lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let field = format!("lines[{index}].quantity");
            let quantity = check(
                &mut errors,
                &field,
                domain::parse_quantity(&line.quantity.to_string()),
            )?;
            Some(NewLine {
                product_id: domain::ProductId::from_uuid(line.product_id),
                quantity,
            })
        })
        .collect();
    let lines = all_valid(errors, lines.into_iter().collect::<Option<Vec<_>>>())?;
    let id = call
        .run(orders::create(call.db(), call.scope(), None, &lines))
        .await?;
    Ok((StatusCode::CREATED, Json(read(&call, id).await?)))
}

/// Change an order's status
///
/// Only the workflow's next steps are allowed; cancelling returns the stock and needs a
/// token whose creator is an ADMIN or OWNER.
#[utoipa::path(post, path = "/api/v1/orders/{id}/status", tag = "orders",
    request_body = StatusChangeRequest,
    params(("id" = Uuid, Path, description = "The order's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: see Idempotency")),
    responses((status = 200, description = "The order after the change", body = Order)))]
pub async fn change_order_status(
    call: ApiCall,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<StatusChangeRequest>,
) -> Result<Json<Order>, ApiError> {
    let id = domain::OrderId::from_uuid(id);
    call.run(orders::change_status(
        call.db(),
        call.scope(),
        id,
        body.status.into(),
    ))
    .await?;
    read(&call, id).await.map(Json)
}
