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
    /// `None` for orders placed before orders named their customer.
    pub customer: Option<CustomerRef>,
}

/// A customer as an order names them: enough for a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderListPage {
    pub orders: Vec<OrderRow>,
    pub next: Option<String>,
    /// Orders this month against the plan's cap, when it has one (first page only).
    pub usage: Option<super::common::UsageView>,
    /// The customer the list is narrowed to, if it is.
    pub customer: Option<CustomerRef>,
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
    pub customer: Option<super::customers::CustomerView>,
    pub lines: Vec<OrderLineView>,
    pub events: Vec<OrderEventView>,
    /// The moves this member may make now (cancelling needs ADMIN or OWNER).
    pub next_steps: Vec<OrderStatus>,
}

/// One line of the order form, as typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LineInput {
    pub product_id: String,
    pub quantity: String,
}

/// Field name of the order's lines as a whole (an order with none).
pub const LINES_FIELD: &str = "lines";

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
        customer: order.customer.as_ref().map(|(id, name)| CustomerRef {
            id: id.to_string(),
            name: name.clone(),
        }),
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

/// Orders newest first, of one status and of one customer when asked.
#[server(output = crate::codec::TextJson)]
pub async fn list_orders(
    status: Option<String>,
    customer: Option<String>,
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
    let customer = match customer.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        // Another workspace's customer is not found, like one that never existed.
        Some(raw) => Some(
            call.run(db::tenant::customers::get(
                call.db(),
                call.scope(),
                super::customers::customer_id(raw)?,
            ))
            .await?,
        ),
    };
    let after =
        page_after(after.as_deref())?.map(|(created_at, id)| OrderCursor { created_at, id });
    let page = call
        .run(list(
            call.db(),
            call.scope(),
            &OrderQuery {
                status,
                customer: customer.as_ref().map(|c| c.id),
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
        customer: customer.map(|c| CustomerRef {
            id: c.id.to_string(),
            name: c.name,
        }),
    })
}

#[server(output = crate::codec::TextJson)]
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
        customer: detail.customer.map(|c| super::customers::CustomerView {
            id: c.id,
            name: c.name,
            email: c.email,
            phone: c.phone.unwrap_or_default(),
            address: c.address.unwrap_or_default(),
        }),
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

/// Places an order for a customer of the workspace (`customer_id`) or for a new one (the
/// `customer_*` fields), created with the order. Blank lines are ignored; every problem is
/// reported on its own field or line, and nothing is written unless all can be served.
#[server(output = crate::codec::TextJson)]
pub async fn place_order(
    #[server(default)] customer_id: String,
    #[server(default)] customer_name: String,
    #[server(default)] customer_email: String,
    #[server(default)] customer_phone: String,
    #[server(default)] customer_address: String,
    #[server(default)] lines: Vec<LineInput>,
) -> Result<(), AppError> {
    use crate::ssr::call::order_lines_error;
    use crate::{FieldError, FieldErrors};
    use db::tenant::orders::{create, ForCustomer, NewLine};
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
    let chosen = Some(customer_id.trim()).filter(|id| !id.is_empty());
    let typed = [
        &customer_name,
        &customer_email,
        &customer_phone,
        &customer_address,
    ]
    .iter()
    .any(|f| !f.trim().is_empty());
    // The customer's problems first: they are first on the form.
    let mut customer_errors = Vec::new();
    let new_customer = match (chosen, typed) {
        (Some(_), _) => None,
        (None, true) => {
            let mut fields = FieldErrors::default();
            let input = super::customers::parse_customer(
                &mut fields,
                &customer_name,
                &customer_email,
                &customer_phone,
                &customer_address,
            );
            if let Err(AppError::Validation { fields }) = fields.into_result() {
                customer_errors = fields;
            }
            input
        }
        (None, false) => {
            customer_errors.push(FieldError {
                field: "customer".into(),
                message: "Choose a customer, or add a new one.".into(),
            });
            None
        }
    };
    errors.splice(0..0, customer_errors);
    if !errors.is_empty() {
        return Err(AppError::Validation { fields: errors });
    }
    let existing = chosen.map(super::customers::customer_id).transpose();
    let customer = match (&existing, &new_customer) {
        (Ok(Some(id)), _) => ForCustomer::Existing(*id),
        (_, Some(input)) => ForCustomer::New(input),
        // An id that does not parse names nobody, like another workspace's.
        _ => return Err(AppError::field("customer", NO_SUCH_CUSTOMER)),
    };
    let id = create(call.db(), call.scope(), Some(customer), &parsed)
        .await
        .map_err(|err| match err {
            RepoError::Refused(Refusal::EmptyOrder) => {
                AppError::field(LINES_FIELD, "Add at least one product.")
            }
            RepoError::Refused(Refusal::OrderLines(problems)) => {
                order_lines_error(problems, |line| form_line[line - 1])
            }
            RepoError::NotFound => AppError::field("customer", NO_SUCH_CUSTOMER),
            other => call.fail(other),
        })?;
    leptos_axum::redirect(&format!("/orders/{}", id.as_uuid()));
    Ok(())
}

#[cfg(feature = "ssr")]
const NO_SUCH_CUSTOMER: &str = "This customer does not exist. Choose another one.";

#[server(output = crate::codec::TextJson)]
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
