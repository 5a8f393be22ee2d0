//! Whether the database has every migration this build expects. A server started before
//! `server migrate` has run (a rolling deploy, a database restored from an older backup) would
//! otherwise fail requests one by one on the columns it cannot find; instead it refuses them
//! cleanly ("being upgraded") until the migrations are applied, and notices that by itself.
//! A database ahead of the build (migrated for the next release) is served: migrations expand
//! before they contract (seed 004), so the build before still works on it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::PgConnection;

use super::DatabaseKey;

use super::Db;
use crate::RepoError;

/// What the last check found; `false` until a check says otherwise.
#[derive(Debug, Default)]
pub(crate) struct SchemaState {
    behind: AtomicBool,
}

/// PostgreSQL's "undefined function": a database from before `applied_migrations` existed.
const UNDEFINED_FUNCTION: &str = "42883";

impl Db {
    /// Whether the last check found a migration this build expects missing from the database.
    pub fn schema_behind(&self) -> bool {
        self.schema.behind.load(Ordering::Relaxed)
    }

    /// Checks again, remembers the answer for [`Db::schema_behind`], and returns the versions
    /// this build expects that the database has not applied (empty: up to date).
    pub async fn check_schema(&self) -> Result<Vec<i64>, RepoError> {
        let applied = sqlx::query_scalar!(r#"SELECT applied_migrations() AS "applied!""#)
            .fetch_one(&mut *self.platform().await?)
            .await;
        let applied: Vec<i64> = match applied {
            Ok(applied) => applied,
            Err(sqlx::Error::Database(err))
                if err.code().as_deref() == Some(UNDEFINED_FUNCTION) =>
            {
                Vec::new()
            }
            Err(err) => return Err(err.into()),
        };
        let missing = missing_migrations(&applied);
        self.schema
            .behind
            .store(!missing.is_empty(), Ordering::Relaxed);
        Ok(missing)
    }
}

/// The versions this build expects that `applied` (sorted) lacks.
fn missing_migrations(applied: &[i64]) -> Vec<i64> {
    crate::MIGRATOR
        .iter()
        .map(|m| m.version)
        .filter(|version| applied.binary_search(version).is_err())
        .collect()
}

/// How soon a workspace database found behind is checked again: `server migrate` brings it
/// back within this long.
const BEHIND_RECHECK: Duration = Duration::from_secs(2);

/// The same gate for each workspace database: one behind refuses its own workspaces (503,
/// "being upgraded") and nobody else's. A database is checked on its first use by this
/// process; one found up to date is not checked again (only a new build expects more, and
/// a new build is a new process), one found behind every [`BEHIND_RECHECK`].
#[derive(Default)]
pub(crate) struct DatabaseSchemas {
    /// When each database was last checked, and whether it was behind.
    checked: Mutex<HashMap<DatabaseKey, (Instant, bool)>>,
}

impl DatabaseSchemas {
    fn marks(&self) -> std::sync::MutexGuard<'_, HashMap<DatabaseKey, (Instant, bool)>> {
        self.checked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `Err(Behind)` when `key`'s database lacks a migration this build expects, checked on
    /// `conn` (one of its connections) when a check is due.
    pub(crate) async fn gate(
        &self,
        key: &DatabaseKey,
        conn: &mut PgConnection,
    ) -> Result<(), RepoError> {
        let due = match self.marks().get(key) {
            None => true,
            Some((_, false)) => false,
            Some((at, true)) => at.elapsed() >= BEHIND_RECHECK,
        };
        let behind = if due {
            let applied = sqlx::query_scalar!(r#"SELECT applied_migrations() AS "applied!""#)
                .fetch_one(conn)
                .await?;
            let behind = !missing_migrations(&applied).is_empty();
            self.marks().insert(key.clone(), (Instant::now(), behind));
            behind
        } else {
            self.marks().get(key).is_some_and(|(_, behind)| *behind)
        };
        if behind {
            return Err(RepoError::Behind);
        }
        Ok(())
    }
}
