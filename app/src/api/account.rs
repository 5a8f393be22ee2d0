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

#[server(output = crate::codec::TextJson)]
pub async fn load_invitation(token: String) -> Result<InvitationView, AppError> {
    use crate::ssr::{tokens, Call};
    use db::platform::invitations::{find, InvitationState};

    let call = Call::open()?;
    let tenant = call.workspace()?;
    let found = call
        .run(find(call.db(), tenant, &tokens::digest(token.trim())))
        .await?;
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
            InvitationState::Accepted => unusable(INVITATION_USED),
            InvitationState::Revoked => unusable(INVITATION_WITHDRAWN),
            InvitationState::Expired => unusable(INVITATION_EXPIRED),
        },
    })
}

#[cfg(feature = "ssr")]
const INVITATION_USED: &str =
    "This invitation has already been used. Sign in with the password you chose.";
#[cfg(feature = "ssr")]
const INVITATION_WITHDRAWN: &str =
    "This invitation was withdrawn. Ask the person who invited you for a new one.";
#[cfg(feature = "ssr")]
const INVITATION_EXPIRED: &str =
    "This invitation has expired. Ask the person who invited you to send it again.";

/// Accepts an invitation: creates the member with the invited email and role and signs them
/// in on this workspace.
#[server(output = crate::codec::TextJson)]
pub async fn accept_invitation(
    token: String,
    name: String,
    password: String,
) -> Result<(), AppError> {
    use crate::ssr::context::start_member_session;
    use crate::ssr::{tokens, Call};
    use crate::FieldErrors;

    let call = Call::open()?;
    let tenant = call.workspace()?.clone();
    let mut errors = FieldErrors::default();
    let name = errors.check("name", domain::PersonName::parse(&name));
    let password = errors.check("password", domain::Password::new_choice(&password));
    let (name, password) = errors.into_values((name, password))?;
    link_attempt_allowed(&call, "accept-invitation").await?;
    let user_id = db::platform::invitations::accept(
        call.db(),
        &tenant,
        &tokens::digest(token.trim()),
        &name,
        call.services().passwords.hash(&password),
    )
    .await
    .map_err(|e| match e {
        db::RepoError::NotFound => AppError::Refused {
            message: UNKNOWN_LINK.into(),
        },
        other => call.fail(other),
    })?;
    start_member_session(&call.session()?, &tenant, user_id)
        .await
        .map_err(|e| call.internal("session start", e))?;
    tracing::info!(request_id = %call.request_id(), tenant = %tenant.id(), user = %user_id, "invitation accepted");
    leptos_axum::redirect("/");
    Ok(())
}

/// "Forgot your password?": mails a reset link if the address has an account here. The
/// answer is the same whether or not it does.
#[server(output = crate::codec::TextJson)]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    use db::platform::rate_limits::{allow, Limit};

    let call = crate::ssr::Call::open()?;
    let tenant = call.workspace()?.clone();
    let email =
        domain::Email::parse(&email).map_err(|e| AppError::field("email", e.to_string()))?;
    let hourly = |max| Limit {
        max,
        window_secs: 3600,
    };
    let limits = call.settings().limits;
    let by_address = call
        .run(allow(
            call.db(),
            "reset-address",
            call.client_address(),
            hourly(limits.lookups_per_address),
        ))
        .await?;
    if !by_address {
        return Err(AppError::RateLimited {
            message: super::TOO_MANY_FROM_NETWORK.into(),
        });
    }
    let mailbox_key = format!("{}:{}", tenant.id(), email.as_str());
    let by_email = call
        .run(allow(
            call.db(),
            "reset-email",
            &mailbox_key,
            hourly(limits.lookups_per_email),
        ))
        .await?;
    if !by_email {
        return Ok(());
    }
    // After the answer has gone, so a known address takes no longer than an unknown.
    let request_id = call.request_id().to_owned();
    let services = call.services().clone();
    tokio::spawn(async move {
        if let Err(err) = mail_reset_link(&services, &tenant, &email).await {
            tracing::error!(request_id = %request_id, tenant = %tenant.id(), error = %err, "reset link not sent");
        }
    });
    Ok(())
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
#[server(output = crate::codec::TextJson)]
pub async fn check_reset_link(token: String) -> Result<bool, AppError> {
    use db::platform::auth::{ticket_is_valid, TicketPurpose};

    let call = crate::ssr::Call::open()?;
    call.run(ticket_is_valid(
        call.db(),
        call.workspace()?,
        TicketPurpose::PasswordReset,
        &crate::ssr::tokens::digest(token.trim()),
    ))
    .await
}

/// Following an emailed link (accepting an invitation, resetting a password) is open to
/// anyone who has a link, or guesses at one: counted per address, so a stream of guesses is
/// refused before it costs a lookup, let alone a hash.
#[cfg(feature = "ssr")]
async fn link_attempt_allowed(call: &crate::ssr::Call, bucket: &str) -> Result<(), AppError> {
    let limit = db::platform::rate_limits::Limit {
        max: call.settings().limits.link_attempts_per_address,
        window_secs: 3600,
    };
    let allowed = call
        .run(db::platform::rate_limits::allow(
            call.db(),
            bucket,
            call.client_address(),
            limit,
        ))
        .await?;
    if allowed {
        Ok(())
    } else {
        Err(AppError::RateLimited {
            message: super::TOO_MANY_FROM_NETWORK.into(),
        })
    }
}

#[cfg(feature = "ssr")]
const RESET_LINK_DEAD: &str =
    "This reset link has expired or was already used. Ask for a new one from the sign-in page.";

/// Spends a reset link: sets the new password, ends every session of that person and signs
/// this browser in.
#[server(output = crate::codec::TextJson)]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    use crate::ssr::context::start_member_session;

    let call = crate::ssr::Call::open()?;
    let tenant = call.workspace()?.clone();
    let password = domain::Password::new_choice(&password)
        .map_err(|e| AppError::field("password", e.to_string()))?;
    link_attempt_allowed(&call, "reset-password").await?;
    let user_id = call
        .run(db::platform::auth::reset_password(
            call.db(),
            &tenant,
            &crate::ssr::tokens::digest(token.trim()),
            call.services().passwords.hash(&password),
        ))
        .await?
        .ok_or_else(|| AppError::Refused {
            message: RESET_LINK_DEAD.into(),
        })?;
    start_member_session(&call.session()?, &tenant, user_id)
        .await
        .map_err(|e| call.internal("session start", e))?;
    tracing::info!(request_id = %call.request_id(), tenant = %tenant.id(), user = %user_id, "password reset");
    leptos_axum::redirect("/");
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileView {
    pub name: String,
    pub email: String,
    pub role: domain::Role,
}

#[server(output = crate::codec::TextJson)]
pub async fn load_profile() -> Result<ProfileView, AppError> {
    let call = crate::ssr::MemberCall::open()?;
    let member = call.scope().member();
    Ok(ProfileView {
        name: member.name.clone(),
        email: member.email.to_string(),
        role: member.role,
    })
}

#[server(output = crate::codec::TextJson)]
pub async fn update_profile(name: String) -> Result<(), AppError> {
    use crate::ssr::context::renew_session;

    let call = crate::ssr::MemberCall::open()?;
    let name =
        domain::PersonName::parse(&name).map_err(|e| AppError::field("name", e.to_string()))?;
    call.run(db::tenant::members::rename_self(
        call.db(),
        call.scope(),
        &name,
    ))
    .await?;
    renew_session(&call.session()?)
        .await
        .map_err(|e| call.internal("session cycle", e))
}

#[cfg(feature = "ssr")]
const WRONG_PASSWORD: &str = "That is not your current password.";

/// Changes the signed-in member's password after checking the current one. Every other
/// session of theirs ends; this one stays.
#[server(output = crate::codec::TextJson)]
pub async fn change_password(current: String, new_password: String) -> Result<(), AppError> {
    use crate::FieldErrors;

    let call = crate::ssr::MemberCall::open()?;
    let mut errors = FieldErrors::default();
    let current = errors.check(
        "current",
        domain::Password::attempt(&current).map_err(|_| WRONG_PASSWORD),
    );
    let new_password = errors.check("new_password", domain::Password::new_choice(&new_password));
    let (current, new_password) = errors.into_values((current, new_password))?;
    let stored = call
        .run(db::tenant::members::own_password_hash(
            call.db(),
            call.scope(),
        ))
        .await?;
    let passwords = &call.services().passwords;
    let matches = passwords
        .verify(&current, Some(&stored))
        .await
        .map_err(|e| call.internal("password check", e))?;
    if !matches {
        return Err(AppError::field("current", WRONG_PASSWORD));
    }
    let hash = passwords
        .hash(&new_password)
        .await
        .map_err(|e| call.internal("hashing", e))?;
    let session = call.session()?;
    call.run(db::tenant::members::set_own_password(
        call.db(),
        call.scope(),
        &hash,
        session.id().as_ref(),
    ))
    .await?;
    tracing::info!(request_id = %call.request_id(), tenant = %call.tenant().id(), "password changed");
    Ok(())
}
