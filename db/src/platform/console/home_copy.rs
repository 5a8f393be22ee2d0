//! A dedicated workspace's copy of its plan and overrides, in its own database.
//!
//! Limits are counted in the transaction that adds the rows they count (`tenant::plan`), so
//! the plan and the workspace's overrides must be readable there: a dedicated workspace's
//! database holds a copy of them. The registry in the control database stays the truth, and
//! every console change rewrites the *whole* copy from it after the change commits, so a
//! copy that a failure left behind is mended by the next change, or by retrying this one.

use domain::TenantId;

use crate::platform::tenants::{find_by_id, Placement};
use crate::scope::{begin_for_tenant, begin_in_control, end_read};
use crate::{Change, Db, RepoError};

/// Rewrites `tenant_id`'s plan and overrides in its own database from the registry. Nothing
/// to do for a shared workspace (its data is beside the registry), nor for one still being
/// provisioned: provisioning copies them once the database is ready.
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
    let plan = sqlx::query_scalar!("SELECT plan_code FROM tenants WHERE id = $1", tenant_uuid)
        .fetch_one(&mut *control)
        .await?;
    let features = sqlx::query!(
        "SELECT feature, enabled FROM tenant_feature_overrides WHERE tenant_id = $1",
        tenant_uuid
    )
    .fetch_all(&mut *control)
    .await?;
    let limits = sqlx::query!(
        "SELECT limit_code, max_value FROM tenant_limit_overrides WHERE tenant_id = $1",
        tenant_uuid
    )
    .fetch_all(&mut *control)
    .await?;
    end_read(control);

    sqlx::query!(
        "UPDATE tenants SET plan_code = $2 WHERE id = $1",
        tenant_uuid,
        plan
    )
    .execute(&mut *home)
    .await?;
    sqlx::query!(
        "DELETE FROM tenant_feature_overrides WHERE tenant_id = $1",
        tenant_uuid
    )
    .execute(&mut *home)
    .await?;
    let (codes, enabled): (Vec<String>, Vec<bool>) =
        features.into_iter().map(|f| (f.feature, f.enabled)).unzip();
    sqlx::query!(
        "INSERT INTO tenant_feature_overrides (tenant_id, feature, enabled)
         SELECT $1, * FROM unnest($2::text[], $3::bool[])",
        tenant_uuid,
        &codes,
        &enabled
    )
    .execute(&mut *home)
    .await?;
    sqlx::query!(
        "DELETE FROM tenant_limit_overrides WHERE tenant_id = $1",
        tenant_uuid
    )
    .execute(&mut *home)
    .await?;
    let (codes, values): (Vec<String>, Vec<Option<i64>>) = limits
        .into_iter()
        .map(|l| (l.limit_code, l.max_value))
        .unzip();
    sqlx::query!(
        "INSERT INTO tenant_limit_overrides (tenant_id, limit_code, max_value)
         SELECT $1, * FROM unnest($2::text[], $3::bigint[])",
        tenant_uuid,
        &codes,
        &values as &[Option<i64>]
    )
    .execute(&mut *home)
    .await?;
    // The change was announced when the registry committed; a process that read the caps
    // between then and now kept the old copy's, so the change is announced once more.
    let change = Change::Tenant(tenant_id);
    crate::caches::announce(home.control(db).await?, &change).await?;
    home.commit().await?;
    db.forget(&[change]);
    Ok(())
}
