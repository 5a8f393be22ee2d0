use std::collections::HashMap;

use domain::{LimitKind, Money, OrderId, OrderStatus, ProductId, Role};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::scope::end_read;
use crate::{Db, RepoError, TenantScope};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewLine {
    pub product_id: ProductId,
    pub quantity: i32,
}

/// Why one line of an order cannot be served. `line` counts from 1, as people read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineProblem {
    /// No such product in this workspace (which is also what another workspace's id looks like).
    UnknownProduct {
        line: usize,
    },
    Archived {
        line: usize,
        name: String,
    },
    OutOfStock {
        line: usize,
        name: String,
        left: i32,
    },
    Duplicate {
        line: usize,
        first_line: usize,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("an order needs at least one line")]
    Empty,
    /// Every line that cannot be served; nothing was written.
    #[error("some lines cannot be served")]
    Lines(Vec<LineProblem>),
    #[error("cannot move an order from {from} to {to}")]
    Transition { from: OrderStatus, to: OrderStatus },
    #[error("order total too large")]
    TooLarge,
    #[error("too many lines")]
    TooManyLines,
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl From<sqlx::Error> for OrderError {
    fn from(err: sqlx::Error) -> Self {
        OrderError::Repo(err.into())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSummary {
    pub id: OrderId,
    pub number: i64,
    pub status: OrderStatus,
    pub total: Money,
    pub line_count: i64,
    pub created_by: String,
    pub created_at: OffsetDateTime,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDetail {
    pub summary: OrderSummary,
    pub lines: Vec<OrderLine>,
    pub events: Vec<OrderEvent>,
}

/// More lines than any real order has; a request beyond this is refused before any work.
pub const MAX_LINES: usize = 100;

/// Places an order in ONE transaction: the products are locked in a fixed order (no
/// deadlocks between two orders), every line is checked, stock is taken with a conditional
/// update, prices are copied onto the lines and the total computed. If any line cannot be
/// served, nothing is written and every problem is reported.
pub async fn create(
    db: &Db,
    scope: &TenantScope,
    lines: &[NewLine],
) -> Result<OrderId, OrderError> {
    if lines.is_empty() {
        return Err(OrderError::Empty);
    }
    if lines.len() > MAX_LINES {
        return Err(OrderError::TooManyLines);
    }
    let mut problems = Vec::new();
    let mut first_seen: HashMap<ProductId, usize> = HashMap::new();
    for (index, line) in lines.iter().enumerate() {
        if let Some(first) = first_seen.insert(line.product_id, index + 1) {
            first_seen.insert(line.product_id, first);
            problems.push(LineProblem::Duplicate {
                line: index + 1,
                first_line: first,
            });
        }
    }
    if !problems.is_empty() {
        return Err(OrderError::Lines(problems));
    }

    let tenant = scope.tenant_id().as_uuid();
    let ids: Vec<Uuid> = lines.iter().map(|l| l.product_id.as_uuid()).collect();
    let quantities: Vec<i32> = lines.iter().map(|l| l.quantity).collect();
    let mut tx = scope.begin(db).await?;
    // Before the product locks: every transaction takes the limit lock first, then products.
    super::plan::reserve(&mut tx, scope.tenant_id(), LimitKind::OrdersPerMonth, 1).await?;
    let rows = sqlx::query!(
        r#"SELECT id, sku, name, price_minor, stock, archived_at IS NOT NULL AS "archived!"
             FROM products WHERE tenant_id = $1 AND id = ANY($2)
            ORDER BY id
              FOR UPDATE"#,
        tenant,
        &ids
    )
    .fetch_all(&mut *tx)
    .await?;
    let found: HashMap<Uuid, _> = rows.into_iter().map(|r| (r.id, r)).collect();

    let mut total = Money::ZERO;
    let (mut skus, mut names, mut prices) = (Vec::new(), Vec::new(), Vec::new());
    for (index, line) in lines.iter().enumerate() {
        let line_no = index + 1;
        let Some(product) = found.get(&line.product_id.as_uuid()) else {
            problems.push(LineProblem::UnknownProduct { line: line_no });
            continue;
        };
        if product.archived {
            problems.push(LineProblem::Archived {
                line: line_no,
                name: product.name.clone(),
            });
        } else if product.stock < line.quantity {
            problems.push(LineProblem::OutOfStock {
                line: line_no,
                name: product.name.clone(),
                left: product.stock,
            });
        }
        let price = Money::from_minor(product.price_minor);
        total = price
            .checked_mul(i64::from(line.quantity))
            .and_then(|amount| total.checked_add(amount))
            .ok_or(OrderError::TooLarge)?;
        skus.push(product.sku.clone());
        names.push(product.name.clone());
        prices.push(product.price_minor);
    }
    if !problems.is_empty() {
        return Err(OrderError::Lines(problems));
    }

    // The rows are locked, so this cannot fall short; the condition (and the CHECK on stock)
    // are there so that no future change to the code above can ever oversell.
    let taken = sqlx::query!(
        "UPDATE products AS p SET stock = p.stock - l.quantity, updated_at = clock_timestamp()
           FROM unnest($2::uuid[], $3::int4[]) AS l(id, quantity)
          WHERE p.tenant_id = $1 AND p.id = l.id AND p.stock >= l.quantity",
        tenant,
        &ids,
        &quantities
    )
    .execute(&mut *tx)
    .await?;
    if taken.rows_affected() != lines.len() as u64 {
        return Err(OrderError::Repo(RepoError::Internal(
            sqlx::Error::Protocol("stock changed under a row lock".into()),
        )));
    }

    let number = sqlx::query_scalar!(
        "INSERT INTO order_counters (tenant_id, last_number) VALUES ($1, 1)
         ON CONFLICT (tenant_id) DO UPDATE SET last_number = order_counters.last_number + 1
         RETURNING last_number",
        tenant
    )
    .fetch_one(&mut *tx)
    .await?;
    let order_id = Uuid::new_v4();
    let member = scope.member().user_id.as_uuid();
    sqlx::query!(
        "INSERT INTO orders (tenant_id, id, number, status, total_minor, created_by)
         VALUES ($1, $2, $3, 'PENDING', $4, $5)",
        tenant,
        order_id,
        number,
        total.minor(),
        member
    )
    .execute(&mut *tx)
    .await?;
    let line_numbers: Vec<i32> = (1..=lines.len() as i32).collect();
    sqlx::query!(
        "INSERT INTO order_lines (tenant_id, order_id, line_no, product_id, sku, product_name, unit_price_minor, quantity)
         SELECT $1, $2, * FROM unnest($3::int4[], $4::uuid[], $5::text[], $6::text[], $7::int8[], $8::int4[])",
        tenant,
        order_id,
        &line_numbers,
        &ids,
        &skus,
        &names,
        &prices,
        &quantities
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO order_events (tenant_id, order_id, id, from_status, to_status, changed_by)
         VALUES ($1, $2, $3, NULL, 'PENDING', $4)",
        tenant,
        order_id,
        Uuid::new_v4(),
        member
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(OrderId::from_uuid(order_id))
}

/// Moves an order along its workflow, recording who and when. Cancelling puts the units back.
pub async fn change_status(
    db: &Db,
    scope: &TenantScope,
    id: OrderId,
    to: OrderStatus,
) -> Result<(), OrderError> {
    let tenant = scope.tenant_id().as_uuid();
    let mut tx = scope.begin(db).await?;
    let current = sqlx::query_scalar!(
        "SELECT status FROM orders WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant,
        id.as_uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(RepoError::NotFound)?;
    let from: OrderStatus = current
        .parse()
        .map_err(|_| RepoError::corrupt("orders.status"))?;
    if !from.can_become(to) {
        return Err(OrderError::Transition { from, to });
    }
    if to.returns_stock() {
        // Putting stock back is a manager's call.
        scope.require(Role::Admin)?;
        // Lock the products in id order, as `create` does, so a cancel and an order (or two
        // cancels) touching the same products can never deadlock.
        sqlx::query!(
            "SELECT p.id FROM products p
              WHERE p.tenant_id = $1
                AND p.id IN (SELECT l.product_id FROM order_lines l WHERE l.tenant_id = $1 AND l.order_id = $2)
              ORDER BY p.id
                FOR UPDATE",
            tenant,
            id.as_uuid()
        )
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query!(
            "UPDATE products AS p SET stock = p.stock + l.quantity, updated_at = clock_timestamp()
               FROM order_lines AS l
              WHERE l.tenant_id = $1 AND l.order_id = $2 AND p.tenant_id = $1 AND p.id = l.product_id",
            tenant,
            id.as_uuid()
        )
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!(
        "UPDATE orders SET status = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.as_uuid(),
        to.as_str()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO order_events (tenant_id, order_id, id, from_status, to_status, changed_by)
         VALUES ($1, $2, $3, $4, $5, $6)",
        tenant,
        id.as_uuid(),
        Uuid::new_v4(),
        from.as_str(),
        to.as_str(),
        scope.member().user_id.as_uuid()
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
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
    pub usage: Option<super::plan::LimitUsage>,
}

pub async fn list(
    db: &Db,
    scope: &TenantScope,
    status: Option<OrderStatus>,
    after: Option<OrderCursor>,
    limit: i64,
) -> Result<OrderPage, RepoError> {
    let limit = limit.clamp(1, 200);
    let mut tx = scope.begin(db).await?;
    let rows = sqlx::query_as!(
        SummaryRow,
        r#"SELECT o.id, o.number, o.status, o.total_minor, o.created_at, u.name AS created_by,
                  (SELECT count(*) FROM order_lines l WHERE l.tenant_id = o.tenant_id AND l.order_id = o.id) AS "line_count!"
             FROM orders o
             JOIN users u ON u.tenant_id = o.tenant_id AND u.id = o.created_by
            WHERE o.tenant_id = $1
              AND ($2::text IS NULL OR o.status = $2)
              AND ($3::timestamptz IS NULL OR (o.created_at, o.id) < ($3, $4::uuid))
            ORDER BY o.created_at DESC, o.id DESC
            LIMIT $5"#,
        scope.tenant_id().as_uuid(),
        status.map(|s| s.as_str()),
        after.map(|c| c.created_at),
        after.map(|c| c.id),
        limit + 1
    )
    .fetch_all(&mut *tx)
    .await?;
    let usage = if after.is_none() {
        super::plan::usage_in(db, &mut tx, scope.tenant_id(), LimitKind::OrdersPerMonth).await?
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
                  (SELECT count(*) FROM order_lines l WHERE l.tenant_id = o.tenant_id AND l.order_id = o.id) AS "line_count!"
             FROM orders o
             JOIN users u ON u.tenant_id = o.tenant_id AND u.id = o.created_by
            WHERE o.tenant_id = $1 AND o.id = $2"#,
        tenant,
        id.as_uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(RepoError::NotFound)?;
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
