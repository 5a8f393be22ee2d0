use crate::{Db, RepoError};

/// How many times something may happen per key within a window.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: i64,
    pub window_secs: i64,
}

/// Records one attempt for (`bucket`, `key`) and says whether it is within `limit`. Refused
/// attempts are not recorded, so a caller who waits gets through again. Serialised per key by
/// an advisory lock, so a burst cannot overshoot the limit.
pub async fn allow(db: &Db, bucket: &str, key: &str, limit: Limit) -> Result<bool, RepoError> {
    let mut tx = db.begin().await?;
    // A statement of its own: a statement sees the rows committed before it started, so a
    // count in the statement that waited for the lock would miss what the holder just wrote.
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('rate:' || $1 || ':' || $2, 0))",
        bucket,
        key
    )
    .execute(&mut *tx)
    .await?;
    let recent = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM rate_limit_events
            WHERE bucket = $1 AND key = $2 AND at > now() - make_interval(secs => $3)"#,
        bucket,
        key,
        limit.window_secs as f64
    )
    .fetch_one(&mut *tx)
    .await?;
    if recent >= limit.max {
        tx.commit().await?;
        return Ok(false);
    }
    sqlx::query!(
        "DELETE FROM rate_limit_events WHERE bucket = $1 AND key = $2 AND at <= now() - make_interval(secs => $3)",
        bucket,
        key,
        limit.window_secs as f64
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO rate_limit_events (bucket, key) VALUES ($1, $2)",
        bucket,
        key
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Takes back the latest attempt recorded for (`bucket`, `key`): for limits that count only
/// failures, a success returns the place its attempt took.
pub async fn take_back(db: &Db, bucket: &str, key: &str) -> Result<(), RepoError> {
    let mut conn = db.platform().await?;
    sqlx::query!(
        "DELETE FROM rate_limit_events WHERE ctid IN (
             SELECT ctid FROM rate_limit_events WHERE bucket = $1 AND key = $2
              ORDER BY at DESC LIMIT 1)",
        bucket,
        key
    )
    .execute(&mut *conn)
    .await?;
    conn.done().await?;
    Ok(())
}
