//! What an export reads: its rows, in batches, through the requester's scope.

use domain::Money;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ExportKind;
use crate::scope::end_read;
use crate::{Db, RepoError, TenantScope};

/// One product as an export row.
#[derive(Debug, Clone)]
pub struct ProductRecord {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub stock: i32,
    pub archived: bool,
    pub created_at: OffsetDateTime,
}

/// Rows a CSV export will write (an archive counts its own, `WorkspaceSnapshot::tables`).
pub async fn count_rows(db: &Db, scope: &TenantScope, kind: ExportKind) -> Result<i64, RepoError> {
    let mut tx = scope.begin(db).await?;
    let tenant = scope.tenant_id().as_uuid();
    let count = match kind {
        ExportKind::Products => {
            sqlx::query_scalar!(
                r#"SELECT count(*) AS "n!" FROM products WHERE tenant_id = $1"#,
                tenant
            )
            .fetch_one(&mut *tx)
            .await?
        }
        ExportKind::Orders => {
            sqlx::query_scalar!(
                r#"SELECT count(*) AS "n!" FROM order_lines WHERE tenant_id = $1"#,
                tenant
            )
            .fetch_one(&mut *tx)
            .await?
        }
        ExportKind::Workspace => {
            return Err(RepoError::Delegated {
                what: "export row count",
                detail: "an archive counts its tables in its own snapshot".into(),
            })
        }
    };
    end_read(tx);
    Ok(count)
}

/// Products in creation order, `limit` at a time after `after` (created_at, id).
pub async fn product_batch(
    db: &Db,
    scope: &TenantScope,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> Result<(Vec<ProductRecord>, Option<(OffsetDateTime, Uuid)>), RepoError> {
    let mut tx = scope.begin(db).await?;
    let rows = sqlx::query!(
        r#"SELECT id, sku, name, description, price_minor, stock, archived_at IS NOT NULL AS "archived!", created_at
             FROM products
            WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::uuid))
            ORDER BY created_at, id
            LIMIT $4"#,
        scope.tenant_id().as_uuid(),
        after.map(|a| a.0),
        after.map(|a| a.1),
        limit
    )
    .fetch_all(&mut *tx)
    .await?;
    end_read(tx);
    let next = rows.last().map(|r| (r.created_at, r.id));
    Ok((
        rows.into_iter()
            .map(|r| ProductRecord {
                sku: r.sku,
                name: r.name,
                description: r.description,
                price: Money::from_minor(r.price_minor),
                stock: r.stock,
                archived: r.archived,
                created_at: r.created_at,
            })
            .collect(),
        next,
    ))
}

/// One order line with its order's figures, as an export row.
#[derive(Debug, Clone)]
pub struct OrderLineRecord {
    pub number: i64,
    pub created_at: OffsetDateTime,
    pub status: String,
    pub created_by: String,
    pub order_total: Money,
    pub line_no: i32,
    pub sku: String,
    pub product_name: String,
    pub quantity: i32,
    pub unit_price: Money,
}

/// Order lines by order number then line, for the orders whose number is above `after`,
/// `orders` orders at a time. Returns the last order number seen.
pub async fn order_batch(
    db: &Db,
    scope: &TenantScope,
    after: i64,
    orders: i64,
) -> Result<(Vec<OrderLineRecord>, Option<i64>), RepoError> {
    let mut tx = scope.begin(db).await?;
    let rows = sqlx::query!(
        r#"WITH batch AS (
               SELECT id, number, created_at, status, created_by, total_minor FROM orders
                WHERE tenant_id = $1 AND number > $2
                ORDER BY number LIMIT $3)
           SELECT b.number, b.created_at, b.status, u.name AS created_by, b.total_minor,
                  l.line_no, l.sku, l.product_name, l.quantity, l.unit_price_minor
             FROM batch b
             JOIN order_lines l ON l.tenant_id = $1 AND l.order_id = b.id
             JOIN users u ON u.tenant_id = $1 AND u.id = b.created_by
            ORDER BY b.number, l.line_no"#,
        scope.tenant_id().as_uuid(),
        after,
        orders
    )
    .fetch_all(&mut *tx)
    .await?;
    end_read(tx);
    let last = rows.last().map(|r| r.number);
    Ok((
        rows.into_iter()
            .map(|r| OrderLineRecord {
                number: r.number,
                created_at: r.created_at,
                status: r.status,
                created_by: r.created_by,
                order_total: Money::from_minor(r.total_minor),
                line_no: r.line_no,
                sku: r.sku,
                product_name: r.product_name,
                quantity: r.quantity,
                unit_price: Money::from_minor(r.unit_price_minor),
            })
            .collect(),
        last,
    ))
}
