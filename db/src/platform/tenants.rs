use domain::{Currency, PlanCode, Slug, TenantId, TenantStatus};

use crate::{Db, RepoError};

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
        })
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
    let row = sqlx::query!(
        "SELECT id, slug, name, plan_code, status, currency FROM tenants WHERE slug = $1",
        slug.as_str()
    )
    .fetch_optional(&mut *db.platform().await?)
    .await?;
    let tenant = row
        .map(|r| Tenant::from_row(r.id, &r.slug, r.name, r.plan_code, &r.status, &r.currency))
        .transpose()?;
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
    let row = sqlx::query!(
        "SELECT id, slug, name, plan_code, status, currency FROM tenants WHERE id = $1",
        id.as_uuid()
    )
    .fetch_optional(&mut *db.platform().await?)
    .await?;
    row.map(|r| Tenant::from_row(r.id, &r.slug, r.name, r.plan_code, &r.status, &r.currency))
        .transpose()
}
