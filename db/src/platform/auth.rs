use domain::{Email, UserId};

use crate::scope::begin_for_tenant;
use crate::{Db, RepoError, Tenant};

/// What sign-in needs to check a password. Looked up inside the tenant's own transaction, so
/// RLS keeps another workspace's account with the same email out of reach.
#[derive(Debug)]
pub struct Credentials {
    pub user_id: UserId,
    pub password_hash: String,
}

pub async fn find_credentials(
    db: &Db,
    tenant: &Tenant,
    email: &Email,
) -> Result<Option<Credentials>, RepoError> {
    let mut tx = begin_for_tenant(db, tenant.id()).await?;
    let row = sqlx::query!(
        "SELECT id, password_hash FROM users WHERE tenant_id = $1 AND email = $2",
        tenant.id().as_uuid(),
        email.as_str()
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row.map(|r| Credentials {
        user_id: UserId::from_uuid(r.id),
        password_hash: r.password_hash,
    }))
}

pub async fn record_sign_in(db: &Db, tenant: &Tenant, user_id: UserId) -> Result<(), RepoError> {
    let mut tx = begin_for_tenant(db, tenant.id()).await?;
    sqlx::query!(
        "UPDATE users SET last_sign_in_at = now() WHERE tenant_id = $1 AND id = $2",
        tenant.id().as_uuid(),
        user_id.as_uuid()
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Stores a sign-in ticket (its digest only) for a member of `tenant`, valid for `ttl_secs`.
pub async fn issue_ticket(
    db: &Db,
    tenant: &Tenant,
    user_id: UserId,
    token_digest: &str,
    ttl_secs: i64,
) -> Result<(), RepoError> {
    let mut tx = begin_for_tenant(db, tenant.id()).await?;
    sqlx::query!(
        "INSERT INTO sign_in_tickets (tenant_id, token_digest, user_id, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
        tenant.id().as_uuid(),
        token_digest,
        user_id.as_uuid(),
        ttl_secs as f64
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Spends a ticket: deleted whether or not it is still valid, so it works at most once, and
/// only on the workspace it was issued for (RLS hides every other tenant's tickets).
pub async fn redeem_ticket(
    db: &Db,
    tenant: &Tenant,
    token_digest: &str,
) -> Result<Option<UserId>, RepoError> {
    let mut tx = begin_for_tenant(db, tenant.id()).await?;
    let row = sqlx::query!(
        "DELETE FROM sign_in_tickets WHERE tenant_id = $1 AND token_digest = $2
         RETURNING user_id, expires_at > now() AS \"valid!\"",
        tenant.id().as_uuid(),
        token_digest
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row
        .filter(|r| r.valid)
        .map(|r| UserId::from_uuid(r.user_id)))
}

/// How many sign-ins may fail within the window before further attempts are refused.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub per_account: i64,
    pub per_address: i64,
    pub window_secs: i64,
}

/// True when either counter is at its limit. Counts live in the database, so they hold across
/// server processes and cannot be reset by dropping a cookie.
pub async fn sign_in_throttled(
    db: &Db,
    tenant: &Tenant,
    email: &Email,
    address: &str,
    policy: ThrottlePolicy,
) -> Result<bool, RepoError> {
    let mut tx = begin_for_tenant(db, tenant.id()).await?;
    let counts = sqlx::query!(
        r#"SELECT
             (SELECT count(*) FROM sign_in_failures
               WHERE tenant_id = $1 AND email = $2
                 AND failed_at > now() - make_interval(secs => $4)) AS "account!",
             (SELECT count(*) FROM sign_in_failures_by_address
               WHERE address = $3::text::inet
                 AND failed_at > now() - make_interval(secs => $4)) AS "address!""#,
        tenant.id().as_uuid(),
        email.as_str(),
        address,
        policy.window_secs as f64
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(counts.account >= policy.per_account || counts.address >= policy.per_address)
}

pub async fn record_sign_in_failure(
    db: &Db,
    tenant: &Tenant,
    email: &Email,
    address: &str,
    policy: ThrottlePolicy,
) -> Result<(), RepoError> {
    let mut tx = begin_for_tenant(db, tenant.id()).await?;
    // Old rows are pruned as new ones arrive, so the tables stay the size of one window.
    sqlx::query!(
        "DELETE FROM sign_in_failures WHERE tenant_id = $1 AND email = $2
           AND failed_at < now() - make_interval(secs => $3)",
        tenant.id().as_uuid(),
        email.as_str(),
        policy.window_secs as f64
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO sign_in_failures (tenant_id, email) VALUES ($1, $2)",
        tenant.id().as_uuid(),
        email.as_str()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM sign_in_failures_by_address WHERE address = $1::text::inet
           AND failed_at < now() - make_interval(secs => $2)",
        address,
        policy.window_secs as f64
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO sign_in_failures_by_address (address) VALUES ($1::text::inet)",
        address
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A successful sign-in clears that account's failures (not the address's: one success does
/// not vouch for every other guess from the same place).
pub async fn clear_sign_in_failures(
    db: &Db,
    tenant: &Tenant,
    email: &Email,
) -> Result<(), RepoError> {
    let mut tx = begin_for_tenant(db, tenant.id()).await?;
    sqlx::query!(
        "DELETE FROM sign_in_failures WHERE tenant_id = $1 AND email = $2",
        tenant.id().as_uuid(),
        email.as_str()
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
