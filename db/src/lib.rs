//! The scoped repository layer: the only crate that talks to PostgreSQL.
//!
//! Tenant data is reached only through a [`TenantScope`], whose transaction sets
//! `app.tenant_id` before any query; row-level security checks the same id again underneath.
//! `platform` holds the few operations that must run before a tenant is known.

pub mod cache;
pub mod caches;
pub mod catalog;
mod error;
mod listener;
pub mod load;
pub mod platform;
mod pool;
mod scope;
pub mod tenant;
#[cfg(feature = "testing")]
pub mod testing;

pub use caches::{Change, CHANNEL};
pub use error::{LineProblem, Refusal, RepoError};
pub use listener::LISTENER_NAME;
pub use platform::tenants::Tenant;
pub use pool::{
    DatabaseKey, DatabasePools, Db, DbSettings, LentConnection, MigrationLimits, OpenPool,
    PoolLimits, StartupError, LOCK_TIMEOUT, TENANT_CACHE_TTL,
};
pub use scope::{ApiAccess, Member, TenantScope, TokenCheck};

/// The schema's migrations, embedded so the binary can migrate without the source tree.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");
