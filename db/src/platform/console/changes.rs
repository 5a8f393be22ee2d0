//! The changes a console admin (or a system such as billing) makes to one tenant: its plan,
//! its status, and its own exceptions to the plan. Each runs under a lock on the tenant's
//! registry row and writes its audit row in the same transaction.

use domain::{LimitOverride, PlanCode, TenantId, TenantStatus};
use serde_json::{json, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use super::home_copy::copy_plan_home;
use super::{Actor, ConsoleScope};
use crate::scope::begin_in_control;
use crate::{Db, Refusal, RepoError};

/// Moves a tenant to another plan; takes effect on the tenant's next request. This is the
/// one function a billing provider's webhook would call (as `Actor::System`).
/// An unknown plan is `Invalid { field: "plan" }`; an unknown tenant `NotFound`.
pub async fn change_plan(
    db: &Db,
    actor: Actor<'_>,
    tenant_id: TenantId,
    plan: &PlanCode,
) -> Result<(), RepoError> {
    let mut tx = begin_in_control(db, tenant_id).await?;
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
    before.refuse_if_erased()?;
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
    commit_announced(db, tx, tenant_id).await?;
    copy_plan_home(db, tenant_id).await
}

/// Suspends or reactivates a tenant. A suspended tenant's people are signed out on their
/// next request and see a clear page.
pub async fn set_status(
    db: &Db,
    scope: &ConsoleScope,
    tenant_id: TenantId,
    status: TenantStatus,
) -> Result<(), RepoError> {
    let mut tx = begin_in_control(db, tenant_id).await?;
    let before = lock_tenant(&mut tx, tenant_id).await?;
    before.refuse_if_erased()?;
    let restoring = before.status == TenantStatus::Deleting.as_db();
    // The console suspends and reactivates; a workspace its owner deleted can only be
    // restored (made active), and only until its purge begins.
    let allowed = match status {
        TenantStatus::Active => true,
        TenantStatus::Suspended => !restoring,
        TenantStatus::Deleting | TenantStatus::Purged => false,
    };
    if !allowed {
        return Err(RepoError::Conflict { field: "status" });
    }
    let status = status.as_db();
    sqlx::query!(
        "UPDATE tenants SET status = $2, delete_after = NULL WHERE id = $1",
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
    let action = match status {
        "active" if restoring => "restore",
        "active" => "reactivate",
        _ => "suspend",
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
    commit_announced(db, tx, tenant_id).await
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
    change_override(db, scope, tenant_id, feature, FeatureSetting(enabled)).await
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
    change_override(db, scope, tenant_id, limit, LimitSetting(value)).await
}

/// One kind of per-tenant exception to the plan: a feature switch or a limit value. Each
/// reads and writes its own table; [`change_override`] does the rest.
trait Override {
    /// The form field an unknown code belongs to, and the audit row's key for the code.
    const FIELD: &'static str;
    const ACTION: &'static str;
    async fn known(conn: &mut PgConnection, code: &str) -> Result<bool, RepoError>;
    /// Removes the tenant's current override and says what it was, for the audit row.
    async fn take(conn: &mut PgConnection, tenant: Uuid, code: &str) -> Result<Value, RepoError>;
    /// Writes the new override, if any, and says what it is.
    async fn put(
        &self,
        conn: &mut PgConnection,
        tenant: Uuid,
        code: &str,
    ) -> Result<Value, RepoError>;
}

async fn change_override<O: Override>(
    db: &Db,
    scope: &ConsoleScope,
    tenant_id: TenantId,
    code: &str,
    setting: O,
) -> Result<(), RepoError> {
    let mut tx = begin_in_control(db, tenant_id).await?;
    lock_tenant(&mut tx, tenant_id).await?.refuse_if_erased()?;
    if !O::known(&mut tx, code).await? {
        return Err(RepoError::Invalid { field: O::FIELD });
    }
    let tenant = tenant_id.as_uuid();
    let before = O::take(&mut tx, tenant, code).await?;
    let after = setting.put(&mut tx, tenant, code).await?;
    let record = |value: Value| {
        let mut entry = serde_json::Map::new();
        entry.insert(O::FIELD.to_owned(), json!(code));
        entry.insert("override".to_owned(), value);
        Value::Object(entry)
    };
    audit(
        &mut tx,
        Actor::Console(scope),
        O::ACTION,
        Some(tenant_id),
        record(before),
        record(after),
    )
    .await?;
    commit_announced(db, tx, tenant_id).await?;
    copy_plan_home(db, tenant_id).await
}

/// Commits a change to one tenant and makes every process forget what it kept of it (its
/// registry row, its caps, and on suspension its sessions).
pub(crate) async fn commit_announced(
    db: &Db,
    mut tx: crate::scope::TenantTx,
    tenant_id: TenantId,
) -> Result<(), RepoError> {
    let change = crate::Change::Tenant(tenant_id);
    crate::caches::announce(&mut tx, &change).await?;
    tx.commit().await?;
    db.forget_everywhere(&[change]).await;
    Ok(())
}

/// `None`: the plan decides.
struct FeatureSetting(Option<bool>);

impl Override for FeatureSetting {
    const FIELD: &'static str = "feature";
    const ACTION: &'static str = "set_feature_override";

    async fn known(conn: &mut PgConnection, code: &str) -> Result<bool, RepoError> {
        Ok(sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM features WHERE code = $1) AS "known!""#,
            code
        )
        .fetch_one(conn)
        .await?)
    }

    async fn take(conn: &mut PgConnection, tenant: Uuid, code: &str) -> Result<Value, RepoError> {
        let before = sqlx::query_scalar!(
            "DELETE FROM tenant_feature_overrides WHERE tenant_id = $1 AND feature = $2 RETURNING enabled",
            tenant,
            code
        )
        .fetch_optional(conn)
        .await?;
        Ok(json!(before))
    }

    async fn put(
        &self,
        conn: &mut PgConnection,
        tenant: Uuid,
        code: &str,
    ) -> Result<Value, RepoError> {
        if let Some(enabled) = self.0 {
            sqlx::query!(
                "INSERT INTO tenant_feature_overrides (tenant_id, feature, enabled) VALUES ($1, $2, $3)",
                tenant,
                code,
                enabled
            )
            .execute(conn)
            .await?;
        }
        Ok(json!(self.0))
    }
}

struct LimitSetting(LimitOverride);

impl LimitSetting {
    /// The override as the audit log words it: "plan", "unlimited" or the number.
    fn describe(value: Option<Option<i64>>) -> Value {
        match value {
            None => json!("plan"),
            Some(None) => json!("unlimited"),
            Some(Some(max)) => json!(max),
        }
    }
}

impl Override for LimitSetting {
    const FIELD: &'static str = "limit";
    const ACTION: &'static str = "set_limit_override";

    async fn known(conn: &mut PgConnection, code: &str) -> Result<bool, RepoError> {
        Ok(sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM limit_kinds WHERE code = $1) AS "known!""#,
            code
        )
        .fetch_one(conn)
        .await?)
    }

    async fn take(conn: &mut PgConnection, tenant: Uuid, code: &str) -> Result<Value, RepoError> {
        let before = sqlx::query_scalar!(
            "DELETE FROM tenant_limit_overrides WHERE tenant_id = $1 AND limit_code = $2 RETURNING max_value",
            tenant,
            code
        )
        .fetch_optional(conn)
        .await?;
        Ok(Self::describe(before))
    }

    async fn put(
        &self,
        conn: &mut PgConnection,
        tenant: Uuid,
        code: &str,
    ) -> Result<Value, RepoError> {
        let max = match self.0 {
            LimitOverride::Inherit => None,
            LimitOverride::Unlimited => Some(None),
            LimitOverride::Max(max) => {
                // A share of 0 would shut the workspace out; each limit says what it accepts.
                let bounds = sqlx::query!(
                    "SELECT min_value, ceiling FROM limit_kinds WHERE code = $1",
                    code
                )
                .fetch_one(&mut *conn)
                .await?;
                if max < bounds.min_value || bounds.ceiling.is_some_and(|ceiling| max > ceiling) {
                    return Err(RepoError::Refused(Refusal::OutOfBounds {
                        min: bounds.min_value,
                        max: bounds.ceiling,
                    }));
                }
                Some(Some(max))
            }
        };
        if let Some(max) = max {
            sqlx::query!(
                "INSERT INTO tenant_limit_overrides (tenant_id, limit_code, max_value) VALUES ($1, $2, $3)",
                tenant,
                code,
                max
            )
            .execute(conn)
            .await?;
        }
        Ok(Self::describe(max))
    }
}

pub(crate) struct TenantState {
    pub(crate) plan_code: String,
    pub(crate) status: String,
    /// A purge has begun: nothing may bring the workspace back or change it.
    pub(crate) purge_started: bool,
}

impl TenantState {
    /// Refuses any change to a workspace whose erasure has begun or ended.
    pub(crate) fn refuse_if_erased(&self) -> Result<(), RepoError> {
        if self.purge_started || self.status == TenantStatus::Purged.as_db() {
            return Err(RepoError::Conflict { field: "status" });
        }
        Ok(())
    }
}

/// Locks the registry row, so console changes to one tenant apply one after another and each
/// audit row's "before" is what really came before.
pub(crate) async fn lock_tenant(
    conn: &mut PgConnection,
    tenant_id: TenantId,
) -> Result<TenantState, RepoError> {
    let row = sqlx::query!(
        r#"SELECT plan_code, status, purge_started_at IS NOT NULL AS "purge_started!"
             FROM tenants WHERE id = $1 FOR UPDATE"#,
        tenant_id.as_uuid()
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(RepoError::NotFound)?;
    Ok(TenantState {
        plan_code: row.plan_code,
        status: row.status,
        purge_started: row.purge_started,
    })
}

pub(crate) async fn audit(
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
