//! Invitations to a workspace's team: sent by mail with a single-use link, renewed, withdrawn.
//! They follow the team's rules of power (see `members`): an invitation never carries a role
//! its sender could not give.

use domain::{Email, InvitationId, LimitKind, Role, TenantId, UserId};
use sqlx::PgConnection;
use time::OffsetDateTime;

use super::members::{
    active_member_with_email, lock_owners, parse_email, parse_role, require_can_grant,
    still_an_owner,
};
use crate::scope::end_read;
use crate::{Db, Refusal, RepoError, TenantScope};

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
///
/// `deliver` sends the link. It runs inside the invitation's transaction, after every check
/// and before the commit: an invitation whose mail could not go out is not kept (it would
/// hold a place in the team and make a retry say "already invited"), and the link itself is
/// never stored, only its digest.
pub async fn invite<E: std::fmt::Display>(
    db: &Db,
    scope: &TenantScope,
    email: &Email,
    role: Role,
    link: InvitationLink<'_>,
    deliver: impl std::future::Future<Output = Result<(), E>>,
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
    RepoError::delegated("sending the invitation", deliver).await?;
    tx.commit().await?;
    Ok(InvitationId::from_uuid(id))
}

/// Sends an open invitation again with a new link (the old one stops working) and a new
/// expiry. `deliver` is given who it is for and sends the link, inside the transaction as for
/// [`invite`]: if the mail cannot go out, the old link keeps working.
pub async fn resend_invitation<E: std::fmt::Display, F>(
    db: &Db,
    scope: &TenantScope,
    id: InvitationId,
    link: InvitationLink<'_>,
    deliver: impl FnOnce(Email, Role) -> F,
) -> Result<(), RepoError>
where
    F: std::future::Future<Output = Result<(), E>>,
{
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
    RepoError::delegated("resending the invitation", deliver(open.email, open.role)).await?;
    tx.commit().await?;
    Ok(())
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

/// Withdraws the open invitations `inviter` sent that their new role (`None`: removed) could
/// no longer send: an invitation must not carry power its sender has lost.
pub(super) async fn withdraw_invitations_beyond(
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
