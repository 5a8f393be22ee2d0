//! Whether the database has every migration this build expects. A server started before
//! `server migrate` has run (a rolling deploy, a database restored from an older backup) would
//! otherwise fail requests one by one on the columns it cannot find; instead it refuses them
//! cleanly ("being upgraded") until the migrations are applied, and notices that by itself.
//! A database ahead of the build (migrated for the next release) is served: migrations expand
//! before they contract (seed 004), so the build before still works on it.

use std::sync::atomic::{AtomicBool, Ordering};

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
        let missing: Vec<i64> = crate::MIGRATOR
            .iter()
            .map(|m| m.version)
            .filter(|version| applied.binary_search(version).is_err())
            .collect();
        self.schema
            .behind
            .store(!missing.is_empty(), Ordering::Relaxed);
        Ok(missing)
    }
}
