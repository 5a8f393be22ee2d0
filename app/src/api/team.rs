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
pub struct UsageView {
    pub used: i64,
    /// `None`: unlimited.
    pub max: Option<i64>,
    pub unit: String,
}

impl UsageView {
    /// "8 / 10 members", or "8 members" when unlimited.
    pub fn label(&self) -> String {
        match self.max {
            Some(max) => format!("{} / {} {}", self.used, max, self.unit),
            None => format!("{} {}", self.used, self.unit),
        }
    }

    pub fn is_full(&self) -> bool {
        self.max.is_some_and(|max| self.used >= max)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamView {
    pub members: Vec<MemberRow>,
    pub invitations: Vec<InvitationRow>,
    /// The roles the viewer may give (OWNER only for owners).
    pub grantable: Vec<Role>,
    pub viewer_role: Role,
    pub usage: Option<UsageView>,
}

#[cfg(feature = "ssr")]
pub(crate) fn usage_of(usage: &db::tenant::plan::LimitUsage) -> UsageView {
    UsageView {
        used: usage.used,
        max: usage.max,
        unit: usage.unit.clone(),
    }
}

/// The team page's content. OWNER and ADMIN only.
#[server]
pub async fn load_team() -> Result<TeamView, AppError> {
    crate::ssr::context::with_status(
        async move {
            use super::orders::when;
            use crate::ssr::context::{request_context, services};

            let ctx = request_context()?;
            let scope = ctx.require_scope()?;
            let viewer = scope.member().role;
            if !viewer.at_least(Role::Admin) {
                return Err(AppError::Forbidden);
            }
            let db = services()?.db;
            let members = db::tenant::members::list(&db, scope)
                .await
                .map_err(|e| ctx.repo_error(e))?;
            let invitations = db::tenant::members::open_invitations(&db, scope)
                .await
                .map_err(|e| ctx.repo_error(e))?;
            let entitlements = db::tenant::plan::entitlements(&db, scope)
                .await
                .map_err(|e| ctx.repo_error(e))?;
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
        .await,
    )
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
    services: &crate::ssr::Services,
    tenant: &db::Tenant,
    inviter: &str,
    email: &domain::Email,
    role: Role,
    token: &str,
) -> Result<(), crate::ssr::mail::MailError> {
    let link = format!(
        "{}/invite/{token}",
        services.settings.workspace_url(tenant.slug().as_str())
    );
    let hours = services.settings.invitation_ttl.as_secs() / 3600;
    let body = format!(
        "{inviter} invited you to join {workspace} on Stockroom as {role}.\n\n\
         Accept the invitation here (the link works once, for {hours} hours):\n\n  {link}\n\n\
         If you did not expect this, you can ignore this message.\n",
        workspace = tenant.name(),
        role = role.label(),
    );
    services
        .mailer
        .send(
            email,
            &format!("You're invited to {} on Stockroom", tenant.name()),
            body,
        )
        .await
}

/// Invites someone by email with a role, and mails them a single-use link.
#[server]
pub async fn invite_member(email: String, role: String) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};
            use crate::ssr::tokens;
            use crate::FieldErrors;
            use db::tenant::members::{invite, InvitationLink};

            let ctx = request_context()?;
            let scope = ctx.require_scope()?;
            let tenant = ctx.require_workspace()?;
            if !scope.member().role.at_least(Role::Admin) {
                return Err(AppError::Forbidden);
            }
            let mut errors = FieldErrors::default();
            let email = errors.check("email", domain::Email::parse(&email));
            let role = errors.check("role", role.parse::<Role>().map_err(|_| ROLE_CHOICE));
            errors.into_result()?;
            let (Some(email), Some(role)) = (email, role) else {
                return Err(ctx.internal("invite_member", "field check passed without values"));
            };
            let services = services()?;
            let (token, digest) = tokens::new_token();
            invite(
                &services.db,
                scope,
                &email,
                role,
                InvitationLink {
                    token_digest: &digest,
                    ttl_secs: services.settings.invitation_ttl.as_secs() as i64,
                },
            )
            .await
            .map_err(|e| match e {
                db::RepoError::Refused(db::Refusal::AlreadyMember) => AppError::field(
                    "email",
                    "This person is already a member of this workspace.",
                ),
                other => ctx.repo_error(other),
            })?;
            mail_invitation(
                &services,
                tenant,
                &scope.member().name,
                &email,
                role,
                &token,
            )
            .await
            .map_err(|e| ctx.internal("sending the invitation", e))?;
            tracing::info!(request_id = %ctx.request_id, tenant = %tenant.id(), "invitation sent");
            Ok(())
        }
        .await,
    )
}

/// Sends an open invitation again, with a new link and a new expiry.
#[server]
pub async fn resend_invitation(id: String) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};
            use crate::ssr::tokens;
            use db::tenant::members::{resend_invitation, InvitationLink};

            let ctx = request_context()?;
            let scope = ctx.require_scope()?;
            let tenant = ctx.require_workspace()?;
            let id = domain::InvitationId::from_uuid(parse_id(&id)?);
            let services = services()?;
            let (token, digest) = tokens::new_token();
            let (email, role) = resend_invitation(
                &services.db,
                scope,
                id,
                InvitationLink {
                    token_digest: &digest,
                    ttl_secs: services.settings.invitation_ttl.as_secs() as i64,
                },
            )
            .await
            .map_err(|e| ctx.repo_error(e))?;
            mail_invitation(
                &services,
                tenant,
                &scope.member().name,
                &email,
                role,
                &token,
            )
            .await
            .map_err(|e| ctx.internal("resending the invitation", e))?;
            Ok(())
        }
        .await,
    )
}

#[server]
pub async fn revoke_invitation(id: String) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};

            let ctx = request_context()?;
            let scope = ctx.require_scope()?;
            let id = domain::InvitationId::from_uuid(parse_id(&id)?);
            db::tenant::members::revoke_invitation(&services()?.db, scope, id)
                .await
                .map_err(|e| ctx.repo_error(e))
        }
        .await,
    )
}

/// Gives a member another role. Their sessions end, so the change is felt at once.
#[server]
pub async fn change_member_role(id: String, role: String) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};

            let ctx = request_context()?;
            let scope = ctx.require_scope()?;
            let user = domain::UserId::from_uuid(parse_id(&id)?);
            let role = parse_role(&role)?;
            db::tenant::members::change_role(&services()?.db, scope, user, role)
                .await
                .map_err(|e| ctx.repo_error(e))
        }
        .await,
    )
}

/// Takes a member out of the workspace; their next request finds them signed out.
#[server]
pub async fn remove_member(id: String) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};

            let ctx = request_context()?;
            let scope = ctx.require_scope()?;
            let user = domain::UserId::from_uuid(parse_id(&id)?);
            db::tenant::members::remove(&services()?.db, scope, user)
                .await
                .map_err(|e| ctx.repo_error(e))?;
            tracing::info!(request_id = %ctx.request_id, tenant = %scope.tenant_id(), removed = %user, "member removed");
            Ok(())
        }
        .await,
    )
}

/// The signed-in owner makes another member the owner and becomes an admin.
#[server]
pub async fn transfer_ownership(id: String) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services, session};

            let ctx = request_context()?;
            let scope = ctx.require_scope()?;
            let to = domain::UserId::from_uuid(parse_id(&id)?);
            let session = session()?;
            let services = services()?;
            db::tenant::members::transfer_ownership(&services.db, scope, to, session.id().as_ref())
                .await
                .map_err(|e| ctx.repo_error(e))?;
            // This session stays signed in, as an admin now.
            crate::ssr::context::forget_scope(&services, &session)
                .await
                .map_err(|e| ctx.internal("session cycle", e))
        }
        .await,
    )
}
