//! A dedicated workspace's copy of its plan and overrides, in its own database.
//!
//! Limits are counted in the transaction that adds the rows they count (`tenant::plan`), so
//! the plan and the workspace's overrides must be readable there: a dedicated workspace's
//! database holds a copy of them. The registry in the control database stays the truth, and
//! every console change rewrites the *whole* copy from it after the change commits, so a
//! copy that a failure left behind is mended by the next change, or by retrying this one.

use domain::TenantId;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::platform::tenants::{find_by_id, Placement};
use crate::scope::{begin_for_tenant, begin_in_control, end_read};
use crate::{Change, Db, RepoError};

/// A workspace's plan and overrides as the registry has them.
pub(crate) struct PlanCopy {
    plan: String,
    features: Vec<(String, bool)>,
    limits: Vec<(String, Option<i64>)>,
}

impl PlanCopy {
    /// Reads them from the registry, on a control connection pinned to `tenant`.
    pub(crate) async fn read(conn: &mut PgConnection, tenant: Uuid) -> Result<Self, RepoError> {
        let plan = sqlx::query_scalar!("SELECT plan_code FROM tenants WHERE id = $1", tenant)
            .fetch_one(&mut *conn)
            .await?;
        let features = sqlx::query!(
            "SELECT feature, enabled FROM tenant_feature_overrides WHERE tenant_id = $1",
            tenant
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|f| (f.feature, f.enabled))
        .collect();
        let limits = sqlx::query!(
            "SELECT limit_code, max_value FROM tenant_limit_overrides WHERE tenant_id = $1",
            tenant
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|l| (l.limit_code, l.max_value))
        .collect();
        Ok(Self {
            plan,
            features,
            limits,
        })
    }

    /// Replaces the copy in the workspace's own database (a connection pinned to `tenant`).
    pub(crate) async fn write(
        &self,
        conn: &mut PgConnection,
        tenant: Uuid,
    ) -> Result<(), RepoError> {
        sqlx::query!(
            "UPDATE tenants SET plan_code = $2 WHERE id = $1",
            tenant,
            self.plan
        )
        .execute(&mut *conn)
        .await?;
        sqlx::query!(
            "DELETE FROM tenant_feature_overrides WHERE tenant_id = $1",
            tenant
        )
        .execute(&mut *conn)
        .await?;
        let (codes, enabled): (Vec<String>, Vec<bool>) = self.features.iter().cloned().unzip();
        sqlx::query!(
            "INSERT INTO tenant_feature_overrides (tenant_id, feature, enabled)
             SELECT $1, * FROM unnest($2::text[], $3::bool[])",
            tenant,
            &codes,
            &enabled
        )
        .execute(&mut *conn)
        .await?;
        sqlx::query!(
            "DELETE FROM tenant_limit_overrides WHERE tenant_id = $1",
            tenant
        )
        .execute(&mut *conn)
        .await?;
        let (codes, values): (Vec<String>, Vec<Option<i64>>) = self.limits.iter().cloned().unzip();
        sqlx::query!(
            "INSERT INTO tenant_limit_overrides (tenant_id, limit_code, max_value)
             SELECT $1, * FROM unnest($2::text[], $3::bigint[])",
            tenant,
            &codes,
            &values as &[Option<i64>]
        )
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

/// Rewrites `tenant_id`'s plan and overrides in its own database from the registry. Nothing
/// to do for a shared workspace (its data is beside the registry), nor for one still being
/// provisioned: provisioning copies them again under the registry row's lock as it switches.
pub(crate) async fn copy_plan_home(db: &Db, tenant_id: TenantId) -> Result<(), RepoError> {
    let tenant = find_by_id(db, tenant_id)
        .await?
        .ok_or(RepoError::NotFound)?;
    if !matches!(tenant.placement(), Placement::Dedicated { ready: true, .. }) {
        return Ok(());
    }
    let tenant_uuid = tenant_id.as_uuid();
    let mut home = begin_for_tenant(db, &tenant).await?;
    // Copies one after another, each reading the registry only once it holds the copy's row:
    // of two changes racing, the copy written last has read both.
    sqlx::query!(
        "SELECT id FROM tenants WHERE id = $1 FOR UPDATE",
        tenant_uuid
    )
    .fetch_optional(&mut *home)
    .await?
    .ok_or(RepoError::NotFound)?;
    let mut control = begin_in_control(db, tenant_id).await?;
    let copy = PlanCopy::read(&mut control, tenant_uuid).await?;
    end_read(control);
    copy.write(&mut home, tenant_uuid).await?;
    // The change was announced when the registry committed; a process that read the caps
    // between then and now kept the old copy's, so the change is announced once more.
    let change = Change::Tenant(tenant_id);
    crate::caches::announce(home.control(db).await?, &change).await?;
    home.commit().await?;
    db.forget_everywhere(&[change]).await;
    Ok(())
}
