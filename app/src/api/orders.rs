//! Orders: place, list, read, move along the workflow.

use domain::{OrderId, OrderStatus};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRow {
    pub id: OrderId,
    pub number: i64,
    pub status: OrderStatus,
    pub total: String,
    pub line_count: i64,
    pub created_by: String,
    /// "2026-11-23 14:05 UTC"
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderListPage {
    pub orders: Vec<OrderRow>,
    pub next: Option<String>,
    /// Orders this month against the plan's cap, when it has one (first page only).
    pub usage: Option<super::common::UsageView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLineView {
    pub line_no: i32,
    pub sku: String,
    pub product_name: String,
    pub unit_price: String,
    pub quantity: i32,
    pub amount: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEventView {
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    pub by: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub order: OrderRow,
    pub lines: Vec<OrderLineView>,
    pub events: Vec<OrderEventView>,
    /// The moves this member may make now (cancelling needs ADMIN or OWNER).
    pub next_steps: Vec<OrderStatus>,
}

/// A product that can go on a new order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderableProduct {
    pub id: String,
    pub label: String,
}

/// One line of the order form, as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LineInput {
    pub product_id: String,
    pub quantity: String,
}

/// Field name of line `n` (from 1) in a form error, e.g. `line-2`.
pub fn line_field(line: usize) -> String {
    format!("line-{line}")
}

#[cfg(feature = "ssr")]
fn row_of(order: &db::tenant::orders::OrderSummary, currency: &domain::Currency) -> OrderRow {
    use super::common::when;

    OrderRow {
        id: order.id,
        number: order.number,
        status: order.status,
        total: order.total.display(currency).to_string(),
        line_count: order.line_count,
        created_by: order.created_by.clone(),
        created_at: when(order.created_at),
    }
}

#[cfg(feature = "ssr")]
fn order_id(raw: &str) -> Result<OrderId, AppError> {
    uuid::Uuid::parse_str(raw.trim())
        .map(OrderId::from_uuid)
        .map_err(|_| AppError::NotFound)
}

#[cfg(feature = "ssr")]
fn parse_status(raw: &str) -> Result<OrderStatus, AppError> {
    raw.parse()
        .map_err(|_| AppError::field("status", "Unknown status."))
}

#[server]
pub async fn list_orders(
    status: Option<String>,
    after: Option<String>,
) -> Result<OrderListPage, AppError> {
    use super::common::{next_cursor, page_after, usage_of, PAGE_SIZE};
    use db::tenant::orders::{list, OrderCursor, OrderQuery};

    let call = crate::ssr::MemberCall::open()?;
    let status = status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(parse_status)
        .transpose()?;
    let after =
        page_after(after.as_deref())?.map(|(created_at, id)| OrderCursor { created_at, id });
    let page = call
        .run(list(
            call.db(),
            call.scope(),
            &OrderQuery {
                status,
                after,
                limit: PAGE_SIZE,
                ..OrderQuery::default()
            },
        ))
        .await?;
    Ok(OrderListPage {
        next: next_cursor(page.has_more, &page.orders, |o| {
            (o.created_at, o.id.as_uuid())
        }),
        orders: page
            .orders
            .iter()
            .map(|o| row_of(o, call.currency()))
            .collect(),
        usage: page.usage.as_ref().map(usage_of),
    })
}

#[server]
pub async fn load_order(id: String) -> Result<OrderView, AppError> {
    use super::common::when;

    let call = crate::ssr::MemberCall::open()?;
    let currency = call.currency();
    let detail = call
        .run(db::tenant::orders::get(
            call.db(),
            call.scope(),
            order_id(&id)?,
        ))
        .await?;
    Ok(OrderView {
        order: row_of(&detail.summary, currency),
        lines: detail
            .lines
            .iter()
            .map(|l| OrderLineView {
                line_no: l.line_no,
                sku: l.sku.clone(),
                product_name: l.product_name.clone(),
                unit_price: l.unit_price.display(currency).to_string(),
                quantity: l.quantity,
                amount: l
                    .unit_price
                    .checked_mul(i64::from(l.quantity))
                    .map(|m| m.display(currency).to_string())
                    .unwrap_or_default(),
            })
            .collect(),
        events: detail
            .events
            .iter()
            .map(|e| OrderEventView {
                from: e.from,
                to: e.to,
                by: e.by.clone(),
                at: when(e.at),
            })
            .collect(),
        next_steps: detail
            .summary
            .status
            .next_steps()
            .into_iter()
            .filter(|step| !step.returns_stock() || call.role().at_least(domain::Role::Admin))
            .collect(),
    })
}

/// Products that can be ordered now (active, in stock), for the order form's pickers.
#[server]
pub async fn orderable_products() -> Result<Vec<OrderableProduct>, AppError> {
    let call = crate::ssr::MemberCall::open()?;
    let products = call
        .run(db::tenant::products::orderable(
            call.db(),
            call.scope(),
            1000,
        ))
        .await?;
    Ok(products
        .iter()
        .map(|p| OrderableProduct {
            id: p.id.as_uuid().to_string(),
            label: format!(
                "{} ({}) · {} · {} left",
                p.name,
                p.sku,
                p.price.display(call.currency()),
                p.stock
            ),
        })
        .collect())
}

/// Places an order. Blank lines are ignored; every problem is reported on its own line and
/// nothing is written unless every line can be served.
#[server]
pub async fn place_order(lines: Vec<LineInput>) -> Result<(), AppError> {
    use crate::ssr::call::order_lines_error;
    use crate::FieldError;
    use db::tenant::orders::{create, NewLine};
    use db::{Refusal, RepoError};

    let call = crate::ssr::MemberCall::open()?;
    let mut errors = Vec::new();
    let mut parsed = Vec::new();
    // Line numbers as the person sees them on the form, blank lines included.
    let mut form_line = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let field = line_field(index + 1);
        if line.product_id.trim().is_empty() && line.quantity.trim().is_empty() {
            continue;
        }
        let product =
            uuid::Uuid::parse_str(line.product_id.trim()).map_err(|_| "Choose a product.");
        let quantity = domain::parse_quantity(&line.quantity).map_err(|e| e.to_string());
        match (product, quantity) {
            (Ok(product), Ok(quantity)) => {
                parsed.push(NewLine {
                    product_id: domain::ProductId::from_uuid(product),
                    quantity,
                });
                form_line.push(index + 1);
            }
            (Err(message), _) => errors.push(FieldError {
                field,
                message: message.into(),
            }),
            (_, Err(message)) => errors.push(FieldError { field, message }),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation { fields: errors });
    }
    let id = create(call.db(), call.scope(), &parsed)
        .await
        .map_err(|err| match err {
            RepoError::Refused(Refusal::EmptyOrder) => {
                AppError::field(&line_field(1), "Add at least one product.")
            }
            RepoError::Refused(Refusal::OrderLines(problems)) => {
                order_lines_error(problems, |line| form_line[line - 1])
            }
            other => call.fail(other),
        })?;
    leptos_axum::redirect(&format!("/orders/{}", id.as_uuid()));
    Ok(())
}

#[server]
pub async fn change_order_status(id: String, to: String) -> Result<(), AppError> {
    let call = crate::ssr::MemberCall::open()?;
    let id = order_id(&id)?;
    let to = parse_status(&to)?;
    call.run(db::tenant::orders::change_status(
        call.db(),
        call.scope(),
        id,
        to,
    ))
    .await
}
