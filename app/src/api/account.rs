//! A person's own account in a workspace: accepting an invitation, resetting a forgotten
//! password, and the profile page (name and password).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// What an invitation link shows before it is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvitationView {
    Open {
        workspace: String,
        email: String,
        role: domain::Role,
        invited_by: String,
    },
    /// Used, withdrawn, expired, replaced by a newer link, or never issued here. One answer
    /// for all, worded by `reason`.
    Unusable { reason: String },
}

#[cfg(feature = "ssr")]
const UNKNOWN_LINK: &str = "This invitation link is not valid. It may have been replaced by a newer one: check your latest email, or ask for a new invitation.";

#[server]
pub async fn load_invitation(token: String) -> Result<InvitationView, AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};
            use crate::ssr::tokens;
            use db::platform::invitations::{find, InvitationState};

            let ctx = request_context()?;
            let tenant = ctx.require_workspace()?;
            let found = find(&services()?.db, tenant, &tokens::digest(token.trim()))
                .await
                .map_err(|e| ctx.repo_error(e))?;
            let unusable = |reason: &str| InvitationView::Unusable {
                reason: reason.to_owned(),
            };
            Ok(match found {
                None => unusable(UNKNOWN_LINK),
                Some(invitation) => match invitation.state {
                    InvitationState::Open => InvitationView::Open {
                        workspace: tenant.name().to_owned(),
                        email: invitation.email.to_string(),
                        role: invitation.role,
                        invited_by: invitation.invited_by,
                    },
                    InvitationState::Accepted => unusable(
                        "This invitation has already been used. Sign in with the password you chose.",
                    ),
                    InvitationState::Revoked => {
                        unusable("This invitation was withdrawn. Ask the person who invited you for a new one.")
                    }
                    InvitationState::Expired => {
                        unusable("This invitation has expired. Ask the person who invited you to send it again.")
                    }
                },
            })
        }
        .await,
    )
}

/// Accepts an invitation: creates the member with the invited email and role and signs them
/// in on this workspace.
#[server]
pub async fn accept_invitation(
    token: String,
    name: String,
    password: String,
) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services, session, start_member_session};
            use crate::ssr::tokens;
            use crate::FieldErrors;

            let ctx = request_context()?;
            let tenant = ctx.require_workspace()?.clone();
            let mut errors = FieldErrors::default();
            let name = errors.check("name", domain::PersonName::parse(&name));
            let password = errors.check("password", domain::Password::new_choice(&password));
            errors.into_result()?;
            let (Some(name), Some(password)) = (name, password) else {
                return Err(ctx.internal("accept_invitation", "field check passed without values"));
            };
            let services = services()?;
            let hash = services
                .passwords
                .hash(&password)
                .await
                .map_err(|e| ctx.internal("hashing", e))?;
            let user_id = db::platform::invitations::accept(
                &services.db,
                &tenant,
                &tokens::digest(token.trim()),
                &name,
                &hash,
            )
            .await
            .map_err(|e| match e {
                db::RepoError::NotFound => AppError::Refused {
                    message: UNKNOWN_LINK.into(),
                },
                other => ctx.repo_error(other),
            })?;
            start_member_session(&session()?, &tenant, user_id)
                .await
                .map_err(|e| ctx.internal("session start", e))?;
            tracing::info!(request_id = %ctx.request_id, tenant = %tenant.id(), user = %user_id, "invitation accepted");
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

/// "Forgot your password?": mails a reset link if the address has an account here. The
/// answer is the same whether or not it does.
#[server]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};
            use db::platform::rate_limits::{allow, Limit};

            let ctx = request_context()?;
            let tenant = ctx.require_workspace()?.clone();
            let email = domain::Email::parse(&email)
                .map_err(|e| AppError::field("email", e.to_string()))?;
            let services = services()?;
            let hourly = |max| Limit { max, window_secs: 3600 };
            let limits = services.settings.limits;
            let by_address = allow(&services.db, "reset-address", &ctx.client_address, hourly(limits.lookups_per_address))
                .await
                .map_err(|e| ctx.repo_error(e))?;
            if !by_address {
                return Err(AppError::RateLimited {
                    message: "Too many requests from your network. Please try again in an hour.".into(),
                });
            }
            let mailbox_key = format!("{}:{}", tenant.id(), email.as_str());
            let by_email = allow(&services.db, "reset-email", &mailbox_key, hourly(limits.lookups_per_email))
                .await
                .map_err(|e| ctx.repo_error(e))?;
            if !by_email {
                return Ok(());
            }
            // After the answer has gone, so a known address takes no longer than an unknown.
            let request_id = ctx.request_id.clone();
            tokio::spawn(async move {
                if let Err(err) = mail_reset_link(&services, &tenant, &email).await {
                    tracing::error!(request_id = %request_id, tenant = %tenant.id(), error = %err, "reset link not sent");
                }
            });
            Ok(())
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
async fn mail_reset_link(
    services: &crate::ssr::Services,
    tenant: &db::Tenant,
    email: &domain::Email,
) -> Result<(), String> {
    let (token, digest) = crate::ssr::tokens::new_token();
    let ttl = services.settings.password_reset_ttl.as_secs() as i64;
    let Some(name) =
        db::platform::auth::issue_password_reset(&services.db, tenant, email, &digest, ttl)
            .await
            .map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    let link = format!(
        "{}/reset/{token}",
        services.settings.workspace_url(tenant.slug().as_str())
    );
    let body = format!(
        "Hello {name},\n\nSomeone (hopefully you) asked to reset your password for {workspace} on Stockroom.\n\
         Choose a new one here (the link works once, for {minutes} minutes):\n\n  {link}\n\n\
         If you did not ask, ignore this message: your password stays as it is.\n",
        workspace = tenant.name(),
        minutes = ttl / 60,
    );
    services
        .mailer
        .send(email, "Reset your Stockroom password", body)
        .await
        .map_err(|e| e.to_string())
}

/// Whether a reset link still works, so the page can say so before anyone types.
#[server]
pub async fn check_reset_link(token: String) -> Result<bool, AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};
            use db::platform::auth::{ticket_is_valid, TicketPurpose};

            let ctx = request_context()?;
            let tenant = ctx.require_workspace()?;
            ticket_is_valid(
                &services()?.db,
                tenant,
                TicketPurpose::PasswordReset,
                &crate::ssr::tokens::digest(token.trim()),
            )
            .await
            .map_err(|e| ctx.repo_error(e))
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
const RESET_LINK_DEAD: &str =
    "This reset link has expired or was already used. Ask for a new one from the sign-in page.";

/// Spends a reset link: sets the new password, ends every session of that person and signs
/// this browser in.
#[server]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services, session, start_member_session};

            let ctx = request_context()?;
            let tenant = ctx.require_workspace()?.clone();
            let password = domain::Password::new_choice(&password)
                .map_err(|e| AppError::field("password", e.to_string()))?;
            let services = services()?;
            let hash = services
                .passwords
                .hash(&password)
                .await
                .map_err(|e| ctx.internal("hashing", e))?;
            let user_id = db::platform::auth::reset_password(
                &services.db,
                &tenant,
                &crate::ssr::tokens::digest(token.trim()),
                &hash,
            )
            .await
            .map_err(|e| ctx.repo_error(e))?
            .ok_or_else(|| AppError::Refused {
                message: RESET_LINK_DEAD.into(),
            })?;
            start_member_session(&session()?, &tenant, user_id)
                .await
                .map_err(|e| ctx.internal("session start", e))?;
            tracing::info!(request_id = %ctx.request_id, tenant = %tenant.id(), user = %user_id, "password reset");
            leptos_axum::redirect("/");
            Ok(())
        }
        .await,
    )
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileView {
    pub name: String,
    pub email: String,
    pub role: domain::Role,
}

#[server]
pub async fn load_profile() -> Result<ProfileView, AppError> {
    crate::ssr::context::with_status(
        async move {
            let ctx = crate::ssr::context::request_context()?;
            let member = ctx.require_scope()?.member();
            Ok(ProfileView {
                name: member.name.clone(),
                email: member.email.to_string(),
                role: member.role,
            })
        }
        .await,
    )
}

#[server]
pub async fn update_profile(name: String) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{forget_scope, request_context, services, session};

            let ctx = request_context()?;
            let scope = ctx.require_scope()?;
            let name = domain::PersonName::parse(&name)
                .map_err(|e| AppError::field("name", e.to_string()))?;
            let services = services()?;
            db::tenant::members::rename_self(&services.db, scope, &name)
                .await
                .map_err(|e| ctx.repo_error(e))?;
            forget_scope(&services, &session()?)
                .await
                .map_err(|e| ctx.internal("session cycle", e))
        }
        .await,
    )
}

/// Changes the signed-in member's password after checking the current one. Every other
/// session of theirs ends; this one stays.
#[server]
pub async fn change_password(current: String, new_password: String) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services, session};
            use crate::FieldErrors;

            let ctx = request_context()?;
            let scope = ctx.require_scope()?;
            let wrong = "That is not your current password.";
            let mut errors = FieldErrors::default();
            let current = errors.check(
                "current",
                domain::Password::attempt(&current).map_err(|_| wrong),
            );
            let new_password =
                errors.check("new_password", domain::Password::new_choice(&new_password));
            errors.into_result()?;
            let (Some(current), Some(new_password)) = (current, new_password) else {
                return Err(ctx.internal("change_password", "field check passed without values"));
            };
            let services = services()?;
            let stored = db::tenant::members::own_password_hash(&services.db, scope)
                .await
                .map_err(|e| ctx.repo_error(e))?;
            let matches = services
                .passwords
                .verify(&current, Some(&stored))
                .await
                .map_err(|e| ctx.internal("password check", e))?;
            if !matches {
                return Err(AppError::field("current", wrong));
            }
            let hash = services
                .passwords
                .hash(&new_password)
                .await
                .map_err(|e| ctx.internal("hashing", e))?;
            let session = session()?;
            db::tenant::members::set_own_password(&services.db, scope, &hash, session.id().as_ref())
                .await
                .map_err(|e| ctx.repo_error(e))?;
            tracing::info!(request_id = %ctx.request_id, tenant = %scope.tenant_id(), "password changed");
            Ok(())
        }
        .await,
    )
}
