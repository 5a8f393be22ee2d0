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
    insert_ticket(&mut tx, tenant.id(), user_id, token_digest, ttl_secs).await?;
    tx.commit().await?;
    Ok(())
}

/// The ticket row itself, inside a transaction already acting as `tenant_id` (registration
/// writes it together with the new workspace).
pub(crate) async fn insert_ticket(
    conn: &mut sqlx::PgConnection,
    tenant_id: domain::TenantId,
    user_id: UserId,
    token_digest: &str,
    ttl_secs: i64,
) -> Result<(), RepoError> {
    sqlx::query!(
        "INSERT INTO sign_in_tickets (tenant_id, token_digest, user_id, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))",
        tenant_id.as_uuid(),
        token_digest,
        user_id.as_uuid(),
        ttl_secs as f64
    )
    .execute(conn)
    .await?;
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

/// Counts this attempt as a failure before the password is even checked, unless the account
/// or the address is already at its limit. Serialised per account (and per address) by
/// advisory locks, so a burst of parallel guesses cannot all slip under the limit: each one
/// sees the ones before it. A correct password then takes its own row back
/// ([`sign_in_succeeded`]). Returns false when the attempt is refused.
pub async fn reserve_sign_in_attempt(
    db: &Db,
    tenant: &Tenant,
    email: &Email,
    address: &str,
    policy: ThrottlePolicy,
) -> Result<bool, RepoError> {
    let mut tx = begin_for_tenant(db, tenant.id()).await?;
    let counts = sqlx::query!(
        r#"WITH locks AS (
               SELECT pg_advisory_xact_lock(hashtextextended('sign-in:' || $1::uuid::text || ':' || $2, 0)),
                      pg_advisory_xact_lock(hashtextextended('sign-in-address:' || $3, 0))
           )
           SELECT
             (SELECT count(*) FROM sign_in_failures, locks
               WHERE tenant_id = $1 AND email = $2
                 AND failed_at > now() - make_interval(secs => $4)) AS "account!",
             (SELECT count(*) FROM sign_in_failures_by_address, locks
               WHERE address = $3::text::inet
                 AND failed_at > now() - make_interval(secs => $4)) AS "address!""#,
        tenant.id().as_uuid(),
        email.as_str(),
        address,
        policy.window_secs as f64
    )
    .fetch_one(&mut *tx)
    .await?;
    if counts.account >= policy.per_account || counts.address >= policy.per_address {
        tx.commit().await?;
        return Ok(false);
    }
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
    Ok(true)
}

/// A correct password clears the account's failures and takes back the one row this attempt
/// reserved for its address (one success does not vouch for other guesses from there).
pub async fn sign_in_succeeded(
    db: &Db,
    tenant: &Tenant,
    email: &Email,
    address: &str,
) -> Result<(), RepoError> {
    let mut tx = begin_for_tenant(db, tenant.id()).await?;
    sqlx::query!(
        "DELETE FROM sign_in_failures WHERE tenant_id = $1 AND email = $2",
        tenant.id().as_uuid(),
        email.as_str()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM sign_in_failures_by_address WHERE ctid IN (
             SELECT ctid FROM sign_in_failures_by_address WHERE address = $1::text::inet
              ORDER BY failed_at DESC LIMIT 1)",
        address
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
