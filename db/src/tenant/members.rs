//! A workspace's team: who is in it, invitations, roles and removal. The rules of power live
//! here, under the server functions: OWNER > ADMIN > MEMBER; an ADMIN manages everyone but
//! owners; only an OWNER gives, changes or takes away the owner role; the last OWNER stays.

use domain::{Email, InvitationId, LimitKind, PersonName, Role, TenantId, UserId};
use sqlx::PgConnection;
use time::OffsetDateTime;
use tower_sessions::session::Id as SessionId;

use crate::platform::sessions::end_member_sessions;
use crate::scope::end_read;
use crate::{Db, Refusal, RepoError, TenantScope};

#[derive(Debug, Clone)]
pub struct MemberSummary {
    pub user_id: UserId,
    pub name: String,
    pub email: Email,
    pub role: Role,
    pub last_sign_in_at: Option<OffsetDateTime>,
}

/// The scope's workspace team, owners first. Removed members are not part of it.
pub async fn list(db: &Db, scope: &TenantScope) -> Result<Vec<MemberSummary>, RepoError> {
    let mut tx = scope.begin(db).await?;
    let rows = sqlx::query!(
        "SELECT id, name, email, role, last_sign_in_at FROM users
          WHERE tenant_id = $1 AND removed_at IS NULL
          ORDER BY CASE role WHEN 'OWNER' THEN 0 WHEN 'ADMIN' THEN 1 ELSE 2 END, name, id",
        scope.tenant_id().as_uuid()
    )
    .fetch_all(&mut *tx)
    .await?;
    end_read(tx);
    rows.into_iter()
        .map(|r| {
            Ok(MemberSummary {
                user_id: UserId::from_uuid(r.id),
                name: r.name,
                email: parse_email(&r.email)?,
                role: parse_role(&r.role)?,
                last_sign_in_at: r.last_sign_in_at,
            })
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct InvitationSummary {
    pub id: InvitationId,
    pub email: Email,
    pub role: Role,
    pub invited_by: String,
    pub sent_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// Invitations not yet accepted or revoked, newest first (expired ones too: they can be
/// resent). ADMIN and OWNER only.
pub async fn open_invitations(
    db: &Db,
    scope: &TenantScope,
) -> Result<Vec<InvitationSummary>, RepoError> {
    scope.require(Role::Admin)?;
    let mut tx = scope.begin(db).await?;
    let rows = sqlx::query!(
        "SELECT i.id, i.email, i.role, u.name AS invited_by, i.sent_at, i.expires_at
           FROM invitations i
           JOIN users u ON u.tenant_id = i.tenant_id AND u.id = i.invited_by
          WHERE i.tenant_id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL
          ORDER BY i.created_at DESC, i.id",
        scope.tenant_id().as_uuid()
    )
    .fetch_all(&mut *tx)
    .await?;
    end_read(tx);
    rows.into_iter()
        .map(|r| {
            Ok(InvitationSummary {
                id: InvitationId::from_uuid(r.id),
                email: parse_email(&r.email)?,
                role: parse_role(&r.role)?,
                invited_by: r.invited_by,
                sent_at: r.sent_at,
                expires_at: r.expires_at,
            })
        })
        .collect()
}

/// A fresh link for an invitation: only the digest of its token is stored.
#[derive(Debug, Clone, Copy)]
pub struct InvitationLink<'a> {
    pub token_digest: &'a str,
    pub ttl_secs: i64,
}

/// Invites `email` as `role`. ADMIN and OWNER; only an OWNER invites an OWNER. An existing
/// member is `Refused(AlreadyMember)`; an open invitation for the same address is
/// `Conflict { field: "email" }` (resend that one instead). Counts against `max_members`.
pub async fn invite(
    db: &Db,
    scope: &TenantScope,
    email: &Email,
    role: Role,
    link: InvitationLink<'_>,
) -> Result<InvitationId, RepoError> {
    require_can_grant(scope, role)?;
    let tenant = scope.tenant_id().as_uuid();
    let mut tx = scope.begin(db).await?;
    still_grants_owner(&mut tx, scope, role).await?;
    if active_member_with_email(&mut tx, scope.tenant_id(), email).await? {
        return Err(RepoError::Refused(Refusal::AlreadyMember));
    }
    // Told before the limit: "already invited" is the useful answer even when full.
    let already_invited = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM invitations WHERE tenant_id = $1 AND email = $2
                            AND accepted_at IS NULL AND revoked_at IS NULL) AS "exists!""#,
        tenant,
        email.as_str()
    )
    .fetch_one(&mut *tx)
    .await?;
    if already_invited {
        return Err(RepoError::Conflict { field: "email" });
    }
    super::plan::reserve(&mut tx, scope.tenant_id(), LimitKind::Members, 1).await?;
    let id = uuid::Uuid::new_v4();
    sqlx::query!(
        "INSERT INTO invitations (tenant_id, id, email, role, token_digest, invited_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))",
        tenant,
        id,
        email.as_str(),
        role.as_str(),
        link.token_digest,
        scope.member().user_id.as_uuid(),
        link.ttl_secs as f64
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(InvitationId::from_uuid(id))
}

/// Sends an open invitation again with a new link (the old one stops working) and a new
/// expiry. Returns who it is for, to mail them.
pub async fn resend_invitation(
    db: &Db,
    scope: &TenantScope,
    id: InvitationId,
    link: InvitationLink<'_>,
) -> Result<(Email, Role), RepoError> {
    scope.require(Role::Admin)?;
    let tenant = scope.tenant_id().as_uuid();
    let mut tx = scope.begin(db).await?;
    let open = lock_open_invitation(&mut tx, scope, id).await?;
    require_can_grant(scope, open.role)?;
    still_grants_owner(&mut tx, scope, open.role).await?;
    if open.expired {
        // An expired invitation held no place in the team; renewing it takes one again.
        super::plan::reserve(&mut tx, scope.tenant_id(), LimitKind::Members, 1).await?;
    }
    sqlx::query!(
        "UPDATE invitations
            SET token_digest = $3, sent_at = now(), expires_at = now() + make_interval(secs => $4)
          WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.as_uuid(),
        link.token_digest,
        link.ttl_secs as f64
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((open.email, open.role))
}

/// Withdraws an open invitation; its link stops working at once.
pub async fn revoke_invitation(
    db: &Db,
    scope: &TenantScope,
    id: InvitationId,
) -> Result<(), RepoError> {
    scope.require(Role::Admin)?;
    let mut tx = scope.begin(db).await?;
    let open = lock_open_invitation(&mut tx, scope, id).await?;
    require_can_grant(scope, open.role)?;
    still_grants_owner(&mut tx, scope, open.role).await?;
    sqlx::query!(
        "UPDATE invitations SET revoked_at = now() WHERE tenant_id = $1 AND id = $2",
        scope.tenant_id().as_uuid(),
        id.as_uuid()
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives another member a new role and ends their sessions, so the change is felt at once.
pub async fn change_role(
    db: &Db,
    scope: &TenantScope,
    user_id: UserId,
    role: Role,
) -> Result<(), RepoError> {
    scope.require(Role::Admin)?;
    not_yourself(scope, user_id)?;
    let mut tx = scope.begin(db).await?;
    let owners = lock_owners(&mut tx, scope.tenant_id()).await?;
    let current = lock_member(&mut tx, scope.tenant_id(), user_id).await?;
    require_can_grant(scope, current)?;
    require_can_grant(scope, role)?;
    if current == Role::Owner || role == Role::Owner {
        still_an_owner(scope, &owners)?;
    }
    if current == role {
        tx.commit().await?;
        return Ok(());
    }
    keep_an_owner(&owners, user_id)?;
    set_role(&mut tx, scope.tenant_id(), user_id, role).await?;
    withdraw_invitations_beyond(&mut tx, scope.tenant_id(), user_id, Some(role)).await?;
    end_member_sessions(&mut tx, scope.tenant_id(), user_id, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Takes a member out of the workspace: they cannot sign in, their sessions and reset links
/// end now, and the orders they placed still name them.
pub async fn remove(db: &Db, scope: &TenantScope, user_id: UserId) -> Result<(), RepoError> {
    scope.require(Role::Admin)?;
    not_yourself(scope, user_id)?;
    let tenant = scope.tenant_id().as_uuid();
    let mut tx = scope.begin(db).await?;
    let owners = lock_owners(&mut tx, scope.tenant_id()).await?;
    let current = lock_member(&mut tx, scope.tenant_id(), user_id).await?;
    require_can_grant(scope, current)?;
    if current == Role::Owner {
        still_an_owner(scope, &owners)?;
    }
    keep_an_owner(&owners, user_id)?;
    sqlx::query!(
        "UPDATE users SET removed_at = now() WHERE tenant_id = $1 AND id = $2",
        tenant,
        user_id.as_uuid()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM sign_in_tickets WHERE tenant_id = $1 AND user_id = $2",
        tenant,
        user_id.as_uuid()
    )
    .execute(&mut *tx)
    .await?;
    withdraw_invitations_beyond(&mut tx, scope.tenant_id(), user_id, None).await?;
    end_member_sessions(&mut tx, scope.tenant_id(), user_id, None).await?;
    tx.commit().await?;
    Ok(())
}

/// The signed-in OWNER hands the owner role to another member and becomes an ADMIN, in one
/// transaction. The new owner's sessions end (their role changed); so do the old owner's
/// other sessions, while `keep` (the one making the change) stays signed in.
pub async fn transfer_ownership(
    db: &Db,
    scope: &TenantScope,
    to: UserId,
    keep: Option<&SessionId>,
) -> Result<(), RepoError> {
    scope.require(Role::Owner)?;
    not_yourself(scope, to)?;
    let me = scope.member().user_id;
    let mut tx = scope.begin(db).await?;
    let owners = lock_owners(&mut tx, scope.tenant_id()).await?;
    still_an_owner(scope, &owners)?;
    lock_member(&mut tx, scope.tenant_id(), to).await?;
    set_role(&mut tx, scope.tenant_id(), to, Role::Owner).await?;
    set_role(&mut tx, scope.tenant_id(), me, Role::Admin).await?;
    withdraw_invitations_beyond(&mut tx, scope.tenant_id(), me, Some(Role::Admin)).await?;
    end_member_sessions(&mut tx, scope.tenant_id(), to, None).await?;
    end_member_sessions(&mut tx, scope.tenant_id(), me, keep).await?;
    tx.commit().await?;
    Ok(())
}

/// The signed-in member's own name.
pub async fn rename_self(db: &Db, scope: &TenantScope, name: &PersonName) -> Result<(), RepoError> {
    let mut tx = scope.begin(db).await?;
    sqlx::query!(
        "UPDATE users SET name = $3 WHERE tenant_id = $1 AND id = $2 AND removed_at IS NULL",
        scope.tenant_id().as_uuid(),
        scope.member().user_id.as_uuid(),
        name.as_str()
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The signed-in member's password hash, to check the current password before a change.
pub async fn own_password_hash(db: &Db, scope: &TenantScope) -> Result<String, RepoError> {
    let mut tx = scope.begin(db).await?;
    let hash = sqlx::query_scalar!(
        "SELECT password_hash FROM users WHERE tenant_id = $1 AND id = $2 AND removed_at IS NULL",
        scope.tenant_id().as_uuid(),
        scope.member().user_id.as_uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(RepoError::NotFound)?;
    end_read(tx);
    Ok(hash)
}

/// Sets the signed-in member's password. Every other session of theirs ends and any reset
/// link they were sent stops working; `keep` (this browser's session) stays signed in.
pub async fn set_own_password(
    db: &Db,
    scope: &TenantScope,
    password_hash: &str,
    keep: Option<&SessionId>,
) -> Result<(), RepoError> {
    let mut tx = scope.begin(db).await?;
    set_password_in(
        &mut tx,
        scope.tenant_id(),
        scope.member().user_id,
        password_hash,
    )
    .await?;
    end_member_sessions(&mut tx, scope.tenant_id(), scope.member().user_id, keep).await?;
    tx.commit().await?;
    Ok(())
}

/// Stores a new password hash and voids the member's outstanding reset links.
pub(crate) async fn set_password_in(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    user_id: UserId,
    password_hash: &str,
) -> Result<(), RepoError> {
    sqlx::query!(
        "UPDATE users SET password_hash = $3 WHERE tenant_id = $1 AND id = $2",
        tenant_id.as_uuid(),
        user_id.as_uuid(),
        password_hash
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "DELETE FROM sign_in_tickets WHERE tenant_id = $1 AND user_id = $2 AND purpose = 'password_reset'",
        tenant_id.as_uuid(),
        user_id.as_uuid()
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn active_member_with_email(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    email: &Email,
) -> Result<bool, RepoError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND email = $2 AND removed_at IS NULL) AS "exists!""#,
        tenant_id.as_uuid(),
        email.as_str()
    )
    .fetch_one(&mut *conn)
    .await?)
}

struct OpenInvitation {
    email: Email,
    role: Role,
    expired: bool,
}

async fn lock_open_invitation(
    conn: &mut PgConnection,
    scope: &TenantScope,
    id: InvitationId,
) -> Result<OpenInvitation, RepoError> {
    let row = sqlx::query!(
        r#"SELECT email, role, accepted_at IS NULL AND revoked_at IS NULL AS "open!", expires_at <= now() AS "expired!"
             FROM invitations WHERE tenant_id = $1 AND id = $2 FOR UPDATE"#,
        scope.tenant_id().as_uuid(),
        id.as_uuid()
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(RepoError::NotFound)?;
    if !row.open {
        return Err(RepoError::Refused(Refusal::InvitationClosed));
    }
    Ok(OpenInvitation {
        email: parse_email(&row.email)?,
        role: parse_role(&row.role)?,
        expired: row.expired,
    })
}

/// Locks an active member's row and returns their role; a removed or unknown member (or one
/// of another workspace) is `NotFound`.
async fn lock_member(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    user_id: UserId,
) -> Result<Role, RepoError> {
    let role = sqlx::query_scalar!(
        "SELECT role FROM users WHERE tenant_id = $1 AND id = $2 AND removed_at IS NULL FOR UPDATE",
        tenant_id.as_uuid(),
        user_id.as_uuid()
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(RepoError::NotFound)?;
    parse_role(&role)
}

/// Locks the workspace's active owners, in id order. Every change that can touch the owner
/// role takes these locks first, so two such changes queue instead of deadlocking, and two
/// owners demoting each other at once cannot both succeed.
async fn lock_owners(
    conn: &mut PgConnection,
    tenant_id: TenantId,
) -> Result<Vec<uuid::Uuid>, RepoError> {
    Ok(sqlx::query_scalar!(
        "SELECT id FROM users WHERE tenant_id = $1 AND role = 'OWNER' AND removed_at IS NULL
          ORDER BY id FOR UPDATE",
        tenant_id.as_uuid()
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// The scope was built at the start of the request; an owner demoted since then must not
/// make one last owner-only change. Checked against the owners locked in this transaction.
/// An owner invitation is sent, renewed or withdrawn only by someone who is still an owner
/// once the owners are locked (a transfer or demotion may have just happened).
async fn still_grants_owner(
    conn: &mut PgConnection,
    scope: &TenantScope,
    role: Role,
) -> Result<(), RepoError> {
    if role != Role::Owner {
        return Ok(());
    }
    let owners = lock_owners(conn, scope.tenant_id()).await?;
    still_an_owner(scope, &owners)
}

fn still_an_owner(scope: &TenantScope, owners: &[uuid::Uuid]) -> Result<(), RepoError> {
    if owners.contains(&scope.member().user_id.as_uuid()) {
        Ok(())
    } else {
        Err(RepoError::Refused(Refusal::OwnersOnly))
    }
}

/// Refuses when `leaving` is the only one of `owners`.
fn keep_an_owner(owners: &[uuid::Uuid], leaving: UserId) -> Result<(), RepoError> {
    if owners.iter().all(|id| *id == leaving.as_uuid()) && owners.contains(&leaving.as_uuid()) {
        return Err(RepoError::Refused(Refusal::LastOwner));
    }
    Ok(())
}

/// Withdraws the open invitations `inviter` sent that their new role (`None`: removed) could
/// no longer send: an invitation must not carry power its sender has lost.
async fn withdraw_invitations_beyond(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    inviter: UserId,
    role: Option<Role>,
) -> Result<(), RepoError> {
    let still_grants: Vec<String> = match role {
        Some(Role::Owner) => return Ok(()),
        Some(Role::Admin) => vec![Role::Admin.as_str().into(), Role::Member.as_str().into()],
        Some(Role::Member) | None => Vec::new(),
    };
    sqlx::query!(
        "UPDATE invitations SET revoked_at = now()
          WHERE tenant_id = $1 AND invited_by = $2 AND accepted_at IS NULL AND revoked_at IS NULL
            AND NOT (role = ANY($3))",
        tenant_id.as_uuid(),
        inviter.as_uuid(),
        &still_grants
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn set_role(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    user_id: UserId,
    role: Role,
) -> Result<(), RepoError> {
    sqlx::query!(
        "UPDATE users SET role = $3 WHERE tenant_id = $1 AND id = $2",
        tenant_id.as_uuid(),
        user_id.as_uuid(),
        role.as_str()
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// ADMIN manages MEMBER and ADMIN; the OWNER role is an owner's to give or take.
fn require_can_grant(scope: &TenantScope, role: Role) -> Result<(), RepoError> {
    scope.require(Role::Admin)?;
    if role == Role::Owner && scope.member().role != Role::Owner {
        return Err(RepoError::Refused(Refusal::OwnersOnly));
    }
    Ok(())
}

fn not_yourself(scope: &TenantScope, user_id: UserId) -> Result<(), RepoError> {
    if scope.member().user_id == user_id {
        Err(RepoError::Refused(Refusal::NotOnYourself))
    } else {
        Ok(())
    }
}

fn parse_email(raw: &str) -> Result<Email, RepoError> {
    Email::parse(raw).map_err(|_| RepoError::corrupt("email"))
}

fn parse_role(raw: &str) -> Result<Role, RepoError> {
    raw.parse().map_err(|_| RepoError::corrupt("role"))
}
