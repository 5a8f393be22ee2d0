//! Orders: placed in one transaction that takes stock without ever overselling, moved along
//! their workflow, and read (`read`).

mod read;

use std::collections::HashMap;

use domain::{CustomerId, LimitKind, Money, OrderId, OrderStatus, ProductId, Role};
use uuid::Uuid;

pub use read::{
    get, list, OrderCursor, OrderCustomer, OrderDetail, OrderEvent, OrderLine, OrderPage,
    OrderQuery, OrderSummary,
};

use crate::{Db, LineProblem, Refusal, RepoError, TenantScope};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewLine {
    pub product_id: ProductId,
    pub quantity: i32,
}

/// Who an order is for: a customer of the workspace, or a new one created with the order
/// (both or neither are written).
#[derive(Debug, Clone, Copy)]
pub enum ForCustomer<'a> {
    Existing(CustomerId),
    New(&'a super::customers::CustomerInput),
}

/// More lines than any real order has; a request beyond this is refused before any work.
pub const MAX_LINES: usize = 100;

/// Places an order in ONE transaction: the products are locked in a fixed order (no
/// deadlocks between two orders), every line is checked, stock is taken with a conditional
/// update, prices are copied onto the lines and the total computed. If any line cannot be
/// served, nothing is written and every problem is reported.
///
/// `customer` is `None` only for orders made without the order form (tests, generated
/// data); the form always names one. A customer id of another workspace is `NotFound`.
pub async fn create(
    db: &Db,
    scope: &TenantScope,
    customer: Option<ForCustomer<'_>>,
    lines: &[NewLine],
) -> Result<OrderId, RepoError> {
    if lines.is_empty() {
        return Err(RepoError::Refused(Refusal::EmptyOrder));
    }
    if lines.len() > MAX_LINES {
        return Err(RepoError::Refused(Refusal::TooManyLines));
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
        return Err(RepoError::Refused(Refusal::OrderLines(problems)));
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
            .ok_or(RepoError::Refused(Refusal::TotalTooLarge))?;
        skus.push(product.sku.clone());
        names.push(product.name.clone());
        prices.push(product.price_minor);
    }
    if !problems.is_empty() {
        return Err(RepoError::Refused(Refusal::OrderLines(problems)));
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
        return Err(RepoError::Internal(sqlx::Error::Protocol(
            "stock changed under a row lock".into(),
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
    let customer_id = match customer {
        None => None,
        Some(ForCustomer::New(input)) => {
            Some(super::customers::insert(&mut tx, scope, input).await?)
        }
        Some(ForCustomer::Existing(id)) => {
            // Looked up first so that a missing one is `NotFound`, not a foreign key failure;
            // another workspace's id reads exactly like one that does not exist.
            sqlx::query_scalar!(
                "SELECT id FROM customers WHERE tenant_id = $1 AND id = $2",
                tenant,
                id.as_uuid()
            )
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(RepoError::NotFound)?;
            Some(id)
        }
    };
    let order_id = Uuid::new_v4();
    let member = scope.member().user_id.as_uuid();
    sqlx::query!(
        "INSERT INTO orders (tenant_id, id, number, status, total_minor, created_by, customer_id)
         VALUES ($1, $2, $3, 'PENDING', $4, $5, $6)",
        tenant,
        order_id,
        number,
        total.minor(),
        member,
        customer_id.map(|c| c.as_uuid())
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
) -> Result<(), RepoError> {
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
        return Err(RepoError::Refused(Refusal::Transition { from, to }));
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
