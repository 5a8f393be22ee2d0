//! Accepting an invitation: the invitee is not a member yet, so this runs on the workspace the
//! Host names, inside that tenant's transaction. RLS keeps every other workspace's invitations
//! out of reach: another tenant's link looks exactly like one that never existed.

use domain::{Email, LimitKind, PersonName, Role, UserId};
use time::OffsetDateTime;

use crate::scope::begin_for_tenant;
use crate::scope::end_read;
use crate::{Db, Refusal, RepoError, Tenant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    Open,
    Expired,
    Accepted,
    Revoked,
}

#[derive(Debug, Clone)]
pub struct InvitationDetails {
    pub email: Email,
    pub role: Role,
    pub invited_by: String,
    pub expires_at: OffsetDateTime,
    pub state: InvitationState,
}

/// The invitation behind a link on `tenant`, whatever its state; `None` when this workspace
/// never issued it (or the link was replaced by a newer one).
pub async fn find(
    db: &Db,
    tenant: &Tenant,
    token_digest: &str,
) -> Result<Option<InvitationDetails>, RepoError> {
    let mut tx = begin_for_tenant(db, tenant).await?;
    let row = sqlx::query!(
        r#"SELECT i.email, i.role, u.name AS invited_by, i.expires_at,
                  i.accepted_at IS NOT NULL AS "accepted!", i.revoked_at IS NOT NULL AS "revoked!",
                  i.expires_at <= now() AS "expired!"
             FROM invitations i
             JOIN users u ON u.tenant_id = i.tenant_id AND u.id = i.invited_by
            WHERE i.tenant_id = $1 AND i.token_digest = $2"#,
        tenant.id().as_uuid(),
        token_digest
    )
    .fetch_optional(&mut *tx)
    .await?;
    end_read(tx);
    row.map(|r| {
        let state = if r.accepted {
            InvitationState::Accepted
        } else if r.revoked {
            InvitationState::Revoked
        } else if r.expired {
            InvitationState::Expired
        } else {
            InvitationState::Open
        };
        Ok(InvitationDetails {
            email: Email::parse(&r.email).map_err(|_| RepoError::corrupt("invitations.email"))?,
            role: r
                .role
                .parse()
                .map_err(|_| RepoError::corrupt("invitations.role"))?,
            invited_by: r.invited_by,
            expires_at: r.expires_at,
            state,
        })
    })
    .transpose()
}

/// Turns an open invitation into a member with the invited email and role, in one
/// transaction: the invitation is spent (it works once), and a member removed earlier comes
/// back under the same account, so their old orders stay theirs. Refused with
/// `InvitationClosed` when used, revoked or expired; `NotFound` for a link this workspace
/// never issued. `hash` makes the new member's password hash; it runs only once the
/// invitation is found open and locked, so a stream of bogus links costs no hashing.
pub async fn accept<E: std::fmt::Display>(
    db: &Db,
    tenant: &Tenant,
    token_digest: &str,
    name: &PersonName,
    hash: impl std::future::Future<Output = Result<String, E>>,
) -> Result<UserId, RepoError> {
    let tenant_id = tenant.id().as_uuid();
    let mut tx = begin_for_tenant(db, tenant).await?;
    let invitation = sqlx::query!(
        r#"SELECT id, email, role,
                  accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now() AS "open!"
             FROM invitations WHERE tenant_id = $1 AND token_digest = $2 FOR UPDATE"#,
        tenant_id,
        token_digest
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(RepoError::NotFound)?;
    if !invitation.open {
        return Err(RepoError::Refused(Refusal::InvitationClosed));
    }
    let password_hash = RepoError::delegated("hashing the new password", hash).await?;
    // The open invitation already holds its place in the count; accepting adds nobody.
    crate::tenant::plan::reserve(&mut tx, tenant.id(), LimitKind::Members, 0).await?;
    let existing = sqlx::query!(
        r#"SELECT id, removed_at IS NOT NULL AS "removed!" FROM users
            WHERE tenant_id = $1 AND email = $2 FOR UPDATE"#,
        tenant_id,
        invitation.email
    )
    .fetch_optional(&mut *tx)
    .await?;
    let user_id = match existing {
        Some(user) if !user.removed => return Err(RepoError::Refused(Refusal::AlreadyMember)),
        Some(user) => {
            sqlx::query!(
                "UPDATE users SET name = $3, password_hash = $4, role = $5, removed_at = NULL,
                        last_sign_in_at = now()
                  WHERE tenant_id = $1 AND id = $2",
                tenant_id,
                user.id,
                name.as_str(),
                password_hash.as_str(),
                invitation.role
            )
            .execute(&mut *tx)
            .await?;
            user.id
        }
        None => {
            let id = uuid::Uuid::new_v4();
            sqlx::query!(
                "INSERT INTO users (tenant_id, id, email, name, password_hash, role, last_sign_in_at)
                 VALUES ($1, $2, $3, $4, $5, $6, now())",
                tenant_id,
                id,
                invitation.email,
                name.as_str(),
                password_hash.as_str(),
                invitation.role
            )
            .execute(&mut *tx)
            .await?;
            id
        }
    };
    sqlx::query!(
        "UPDATE invitations SET accepted_at = now() WHERE tenant_id = $1 AND id = $2",
        tenant_id,
        invitation.id
    )
    .execute(&mut *tx)
    .await?;
    super::directory::list_member(&mut tx, db, user_id, &invitation.email).await?;
    tx.commit().await?;
    Ok(UserId::from_uuid(user_id))
}
