//! The team page: members, invitations, roles and removal. The rules (who may do what to
//! whom) are enforced by the repository under these functions; the page only mirrors them.

use domain::Role;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// "2026-11-23 14:05 UTC", or "Never".
    pub last_sign_in: String,
    pub is_you: bool,
    /// Whether the viewer may change this member's role or remove them.
    pub manageable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub invited_by: String,
    pub sent_at: String,
    pub expires_at: String,
    pub expired: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamView {
    pub members: Vec<MemberRow>,
    pub invitations: Vec<InvitationRow>,
    /// The roles the viewer may give (OWNER only for owners).
    pub grantable: Vec<Role>,
    pub viewer_role: Role,
    pub usage: Option<super::common::UsageView>,
}

/// The team page's content. OWNER and ADMIN only.
#[server(output = crate::codec::TextJson)]
pub async fn load_team() -> Result<TeamView, AppError> {
    use super::common::{usage_of, when};

    let call = crate::ssr::MemberCall::open()?;
    call.require(Role::Admin)?;
    let viewer = call.role();
    let (db, scope) = (call.db(), call.scope());
    let members = call.run(db::tenant::members::list(db, scope)).await?;
    let invitations = call
        .run(db::tenant::invitations::open_invitations(db, scope))
        .await?;
    let entitlements = call.run(db::tenant::plan::entitlements(db, scope)).await?;
    let now = time::OffsetDateTime::now_utc();
    let can_touch = |role: Role| viewer == Role::Owner || role != Role::Owner;
    Ok(TeamView {
        members: members
            .into_iter()
            .map(|m| {
                let is_you = m.user_id == scope.member().user_id;
                MemberRow {
                    id: m.user_id.to_string(),
                    name: m.name,
                    email: m.email.to_string(),
                    role: m.role,
                    last_sign_in: m
                        .last_sign_in_at
                        .map(when)
                        .unwrap_or_else(|| "Never".into()),
                    is_you,
                    manageable: !is_you && can_touch(m.role),
                }
            })
            .collect(),
        invitations: invitations
            .into_iter()
            .map(|i| InvitationRow {
                id: i.id.to_string(),
                email: i.email.to_string(),
                role: i.role,
                invited_by: i.invited_by,
                sent_at: when(i.sent_at),
                expires_at: when(i.expires_at),
                expired: i.expires_at <= now,
            })
            .collect(),
        grantable: [Role::Member, Role::Admin, Role::Owner]
            .into_iter()
            .filter(|r| can_touch(*r))
            .collect(),
        viewer_role: viewer,
        usage: entitlements.limit(domain::LimitKind::Members).map(usage_of),
    })
}

#[cfg(feature = "ssr")]
const ROLE_CHOICE: &str = "Choose Member, Admin or Owner.";

#[cfg(feature = "ssr")]
fn parse_role(raw: &str) -> Result<Role, AppError> {
    raw.parse()
        .map_err(|_| AppError::field("role", ROLE_CHOICE))
}

#[cfg(feature = "ssr")]
fn parse_id(raw: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(raw.trim()).map_err(|_| AppError::NotFound)
}

#[cfg(feature = "ssr")]
async fn mail_invitation(
    call: &crate::ssr::MemberCall,
    email: &domain::Email,
    role: Role,
    token: &str,
) -> Result<(), crate::ssr::mail::MailError> {
    let (settings, tenant) = (call.settings(), call.tenant());
    let link = format!(
        "{}/invite/{token}",
        settings.workspace_url(tenant.slug().as_str())
    );
    let hours = settings.invitation_ttl.as_secs() / 3600;
    let body = format!(
        "{inviter} invited you to join {workspace} on Stockroom as {role}.\n\n\
         Accept the invitation here (the link works once, for {hours} hours):\n\n  {link}\n\n\
         If you did not expect this, you can ignore this message.\n",
        inviter = call.scope().member().name,
        workspace = tenant.name(),
        role = role.label(),
    );
    call.services()
        .mailer
        .send(
            email,
            &format!("You're invited to {} on Stockroom", tenant.name()),
            body,
        )
        .await
}

/// The link of a new or renewed invitation, valid for the configured time.
#[cfg(feature = "ssr")]
fn invitation_link<'a>(
    call: &crate::ssr::MemberCall,
    digest: &'a str,
) -> db::tenant::invitations::InvitationLink<'a> {
    db::tenant::invitations::InvitationLink {
        token_digest: digest,
        ttl_secs: call.settings().invitation_ttl.as_secs() as i64,
    }
}

/// Invites someone by email with a role, and mails them a single-use link. The invitation is
/// kept only if its mail went out.
#[server(output = crate::codec::TextJson)]
pub async fn invite_member(email: String, role: String) -> Result<(), AppError> {
    use crate::ssr::call::ALREADY_MEMBER;
    use crate::FieldErrors;
    use db::{Refusal, RepoError};

    let call = crate::ssr::MemberCall::open()?;
    call.require(Role::Admin)?;
    let mut errors = FieldErrors::default();
    let email = errors.check("email", domain::Email::parse(&email));
    let role = errors.check("role", role.parse::<Role>().map_err(|_| ROLE_CHOICE));
    let (email, role) = errors.into_values((email, role))?;
    let (token, digest) = crate::ssr::tokens::new_token();
    db::tenant::invitations::invite(
        call.db(),
        call.scope(),
        &email,
        role,
        invitation_link(&call, &digest),
        mail_invitation(&call, &email, role, &token),
    )
    .await
    .map_err(|e| match e {
        RepoError::Refused(Refusal::AlreadyMember) => AppError::field("email", ALREADY_MEMBER),
        other => call.fail(other),
    })?;
    tracing::info!(request_id = %call.request_id(), tenant = %call.tenant().id(), "invitation sent");
    Ok(())
}

/// Sends an open invitation again, with a new link and a new expiry.
#[server(output = crate::codec::TextJson)]
pub async fn resend_invitation(id: String) -> Result<(), AppError> {
    let call = crate::ssr::MemberCall::open()?;
    let id = domain::InvitationId::from_uuid(parse_id(&id)?);
    let (token, digest) = crate::ssr::tokens::new_token();
    call.run(db::tenant::invitations::resend_invitation(
        call.db(),
        call.scope(),
        id,
        invitation_link(&call, &digest),
        |email, role| {
            let (call, token) = (&call, &token);
            async move { mail_invitation(call, &email, role, token).await }
        },
    ))
    .await
}

#[server(output = crate::codec::TextJson)]
pub async fn revoke_invitation(id: String) -> Result<(), AppError> {
    let call = crate::ssr::MemberCall::open()?;
    let id = domain::InvitationId::from_uuid(parse_id(&id)?);
    call.run(db::tenant::invitations::revoke_invitation(
        call.db(),
        call.scope(),
        id,
    ))
    .await
}

/// Gives a member another role. Their sessions end, so the change is felt at once.
#[server(output = crate::codec::TextJson)]
pub async fn change_member_role(id: String, role: String) -> Result<(), AppError> {
    let call = crate::ssr::MemberCall::open()?;
    let user = domain::UserId::from_uuid(parse_id(&id)?);
    let role = parse_role(&role)?;
    call.run(db::tenant::members::change_role(
        call.db(),
        call.scope(),
        user,
        role,
    ))
    .await
}

/// Takes a member out of the workspace; their next request finds them signed out.
#[server(output = crate::codec::TextJson)]
pub async fn remove_member(id: String) -> Result<(), AppError> {
    let call = crate::ssr::MemberCall::open()?;
    let user = domain::UserId::from_uuid(parse_id(&id)?);
    call.run(db::tenant::members::remove(call.db(), call.scope(), user))
        .await?;
    tracing::info!(request_id = %call.request_id(), tenant = %call.tenant().id(), removed = %user, "member removed");
    Ok(())
}

/// The signed-in owner makes another member the owner and becomes an admin.
#[server(output = crate::codec::TextJson)]
pub async fn transfer_ownership(id: String) -> Result<(), AppError> {
    let call = crate::ssr::MemberCall::open()?;
    let to = domain::UserId::from_uuid(parse_id(&id)?);
    let session = call.session()?;
    call.run(db::tenant::members::transfer_ownership(
        call.db(),
        call.scope(),
        to,
        session.id().as_ref(),
    ))
    .await?;
    // This session stays signed in, as an admin now.
    crate::ssr::context::renew_session(&session)
        .await
        .map_err(|e| call.internal("session cycle", e))
}

#[cfg(feature = "ssr")]
const NOT_YOUR_PASSWORD: &str = "That is not your password.";

/// Deletes the workspace: OWNER only, confirmed by typing its address (slug) and the owner's
/// own password. It closes at once (everyone is signed out; its address, API tokens,
/// invitations and password resets all refuse) and its data is erased after the grace period
/// (`[accounts] deletion_grace_days`), until when the platform's support can restore it.
/// Every owner is told by email.
#[server(output = crate::codec::TextJson)]
pub async fn delete_workspace(slug: String, password: String) -> Result<(), AppError> {
    use crate::FieldErrors;

    let call = crate::ssr::MemberCall::open()?;
    if call.scope().member().role != Role::Owner {
        return Err(AppError::Forbidden);
    }
    let tenant = call.tenant().clone();
    let mut errors = FieldErrors::default();
    let typed = slug.trim().to_ascii_lowercase();
    let confirmed = errors.check(
        "slug",
        if typed == tenant.slug().as_str() {
            Ok(())
        } else {
            Err(format!(
                "Type this workspace's address, {}, to confirm.",
                tenant.slug().as_str()
            ))
        },
    );
    let password = errors.check(
        "password",
        domain::Password::attempt(&password).map_err(|_| NOT_YOUR_PASSWORD),
    );
    let ((), password) = errors.into_values((confirmed, password))?;
    let stored = call
        .run(db::tenant::members::own_password_hash(
            call.db(),
            call.scope(),
        ))
        .await?;
    let matches = call
        .services()
        .passwords
        .verify(&password, Some(&stored))
        .await
        .map_err(|e| call.internal("password check", e))?;
    if !matches {
        return Err(AppError::field("password", NOT_YOUR_PASSWORD));
    }
    let scheduled = call
        .run(db::platform::lifecycle::schedule_deletion(
            call.db(),
            call.scope(),
            call.settings().deletion_grace,
        ))
        .await?;
    tracing::info!(request_id = %call.request_id(), tenant = %tenant.id(), delete_after = %scheduled.delete_after, "workspace scheduled for deletion");
    let request_id = call.request_id().to_owned();
    let services = call.services().clone();
    let by = call.scope().member().name.clone();
    tokio::spawn(async move {
        let body = format!(
            "Hello,\n\n{by} deleted the workspace {name} ({url}) on Stockroom. It is closed: nobody can \
             sign in to it, and its API tokens no longer work.\n\nIts data is kept until {date}, then \
             erased for good. Until then our support can restore it if this was a mistake: reply to \
             this message.\n",
            name = tenant.name(),
            url = services.settings.workspace_url(tenant.slug().as_str()),
            date = super::common::when(scheduled.delete_after),
        );
        for owner in &scheduled.owners {
            if let Err(err) = services
                .mailer
                .send(
                    owner,
                    "Your Stockroom workspace is scheduled for deletion",
                    body.clone(),
                )
                .await
            {
                tracing::error!(request_id = %request_id, tenant = %tenant.id(), error = %err, "deletion notice not sent");
            }
        }
    });
    Ok(())
}
