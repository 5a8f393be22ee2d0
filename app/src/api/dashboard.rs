//! The workspace dashboard: orders and revenue per day, orders by status, low stock, and what
//! the workspace uses of its plan. The server-side twin of `db::tenant::dashboard`.

use domain::OrderStatus;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::common::UsageView;
use crate::AppError;

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

/// The plan as it applies to this workspace: each limit against its use, and the fair shares
/// (rates and amounts, nothing to "use up" on a screen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanUsageView {
    pub plan_name: String,
    /// (limit's name, its use)
    pub limits: Vec<(String, UsageView)>,
    /// (share's name, "1200 requests a minute" or "not limited")
    pub shares: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardView {
    pub days: Vec<DayFigure>,
    pub total_orders: i64,
    pub total_revenue: String,
    pub by_status: Vec<(OrderStatus, i64)>,
    pub low_stock: Vec<LowStockRow>,
    pub plan: PlanUsageView,
}

#[server(output = crate::codec::TextJson)]
pub async fn load_dashboard() -> Result<DashboardView, AppError> {
    let call = crate::ssr::MemberCall::open()?;
    let currency = call.currency();
    let board = call
        .run(db::tenant::dashboard::load(call.db(), call.scope(), 30, 5))
        .await?;
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
                label: format!("{} {}", month_name(u8::from(d.day.month())), d.day.day()),
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
        plan: plan_usage(&board.entitlements),
    })
}

#[cfg(feature = "ssr")]
fn plan_usage(entitlements: &db::tenant::plan::Entitlements) -> PlanUsageView {
    PlanUsageView {
        plan_name: entitlements.plan_name.clone(),
        limits: entitlements
            .limits
            .iter()
            .map(|l| (l.name.clone(), super::common::usage_of(l)))
            .collect(),
        shares: entitlements
            .shares
            .iter()
            .map(|s| {
                let value = match s.value {
                    Some(value) => format!("{value} {}", s.unit),
                    None => "not limited".to_owned(),
                };
                (s.name.clone(), value)
            })
            .collect(),
    }
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
