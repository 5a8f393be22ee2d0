//! The platform console on `admin.<base>`: console accounts sign in here (never tenant
//! members), list and inspect tenants, change plans and overrides, suspend and reactivate,
//! and read the audit log. Every function refuses unless a console admin is signed in on the
//! console's own host.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

mod audit;
mod changes;
mod erasure;
mod load;
mod sign_in;

pub use audit::*;
pub use changes::*;
pub use erasure::*;
pub use load::*;
pub use sign_in::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRow {
    pub slug: String,
    pub name: String,
    pub plan: String,
    /// Not active: suspended, deleted by its owner, or purged.
    pub suspended: bool,
    pub status: domain::TenantStatus,
    /// "2026-12-30 14:05 UTC": when a workspace its owner deleted will be erased.
    pub delete_after: Option<String>,
    pub members: i64,
    pub products: i64,
    pub orders_this_month: i64,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantListView {
    pub tenants: Vec<TenantRow>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureSetting {
    pub code: String,
    pub name: String,
    pub enabled: bool,
    /// "on", "off", or "plan" (no override).
    pub setting: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitSetting {
    pub code: String,
    pub name: String,
    pub unit: String,
    /// What is used of a counted limit; `None` for a fair share (a rate or an amount).
    pub used: Option<i64>,
    /// The limit in force: "100" or "unlimited".
    pub effective: String,
    /// The override as the form shows it: "" (follow the plan), "unlimited" or a number.
    pub setting: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantDetailView {
    pub tenant: TenantRow,
    pub workspace_url: String,
    /// Where its data lives and how much of it there is, in a sentence.
    pub data: String,
    /// The clusters this server can give it a database of its own on (empty: it is not
    /// shared and active, or this server makes no databases).
    pub clusters: Vec<String>,
    pub plan_code: String,
    pub plans: Vec<Choice>,
    pub features: Vec<FeatureSetting>,
    pub limits: Vec<LimitSetting>,
    /// How its last purge ended, if it had one.
    pub last_purge: Option<PurgeResult>,
    /// Where this server can move its data now: "shared" and cluster names (empty: it is not
    /// active, a move is under way, or this server cannot act on the clusters involved).
    pub move_targets: Vec<String>,
    /// Its latest move, if it ever had one.
    pub latest_move: Option<MoveView>,
}

/// A move as the console's progress panel shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveView {
    pub from: String,
    pub to: String,
    /// The phase in words: "Copying its rows", "Done", …
    pub state: String,
    /// Whether it still has work to do: the page follows it until it has not.
    pub open: bool,
    pub started_by: String,
    pub started_at: String,
    pub rows_moved: Option<i64>,
    /// When its old copy is removed, while it is kept.
    pub source_kept_until: Option<String>,
    /// Why it failed, or why its last run stopped.
    pub failure: Option<String>,
}

#[cfg(feature = "ssr")]
fn move_view(m: db::platform::moves::MoveStatus) -> MoveView {
    use super::common::when as utc_minute;
    let state = match m.state.as_str() {
        "frozen" => "Writes paused; preparing the copy",
        "copying" => "Writes paused; copying its rows",
        "verifying" => "Writes paused; comparing both copies table by table",
        "switched" => "Moved; the old copy is kept until its hold is over",
        "cleaned" => "Moved",
        _ => "Failed; served from where it was",
    };
    MoveView {
        from: m.from.to_string(),
        to: m.to.to_string(),
        state: state.to_owned(),
        open: m.is_open(),
        started_by: m.started_by.clone(),
        started_at: utc_minute(m.started_at),
        rows_moved: m.rows_moved,
        source_kept_until: (m.state == "switched")
            .then_some(m.hold_until)
            .flatten()
            .map(utc_minute),
        failure: m.failure,
    }
}

#[cfg(feature = "ssr")]
fn row_of(t: db::platform::console::TenantOverview) -> TenantRow {
    TenantRow {
        slug: t.slug,
        name: t.name,
        plan: t.plan_name,
        suspended: t.status != domain::TenantStatus::Active,
        status: t.status,
        delete_after: t.delete_after.map(super::common::when),
        members: t.members,
        products: t.products,
        orders_this_month: t.orders_this_month,
        created_at: super::common::when(t.created_at),
    }
}

/// "In the shared database: 34 rows, ≈ 12 KB." and the like.
#[cfg(feature = "ssr")]
fn data_line(data: &db::platform::console::DataPlacement) -> String {
    use super::common::approx_size;
    use db::platform::tenants::Placement;
    let rows = format!(
        "{} rows, ≈ {}",
        data.footprint.rows,
        approx_size(data.footprint.approx_bytes)
    );
    match &data.placement {
        Placement::Shared => format!("In the shared database: {rows}."),
        Placement::Dedicated { home, ready: false } => format!(
            "Being given a database of its own ({} on cluster {}): its requests are refused until it is ready.",
            home.database, home.cluster
        ),
        Placement::Dedicated { home, .. } => format!(
            "In a database of its own, {} on cluster {}: {} on disk; {rows}.",
            home.database,
            home.cluster,
            approx_size(data.database_bytes.unwrap_or(0))
        ),
    }
}

/// The workspace a console action is about, by its slug. An unknown slug is `NotFound`.
#[cfg(feature = "ssr")]
async fn tenant_id(
    call: &crate::ssr::ConsoleCall,
    slug: &str,
) -> Result<domain::TenantId, AppError> {
    let slug = domain::Slug::parse(slug).map_err(|_| AppError::NotFound)?;
    call.run(db::platform::tenants::find_by_slug(call.db(), &slug))
        .await?
        .map(|t| t.id())
        .ok_or(AppError::NotFound)
}

#[server(output = crate::codec::TextJson)]
pub async fn list_tenants(
    search: Option<String>,
    status: Option<String>,
    after: Option<String>,
) -> Result<TenantListView, AppError> {
    use super::common::{next_cursor, page_after, PAGE_SIZE};
    use db::platform::console::{list_tenants, TenantCursor};
    use domain::TenantStatus;

    let call = crate::ssr::ConsoleCall::open()?;
    let search = super::common::search("search", search.as_deref())?;
    let status = match status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(given) => Some(
            [
                TenantStatus::Active,
                TenantStatus::Suspended,
                TenantStatus::Deleting,
                TenantStatus::Purged,
            ]
            .into_iter()
            .find(|s| s.as_db() == given)
            .ok_or_else(|| AppError::field("status", "Choose a status from the list."))?,
        ),
    };
    let after =
        page_after(after.as_deref())?.map(|(created_at, id)| TenantCursor { created_at, id });
    let page = call
        .run(list_tenants(
            call.db(),
            call.scope(),
            search.as_ref(),
            status,
            after,
            PAGE_SIZE,
        ))
        .await?;
    Ok(TenantListView {
        next: next_cursor(page.has_more, &page.tenants, |t| {
            (t.created_at, t.id.as_uuid())
        }),
        tenants: page.tenants.into_iter().map(row_of).collect(),
    })
}

#[server(output = crate::codec::TextJson)]
pub async fn load_tenant(slug: String) -> Result<TenantDetailView, AppError> {
    let call = crate::ssr::ConsoleCall::open()?;
    let slug = domain::Slug::parse(&slug).map_err(|_| AppError::NotFound)?;
    let detail = call
        .run(db::platform::console::tenant_detail(
            call.db(),
            call.scope(),
            &slug,
        ))
        .await?;
    let plans = call.run(db::platform::console::plans(call.db())).await?;
    let features = detail
        .entitlements
        .features
        .iter()
        .map(|f| FeatureSetting {
            code: f.feature.clone(),
            name: f.name.clone(),
            enabled: f.enabled,
            setting: detail
                .feature_overrides
                .iter()
                .find(|o| o.feature == f.feature)
                .map(|o| if o.enabled { "on" } else { "off" })
                .unwrap_or("plan")
                .to_owned(),
        })
        .collect();
    let limit_label =
        |max: Option<i64>| max.map_or_else(|| "unlimited".to_owned(), |m| m.to_string());
    let setting = |code: &str| {
        detail
            .limit_overrides
            .iter()
            .find(|o| o.limit == code)
            .map(|o| limit_label(o.max))
            .unwrap_or_default()
    };
    let quotas = detail.entitlements.limits.iter().map(|l| LimitSetting {
        code: l.limit.clone(),
        name: l.name.clone(),
        unit: l.unit.clone(),
        used: Some(l.used),
        effective: limit_label(l.max),
        setting: setting(&l.limit),
    });
    let shares = detail.entitlements.shares.iter().map(|s| LimitSetting {
        code: s.limit.clone(),
        name: s.name.clone(),
        unit: s.unit.clone(),
        used: None,
        effective: limit_label(s.value),
        setting: setting(&s.limit),
    });
    let limits = quotas.chain(shares).collect();
    let workspace_url = call.settings().workspace_url(&detail.overview.slug);
    let last_purge = call
        .run(db::platform::console::last_purge(
            call.db(),
            call.scope(),
            detail.overview.id,
        ))
        .await?
        .map(erasure::purge_result);
    let active = detail.overview.status == domain::TenantStatus::Active;
    let shared = detail.data.placement == db::platform::tenants::Placement::Shared && active;
    let clusters = match &call.services().provisioner {
        Some(provisioner) if shared => provisioner.clusters(),
        _ => Vec::new(),
    };
    let latest_move = call
        .run(db::platform::moves::latest_move(
            call.db(),
            call.scope(),
            detail.overview.id,
        ))
        .await?;
    let open_move = latest_move.as_ref().filter(|m| m.is_open());
    let move_targets = match (&call.services().provisioner, open_move) {
        // A move that stopped before its switch (its server restarted, a database did not
        // answer) is finished by running it again: its destination is the one choice.
        (Some(_), Some(open)) if open.state != "switched" => {
            vec![open.to.target_name().to_owned()]
        }
        (Some(provisioner), None) if active => {
            let reachable = provisioner.clusters();
            match detail.data.placement.dedicated() {
                None => reachable,
                Some(home) if reachable.contains(&home.cluster) => {
                    std::iter::once("shared".to_owned())
                        .chain(reachable.into_iter().filter(|c| *c != home.cluster))
                        .collect()
                }
                Some(_) => Vec::new(),
            }
        }
        _ => Vec::new(),
    };
    Ok(TenantDetailView {
        data: data_line(&detail.data),
        clusters,
        plan_code: detail.overview.plan_code.clone(),
        tenant: row_of(detail.overview),
        workspace_url,
        plans: plans
            .into_iter()
            .map(|p| Choice {
                code: p.code,
                name: p.name,
            })
            .collect(),
        features,
        limits,
        last_purge,
        move_targets,
        latest_move: latest_move.map(move_view),
    })
}
