//! What the scope's tenant may do under its plan: features on or off and limits with their
//! usage, the plan's rows with the tenant's overrides on top. Read fresh inside each
//! transaction, so a plan change made by the console counts from the next request on.

use domain::{Feature, LimitKind, TenantId};
use sqlx::PgConnection;

use crate::scope::end_read;
use crate::{Db, RepoError, TenantScope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureAccess {
    pub feature: String,
    pub name: String,
    pub enabled: bool,
    /// Names of the plans that include it, cheapest first (for an upgrade prompt).
    pub plans: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitUsage {
    pub limit: String,
    pub name: String,
    pub unit: String,
    /// `None`: unlimited.
    pub max: Option<i64>,
    pub used: i64,
}

/// A fair share (see `shares`) as it applies to the tenant: a rate or an amount, not a count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareSetting {
    pub limit: String,
    pub name: String,
    pub unit: String,
    /// `None`: not limited.
    pub value: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entitlements {
    pub plan_code: String,
    pub plan_name: String,
    pub features: Vec<FeatureAccess>,
    pub limits: Vec<LimitUsage>,
    pub shares: Vec<ShareSetting>,
}

impl Entitlements {
    pub fn feature(&self, feature: Feature) -> Option<&FeatureAccess> {
        self.features.iter().find(|f| f.feature == feature.code())
    }

    pub fn limit(&self, limit: LimitKind) -> Option<&LimitUsage> {
        self.limits.iter().find(|l| l.limit == limit.code())
    }
}

/// The tenant's plan, every feature and every limit with what is used of it.
pub async fn entitlements(db: &Db, scope: &TenantScope) -> Result<Entitlements, RepoError> {
    let mut tx = scope.begin(db).await?;
    let found = entitlements_in(&mut tx, scope.tenant_id()).await?;
    end_read(tx);
    Ok(found)
}

pub(crate) async fn entitlements_in(
    conn: &mut PgConnection,
    tenant_id: TenantId,
) -> Result<Entitlements, RepoError> {
    let tenant = tenant_id.as_uuid();
    let plan = sqlx::query!(
        "SELECT p.code, p.name FROM tenants t JOIN plans p ON p.code = t.plan_code WHERE t.id = $1",
        tenant
    )
    .fetch_one(&mut *conn)
    .await?;
    let features = sqlx::query!(
        r#"SELECT f.code, f.name,
                  coalesce(o.enabled, pf.feature IS NOT NULL) AS "enabled!",
                  coalesce((SELECT array_agg(p.name ORDER BY p.sort_order, p.code)
                              FROM plan_features x JOIN plans p ON p.code = x.plan_code
                             WHERE x.feature = f.code), '{}') AS "plans!"
             FROM features f
             LEFT JOIN plan_features pf ON pf.feature = f.code AND pf.plan_code = $2
             LEFT JOIN tenant_feature_overrides o ON o.tenant_id = $1 AND o.feature = f.code
            ORDER BY f.code"#,
        tenant,
        plan.code
    )
    .fetch_all(&mut *conn)
    .await?;
    let limits = sqlx::query!(
        r#"SELECT k.code, k.name, k.unit, k.kind,
                  CASE WHEN o.limit_code IS NOT NULL THEN o.max_value ELSE pl.max_value END AS max_value
             FROM limit_kinds k
             LEFT JOIN plan_limits pl ON pl.limit_code = k.code AND pl.plan_code = $2
             LEFT JOIN tenant_limit_overrides o ON o.tenant_id = $1 AND o.limit_code = k.code
            ORDER BY k.code"#,
        tenant,
        plan.code
    )
    .fetch_all(&mut *conn)
    .await?;
    let (shares, quotas): (Vec<_>, Vec<_>) = limits.into_iter().partition(|r| r.kind == "share");
    let shares = shares
        .into_iter()
        .map(|r| ShareSetting {
            limit: r.code,
            name: r.name,
            unit: r.unit,
            value: r.max_value,
        })
        .collect();
    let mut usage = Vec::with_capacity(quotas.len());
    for row in quotas {
        let used = match LimitKind::ALL.iter().find(|k| k.code() == row.code) {
            Some(kind) => count(conn, tenant_id, *kind).await?,
            // A limit added to the table before the code that counts it: nothing to show.
            None => continue,
        };
        usage.push(LimitUsage {
            limit: row.code,
            name: row.name,
            unit: row.unit,
            max: row.max_value,
            used,
        });
    }
    Ok(Entitlements {
        plan_code: plan.code,
        plan_name: plan.name,
        features: features
            .into_iter()
            .map(|r| FeatureAccess {
                feature: r.code,
                name: r.name,
                enabled: r.enabled,
                plans: r.plans,
            })
            .collect(),
        limits: usage,
        shares,
    })
}

/// Refuses with `PlanRequired` unless the scope's tenant has `feature`. The one gate every
/// gated server function goes through.
pub async fn require_feature(
    db: &Db,
    scope: &TenantScope,
    feature: Feature,
) -> Result<(), RepoError> {
    let mut tx = scope.begin(db).await?;
    require_feature_in(&mut tx, scope.tenant_id(), feature).await?;
    end_read(tx);
    Ok(())
}

/// [`require_feature`] inside a transaction already acting for `tenant_id`, so a gated write
/// checks the plan in the same transaction as the write itself.
pub(crate) async fn require_feature_in(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    feature: Feature,
) -> Result<(), RepoError> {
    let row = sqlx::query!(
        r#"SELECT f.name,
                  coalesce(
                      (SELECT o.enabled FROM tenant_feature_overrides o
                        WHERE o.tenant_id = $1 AND o.feature = f.code),
                      EXISTS (SELECT 1 FROM plan_features pf JOIN tenants t ON t.plan_code = pf.plan_code
                               WHERE t.id = $1 AND pf.feature = f.code)) AS "enabled!",
                  coalesce((SELECT array_agg(p.name ORDER BY p.sort_order, p.code)
                              FROM plan_features x JOIN plans p ON p.code = x.plan_code
                             WHERE x.feature = f.code), '{}') AS "plans!"
             FROM features f WHERE f.code = $2"#,
        tenant_id.as_uuid(),
        feature.code()
    )
    .fetch_optional(&mut *conn)
    .await?
    // A feature the code knows but no migration created is a deployment bug: fail shut.
    .ok_or_else(|| RepoError::corrupt("features (missing row)"))?;
    if row.enabled {
        Ok(())
    } else {
        Err(RepoError::PlanRequired {
            feature: row.name,
            plans: row.plans,
        })
    }
}

/// The names of the plans, other than the tenant's own, that allow more of `limit` than
/// `max`, cheapest first: what an answer to `LimitReached` offers as the way up.
pub async fn plans_allowing_more(
    db: &Db,
    scope: &TenantScope,
    limit: LimitKind,
    max: i64,
) -> Result<Vec<String>, RepoError> {
    let mut tx = scope.begin(db).await?;
    let plans = sqlx::query_scalar!(
        "SELECT p.name FROM plans p
           LEFT JOIN plan_limits pl ON pl.plan_code = p.code AND pl.limit_code = $2
          WHERE (pl.max_value IS NULL OR pl.max_value > $3)
            AND p.code <> (SELECT t.plan_code FROM tenants t WHERE t.id = $1)
          ORDER BY p.sort_order, p.code",
        scope.tenant_id().as_uuid(),
        limit.code(),
        max
    )
    .fetch_all(&mut *tx)
    .await?;
    end_read(tx);
    Ok(plans)
}

/// Makes room for `adding` more of `limit`, or refuses with `LimitReached`. When the tenant
/// has a cap on it, locks the tenant's row for this limit first, so concurrent writes counted
/// by the same limit queue here and each one counts what the ones before it wrote: two cannot
/// both take the last slot. Call it inside the transaction that makes the write, before the
/// write.
pub(crate) async fn reserve(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    limit: LimitKind,
    adding: i64,
) -> Result<(), RepoError> {
    match lock_room(conn, tenant_id, limit).await? {
        Some(room) if room.used + adding > room.max => Err(RepoError::LimitReached {
            limit,
            max: room.max,
            unit: room.unit,
        }),
        _ => Ok(()),
    }
}

/// What is left of a limit once its lock is held (see [`reserve_up_to`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Granted {
    /// How many of the `wanted` may be written now.
    pub(crate) granted: i64,
    /// The cap, when there is one (for the refusal of the rest).
    pub(crate) cap: Option<i64>,
}

/// Like [`reserve`] for a write of many at once that may go in part (an import): grants
/// as many of `wanted` as the limit leaves room for, under the same lock.
pub(crate) async fn reserve_up_to(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    limit: LimitKind,
    wanted: i64,
) -> Result<Granted, RepoError> {
    Ok(match lock_room(conn, tenant_id, limit).await? {
        None => Granted {
            granted: wanted,
            cap: None,
        },
        Some(room) => Granted {
            granted: wanted.min((room.max - room.used).max(0)),
            cap: Some(room.max),
        },
    })
}

/// A capped limit, counted under its lock.
struct Room {
    unit: String,
    max: i64,
    used: i64,
}

/// When the tenant has a cap on `limit`, takes the tenant's lock for it (see [`reserve`])
/// and counts what is used of it; `None` when there is no cap.
async fn lock_room(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    limit: LimitKind,
) -> Result<Option<Room>, RepoError> {
    let tenant = tenant_id.as_uuid();
    // The cap first, without a lock: a tenant with no cap on this limit (ENTERPRISE) has
    // nothing to count, and its writes must not queue behind each other for nothing.
    let cap = sqlx::query!(
        r#"SELECT k.unit,
                  CASE WHEN o.limit_code IS NOT NULL THEN o.max_value ELSE pl.max_value END AS max_value
             FROM limit_kinds k
             JOIN tenants t ON t.id = $1
             LEFT JOIN plan_limits pl ON pl.limit_code = k.code AND pl.plan_code = t.plan_code
             LEFT JOIN tenant_limit_overrides o ON o.tenant_id = t.id AND o.limit_code = k.code
            WHERE k.code = $2"#,
        tenant,
        limit.code()
    )
    .fetch_one(&mut *conn)
    .await?;
    let Some(max) = cap.max_value else {
        return Ok(None);
    };
    sqlx::query!(
        "INSERT INTO limit_locks (tenant_id, limit_code) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        tenant,
        limit.code()
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "SELECT 1 AS locked FROM limit_locks WHERE tenant_id = $1 AND limit_code = $2 FOR UPDATE",
        tenant,
        limit.code()
    )
    .fetch_one(&mut *conn)
    .await?;
    let used = count(conn, tenant_id, limit).await?;
    Ok(Some(Room {
        unit: cap.unit,
        max,
        used,
    }))
}

/// One limit as it applies to a tenant: its plan's value or the tenant's override.
#[derive(Debug, Clone)]
pub(crate) struct Cap {
    limit: String,
    name: String,
    unit: String,
    max: Option<i64>,
}

impl Cap {
    /// The value `code` is capped at for the tenant: `None` when it has no cap (or no such
    /// limit exists).
    pub(crate) fn value_of(caps: &[Cap], code: &str) -> Option<i64> {
        caps.iter().find(|c| c.limit == code).and_then(|c| c.max)
    }
}

/// Every limit's cap for `tenant_id`, from the cache when recent (for display only: a write
/// checks its limit afresh, under a lock, in its own transaction; see [`reserve`]).
pub(crate) async fn caps(
    db: &Db,
    conn: &mut PgConnection,
    tenant_id: TenantId,
) -> Result<std::sync::Arc<Vec<Cap>>, RepoError> {
    if let Some(caps) = db.caches.caps(tenant_id) {
        return Ok(caps);
    }
    let epoch = db.caches.epoch();
    let caps: std::sync::Arc<Vec<Cap>> = sqlx::query_as!(
        Cap,
        r#"SELECT k.code AS "limit!", k.name AS "name!", k.unit AS "unit!",
                  CASE WHEN o.limit_code IS NOT NULL THEN o.max_value ELSE pl.max_value END AS max
             FROM limit_kinds k
             JOIN tenants t ON t.id = $1
             LEFT JOIN plan_limits pl ON pl.limit_code = k.code AND pl.plan_code = t.plan_code
             LEFT JOIN tenant_limit_overrides o ON o.tenant_id = t.id AND o.limit_code = k.code"#,
        tenant_id.as_uuid()
    )
    .fetch_all(&mut *conn)
    .await?
    .into();
    db.caches.keep_caps(epoch, tenant_id, &caps);
    Ok(caps)
}

/// `limit`'s cap and what is used of it, or `None` when the tenant has no cap on it (then
/// nothing is counted, and with the caps cached nothing is queried: an unlimited tenant pays
/// nothing for this on its busiest pages).
pub(crate) async fn usage_in(
    db: &Db,
    conn: &mut PgConnection,
    tenant_id: TenantId,
    limit: LimitKind,
) -> Result<Option<LimitUsage>, RepoError> {
    let caps = caps(db, conn, tenant_id).await?;
    let Some(cap) = caps.iter().find(|c| c.limit == limit.code()) else {
        return Ok(None);
    };
    let Some(max) = cap.max else {
        return Ok(None);
    };
    Ok(Some(LimitUsage {
        limit: cap.limit.clone(),
        name: cap.name.clone(),
        unit: cap.unit.clone(),
        max: Some(max),
        used: count(conn, tenant_id, limit).await?,
    }))
}

/// What counts against `limit` right now.
async fn count(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    limit: LimitKind,
) -> Result<i64, RepoError> {
    let tenant = tenant_id.as_uuid();
    let used = match limit {
        LimitKind::Products => {
            sqlx::query_scalar!(
                r#"SELECT count(*) AS "n!" FROM products WHERE tenant_id = $1 AND archived_at IS NULL"#,
                tenant
            )
            .fetch_one(&mut *conn)
            .await?
        }
        LimitKind::Members => {
            sqlx::query_scalar!(
                r#"SELECT (SELECT count(*) FROM users WHERE tenant_id = $1 AND removed_at IS NULL)
                        + (SELECT count(*) FROM invitations
                            WHERE tenant_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL
                              AND expires_at > now()) AS "n!""#,
                tenant
            )
            .fetch_one(&mut *conn)
            .await?
        }
        LimitKind::OrdersPerMonth => {
            sqlx::query_scalar!(
                r#"SELECT count(*) AS "n!" FROM orders
                    WHERE tenant_id = $1
                      AND created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"#,
                tenant
            )
            .fetch_one(&mut *conn)
            .await?
        }
        LimitKind::ApiTokens => {
            sqlx::query_scalar!(
                r#"SELECT count(*) AS "n!" FROM api_tokens
                    WHERE tenant_id = $1 AND revoked_at IS NULL
                      AND (expires_at IS NULL OR expires_at > now())"#,
                tenant
            )
            .fetch_one(&mut *conn)
            .await?
        }
    };
    Ok(used)
}
