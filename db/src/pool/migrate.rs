//! Applying migrations: as the owner role, each statement held to a lock and a statement
//! timeout.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;

use super::{describe, parse_url, plain_reason, Db, StartupError};

/// How long a migration's statement may wait for a lock, and run. A migration that would
/// queue behind a busy table's readers stalls every request that queues behind it in turn
/// (seed 004): with a lock timeout it fails fast and can be run again at a quieter moment.
#[derive(Debug, Clone, Copy)]
pub struct MigrationLimits {
    pub lock_timeout: Duration,
    pub statement_timeout: Duration,
}

impl Default for MigrationLimits {
    fn default() -> Self {
        Self {
            lock_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(600),
        }
    }
}

impl Db {
    /// Applies every pending migration as the owner role (never as the application role),
    /// each statement held to `limits`.
    pub async fn migrate(owner_url: &str, limits: MigrationLimits) -> Result<(), StartupError> {
        Self::migrate_with(&crate::MIGRATOR, owner_url, limits).await
    }

    /// [`Db::migrate`] on `database`, on the cluster whose owner role `owner_url` names (a
    /// workspace's own database: the URL's own database part is replaced).
    pub async fn migrate_database(
        owner_url: &str,
        database: &str,
        limits: MigrationLimits,
    ) -> Result<(), StartupError> {
        let options = parse_url(owner_url)?.database(database);
        Self::migrate_at(&crate::MIGRATOR, options, limits).await
    }

    /// [`Db::migrate`] with another set of migrations (a test's).
    #[doc(hidden)]
    pub async fn migrate_with(
        migrator: &sqlx::migrate::Migrator,
        owner_url: &str,
        limits: MigrationLimits,
    ) -> Result<(), StartupError> {
        Self::migrate_at(migrator, parse_url(owner_url)?, limits).await
    }

    /// [`Db::migrate_with`] on connect options already parsed (a workspace's own database,
    /// named on its cluster's owner URL).
    pub(crate) async fn migrate_at(
        migrator: &sqlx::migrate::Migrator,
        options: sqlx::postgres::PgConnectOptions,
        limits: MigrationLimits,
    ) -> Result<(), StartupError> {
        let options = options.options([
            (
                "lock_timeout",
                format!("{}ms", limits.lock_timeout.as_millis()),
            ),
            (
                "statement_timeout",
                format!("{}ms", limits.statement_timeout.as_millis()),
            ),
        ]);
        let target = describe(&options);
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|err| StartupError::Unreachable {
                target: target.clone(),
                reason: plain_reason(&err),
            })?;
        let result = migrator
            .run(&pool)
            .await
            .map_err(|err| StartupError::Migration {
                target,
                reason: err.to_string(),
            });
        pool.close().await;
        result
    }
}
