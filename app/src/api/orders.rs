//! Orders: place, list, read, move along the workflow; and the workspace dashboard.

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
    pub usage: Option<super::team::UsageView>,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayFigure {
    /// "Nov 23"
    pub label: String,
    pub orders: i64,
    pub revenue_minor: i64,
    pub revenue: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LowStockRow {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub stock: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardView {
    pub days: Vec<DayFigure>,
    pub total_orders: i64,
    pub total_revenue: String,
    pub by_status: Vec<(OrderStatus, i64)>,
    pub low_stock: Vec<LowStockRow>,
}

/// Field name of line `n` (from 1) in a form error, e.g. `line-2`.
pub fn line_field(line: usize) -> String {
    format!("line-{line}")
}

#[cfg(feature = "ssr")]
pub(crate) fn when(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

#[cfg(feature = "ssr")]
fn row_of(order: &db::tenant::orders::OrderSummary, currency: &domain::Currency) -> OrderRow {
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

#[server]
pub async fn list_orders(
    status: Option<String>,
    after: Option<String>,
) -> Result<OrderListPage, AppError> {
    crate::ssr::context::with_status(
        async move {
            use super::products::{decode_cursor, encode_cursor, PAGE_SIZE};
            use crate::ssr::context::{request_context, services};
            use db::tenant::orders::{list, OrderCursor};

            let ctx = request_context()?;
            let scope = ctx.require_scope()?;
            let tenant = ctx.require_workspace()?;
            let status = match status.as_deref().filter(|s| !s.is_empty()) {
                None => None,
                Some(raw) => Some(
                    raw.parse::<OrderStatus>()
                        .map_err(|_| AppError::field("status", "Unknown status."))?,
                ),
            };
            let after = after
                .as_deref()
                .filter(|c| !c.is_empty())
                .map(|c| decode_cursor(c).ok_or(AppError::NotFound))
                .transpose()?
                .map(|(created_at, id)| OrderCursor { created_at, id });
            let page = list(&services()?.db, scope, status, after, PAGE_SIZE)
                .await
                .map_err(|e| ctx.repo_error(e))?;
            let next = page
                .has_more
                .then(|| {
                    page.orders
                        .last()
                        .map(|o| encode_cursor(o.created_at, o.id.as_uuid()))
                })
                .flatten();
            Ok(OrderListPage {
                orders: page
                    .orders
                    .iter()
                    .map(|o| row_of(o, tenant.currency()))
                    .collect(),
                next,
                usage: page.usage.as_ref().map(super::team::usage_of),
            })
        }
        .await,
    )
}

#[server]
pub async fn load_order(id: String) -> Result<OrderView, AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};

            let ctx = request_context()?;
            let scope = ctx.require_scope()?;
            let tenant = ctx.require_workspace()?;
            let currency = tenant.currency();
            let id =
                OrderId::from_uuid(uuid::Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?);
            let detail = db::tenant::orders::get(&services()?.db, scope, id)
                .await
                .map_err(|e| ctx.repo_error(e))?;
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
                    .filter(|step| {
                        !step.returns_stock() || scope.member().role.at_least(domain::Role::Admin)
                    })
                    .collect(),
            })
        }
        .await,
    )
}

/// Products that can be ordered now (active, in stock), for the order form's pickers.
#[server]
pub async fn orderable_products() -> Result<Vec<OrderableProduct>, AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};
            let ctx = request_context()?;
            let scope = ctx.require_scope()?;
            let tenant = ctx.require_workspace()?;
            let products: Vec<_> = db::tenant::products::orderable(&services()?.db, scope, 1000)
                .await
                .map_err(|e| ctx.repo_error(e))?
                .iter()
                .map(|p| OrderableProduct {
                    id: p.id.as_uuid().to_string(),
                    label: format!(
                        "{} ({}) · {} · {} left",
                        p.name,
                        p.sku,
                        p.price.display(tenant.currency()),
                        p.stock
                    ),
                })
                .collect();
            Ok(products)
        }
        .await,
    )
}

/// Places an order. Blank lines are ignored; every problem is reported on its own line and
/// nothing is written unless every line can be served.
#[server]
pub async fn place_order(lines: Vec<LineInput>) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};
            use crate::FieldError;
            use db::tenant::orders::{create, LineProblem, NewLine, OrderError};

            let ctx = request_context()?;
            let scope = ctx.require_scope()?;
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
            if parsed.is_empty() {
                return Err(AppError::field(&line_field(1), "Add at least one product."));
            }
            let id = match create(&services()?.db, scope, &parsed).await {
                Ok(id) => id,
                Err(OrderError::Lines(problems)) => {
                    let fields = problems
                        .into_iter()
                        .map(|problem| {
                            let (line, message) = match problem {
                                LineProblem::UnknownProduct { line } => {
                                    (line, "This product does not exist.".to_owned())
                                }
                                LineProblem::Archived { line, name } => {
                                    (line, format!("{name} is archived and cannot be ordered."))
                                }
                                LineProblem::OutOfStock { line, name, left } => {
                                    (line, format!("Not enough {name} in stock: {left} left."))
                                }
                                LineProblem::Duplicate { line, first_line } => (
                                    line,
                                    format!(
                                        "This product is already on line {}.",
                                        form_line[first_line - 1]
                                    ),
                                ),
                            };
                            FieldError {
                                field: line_field(form_line[line - 1]),
                                message,
                            }
                        })
                        .collect();
                    return Err(AppError::Validation { fields });
                }
                Err(OrderError::Empty) => {
                    return Err(AppError::field(&line_field(1), "Add at least one product."))
                }
                Err(OrderError::TooLarge) => {
                    return Err(AppError::Refused {
                        message: "This order's total is too large. Split it into smaller orders."
                            .into(),
                    })
                }
                Err(OrderError::TooManyLines) => {
                    return Err(AppError::Refused {
                        message: format!(
                            "An order can have at most {} lines.",
                            db::tenant::orders::MAX_LINES
                        ),
                    })
                }
                Err(OrderError::Transition { .. }) => {
                    return Err(ctx.internal("place_order", "transition error on create"))
                }
                Err(OrderError::Repo(err)) => return Err(ctx.repo_error(err)),
            };
            leptos_axum::redirect(&format!("/orders/{}", id.as_uuid()));
            Ok(())
        }
        .await,
    )
}

#[server]
pub async fn change_order_status(id: String, to: String) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};
            use db::tenant::orders::{change_status, OrderError};

            let ctx = request_context()?;
            let scope = ctx.require_scope()?;
            let id =
                OrderId::from_uuid(uuid::Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?);
            let to: OrderStatus = to
                .parse()
                .map_err(|_| AppError::field("status", "Unknown status."))?;
            match change_status(&services()?.db, scope, id, to).await {
                Ok(()) => Ok(()),
                Err(OrderError::Transition { from, to }) => Err(AppError::Refused {
                    message: format!(
                        "A {} order cannot become {}.",
                        from.label().to_lowercase(),
                        to.label().to_lowercase()
                    ),
                }),
                Err(OrderError::Repo(err)) => Err(ctx.repo_error(err)),
                Err(other) => Err(ctx.internal("change_order_status", other)),
            }
        }
        .await,
    )
}

#[server]
pub async fn load_dashboard() -> Result<DashboardView, AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};

            let ctx = request_context()?;
            let scope = ctx.require_scope()?;
            let tenant = ctx.require_workspace()?;
            let currency = tenant.currency();
            let board = db::tenant::dashboard::load(&services()?.db, scope, 30, 5)
                .await
                .map_err(|e| ctx.repo_error(e))?;
            let total_revenue = board
                .days
                .iter()
                .try_fold(domain::Money::ZERO, |sum, d| sum.checked_add(d.revenue))
                .unwrap_or_default();
            Ok(DashboardView {
                total_orders: board.days.iter().map(|d| d.orders).sum(),
                total_revenue: total_revenue.display(currency).to_string(),
                days: board
                    .days
                    .iter()
                    .map(|d| DayFigure {
                        label: format!("{} {}", &month_name(u8::from(d.day.month())), d.day.day()),
                        orders: d.orders,
                        revenue_minor: d.revenue.minor(),
                        revenue: d.revenue.display(currency).to_string(),
                    })
                    .collect(),
                by_status: board.by_status,
                low_stock: board
                    .low_stock
                    .into_iter()
                    .map(|p| LowStockRow {
                        id: p.id.as_uuid().to_string(),
                        sku: p.sku,
                        name: p.name,
                        stock: p.stock,
                    })
                    .collect(),
            })
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn month_name(month: u8) -> &'static str {
    [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .get(usize::from(month.saturating_sub(1)))
    .copied()
    .unwrap_or("")
}
