use domain::{Money, OrderStatus, ProductId};
use time::{Date, Duration, OffsetDateTime};

use super::plan::{entitlements_in, Entitlements};
use crate::scope::end_read;
use crate::{Db, RepoError, TenantScope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayTotal {
    pub day: Date,
    pub orders: i64,
    pub revenue: Money,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowStock {
    pub id: ProductId,
    pub sku: String,
    pub name: String,
    pub stock: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    /// One entry per day (UTC) for the last `days` days, oldest first, zeros included.
    pub days: Vec<DayTotal>,
    pub by_status: Vec<(OrderStatus, i64)>,
    pub low_stock: Vec<LowStock>,
    /// The plan, its features and what is used of its limits, for the "Your plan" section.
    pub entitlements: Entitlements,
}

/// The workspace's home page figures and its plan's use, read from one snapshot so they agree
/// with each other (and in one transaction: one round of the pool per page).
/// Cancelled orders count in the status table but not in orders or revenue per day.
pub async fn load(
    db: &Db,
    scope: &TenantScope,
    days: i64,
    low_stock_at: i32,
) -> Result<Dashboard, RepoError> {
    let tenant = scope.tenant_id().as_uuid();
    let today = OffsetDateTime::now_utc().date();
    let first_day = today - Duration::days(days - 1);
    let since = first_day.midnight().assume_utc();
    let mut tx = scope.begin_snapshot(db).await?;
    let per_day = sqlx::query!(
        r#"SELECT (created_at AT TIME ZONE 'UTC')::date AS "day!", count(*) AS "orders!", coalesce(sum(total_minor), 0)::int8 AS "revenue!"
             FROM orders
            WHERE tenant_id = $1 AND status <> 'CANCELLED' AND created_at >= $2
            GROUP BY 1"#,
        tenant,
        since
    )
    .fetch_all(&mut *tx)
    .await?;
    let statuses = sqlx::query!(
        r#"SELECT status, count(*) AS "count!" FROM orders WHERE tenant_id = $1 GROUP BY status"#,
        tenant
    )
    .fetch_all(&mut *tx)
    .await?;
    let low = sqlx::query!(
        "SELECT id, sku, name, stock FROM products
          WHERE tenant_id = $1 AND archived_at IS NULL AND stock <= $2
          ORDER BY stock, name LIMIT 10",
        tenant,
        low_stock_at
    )
    .fetch_all(&mut *tx)
    .await?;
    let entitlements = entitlements_in(&mut tx, scope.tenant_id()).await?;
    end_read(tx);

    let days = (0..days)
        .map(|offset| {
            let day = first_day + Duration::days(offset);
            let found = per_day.iter().find(|r| r.day == day);
            DayTotal {
                day,
                orders: found.map_or(0, |r| r.orders),
                revenue: Money::from_minor(found.map_or(0, |r| r.revenue)),
            }
        })
        .collect();
    let by_status = OrderStatus::ALL
        .into_iter()
        .map(|status| {
            let count = statuses
                .iter()
                .find(|r| r.status == status.as_str())
                .map_or(0, |r| r.count);
            (status, count)
        })
        .collect();
    let low_stock = low
        .into_iter()
        .map(|r| LowStock {
            id: ProductId::from_uuid(r.id),
            sku: r.sku,
            name: r.name,
            stock: r.stock,
        })
        .collect();
    Ok(Dashboard {
        entitlements,
        days,
        by_status,
        low_stock,
    })
}
