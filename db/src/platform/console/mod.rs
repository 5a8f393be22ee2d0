//! The platform console: its own accounts, the tenant registry with each tenant's plan and
//! size, and the changes a console admin makes, each written to the append-only audit log in
//! the same transaction as the change.
//!
//! Reading or changing one tenant's overrides runs inside that tenant's transaction, like any
//! request for it; the only read across tenants is `tenant_usage_counts`, which returns
//! numbers only.

mod admins;
mod audit;
mod changes;
mod erasure;
mod home_copy;
mod load;
mod tenants;

pub use admins::{create_admin, find_admin_credentials, record_admin_sign_in, AdminCredentials};
pub use audit::{audit_log, AuditEntry, AuditFilter, AuditPage, ACTIONS};
pub(crate) use changes::{audit, commit_announced, lock_tenant};
pub use changes::{change_plan, set_feature_override, set_limit_override, set_status};
pub use erasure::{last_purge, request_purge, PurgeOutcome};
pub(crate) use home_copy::PlanCopy;
pub use load::{load_overview, DatabasesInUse, Footprint, LoadOverview, WorkspaceLoad};
pub use tenants::{
    list_tenants, plans, tenant_detail, DataPlacement, FeatureOverride, LimitOverrideRow,
    PlanSummary, TenantCursor, TenantDetail, TenantOverview, TenantPage,
};

use domain::{AdminId, Email};
use uuid::Uuid;

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

    pub(crate) fn label(&self) -> String {
        match self {
            Actor::Console(scope) => scope.email.to_string(),
            Actor::System(name) => (*name).to_owned(),
        }
    }
}
