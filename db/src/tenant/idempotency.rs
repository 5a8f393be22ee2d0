//! Idempotency keys of the API: the first request with a key claims it (a row "in
//! progress"), runs its action, then stores its answer; a retry with the same key and the
//! same request gets that answer and never runs the action again.
//!
//! The claim is committed before the action runs, so the action can never run twice, even
//! if the server dies in between: a key whose request died stays "in progress" (retries are
//! told so) until it expires. Keys are kept 24 hours, per token.

use domain::ApiTokenId;

use crate::{Db, RepoError, TenantScope};

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Nobody used this key yet (or its earlier use expired): the caller runs the action.
    Fresh,
    /// The first request with this key is still running.
    InProgress,
    /// The first request's answer, to give again.
    Done { status: u16, body: String },
    /// The key was used for a different request (another body, path or method).
    Mismatch,
}

/// Claims `key` for `request_hash` (a digest of method, path and body), cleaning up this
/// token's expired keys on the way.
pub async fn claim(
    db: &Db,
    scope: &TenantScope,
    token: ApiTokenId,
    key: &str,
    request_hash: &str,
) -> Result<Claim, RepoError> {
    let tenant = scope.tenant_id().as_uuid();
    let mut tx = scope.begin(db).await?;
    sqlx::query!(
        "DELETE FROM api_idempotency
          WHERE tenant_id = $1 AND token_id = $2 AND created_at < now() - interval '24 hours'",
        tenant,
        token.as_uuid()
    )
    .execute(&mut *tx)
    .await?;
    let inserted = sqlx::query_scalar!(
        r#"INSERT INTO api_idempotency (tenant_id, token_id, key, request_hash)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING
           RETURNING true AS "inserted!""#,
        tenant,
        token.as_uuid(),
        key,
        request_hash
    )
    .fetch_optional(&mut *tx)
    .await?
    .is_some();
    let claim = if inserted {
        Claim::Fresh
    } else {
        let row = sqlx::query!(
            "SELECT request_hash, status, body FROM api_idempotency
              WHERE tenant_id = $1 AND token_id = $2 AND key = $3",
            tenant,
            token.as_uuid(),
            key
        )
        .fetch_one(&mut *tx)
        .await?;
        match (row.status, row.body) {
            _ if row.request_hash != request_hash => Claim::Mismatch,
            (Some(status), Some(body)) => Claim::Done {
                status: u16::try_from(status)
                    .map_err(|_| RepoError::corrupt("api_idempotency.status"))?,
                body,
            },
            _ => Claim::InProgress,
        }
    };
    tx.commit().await?;
    Ok(claim)
}

/// Stores the answer of the request that claimed `key`.
pub async fn complete(
    db: &Db,
    scope: &TenantScope,
    token: ApiTokenId,
    key: &str,
    status: u16,
    body: &str,
) -> Result<(), RepoError> {
    let mut tx = scope.begin(db).await?;
    sqlx::query!(
        "UPDATE api_idempotency SET status = $4, body = $5, completed_at = now()
          WHERE tenant_id = $1 AND token_id = $2 AND key = $3 AND status IS NULL",
        scope.tenant_id().as_uuid(),
        token.as_uuid(),
        key,
        i16::try_from(status).map_err(|_| RepoError::corrupt("answer status"))?,
        body
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives `key` up after a failure that wrote nothing and is worth retrying (the database
/// was unreachable, the server failed): the next request with the key runs afresh.
pub async fn release(
    db: &Db,
    scope: &TenantScope,
    token: ApiTokenId,
    key: &str,
) -> Result<(), RepoError> {
    let mut tx = scope.begin(db).await?;
    sqlx::query!(
        "DELETE FROM api_idempotency
          WHERE tenant_id = $1 AND token_id = $2 AND key = $3 AND status IS NULL",
        scope.tenant_id().as_uuid(),
        token.as_uuid(),
        key
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
