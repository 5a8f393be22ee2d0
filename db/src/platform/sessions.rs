//! The session store behind tower-sessions. Platform data: a session is read by its id before
//! the tenant is known, and the tenant it belongs to is checked inside the record afterwards.

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, ExpiredDeletion, Result, SessionStore};

use crate::Db;

/// Two choices differ from the stock sqlx store:
/// - rows are keyed by a SHA-256 digest of the session id, so a leaked table (or a SQL bug
///   that reads it) holds nothing that works as a cookie;
/// - `save` only updates an existing row. A request that loaded a session before it was
///   signed out, removed or expired cannot write it back to life when it finishes.
#[derive(Clone)]
pub struct PgSessionStore {
    db: Db,
}

impl std::fmt::Debug for PgSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgSessionStore")
    }
}

impl PgSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn key(id: &Id) -> String {
    Sha256::digest(id.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn backend(err: sqlx::Error) -> Error {
    Error::Backend(err.to_string())
}

fn encode(record: &Record) -> Result<Vec<u8>> {
    serde_json::to_vec(record).map_err(|e| Error::Encode(e.to_string()))
}

#[async_trait]
impl SessionStore for PgSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        let data = encode(record)?;
        // A colliding id is astronomically unlikely; if it happens, draw another.
        loop {
            let inserted = sqlx::query!(
                "INSERT INTO tower_sessions.session (id, data, expiry_date) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO NOTHING",
                key(&record.id),
                data,
                record.expiry_date
            )
            .execute(self.db.pool())
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        sqlx::query!(
            "UPDATE tower_sessions.session SET data = $2, expiry_date = $3 WHERE id = $1",
            key(&record.id),
            encode(record)?,
            record.expiry_date
        )
        .execute(self.db.pool())
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let data = sqlx::query_scalar!(
            "SELECT data FROM tower_sessions.session WHERE id = $1 AND expiry_date > $2",
            key(id),
            OffsetDateTime::now_utc()
        )
        .fetch_optional(self.db.pool())
        .await
        .map_err(backend)?;
        data.map(|bytes| serde_json::from_slice(&bytes).map_err(|e| Error::Decode(e.to_string())))
            .transpose()
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        sqlx::query!("DELETE FROM tower_sessions.session WHERE id = $1", key(id))
            .execute(self.db.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for PgSessionStore {
    async fn delete_expired(&self) -> Result<()> {
        sqlx::query!("DELETE FROM tower_sessions.session WHERE expiry_date < now()")
            .execute(self.db.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }
}
