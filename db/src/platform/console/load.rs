//! The console's Load page: the busiest workspaces in this process (`crate::load`) with their
//! registry rows, row counts and sizes, and the pool's use.

use domain::{TenantId, TenantStatus};
use uuid::Uuid;

use super::{ConsoleScope, TenantOverview};
use crate::load::{TenantLoadRow, Usage};
use crate::{Db, OpenPool, RepoError};

#[derive(Debug, Clone)]
pub struct WorkspaceLoad {
    pub overview: TenantOverview,
    pub load: TenantLoadRow,
    pub footprint: Footprint,
}

/// What a workspace keeps in its database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footprint {
    pub rows: i64,
    /// Its share of the disk its tables and their indexes take, estimated from each table's
    /// average row (`tenant_data_footprint`).
    pub approx_bytes: i64,
}

#[derive(Debug, Clone)]
pub struct LoadOverview {
    /// Busiest first.
    pub busiest: Vec<WorkspaceLoad>,
    /// The last minute of every other workspace, summed.
    pub rest: Usage,
    pub pool_open: u32,
    pub pool_idle: usize,
    pub pool_max: u32,
    pub databases: DatabasesInUse,
}

/// This process's pools to workspaces' own databases.
#[derive(Debug, Clone, Default)]
pub struct DatabasesInUse {
    /// The clusters registered in this process's settings.
    pub clusters: Vec<String>,
    pub max_pools: usize,
    /// The most connections to all of them together.
    pub budget: u32,
    /// Each open pool, with the slug of the workspace whose database it reaches.
    pub open: Vec<(OpenPool, Option<String>)>,
}

/// The `top` busiest workspaces now, as this process saw them.
pub async fn load_overview(
    db: &Db,
    _scope: &ConsoleScope,
    top: usize,
) -> Result<LoadOverview, RepoError> {
    let (rows, rest) = db.load().top(top);
    let ids: Vec<Uuid> = rows.iter().map(|r| r.tenant.as_uuid()).collect();
    let found = sqlx::query!(
        r#"SELECT t.id AS "id!", t.slug AS "slug!", t.name AS "name!", t.plan_code AS "plan_code!",
                  p.name AS "plan_name!", t.status AS "status!", t.delete_after, t.created_at AS "created_at!",
                  coalesce(c.members, 0) AS "members!", coalesce(c.products, 0) AS "products!",
                  coalesce(c.orders_this_month, 0) AS "orders_this_month!",
                  coalesce(f.row_count, 0) AS "row_count!", coalesce(f.approx_bytes, 0) AS "approx_bytes!"
             FROM tenants t
             JOIN plans p ON p.code = t.plan_code
             LEFT JOIN tenant_usage_counts($1) c ON c.tenant_id = t.id
             LEFT JOIN tenant_data_footprint($1) f ON f.tenant_id = t.id
            WHERE t.id = ANY($1)"#,
        &ids
    )
    .fetch_all(&mut *db.platform().await?)
    .await?;
    let mut busiest: Vec<WorkspaceLoad> = rows
        .into_iter()
        .filter_map(|load| {
            let r = found.iter().find(|r| r.id == load.tenant.as_uuid())?;
            Some(WorkspaceLoad {
                overview: TenantOverview {
                    id: TenantId::from_uuid(r.id),
                    slug: r.slug.clone(),
                    name: r.name.clone(),
                    plan_code: r.plan_code.clone(),
                    plan_name: r.plan_name.clone(),
                    status: TenantStatus::from_db(&r.status),
                    delete_after: r.delete_after,
                    created_at: r.created_at,
                    members: r.members,
                    products: r.products,
                    orders_this_month: r.orders_this_month,
                },
                load,
                footprint: Footprint {
                    rows: r.row_count,
                    approx_bytes: r.approx_bytes,
                },
            })
        })
        .collect();
    // Counted in control, where a dedicated workspace's rows are not: read there instead.
    for workspace in &mut busiest {
        if let Some(footprint) =
            super::tenants::count_dedicated(db, &mut workspace.overview).await?
        {
            workspace.footprint = footprint;
        }
    }
    let (pool_open, pool_idle) = db.pool_use();
    Ok(LoadOverview {
        busiest,
        rest,
        pool_open,
        pool_idle,
        pool_max: db.pool_max(),
        databases: databases_in_use(db).await?,
    })
}

async fn databases_in_use(db: &Db) -> Result<DatabasesInUse, RepoError> {
    let Some(pools) = db.databases() else {
        return Ok(DatabasesInUse::default());
    };
    let open = pools.open_pools();
    let names: Vec<String> = open.iter().map(|p| p.key.database.clone()).collect();
    let owners = sqlx::query!(
        r#"SELECT slug, placement_cluster AS "cluster!", placement_database AS "database!"
             FROM tenants WHERE placement_database = ANY($1)"#,
        &names
    )
    .fetch_all(&mut *db.platform().await?)
    .await?;
    let open = open
        .into_iter()
        .map(|pool| {
            let slug = owners
                .iter()
                .find(|o| o.cluster == pool.key.cluster && o.database == pool.key.database)
                .map(|o| o.slug.clone());
            (pool, slug)
        })
        .collect();
    Ok(DatabasesInUse {
        clusters: pools.cluster_names(),
        max_pools: pools.limits().max_pools,
        budget: pools.limits().budget(),
        open,
    })
}
