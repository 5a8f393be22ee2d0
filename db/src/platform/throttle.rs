//! Sign-in throttling. Failures count per account and per client address within a window; a
//! burst of parallel guesses cannot slip under either limit. A member's own known device
//! (a browser that signed in before and holds its cookie) is held back only by its own
//! failures, so nobody can lock a member out of their own browser by failing on purpose.

use domain::{Email, UserId};

use crate::scope::begin_for_tenant;
use crate::{Db, RepoError, Tenant};

/// How many sign-ins may fail within the window before further attempts are refused.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub per_account: i64,
    pub per_address: i64,
    /// Failures from one known device; the account's and the address's counts do not apply
    /// to it.
    pub per_device: i64,
    pub window_secs: i64,
}

/// How an attempt was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Over a limit: refused before the password is checked.
    Refused,
    /// From a device the account's member signed in from before: counted for that device.
    FromKnownDevice,
    /// From anywhere else: counted for the account and the address.
    FromElsewhere,
}

/// Counts this attempt as a failure before the password is even checked, unless a limit is
/// already reached. Serialised by advisory locks, so a burst of parallel guesses cannot all
/// slip under a limit: each one sees the ones before it. A correct password then takes its
/// own row back ([`sign_in_succeeded`]). `device` is the digest of the browser's device
/// cookie, if it sent one.
pub async fn reserve_sign_in_attempt(
    db: &Db,
    tenant: &Tenant,
    email: &Email,
    address: &str,
    device: Option<&str>,
    policy: ThrottlePolicy,
) -> Result<Attempt, RepoError> {
    let tenant_id = tenant.id().as_uuid();
    let mut tx = begin_for_tenant(db, tenant).await?;
    let known_device = match device {
        Some(device) => sqlx::query_scalar!(
            r#"SELECT EXISTS (
                   SELECT 1 FROM known_devices d
                     JOIN users u ON u.tenant_id = d.tenant_id AND u.id = d.user_id
                    WHERE d.tenant_id = $1 AND d.token_digest = $2 AND u.email = $3
                      AND u.removed_at IS NULL) AS "known!""#,
            tenant_id,
            device,
            email.as_str()
        )
        .fetch_one(&mut *tx)
        .await?
        .then_some(device),
        None => None,
    };
    // The locks in statements of their own: a statement sees the rows committed before it
    // started, so counting in the statement that waited for a lock would miss the failure the
    // previous holder just recorded, and a burst would slip through.
    if let Some(device) = known_device {
        sqlx::query!(
            "SELECT pg_advisory_xact_lock(hashtextextended('sign-in-device:' || $1::uuid::text || ':' || $2, 0))",
            tenant_id,
            device
        )
        .execute(&mut *tx)
        .await?;
        let failures = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM sign_in_failures
                WHERE tenant_id = $1 AND device_digest = $2
                  AND failed_at > now() - make_interval(secs => $3)"#,
            tenant_id,
            device,
            policy.window_secs as f64
        )
        .fetch_one(&mut *tx)
        .await?;
        if failures >= policy.per_device {
            tx.commit().await?;
            return Ok(Attempt::Refused);
        }
        sqlx::query!(
            "INSERT INTO sign_in_failures (tenant_id, email, device_digest) VALUES ($1, $2, $3)",
            tenant_id,
            email.as_str(),
            device
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return Ok(Attempt::FromKnownDevice);
    }
    // The account's failures live with the workspace's data; the address's are counted
    // across every workspace, in the control database (`TenantTx::control`).
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('sign-in:' || $1::uuid::text || ':' || $2, 0))",
        tenant_id,
        email.as_str()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended('sign-in-address:' || $1, 0))",
        address
    )
    .execute(tx.control(db).await?)
    .await?;
    let account = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM sign_in_failures
            WHERE tenant_id = $1 AND email = $2 AND device_digest IS NULL
              AND failed_at > now() - make_interval(secs => $3)"#,
        tenant_id,
        email.as_str(),
        policy.window_secs as f64
    )
    .fetch_one(&mut *tx)
    .await?;
    let from_address = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM sign_in_failures_by_address
            WHERE address = $1::text::inet AND failed_at > now() - make_interval(secs => $2)"#,
        address,
        policy.window_secs as f64
    )
    .fetch_one(tx.control(db).await?)
    .await?;
    if account >= policy.per_account || from_address >= policy.per_address {
        tx.commit().await?;
        return Ok(Attempt::Refused);
    }
    // Old rows are pruned as new ones arrive, so the tables stay the size of one window.
    sqlx::query!(
        "DELETE FROM sign_in_failures WHERE tenant_id = $1 AND email = $2
           AND failed_at < now() - make_interval(secs => $3)",
        tenant_id,
        email.as_str(),
        policy.window_secs as f64
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO sign_in_failures (tenant_id, email) VALUES ($1, $2)",
        tenant_id,
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
    .execute(tx.control(db).await?)
    .await?;
    sqlx::query!(
        "INSERT INTO sign_in_failures_by_address (address) VALUES ($1::text::inet)",
        address
    )
    .execute(tx.control(db).await?)
    .await?;
    tx.commit().await?;
    Ok(Attempt::FromElsewhere)
}

/// A correct password clears the account's failures (or the known device's), and takes back
/// the one row an attempt from elsewhere reserved for its address (one success does not vouch
/// for other guesses from there).
pub async fn sign_in_succeeded(
    db: &Db,
    tenant: &Tenant,
    email: &Email,
    address: &str,
    device: Option<&str>,
    attempt: Attempt,
) -> Result<(), RepoError> {
    let mut tx = begin_for_tenant(db, tenant).await?;
    match (attempt, device) {
        (Attempt::FromKnownDevice, Some(device)) => {
            sqlx::query!(
                "DELETE FROM sign_in_failures WHERE tenant_id = $1 AND device_digest = $2",
                tenant.id().as_uuid(),
                device
            )
            .execute(&mut *tx)
            .await?;
        }
        _ => {
            sqlx::query!(
                "DELETE FROM sign_in_failures WHERE tenant_id = $1 AND email = $2 AND device_digest IS NULL",
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
            .execute(tx.control(db).await?)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// How many devices a member keeps; signing in from a new one forgets the least recent.
const DEVICES_KEPT: i64 = 20;

/// Records (or refreshes) the device a member just signed in from, by its cookie's digest.
pub async fn remember_device(
    db: &Db,
    tenant: &Tenant,
    user_id: UserId,
    device: &str,
) -> Result<(), RepoError> {
    let mut tx = begin_for_tenant(db, tenant).await?;
    sqlx::query!(
        "INSERT INTO known_devices (tenant_id, user_id, token_digest) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id, token_digest) DO UPDATE SET last_used_at = now()
          WHERE known_devices.user_id = EXCLUDED.user_id",
        tenant.id().as_uuid(),
        user_id.as_uuid(),
        device
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM known_devices WHERE tenant_id = $1 AND user_id = $2 AND token_digest NOT IN (
             SELECT token_digest FROM known_devices WHERE tenant_id = $1 AND user_id = $2
              ORDER BY last_used_at DESC LIMIT $3)",
        tenant.id().as_uuid(),
        user_id.as_uuid(),
        DEVICES_KEPT
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
