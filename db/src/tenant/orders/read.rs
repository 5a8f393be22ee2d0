//! Reading orders: a page of summaries, newest first, and one order with its lines and
//! history in one snapshot.

use domain::{CustomerId, LimitKind, Money, OrderId, OrderStatus, ProductId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::scope::end_read;
use crate::{Db, RepoError, TenantScope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSummary {
    pub id: OrderId,
    pub number: i64,
    pub status: OrderStatus,
    pub total: Money,
    pub line_count: i64,
    pub created_by: String,
    pub created_at: OffsetDateTime,
    /// `None` for orders placed before orders named their customer.
    pub customer: Option<(CustomerId, String)>,
}

/// The columns every order summary read selects.
struct SummaryRow {
    id: Uuid,
    number: i64,
    status: String,
    total_minor: i64,
    created_at: OffsetDateTime,
    created_by: String,
    line_count: i64,
    customer_id: Option<Uuid>,
    customer_name: Option<String>,
}

impl TryFrom<SummaryRow> for OrderSummary {
    type Error = RepoError;

    fn try_from(r: SummaryRow) -> Result<Self, RepoError> {
        Ok(OrderSummary {
            id: OrderId::from_uuid(r.id),
            number: r.number,
            status: r
                .status
                .parse()
                .map_err(|_| RepoError::corrupt("orders.status"))?,
            total: Money::from_minor(r.total_minor),
            line_count: r.line_count,
            created_by: r.created_by,
            created_at: r.created_at,
            customer: r
                .customer_id
                .zip(r.customer_name)
                .map(|(id, name)| (CustomerId::from_uuid(id), name)),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub line_no: i32,
    pub product_id: ProductId,
    pub sku: String,
    pub product_name: String,
    pub unit_price: Money,
    pub quantity: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEvent {
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    pub by: String,
    pub at: OffsetDateTime,
}

/// Who an order is for, as the order page shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderCustomer {
    pub id: CustomerId,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDetail {
    pub summary: OrderSummary,
    pub customer: Option<OrderCustomer>,
    pub lines: Vec<OrderLine>,
    pub events: Vec<OrderEvent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderCursor {
    pub created_at: OffsetDateTime,
    pub id: Uuid,
}

pub struct OrderPage {
    pub orders: Vec<OrderSummary>,
    pub has_more: bool,
    /// On the first page, when the plan caps orders per month: how many this month.
    pub usage: Option<crate::tenant::plan::LimitUsage>,
}

/// Which orders a list shows: every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    pub status: Option<OrderStatus>,
    /// Only this customer's orders.
    pub customer: Option<CustomerId>,
    /// Placed at or after this moment.
    pub created_from: Option<OffsetDateTime>,
    /// Placed before this moment.
    pub created_before: Option<OffsetDateTime>,
    pub after: Option<OrderCursor>,
    pub limit: i64,
}

pub async fn list(
    db: &Db,
    scope: &TenantScope,
    query: &OrderQuery,
) -> Result<OrderPage, RepoError> {
    let OrderQuery {
        status,
        customer,
        created_from,
        created_before,
        after,
        limit,
    } = *query;
    let limit = limit.clamp(1, 200);
    let mut tx = scope.begin(db).await?;
    let unfiltered = status.is_none()
        && customer.is_none()
        && created_from.is_none()
        && created_before.is_none()
        && after.is_none();
    // As the product list's (see `products::list`): the usual first page, newest first and
    // unfiltered, has a statement PostgreSQL plans once and reuses; the general one's NULL
    // filters make it plan this three-table join afresh on every execution.
    let rows = if unfiltered && limit == crate::tenant::DEFAULT_PAGE {
        sqlx::query_as!(
            SummaryRow,
            r#"SELECT o.id, o.number, o.status, o.total_minor, o.created_at, u.name AS created_by,
                      (SELECT count(*) FROM order_lines l WHERE l.tenant_id = o.tenant_id AND l.order_id = o.id) AS "line_count!",
                      o.customer_id, c.name AS "customer_name?"
                 FROM orders o
                 JOIN users u ON u.tenant_id = o.tenant_id AND u.id = o.created_by
                 LEFT JOIN customers c ON c.tenant_id = o.tenant_id AND c.id = o.customer_id
                WHERE o.tenant_id = $1
                ORDER BY o.created_at DESC, o.id DESC
                LIMIT 26"#,
            scope.tenant_id().as_uuid(),
        )
        .fetch_all(&mut *tx)
        .await?
    } else {
        sqlx::query_as!(
            SummaryRow,
            r#"SELECT o.id, o.number, o.status, o.total_minor, o.created_at, u.name AS created_by,
                  (SELECT count(*) FROM order_lines l WHERE l.tenant_id = o.tenant_id AND l.order_id = o.id) AS "line_count!",
                  o.customer_id, c.name AS "customer_name?"
             FROM orders o
             JOIN users u ON u.tenant_id = o.tenant_id AND u.id = o.created_by
             LEFT JOIN customers c ON c.tenant_id = o.tenant_id AND c.id = o.customer_id
            WHERE o.tenant_id = $1
              AND ($2::text IS NULL OR o.status = $2)
              AND ($3::uuid IS NULL OR o.customer_id = $3)
              AND ($4::timestamptz IS NULL OR (o.created_at, o.id) < ($4, $5::uuid))
              AND ($7::timestamptz IS NULL OR o.created_at >= $7)
              AND ($8::timestamptz IS NULL OR o.created_at < $8)
            ORDER BY o.created_at DESC, o.id DESC
            LIMIT $6"#,
            scope.tenant_id().as_uuid(),
            status.map(|s| s.as_str()),
            customer.map(|c| c.as_uuid()),
            after.map(|c| c.created_at),
            after.map(|c| c.id),
            limit + 1,
            created_from,
            created_before
        )
        .fetch_all(&mut *tx)
        .await?
    };
    let usage = if after.is_none() {
        crate::tenant::plan::usage_in(db, &mut tx, scope.tenant_id(), LimitKind::OrdersPerMonth)
            .await?
    } else {
        None
    };
    end_read(tx);
    let has_more = rows.len() as i64 > limit;
    let orders = rows
        .into_iter()
        .take(limit as usize)
        .map(OrderSummary::try_from)
        .collect::<Result<_, RepoError>>()?;
    Ok(OrderPage {
        orders,
        has_more,
        usage,
    })
}

pub async fn get(db: &Db, scope: &TenantScope, id: OrderId) -> Result<OrderDetail, RepoError> {
    let tenant = scope.tenant_id().as_uuid();
    let mut tx = scope.begin_snapshot(db).await?;
    let summary = sqlx::query_as!(
        SummaryRow,
        r#"SELECT o.id, o.number, o.status, o.total_minor, o.created_at, u.name AS created_by,
                  (SELECT count(*) FROM order_lines l WHERE l.tenant_id = o.tenant_id AND l.order_id = o.id) AS "line_count!",
                  o.customer_id, c.name AS "customer_name?"
             FROM orders o
             JOIN users u ON u.tenant_id = o.tenant_id AND u.id = o.created_by
             LEFT JOIN customers c ON c.tenant_id = o.tenant_id AND c.id = o.customer_id
            WHERE o.tenant_id = $1 AND o.id = $2"#,
        tenant,
        id.as_uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(RepoError::NotFound)?;
    let customer = match summary.customer_id {
        None => None,
        Some(customer_id) => sqlx::query!(
            "SELECT id, name, email, phone, address FROM customers WHERE tenant_id = $1 AND id = $2",
            tenant,
            customer_id
        )
        .fetch_optional(&mut *tx)
        .await?
        .map(|c| OrderCustomer {
            id: CustomerId::from_uuid(c.id),
            name: c.name,
            email: c.email,
            phone: c.phone,
            address: c.address,
        }),
    };
    let lines = sqlx::query!(
        "SELECT line_no, product_id, sku, product_name, unit_price_minor, quantity
           FROM order_lines WHERE tenant_id = $1 AND order_id = $2 ORDER BY line_no",
        tenant,
        id.as_uuid()
    )
    .fetch_all(&mut *tx)
    .await?;
    let events = sqlx::query!(
        "SELECT e.from_status, e.to_status, e.changed_at, u.name
           FROM order_events e JOIN users u ON u.tenant_id = e.tenant_id AND u.id = e.changed_by
          WHERE e.tenant_id = $1 AND e.order_id = $2
          ORDER BY e.changed_at, e.id",
        tenant,
        id.as_uuid()
    )
    .fetch_all(&mut *tx)
    .await?;
    end_read(tx);
    let parse = |s: &str| {
        s.parse::<OrderStatus>()
            .map_err(|_| RepoError::corrupt("order status"))
    };
    Ok(OrderDetail {
        summary: summary.try_into()?,
        customer,
        lines: lines
            .into_iter()
            .map(|l| OrderLine {
                line_no: l.line_no,
                product_id: ProductId::from_uuid(l.product_id),
                sku: l.sku,
                product_name: l.product_name,
                unit_price: Money::from_minor(l.unit_price_minor),
                quantity: l.quantity,
            })
            .collect(),
        events: events
            .into_iter()
            .map(|e| {
                Ok(OrderEvent {
                    from: e.from_status.as_deref().map(parse).transpose()?,
                    to: parse(&e.to_status)?,
                    by: e.name,
                    at: e.changed_at,
                })
            })
            .collect::<Result<_, RepoError>>()?,
    })
}
