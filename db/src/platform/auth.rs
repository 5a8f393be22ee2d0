use domain::{Email, UserId};

use crate::scope::begin_for_tenant;
use crate::scope::end_read;
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
    let mut tx = begin_for_tenant(db, tenant).await?;
    let row = sqlx::query!(
        "SELECT id, password_hash FROM users WHERE tenant_id = $1 AND email = $2 AND removed_at IS NULL",
        tenant.id().as_uuid(),
        email.as_str()
    )
    .fetch_optional(&mut *tx)
    .await?;
    end_read(tx);
    Ok(row.map(|r| Credentials {
        user_id: UserId::from_uuid(r.id),
        password_hash: r.password_hash,
    }))
}

/// A password hash made with older settings and its replacement, made at sign-in from the
/// password just checked against it. The replacement is stored only while the row still holds
/// the checked hash, so a password changed in the meantime is never overwritten.
#[derive(Debug, Clone, Copy)]
pub struct Rehash<'a> {
    pub checked: &'a str,
    pub replacement: &'a str,
}

/// Notes the sign-in time, and stores `rehash`'s new hash when there is one. The password is
/// the same, so the member's other sessions stay signed in.
pub async fn record_sign_in(
    db: &Db,
    tenant: &Tenant,
    user_id: UserId,
    rehash: Option<Rehash<'_>>,
) -> Result<(), RepoError> {
    let mut tx = begin_for_tenant(db, tenant).await?;
    sqlx::query!(
        "UPDATE users SET last_sign_in_at = now(),
                password_hash = CASE WHEN password_hash = $3 THEN $4 ELSE password_hash END
          WHERE tenant_id = $1 AND id = $2",
        tenant.id().as_uuid(),
        user_id.as_uuid(),
        rehash.map(|r| r.checked),
        rehash.map(|r| r.replacement)
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What a single-use link is for. A link made for one purpose never works for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketPurpose {
    /// The hand-off from registration on the public site to the new workspace's host.
    Welcome,
    /// "Forgot your password": sets a new one.
    PasswordReset,
}

impl TicketPurpose {
    fn as_str(self) -> &'static str {
        match self {
            TicketPurpose::Welcome => "welcome",
            TicketPurpose::PasswordReset => "password_reset",
        }
    }
}

/// Stores a sign-in ticket (its digest only) for a member of `tenant`, valid for `ttl_secs`.
pub async fn issue_ticket(
    db: &Db,
    tenant: &Tenant,
    user_id: UserId,
    purpose: TicketPurpose,
    token_digest: &str,
    ttl_secs: i64,
) -> Result<(), RepoError> {
    let mut tx = begin_for_tenant(db, tenant).await?;
    insert_ticket(
        &mut tx,
        tenant.id(),
        user_id,
        purpose,
        token_digest,
        ttl_secs,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The ticket row itself, inside a transaction already acting as `tenant_id` (registration
/// writes it together with the new workspace).
pub(crate) async fn insert_ticket(
    conn: &mut sqlx::PgConnection,
    tenant_id: domain::TenantId,
    user_id: UserId,
    purpose: TicketPurpose,
    token_digest: &str,
    ttl_secs: i64,
) -> Result<(), RepoError> {
    sqlx::query!(
        "INSERT INTO sign_in_tickets (tenant_id, token_digest, user_id, expires_at, purpose)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5)",
        tenant_id.as_uuid(),
        token_digest,
        user_id.as_uuid(),
        ttl_secs as f64,
        purpose.as_str()
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Spends a ticket: deleted whether or not it is still valid, so it works at most once, and
/// only on the workspace it was issued for (RLS hides every other tenant's tickets) and for
/// the purpose it was made for.
pub async fn redeem_ticket(
    db: &Db,
    tenant: &Tenant,
    purpose: TicketPurpose,
    token_digest: &str,
) -> Result<Option<UserId>, RepoError> {
    let mut tx = begin_for_tenant(db, tenant).await?;
    let user = take_ticket(&mut tx, tenant.id(), purpose, token_digest).await?;
    tx.commit().await?;
    Ok(user)
}

async fn take_ticket(
    conn: &mut sqlx::PgConnection,
    tenant_id: domain::TenantId,
    purpose: TicketPurpose,
    token_digest: &str,
) -> Result<Option<UserId>, RepoError> {
    let row = sqlx::query!(
        "DELETE FROM sign_in_tickets WHERE tenant_id = $1 AND token_digest = $2 AND purpose = $3
         RETURNING user_id, expires_at > now() AS \"valid!\"",
        tenant_id.as_uuid(),
        token_digest,
        purpose.as_str()
    )
    .fetch_optional(conn)
    .await?;
    Ok(row
        .filter(|r| r.valid)
        .map(|r| UserId::from_uuid(r.user_id)))
}

/// Whether a ticket would still work, without spending it (to show the reset form, or say
/// at once that the link has expired).
pub async fn ticket_is_valid(
    db: &Db,
    tenant: &Tenant,
    purpose: TicketPurpose,
    token_digest: &str,
) -> Result<bool, RepoError> {
    let mut tx = begin_for_tenant(db, tenant).await?;
    let valid = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM sign_in_tickets t JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.user_id
                           WHERE t.tenant_id = $1 AND t.token_digest = $2 AND t.purpose = $3
                             AND t.expires_at > now() AND u.removed_at IS NULL) AS "valid!""#,
        tenant.id().as_uuid(),
        token_digest,
        purpose.as_str()
    )
    .fetch_one(&mut *tx)
    .await?;
    end_read(tx);
    Ok(valid)
}

/// "Forgot your password": stores a reset link for the active member with `email`, if there
/// is one, and returns their name to greet them in the mail. `None` says only that no mail
/// should go out; the caller answers the same either way.
pub async fn issue_password_reset(
    db: &Db,
    tenant: &Tenant,
    email: &Email,
    token_digest: &str,
    ttl_secs: i64,
) -> Result<Option<String>, RepoError> {
    let mut tx = begin_for_tenant(db, tenant).await?;
    let member = sqlx::query!(
        "SELECT id, name FROM users WHERE tenant_id = $1 AND email = $2 AND removed_at IS NULL",
        tenant.id().as_uuid(),
        email.as_str()
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(member) = member else {
        tx.commit().await?;
        return Ok(None);
    };
    insert_ticket(
        &mut tx,
        tenant.id(),
        UserId::from_uuid(member.id),
        TicketPurpose::PasswordReset,
        token_digest,
        ttl_secs,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(member.name))
}

/// Spends a reset link and sets the new password. Every session of the member ends (whoever
/// had the old password is out) and their other reset links stop working. `None`: the link
/// was unknown, used, expired, or its member was removed.
///
/// `hash` makes the new password's hash; it runs only once the link proved alive (and is
/// spent), so a stream of dead links costs no hashing.
pub async fn reset_password<E: std::fmt::Display>(
    db: &Db,
    tenant: &Tenant,
    token_digest: &str,
    hash: impl std::future::Future<Output = Result<String, E>>,
) -> Result<Option<UserId>, RepoError> {
    let mut tx = begin_for_tenant(db, tenant).await?;
    let Some(user_id) = take_ticket(
        &mut tx,
        tenant.id(),
        TicketPurpose::PasswordReset,
        token_digest,
    )
    .await?
    else {
        tx.commit().await?;
        return Ok(None);
    };
    let active = sqlx::query_scalar!(
        r#"SELECT removed_at IS NULL AS "active!" FROM users WHERE tenant_id = $1 AND id = $2 FOR UPDATE"#,
        tenant.id().as_uuid(),
        user_id.as_uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .unwrap_or(false);
    if !active {
        tx.commit().await?;
        return Ok(None);
    }
    let password_hash = RepoError::delegated("hashing the new password", hash).await?;
    crate::tenant::members::set_password_in(&mut tx, tenant.id(), user_id, &password_hash).await?;
    let ended = crate::platform::sessions::end_member_sessions(
        tx.control(db).await?,
        tenant.id(),
        user_id,
        None,
    )
    .await?;
    tx.commit().await?;
    db.forget_everywhere(&ended).await;
    Ok(Some(user_id))
}
