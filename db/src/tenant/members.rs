//! A workspace's team: who is in it, roles and removal (invitations are in `invitations`). The
//! rules of power live here, under the server functions: OWNER > ADMIN > MEMBER; an ADMIN
//! manages everyone but owners; only an OWNER gives, changes or takes away the owner role; the
//! last OWNER stays.

use domain::{Email, PersonName, Role, TenantId, UserId};
use sqlx::PgConnection;
use time::OffsetDateTime;
use tower_sessions::session::Id as SessionId;

use super::invitations::withdraw_invitations_beyond;
use crate::caches::member_changed;
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
    let mut ended =
        end_member_sessions(tx.control(db).await?, scope.tenant_id(), user_id, None).await?;
    ended.push(member_changed(tx.control(db).await?, user_id).await?);
    tx.commit().await?;
    db.forget_everywhere(&ended).await;
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
    crate::platform::directory::unlist_member(&mut tx, db, user_id.as_uuid()).await?;
    let mut ended =
        end_member_sessions(tx.control(db).await?, scope.tenant_id(), user_id, None).await?;
    ended.push(member_changed(tx.control(db).await?, user_id).await?);
    tx.commit().await?;
    db.forget_everywhere(&ended).await;
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
    let mut ended = end_member_sessions(tx.control(db).await?, scope.tenant_id(), to, None).await?;
    ended.extend(end_member_sessions(tx.control(db).await?, scope.tenant_id(), me, keep).await?);
    ended.push(member_changed(tx.control(db).await?, to).await?);
    ended.push(member_changed(tx.control(db).await?, me).await?);
    tx.commit().await?;
    db.forget_everywhere(&ended).await;
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
    let ended = end_member_sessions(
        tx.control(db).await?,
        scope.tenant_id(),
        scope.member().user_id,
        keep,
    )
    .await?;
    tx.commit().await?;
    db.forget_everywhere(&ended).await;
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
pub(super) async fn lock_owners(
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

pub(super) fn still_an_owner(scope: &TenantScope, owners: &[uuid::Uuid]) -> Result<(), RepoError> {
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
pub(super) fn require_can_grant(scope: &TenantScope, role: Role) -> Result<(), RepoError> {
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

pub(super) fn parse_email(raw: &str) -> Result<Email, RepoError> {
    Email::parse(raw).map_err(|_| RepoError::corrupt("email"))
}

pub(super) fn parse_role(raw: &str) -> Result<Role, RepoError> {
    raw.parse().map_err(|_| RepoError::corrupt("role"))
}
