use domain::{Currency, PlanCode, Slug, TenantId, TenantStatus};

use crate::pool::DatabaseKey;
use crate::{Db, RepoError};

/// Where a workspace's data lives (the registry's `placement_*` columns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// In the control database, beside other workspaces, held apart by row-level security.
    Shared,
    /// In a database of its own. While `ready` is false the database is being made: nothing
    /// is served from it, and the workspace is refused everywhere until it is.
    Dedicated {
        home: std::sync::Arc<DatabaseKey>,
        ready: bool,
    },
}

impl Placement {
    pub(crate) fn from_columns(
        cluster: Option<String>,
        database: Option<String>,
        state: Option<String>,
    ) -> Result<Self, RepoError> {
        match (cluster, database, state.as_deref()) {
            (None, None, None) => Ok(Placement::Shared),
            (Some(cluster), Some(database), Some(state @ ("ready" | "provisioning"))) => {
                Ok(Placement::Dedicated {
                    home: std::sync::Arc::new(DatabaseKey { cluster, database }),
                    ready: state == "ready",
                })
            }
            _ => Err(RepoError::corrupt("tenants.placement")),
        }
    }

    /// The database of its own, if it has one (ready or not).
    pub fn dedicated(&self) -> Option<&DatabaseKey> {
        match self {
            Placement::Shared => None,
            Placement::Dedicated { home, .. } => Some(home),
        }
    }
}

/// A workspace as the registry knows it. Only this crate builds one, from a database row, so a
/// `Tenant` in hand means the slug was really resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    id: TenantId,
    slug: Slug,
    name: String,
    plan: PlanCode,
    status: TenantStatus,
    currency: Currency,
    placement: Placement,
}

impl Tenant {
    pub fn id(&self) -> TenantId {
        self.id
    }
    pub fn slug(&self) -> &Slug {
        &self.slug
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn plan(&self) -> &PlanCode {
        &self.plan
    }
    pub fn status(&self) -> TenantStatus {
        self.status
    }
    pub fn currency(&self) -> &Currency {
        &self.currency
    }
    pub fn placement(&self) -> &Placement {
        &self.placement
    }
    pub fn is_active(&self) -> bool {
        self.status == TenantStatus::Active
    }

    pub(crate) fn from_row(
        id: uuid::Uuid,
        slug: &str,
        name: String,
        plan: String,
        status: &str,
        currency: &str,
        placement: Placement,
    ) -> Result<Self, RepoError> {
        let slug = Slug::parse(slug).map_err(|_| {
            RepoError::Internal(sqlx::Error::Decode(
                "stored tenant slug does not parse".into(),
            ))
        })?;
        Ok(Self {
            id: TenantId::from_uuid(id),
            slug,
            name,
            plan: PlanCode::new(plan),
            status: TenantStatus::from_db(status),
            currency: Currency::parse(currency)
                .ok_or_else(|| RepoError::corrupt("tenants.currency"))?,
            placement,
        })
    }
}

/// A registry row as the queries that build a [`Tenant`] select it.
pub(crate) struct TenantRow {
    pub id: uuid::Uuid,
    pub slug: String,
    pub name: String,
    pub plan_code: String,
    pub status: String,
    pub currency: String,
    pub placement_cluster: Option<String>,
    pub placement_database: Option<String>,
    pub placement_state: Option<String>,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = RepoError;
    fn try_from(r: TenantRow) -> Result<Self, RepoError> {
        let placement =
            Placement::from_columns(r.placement_cluster, r.placement_database, r.placement_state)?;
        Tenant::from_row(
            r.id,
            &r.slug,
            r.name,
            r.plan_code,
            &r.status,
            &r.currency,
            placement,
        )
    }
}

/// The tenant a Host names, if any. Reads the registry only, and reuses a recent answer for a
/// known slug (see [`crate::DbSettings::tenant_cache`]; every change to a tenant's row is
/// announced and forgotten, see `caches`); an unknown slug is always asked again, so a new
/// workspace is found at once and junk hosts cannot fill the cache.
pub async fn find_by_slug(db: &Db, slug: &Slug) -> Result<Option<Tenant>, RepoError> {
    if let Some(tenant) = db.caches.tenant(slug.as_str()) {
        return Ok(Some(tenant));
    }
    let epoch = db.caches.epoch();
    let row = sqlx::query_as!(
        TenantRow,
        "SELECT id, slug, name, plan_code, status, currency, placement_cluster, placement_database, placement_state FROM tenants WHERE slug = $1",
        slug.as_str()
    )
    .fetch_optional(&mut *db.platform().await?)
    .await?;
    let tenant = row.map(Tenant::try_from).transpose()?;
    if let Some(tenant) = &tenant {
        db.caches
            .keep_tenant(epoch, slug.as_str().to_owned(), tenant);
    }
    Ok(tenant)
}

/// Whether a slug is still free. Says nothing about who holds a taken one.
pub async fn slug_available(db: &Db, slug: &Slug) -> Result<bool, RepoError> {
    if slug
        .as_str()
        .starts_with(super::lifecycle::PURGED_SLUG_PREFIX)
    {
        return Ok(false);
    }
    let taken = sqlx::query_scalar!(
        "SELECT EXISTS (SELECT 1 FROM tenants WHERE slug = $1) AS \"taken!\"",
        slug.as_str()
    )
    .fetch_one(&mut *db.platform().await?)
    .await?;
    Ok(!taken)
}

/// The tenant with this id, if any (for work that carries its tenant id, like a job row).
pub async fn find_by_id(db: &Db, id: domain::TenantId) -> Result<Option<Tenant>, RepoError> {
    let row = sqlx::query_as!(
        TenantRow,
        "SELECT id, slug, name, plan_code, status, currency, placement_cluster, placement_database, placement_state FROM tenants WHERE id = $1",
        id.as_uuid()
    )
    .fetch_optional(&mut *db.platform().await?)
    .await?;
    row.map(Tenant::try_from).transpose()
}

/// Every ready workspace database the registry names, by cluster then name: what `server
/// migrate` migrates after the control database. One being provisioned may not exist yet;
/// provisioning migrates it itself.
pub async fn dedicated_databases(db: &Db) -> Result<Vec<DatabaseKey>, RepoError> {
    let rows = sqlx::query!(
        r#"SELECT DISTINCT placement_cluster AS "cluster!", placement_database AS "database!"
             FROM tenants WHERE placement_state = 'ready'
            ORDER BY 1, 2"#
    )
    .fetch_all(&mut *db.platform().await?)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DatabaseKey {
            cluster: r.cluster,
            database: r.database,
        })
        .collect())
}
