//! The tenant registry as the console sees it: every workspace with its plan and size, one
//! workspace in detail, and the plans there are.

use domain::{SearchText, Slug, TenantId, TenantStatus};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{ConsoleScope, Footprint};
use crate::platform::tenants::{find_by_id, Placement};
use crate::scope::{begin_for_tenant, begin_in_control, end_read};
use crate::tenant::plan::{entitlements_in, Entitlements};
use crate::{Db, RepoError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantOverview {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub plan_code: String,
    pub plan_name: String,
    pub status: TenantStatus,
    /// When a workspace its owner deleted will be erased.
    pub delete_after: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub members: i64,
    pub products: i64,
    pub orders_this_month: i64,
}

/// Where the previous page of tenants ended: the last row's (created_at, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantCursor {
    pub created_at: OffsetDateTime,
    pub id: Uuid,
}

pub struct TenantPage {
    pub tenants: Vec<TenantOverview>,
    pub has_more: bool,
}

/// The registry, newest first, optionally filtered by a piece of slug or name.
pub async fn list_tenants(
    db: &Db,
    _scope: &ConsoleScope,
    search: Option<&SearchText>,
    status: Option<TenantStatus>,
    after: Option<TenantCursor>,
    limit: i64,
) -> Result<TenantPage, RepoError> {
    let limit = limit.clamp(1, 200);
    let pattern = search.map(crate::tenant::products::like_pattern);
    let rows = sqlx::query!(
        r#"WITH page AS (
               SELECT * FROM tenants
                WHERE ($1::text IS NULL OR slug ILIKE $1 OR name ILIKE $1)
                  AND ($5::text IS NULL OR status = $5)
                  AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
                ORDER BY created_at DESC, id DESC
                LIMIT $4)
           SELECT t.id, t.slug, t.name, t.plan_code, p.name AS plan_name, t.status, t.delete_after, t.created_at,
                  coalesce(c.members, 0) AS "members!", coalesce(c.products, 0) AS "products!",
                  coalesce(c.orders_this_month, 0) AS "orders_this_month!",
                  t.placement_state IS NOT NULL AS "dedicated!"
             FROM page t
             JOIN plans p ON p.code = t.plan_code
             LEFT JOIN tenant_usage_counts(ARRAY(SELECT id FROM page)) c ON c.tenant_id = t.id
            ORDER BY t.created_at DESC, t.id DESC"#,
        pattern,
        after.map(|c| c.created_at),
        after.map(|c| c.id),
        limit + 1,
        status.map(TenantStatus::as_db)
    )
    .fetch_all(&mut *db.platform().await?)
    .await?;
    let has_more = rows.len() as i64 > limit;
    let dedicated: Vec<bool> = rows.iter().map(|r| r.dedicated).collect();
    let mut tenants: Vec<TenantOverview> = rows
        .into_iter()
        .take(limit as usize)
        .map(|r| TenantOverview {
            id: TenantId::from_uuid(r.id),
            slug: r.slug,
            name: r.name,
            plan_code: r.plan_code,
            plan_name: r.plan_name,
            status: TenantStatus::from_db(&r.status),
            delete_after: r.delete_after,
            created_at: r.created_at,
            members: r.members,
            products: r.products,
            orders_this_month: r.orders_this_month,
        })
        .collect();
    for (overview, dedicated) in tenants.iter_mut().zip(dedicated) {
        if dedicated {
            count_dedicated(db, overview).await?;
        }
    }
    Ok(TenantPage { tenants, has_more })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureOverride {
    pub feature: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitOverrideRow {
    pub limit: String,
    /// `None`: unlimited.
    pub max: Option<i64>,
}

/// Counts `overview`'s members, products and orders (the registry's counts come from the
/// control database, where a dedicated workspace's rows are not) and its footprint, in `tx`:
/// a transaction in the database its rows are in.
async fn count_in(
    tx: &mut sqlx::PgConnection,
    overview: &mut TenantOverview,
) -> Result<Footprint, RepoError> {
    let id = [overview.id.as_uuid()];
    let counts = sqlx::query!(
        r#"SELECT members AS "members!", products AS "products!",
                  orders_this_month AS "orders_this_month!"
             FROM tenant_usage_counts($1)"#,
        &id[..]
    )
    .fetch_one(&mut *tx)
    .await?;
    (
        overview.members,
        overview.products,
        overview.orders_this_month,
    ) = (counts.members, counts.products, counts.orders_this_month);
    let footprint = sqlx::query!(
        r#"SELECT row_count AS "rows!", approx_bytes AS "bytes!" FROM tenant_data_footprint($1)"#,
        &id[..]
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(footprint.map_or(
        Footprint {
            rows: 0,
            approx_bytes: 0,
        },
        |f| Footprint {
            rows: f.rows,
            approx_bytes: f.bytes,
        },
    ))
}

/// For a workspace whose data is in a database of its own: its counts (into `overview`) and
/// its footprint, read there; `None` for a shared one (the registry's counts hold). A
/// database that does not answer leaves the registry's counts, with a warning: one dead
/// cluster must not take the console's pages down.
pub(super) async fn count_dedicated(
    db: &Db,
    overview: &mut TenantOverview,
) -> Result<Option<Footprint>, RepoError> {
    let Some(tenant) = find_by_id(db, overview.id).await? else {
        return Ok(None);
    };
    if !matches!(tenant.placement(), Placement::Dedicated { ready: true, .. }) {
        return Ok(None);
    }
    let counted = async {
        let mut tx = begin_for_tenant(db, &tenant).await?;
        let counted = count_in(&mut tx, overview).await;
        end_read(tx);
        counted
    };
    match counted.await {
        Ok(footprint) => Ok(Some(footprint)),
        Err(err) => {
            tracing::warn!(tenant = %overview.id, error = %err, "could not count a workspace in its own database");
            Ok(None)
        }
    }
}

/// Where a workspace's data lives and how much of it there is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataPlacement {
    /// The registry's placement.
    pub placement: Placement,
    /// Its rows and their estimated size, counted in its own database.
    pub footprint: Footprint,
    /// The size on disk of its database of its own (`None` while shared or being made).
    pub database_bytes: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantDetail {
    pub overview: TenantOverview,
    pub data: DataPlacement,
    /// What the tenant may do now: its plan with the overrides applied, and usage.
    pub entitlements: Entitlements,
    pub feature_overrides: Vec<FeatureOverride>,
    pub limit_overrides: Vec<LimitOverrideRow>,
}

/// One tenant by slug, with its plan, overrides, usage and where its data lives. Reads them
/// inside the tenant's own transaction, in its own database (the registry's copy while that
/// database is being made, so a workspace being provisioned can still be looked at).
pub async fn tenant_detail(
    db: &Db,
    scope: &ConsoleScope,
    slug: &Slug,
) -> Result<TenantDetail, RepoError> {
    let page = list_tenants_exact(db, scope, slug).await?;
    let mut overview = page.ok_or(RepoError::NotFound)?;
    let tenant = find_by_id(db, overview.id)
        .await?
        .ok_or(RepoError::NotFound)?;
    let placement = tenant.placement().clone();
    let being_made = matches!(placement, Placement::Dedicated { ready: false, .. });
    let mut tx = if being_made {
        begin_in_control(db, overview.id).await?
    } else {
        begin_for_tenant(db, &tenant).await?
    };
    // The registry's counts come from the control database, where a dedicated workspace's
    // rows are not: counted again where they are.
    let footprint = count_in(&mut tx, &mut overview).await?;
    let database_bytes = match placement {
        Placement::Dedicated { ready: true, .. } => Some(
            sqlx::query_scalar!(r#"SELECT pg_database_size(current_database()) AS "bytes!""#)
                .fetch_one(&mut *tx)
                .await?,
        ),
        _ => None,
    };
    let entitlements = entitlements_in(&mut tx, overview.id).await?;
    let feature_overrides = sqlx::query!(
        "SELECT feature, enabled FROM tenant_feature_overrides WHERE tenant_id = $1 ORDER BY feature",
        overview.id.as_uuid()
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| FeatureOverride {
        feature: r.feature,
        enabled: r.enabled,
    })
    .collect();
    let limit_overrides = sqlx::query!(
        "SELECT limit_code, max_value FROM tenant_limit_overrides WHERE tenant_id = $1 ORDER BY limit_code",
        overview.id.as_uuid()
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| LimitOverrideRow {
        limit: r.limit_code,
        max: r.max_value,
    })
    .collect();
    end_read(tx);
    Ok(TenantDetail {
        overview,
        data: DataPlacement {
            placement,
            footprint,
            database_bytes,
        },
        entitlements,
        feature_overrides,
        limit_overrides,
    })
}

async fn list_tenants_exact(
    db: &Db,
    _scope: &ConsoleScope,
    slug: &Slug,
) -> Result<Option<TenantOverview>, RepoError> {
    let row = sqlx::query!(
        r#"SELECT t.id, t.slug, t.name, t.plan_code, p.name AS plan_name, t.status, t.delete_after, t.created_at,
                  coalesce(c.members, 0) AS "members!", coalesce(c.products, 0) AS "products!",
                  coalesce(c.orders_this_month, 0) AS "orders_this_month!"
             FROM tenants t
             JOIN plans p ON p.code = t.plan_code
             LEFT JOIN tenant_usage_counts(ARRAY(SELECT id FROM tenants WHERE slug = $1)) c
                    ON c.tenant_id = t.id
            WHERE t.slug = $1"#,
        slug.as_str()
    )
    .fetch_optional(&mut *db.platform().await?)
    .await?;
    Ok(row.map(|r| TenantOverview {
        id: TenantId::from_uuid(r.id),
        slug: r.slug,
        name: r.name,
        plan_code: r.plan_code,
        plan_name: r.plan_name,
        status: TenantStatus::from_db(&r.status),
        delete_after: r.delete_after,
        created_at: r.created_at,
        members: r.members,
        products: r.products,
        orders_this_month: r.orders_this_month,
    }))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanSummary {
    pub code: String,
    pub name: String,
}

/// Every plan, cheapest first.
pub async fn plans(db: &Db) -> Result<Vec<PlanSummary>, RepoError> {
    Ok(sqlx::query_as!(
        PlanSummary,
        "SELECT code, name FROM plans ORDER BY sort_order, code"
    )
    .fetch_all(&mut *db.platform().await?)
    .await?)
}
