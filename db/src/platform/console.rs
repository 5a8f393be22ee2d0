//! The platform console: its own accounts, the tenant registry with each tenant's plan and
//! size, and the changes a console admin makes, each written to the append-only audit log in
//! the same transaction as the change.
//!
//! Reading or changing one tenant's overrides runs inside that tenant's transaction, like any
//! request for it; the only read across tenants is `tenant_usage_counts`, which returns
//! numbers only.

use domain::{AdminId, Email, LimitOverride, PersonName, PlanCode, TenantId, TenantStatus};
use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::scope::begin_for_tenant;
use crate::scope::end_read;
use crate::tenant::plan::{entitlements_in, Entitlements};
use crate::{Db, RepoError};

/// Proof that a console admin is signed in. Built only by [`ConsoleScope::for_admin`], which
/// finds the admin in the database; every console operation takes one.
#[derive(Debug, Clone)]
pub struct ConsoleScope {
    admin_id: AdminId,
    email: Email,
    name: String,
}

impl ConsoleScope {
    pub async fn for_admin(db: &Db, admin_id: AdminId) -> Result<Option<Self>, RepoError> {
        let row = sqlx::query!(
            "SELECT id, email, name FROM platform_admins WHERE id = $1",
            admin_id.as_uuid()
        )
        .fetch_optional(&mut *db.platform().await?)
        .await?;
        row.map(|r| {
            Ok(Self {
                admin_id: AdminId::from_uuid(r.id),
                email: Email::parse(&r.email)
                    .map_err(|_| RepoError::corrupt("platform_admins.email"))?,
                name: r.name,
            })
        })
        .transpose()
    }

    pub fn admin_id(&self) -> AdminId {
        self.admin_id
    }

    pub fn email(&self) -> &Email {
        &self.email
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Who changed something, for the audit log. A plan change is also what a billing provider's
/// webhook will call one day: it acts as `System`.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    Console(&'a ConsoleScope),
    /// An automated caller, named (e.g. "billing:stripe").
    System(&'a str),
}

impl Actor<'_> {
    fn admin_id(&self) -> Option<Uuid> {
        match self {
            Actor::Console(scope) => Some(scope.admin_id.as_uuid()),
            Actor::System(_) => None,
        }
    }

    fn label(&self) -> String {
        match self {
            Actor::Console(scope) => scope.email.to_string(),
            Actor::System(name) => (*name).to_owned(),
        }
    }
}

// ------------------------------------------------------------------------------ accounts --

/// Creates a console account (from the server's command line). An email already used is
/// `Conflict { field: "email" }`.
pub async fn create_admin(
    db: &Db,
    email: &Email,
    name: &PersonName,
    password_hash: &str,
) -> Result<AdminId, RepoError> {
    let id = Uuid::new_v4();
    let mut conn = db.platform().await?;
    sqlx::query!(
        "INSERT INTO platform_admins (id, email, name, password_hash) VALUES ($1, $2, $3, $4)",
        id,
        email.as_str(),
        name.as_str(),
        password_hash
    )
    .execute(&mut *conn)
    .await?;
    conn.done().await?;
    Ok(AdminId::from_uuid(id))
}

#[derive(Debug)]
pub struct AdminCredentials {
    pub admin_id: AdminId,
    pub password_hash: String,
}

pub async fn find_admin_credentials(
    db: &Db,
    email: &Email,
) -> Result<Option<AdminCredentials>, RepoError> {
    let row = sqlx::query!(
        "SELECT id, password_hash FROM platform_admins WHERE email = $1",
        email.as_str()
    )
    .fetch_optional(&mut *db.platform().await?)
    .await?;
    Ok(row.map(|r| AdminCredentials {
        admin_id: AdminId::from_uuid(r.id),
        password_hash: r.password_hash,
    }))
}

pub async fn record_admin_sign_in(db: &Db, admin_id: AdminId) -> Result<(), RepoError> {
    let mut conn = db.platform().await?;
    sqlx::query!(
        "UPDATE platform_admins SET last_sign_in_at = now() WHERE id = $1",
        admin_id.as_uuid()
    )
    .execute(&mut *conn)
    .await?;
    conn.done().await?;
    Ok(())
}

// ------------------------------------------------------------------------------- tenants --

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantOverview {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub plan_code: String,
    pub plan_name: String,
    pub status: TenantStatus,
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
    search: Option<&str>,
    after: Option<TenantCursor>,
    limit: i64,
) -> Result<TenantPage, RepoError> {
    let limit = limit.clamp(1, 200);
    let pattern = search
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(crate::tenant::products::like_pattern);
    let rows = sqlx::query!(
        r#"WITH page AS (
               SELECT * FROM tenants
                WHERE ($1::text IS NULL OR slug ILIKE $1 OR name ILIKE $1)
                  AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
                ORDER BY created_at DESC, id DESC
                LIMIT $4)
           SELECT t.id, t.slug, t.name, t.plan_code, p.name AS plan_name, t.status, t.created_at,
                  coalesce(c.members, 0) AS "members!", coalesce(c.products, 0) AS "products!",
                  coalesce(c.orders_this_month, 0) AS "orders_this_month!"
             FROM page t
             JOIN plans p ON p.code = t.plan_code
             LEFT JOIN tenant_usage_counts(ARRAY(SELECT id FROM page)) c ON c.tenant_id = t.id
            ORDER BY t.created_at DESC, t.id DESC"#,
        pattern,
        after.map(|c| c.created_at),
        after.map(|c| c.id),
        limit + 1
    )
    .fetch_all(&mut *db.platform().await?)
    .await?;
    let has_more = rows.len() as i64 > limit;
    let tenants = rows
        .into_iter()
        .take(limit as usize)
        .map(|r| TenantOverview {
            id: TenantId::from_uuid(r.id),
            slug: r.slug,
            name: r.name,
            plan_code: r.plan_code,
            plan_name: r.plan_name,
            status: TenantStatus::from_db(&r.status),
            created_at: r.created_at,
            members: r.members,
            products: r.products,
            orders_this_month: r.orders_this_month,
        })
        .collect();
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantDetail {
    pub overview: TenantOverview,
    /// What the tenant may do now: its plan with the overrides applied, and usage.
    pub entitlements: Entitlements,
    pub feature_overrides: Vec<FeatureOverride>,
    pub limit_overrides: Vec<LimitOverrideRow>,
}

/// One tenant by slug, with its plan, overrides and usage. Reads the overrides inside the
/// tenant's own transaction.
pub async fn tenant_detail(
    db: &Db,
    scope: &ConsoleScope,
    slug: &str,
) -> Result<TenantDetail, RepoError> {
    let page = list_tenants_exact(db, scope, slug).await?;
    let overview = page.ok_or(RepoError::NotFound)?;
    let mut tx = begin_for_tenant(db, overview.id).await?;
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
        entitlements,
        feature_overrides,
        limit_overrides,
    })
}

async fn list_tenants_exact(
    db: &Db,
    _scope: &ConsoleScope,
    slug: &str,
) -> Result<Option<TenantOverview>, RepoError> {
    let row = sqlx::query!(
        r#"SELECT t.id, t.slug, t.name, t.plan_code, p.name AS plan_name, t.status, t.created_at,
                  coalesce(c.members, 0) AS "members!", coalesce(c.products, 0) AS "products!",
                  coalesce(c.orders_this_month, 0) AS "orders_this_month!"
             FROM tenants t
             JOIN plans p ON p.code = t.plan_code
             LEFT JOIN tenant_usage_counts(ARRAY(SELECT id FROM tenants WHERE slug = $1)) c
                    ON c.tenant_id = t.id
            WHERE t.slug = $1"#,
        slug
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
        created_at: r.created_at,
        members: r.members,
        products: r.products,
        orders_this_month: r.orders_this_month,
    }))
}

// --------------------------------------------------------------------------------- plans --

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

// ------------------------------------------------------------------------------- changes --

/// Moves a tenant to another plan; takes effect on the tenant's next request. This is the
/// one function a billing provider's webhook would call (as `Actor::System`).
/// An unknown plan is `Invalid { field: "plan" }`; an unknown tenant `NotFound`.
pub async fn change_plan(
    db: &Db,
    actor: Actor<'_>,
    tenant_id: TenantId,
    plan: &PlanCode,
) -> Result<(), RepoError> {
    let mut tx = begin_for_tenant(db, tenant_id).await?;
    let known = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM plans WHERE code = $1) AS "known!""#,
        plan.as_str()
    )
    .fetch_one(&mut *tx)
    .await?;
    if !known {
        return Err(RepoError::Invalid { field: "plan" });
    }
    let before = lock_tenant(&mut tx, tenant_id).await?;
    sqlx::query!(
        "UPDATE tenants SET plan_code = $2 WHERE id = $1",
        tenant_id.as_uuid(),
        plan.as_str()
    )
    .execute(&mut *tx)
    .await?;
    audit(
        &mut tx,
        actor,
        "change_plan",
        Some(tenant_id),
        json!({ "plan": before.plan_code }),
        json!({ "plan": plan.as_str() }),
    )
    .await?;
    tx.commit().await?;
    super::tenants::forget(db, tenant_id);
    crate::tenant::plan::forget_caps(db, tenant_id);
    Ok(())
}

/// Suspends or reactivates a tenant. A suspended tenant's people are signed out on their
/// next request and see a clear page.
pub async fn set_status(
    db: &Db,
    scope: &ConsoleScope,
    tenant_id: TenantId,
    status: TenantStatus,
) -> Result<(), RepoError> {
    let mut tx = begin_for_tenant(db, tenant_id).await?;
    let before = lock_tenant(&mut tx, tenant_id).await?;
    let status = match status {
        TenantStatus::Active => "active",
        TenantStatus::Suspended => "suspended",
    };
    sqlx::query!(
        "UPDATE tenants SET status = $2 WHERE id = $1",
        tenant_id.as_uuid(),
        status
    )
    .execute(&mut *tx)
    .await?;
    if status == "suspended" {
        // Signed out now, not on their next request: a session left idle through the
        // suspension must not work again after a reactivation.
        sqlx::query!(
            "DELETE FROM tower_sessions.session WHERE tenant_id = $1",
            tenant_id.as_uuid()
        )
        .execute(&mut *tx)
        .await?;
    }
    let action = if status == "active" {
        "reactivate"
    } else {
        "suspend"
    };
    audit(
        &mut tx,
        Actor::Console(scope),
        action,
        Some(tenant_id),
        json!({ "status": before.status }),
        json!({ "status": status }),
    )
    .await?;
    tx.commit().await?;
    super::tenants::forget(db, tenant_id);
    Ok(())
}

/// Switches a feature on or off for one tenant whatever its plan says, or (`None`) lets the
/// plan decide again.
pub async fn set_feature_override(
    db: &Db,
    scope: &ConsoleScope,
    tenant_id: TenantId,
    feature: &str,
    enabled: Option<bool>,
) -> Result<(), RepoError> {
    let mut tx = begin_for_tenant(db, tenant_id).await?;
    lock_tenant(&mut tx, tenant_id).await?;
    let known = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM features WHERE code = $1) AS "known!""#,
        feature
    )
    .fetch_one(&mut *tx)
    .await?;
    if !known {
        return Err(RepoError::Invalid { field: "feature" });
    }
    let before = sqlx::query_scalar!(
        "DELETE FROM tenant_feature_overrides WHERE tenant_id = $1 AND feature = $2 RETURNING enabled",
        tenant_id.as_uuid(),
        feature
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(enabled) = enabled {
        sqlx::query!(
            "INSERT INTO tenant_feature_overrides (tenant_id, feature, enabled) VALUES ($1, $2, $3)",
            tenant_id.as_uuid(),
            feature,
            enabled
        )
        .execute(&mut *tx)
        .await?;
    }
    audit(
        &mut tx,
        Actor::Console(scope),
        "set_feature_override",
        Some(tenant_id),
        json!({ "feature": feature, "override": before }),
        json!({ "feature": feature, "override": enabled }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets one tenant's own value for a limit, lifts it (`Unlimited`), or lets the plan decide
/// again (`Inherit`). Negative values cannot be expressed (`LimitOverride` refuses them) and
/// the table refuses them too.
pub async fn set_limit_override(
    db: &Db,
    scope: &ConsoleScope,
    tenant_id: TenantId,
    limit: &str,
    value: LimitOverride,
) -> Result<(), RepoError> {
    let mut tx = begin_for_tenant(db, tenant_id).await?;
    lock_tenant(&mut tx, tenant_id).await?;
    let known = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM limit_kinds WHERE code = $1) AS "known!""#,
        limit
    )
    .fetch_one(&mut *tx)
    .await?;
    if !known {
        return Err(RepoError::Invalid { field: "limit" });
    }
    let before = sqlx::query!(
        "DELETE FROM tenant_limit_overrides WHERE tenant_id = $1 AND limit_code = $2 RETURNING max_value",
        tenant_id.as_uuid(),
        limit
    )
    .fetch_optional(&mut *tx)
    .await?;
    let max = match value {
        LimitOverride::Inherit => None,
        LimitOverride::Unlimited => Some(None),
        LimitOverride::Max(max) if max < 0 => return Err(RepoError::Invalid { field: "value" }),
        LimitOverride::Max(max) => Some(Some(max)),
    };
    if let Some(max) = max {
        sqlx::query!(
            "INSERT INTO tenant_limit_overrides (tenant_id, limit_code, max_value) VALUES ($1, $2, $3)",
            tenant_id.as_uuid(),
            limit,
            max
        )
        .execute(&mut *tx)
        .await?;
    }
    let describe = |value: Option<Option<i64>>| match value {
        None => json!("plan"),
        Some(None) => json!("unlimited"),
        Some(Some(max)) => json!(max),
    };
    audit(
        &mut tx,
        Actor::Console(scope),
        "set_limit_override",
        Some(tenant_id),
        json!({ "limit": limit, "override": describe(before.map(|r| r.max_value)) }),
        json!({ "limit": limit, "override": describe(max) }),
    )
    .await?;
    tx.commit().await?;
    crate::tenant::plan::forget_caps(db, tenant_id);
    Ok(())
}

struct TenantState {
    plan_code: String,
    status: String,
}

/// Locks the registry row, so console changes to one tenant apply one after another and each
/// audit row's "before" is what really came before.
async fn lock_tenant(
    conn: &mut PgConnection,
    tenant_id: TenantId,
) -> Result<TenantState, RepoError> {
    let row = sqlx::query!(
        "SELECT plan_code, status FROM tenants WHERE id = $1 FOR UPDATE",
        tenant_id.as_uuid()
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(RepoError::NotFound)?;
    Ok(TenantState {
        plan_code: row.plan_code,
        status: row.status,
    })
}

async fn audit(
    conn: &mut PgConnection,
    actor: Actor<'_>,
    action: &str,
    tenant: Option<TenantId>,
    before: serde_json::Value,
    after: serde_json::Value,
) -> Result<(), RepoError> {
    sqlx::query!(
        "INSERT INTO console_audit (id, admin_id, actor, action, target_tenant_id, before, after)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        Uuid::new_v4(),
        actor.admin_id(),
        actor.label(),
        action,
        tenant.map(|t| t.as_uuid()),
        before,
        after
    )
    .execute(conn)
    .await?;
    Ok(())
}

// --------------------------------------------------------------------------------- audit --

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub tenant_slug: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub tenant_slug: Option<String>,
    pub action: Option<String>,
    /// A piece of the actor's email or name.
    pub actor: Option<String>,
    /// Entries strictly older than this (at, id), for the next page.
    pub before: Option<(OffsetDateTime, Uuid)>,
    pub limit: i64,
}

pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub has_more: bool,
}

/// The audit log, newest first.
pub async fn audit_log(
    db: &Db,
    _scope: &ConsoleScope,
    filter: &AuditFilter,
) -> Result<AuditPage, RepoError> {
    let limit = filter.limit.clamp(1, 200);
    let actor = filter
        .actor
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(crate::tenant::products::like_pattern);
    let rows = sqlx::query!(
        r#"SELECT a.id, a.at, a.actor, a.action, t.slug AS "slug?", a.before, a.after
             FROM console_audit a
             LEFT JOIN tenants t ON t.id = a.target_tenant_id
             LEFT JOIN platform_admins p ON p.id = a.admin_id
            WHERE ($1::text IS NULL OR t.slug = $1)
              AND ($2::text IS NULL OR a.action = $2)
              AND ($3::text IS NULL OR a.actor ILIKE $3 OR p.name ILIKE $3)
              AND ($4::timestamptz IS NULL OR (a.at, a.id) < ($4, $5::uuid))
            ORDER BY a.at DESC, a.id DESC
            LIMIT $6"#,
        filter.tenant_slug.as_deref().filter(|s| !s.is_empty()),
        filter.action.as_deref().filter(|s| !s.is_empty()),
        actor,
        filter.before.map(|(at, _)| at),
        filter.before.map(|(_, id)| id),
        limit + 1
    )
    .fetch_all(&mut *db.platform().await?)
    .await?;
    let has_more = rows.len() as i64 > limit;
    Ok(AuditPage {
        entries: rows
            .into_iter()
            .take(limit as usize)
            .map(|r| AuditEntry {
                id: r.id,
                at: r.at,
                actor: r.actor,
                action: r.action,
                tenant_slug: r.slug,
                before: r.before,
                after: r.after,
            })
            .collect(),
        has_more,
    })
}
