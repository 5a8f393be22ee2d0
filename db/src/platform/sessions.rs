//! The session store behind tower-sessions. Platform data: a session is read by its id before
//! the tenant is known, and the tenant it belongs to is checked inside the record afterwards.

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, ExpiredDeletion, Result, SessionStore};

use crate::caches::CHANNEL;
use crate::{Change, Db};

/// Four choices differ from the stock sqlx store:
/// - rows are keyed by a SHA-256 digest of the session id, so a leaked table (or a SQL bug
///   that reads it) holds nothing that works as a cookie;
/// - `save` only updates an existing row. A request that loaded a session before it was
///   signed out, removed or expired cannot write it back to life when it finishes;
/// - each row names the member it signs in (from the record's [`SIGNED_IN_KEY`] entry), so
///   removing a member or changing their role or password can end their sessions at once;
/// - loaded sessions are kept in memory while the process hears every change (`caches`):
///   every save and delete is announced in the statement that makes it.
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

/// The session entry that says who is signed in. Its value is an object with at least
/// `tenant_id` and `user_id`; the app writes it, the store indexes it.
pub const SIGNED_IN_KEY: &str = "auth";

#[derive(serde::Deserialize)]
struct SignedInMember {
    tenant_id: uuid::Uuid,
    user_id: uuid::Uuid,
}

fn member_of(record: &Record) -> (Option<uuid::Uuid>, Option<uuid::Uuid>) {
    record
        .data
        .get(SIGNED_IN_KEY)
        .and_then(|value| serde_json::from_value::<SignedInMember>(value.clone()).ok())
        .map_or((None, None), |m| (Some(m.tenant_id), Some(m.user_id)))
}

pub(crate) fn key(id: &Id) -> String {
    hex::encode(Sha256::digest(id.to_string().as_bytes()))
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
        let (tenant_id, user_id) = member_of(record);
        let mut conn = self.db.platform().await.map_err(backend)?;
        // A colliding id is astronomically unlikely; if it happens, draw another.
        loop {
            let inserted = sqlx::query!(
                "INSERT INTO tower_sessions.session (id, data, expiry_date, tenant_id, user_id)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO NOTHING",
                key(&record.id),
                data,
                record.expiry_date,
                tenant_id,
                user_id
            )
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return conn.done().await.map_err(backend);
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let (tenant_id, user_id) = member_of(record);
        let key = key(&record.id);
        let mut conn = self.db.platform().await.map_err(backend)?;
        sqlx::query!(
            r#"WITH saved AS (
                   UPDATE tower_sessions.session
                      SET data = $2, expiry_date = $3, tenant_id = $4, user_id = $5
                    WHERE id = $1
                RETURNING id)
               SELECT count(*) AS "announced!"
                 FROM saved, LATERAL (SELECT pg_notify($6, 's:' || saved.id)) sent"#,
            key,
            encode(record)?,
            record.expiry_date,
            tenant_id,
            user_id,
            CHANNEL
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
        conn.done().await.map_err(backend)?;
        self.db.forget(&[Change::Session(key)]);
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let key = key(id);
        if let Some(record) = self.db.caches.session(&key) {
            return Ok(Some(record));
        }
        let epoch = self.db.caches.epoch();
        let row = sqlx::query!(
            "SELECT data, tenant_id FROM tower_sessions.session WHERE id = $1 AND expiry_date > $2",
            key,
            OffsetDateTime::now_utc()
        )
        .fetch_optional(&mut *self.db.platform().await.map_err(backend)?)
        .await
        .map_err(backend)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let record: Record =
            serde_json::from_slice(&row.data).map_err(|e| Error::Decode(e.to_string()))?;
        let tenant = row.tenant_id.map(domain::TenantId::from_uuid);
        self.db.caches.keep_session(epoch, key, tenant, &record);
        Ok(Some(record))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        let key = key(id);
        let mut conn = self.db.platform().await.map_err(backend)?;
        let announced = sqlx::query_scalar!(
            r#"WITH gone AS (DELETE FROM tower_sessions.session WHERE id = $1 RETURNING id)
               SELECT count(*) AS "announced!"
                 FROM gone, LATERAL (SELECT pg_notify($2, 's:' || gone.id)) sent"#,
            key,
            CHANNEL
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
        conn.done().await.map_err(backend)?;
        // Signing in cycles the session id, deleting one that was usually never stored: only
        // a session that existed ends anyone's access, and only then is the wait worth it.
        let ended = [Change::Session(key)];
        if announced > 0 {
            self.db.forget_everywhere(&ended).await;
        } else {
            self.db.forget(&ended);
        }
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for PgSessionStore {
    async fn delete_expired(&self) -> Result<()> {
        let mut conn = self.db.platform().await.map_err(backend)?;
        sqlx::query!("DELETE FROM tower_sessions.session WHERE expiry_date < now()")
            .execute(&mut *conn)
            .await
            .map_err(backend)?;
        conn.done().await.map_err(backend)
    }
}

/// Deletes every session that signs `user_id` of `tenant_id` in, except `keep` (the caller's
/// own, when a person changes their own password). Runs inside the caller's transaction, so
/// the sessions end exactly when the change that ends them commits, and every process hears
/// of each one then. The caller passes what this returns to `Db::forget_everywhere` after its
/// commit, so this process forgets them at once and answers once the others were told.
pub(crate) async fn end_member_sessions(
    conn: &mut sqlx::PgConnection,
    tenant_id: domain::TenantId,
    user_id: domain::UserId,
    keep: Option<&Id>,
) -> std::result::Result<Vec<Change>, sqlx::Error> {
    let ended = sqlx::query_scalar!(
        r#"WITH gone AS (
               DELETE FROM tower_sessions.session
                WHERE tenant_id = $1 AND user_id = $2 AND id IS DISTINCT FROM $3
            RETURNING id)
           SELECT id AS "id!" FROM gone, LATERAL (SELECT pg_notify($4, 's:' || gone.id)) sent"#,
        tenant_id.as_uuid(),
        user_id.as_uuid(),
        keep.map(key),
        CHANNEL
    )
    .fetch_all(conn)
    .await?;
    Ok(ended.into_iter().map(Change::Session).collect())
}
