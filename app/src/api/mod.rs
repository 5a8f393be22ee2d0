//! Server functions: thin. Each reads the request's context, calls the repository and maps the
//! result to a DTO the browser may see.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SiteKind {
    Public,
    Console,
    Workspace { slug: String, name: String },
    UnknownWorkspace,
    SuspendedWorkspace { name: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub name: String,
    pub email: String,
    pub role: domain::Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    pub kind: SiteKind,
    /// e.g. `localhost:3000`; a workspace lives at `slug.` + this.
    pub base_domain: String,
    pub public_url: String,
    pub viewer: Option<Viewer>,
    /// The console admin signed in, on the console's host only.
    pub console_admin: Option<String>,
}

#[server]
pub async fn load_site() -> Result<SiteInfo, AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};
            use crate::ssr::Site;

            let ctx = request_context()?;
            let settings = services()?.settings;
            let kind = match &ctx.site {
                Site::Public => SiteKind::Public,
                Site::Console => SiteKind::Console,
                Site::Workspace(t) => SiteKind::Workspace {
                    slug: t.slug().to_string(),
                    name: t.name().to_owned(),
                },
                Site::UnknownWorkspace => SiteKind::UnknownWorkspace,
                Site::SuspendedWorkspace(t) => SiteKind::SuspendedWorkspace {
                    name: t.name().to_owned(),
                },
            };
            let viewer = ctx.scope.as_ref().map(|scope| {
                let member = scope.member();
                Viewer {
                    name: member.name.clone(),
                    email: member.email.to_string(),
                    role: member.role,
                }
            });
            Ok(SiteInfo {
                kind,
                base_domain: settings.base_domain.clone(),
                public_url: settings.public_url(),
                viewer,
                console_admin: ctx.console.as_ref().map(|c| c.name().to_owned()),
            })
        }
        .await,
    )
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlugCheck {
    Available,
    Invalid(String),
    Taken,
}

/// The registration form's live check. Says only free/taken, never whose.
#[server]
pub async fn check_slug(slug: String) -> Result<SlugCheck, AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};
            use crate::ssr::Site;

            let ctx = request_context()?;
            if !matches!(ctx.site, Site::Public) {
                return Err(AppError::NotFound);
            }
            let slug = match domain::Slug::parse(&slug) {
                Ok(slug) => slug,
                Err(err) => return Ok(SlugCheck::Invalid(err.to_string())),
            };
            let available = db::platform::tenants::slug_available(&services()?.db, &slug)
                .await
                .map_err(|e| ctx.repo_error(e))?;
            Ok(if available {
                SlugCheck::Available
            } else {
                SlugCheck::Taken
            })
        }
        .await,
    )
}

/// Creates a workspace and its owner, then hands the owner to the workspace's own host with a
/// single-use ticket (the public site's cookie cannot reach `slug.<base>`).
#[server]
pub async fn register(
    business_name: String,
    slug: String,
    owner_name: String,
    email: String,
    password: String,
) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
        use crate::ssr::context::{request_context, services};
        use crate::ssr::{tokens, Site};
        use crate::FieldErrors;
        use db::platform::registration;
        use domain::*;

        let ctx = request_context()?;
        if !matches!(ctx.site, Site::Public) {
            return Err(AppError::NotFound);
        }
        let services = services()?;
        let mut errors = FieldErrors::default();
        let name = errors.check("business_name", WorkspaceName::parse(&business_name));
        let slug = errors.check("slug", Slug::parse(&slug));
        let owner = errors.check("owner_name", PersonName::parse(&owner_name));
        let email = errors.check("email", Email::parse(&email));
        let password = errors.check("password", Password::new_choice(&password));
        errors.into_result()?;
        let (Some(name), Some(slug), Some(owner), Some(email), Some(password)) =
            (name, slug, owner, email, password)
        else {
            return Err(ctx.internal("registration", "field check passed without values"));
        };

        let hourly = |max| db::platform::rate_limits::Limit { max, window_secs: 3600 };
        let allowed = db::platform::rate_limits::allow(
            &services.db,
            "register",
            &ctx.client_address,
            hourly(services.settings.limits.registrations_per_address),
        )
        .await
        .map_err(|e| ctx.repo_error(e))?;
        if !allowed {
            return Err(AppError::RateLimited {
                message: "Too many workspaces were created from your network recently. Please try again in an hour."
                    .into(),
            });
        }
        let hash = services
            .passwords
            .hash(&password)
            .await
            .map_err(|e| ctx.internal("hashing", e))?;
        let (ticket, digest) = tokens::new_token();
        let (tenant, _owner) = registration::register(
            &services.db,
            registration::NewWorkspace {
                name: &name,
                slug: &slug,
                owner_name: &owner,
                owner_email: &email,
                owner_password_hash: &hash,
                welcome_ticket_digest: Some(&digest),
            },
        )
        .await
        .map_err(|e| ctx.repo_error(e))?;
        tracing::info!(request_id = %ctx.request_id, tenant = %tenant.id(), slug = %tenant.slug(), "workspace registered");
        leptos_axum::redirect(&format!(
            "{}/welcome?ticket={ticket}",
            services.settings.workspace_url(tenant.slug().as_str())
        ));
        Ok(())
        }
        .await,
    )
}

#[server]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
        use crate::ssr::context::{request_context, services, session, start_member_session};
        use db::platform::auth;

        const GENERIC: &str = "That email and password don't match an account in this workspace.";
        let ctx = request_context()?;
        let tenant = ctx.require_workspace()?.clone();
        let services = services()?;
        let session = session()?;

        let email =
            domain::Email::parse(&email).map_err(|e| AppError::field("email", e.to_string()))?;
        let password =
            domain::Password::attempt(&password).map_err(|_| AppError::field("password", GENERIC))?;
        let limits = services.settings.limits;
        let policy = auth::ThrottlePolicy {
            per_account: limits.sign_in_failures_per_account,
            per_address: limits.sign_in_failures_per_address,
            window_secs: limits.sign_in_window_secs,
        };
        let allowed =
            auth::reserve_sign_in_attempt(&services.db, &tenant, &email, &ctx.client_address, policy)
                .await
                .map_err(|e| ctx.repo_error(e))?;
        if !allowed {
            tracing::warn!(request_id = %ctx.request_id, tenant = %tenant.id(), "sign-in throttled");
            return Err(AppError::RateLimited {
                message: format!(
                    "Too many failed sign-in attempts. Please wait {} minutes and try again.",
                    (limits.sign_in_window_secs / 60).max(1)
                ),
            });
        }

        let credentials = auth::find_credentials(&services.db, &tenant, &email)
            .await
            .map_err(|e| ctx.repo_error(e))?;
        let ok = services
            .passwords
            .verify(
                &password,
                credentials.as_ref().map(|c| c.password_hash.as_str()),
            )
            .await
            .map_err(|e| ctx.internal("password check", e))?;
        // The attempt is already on the books as a failure; only success takes it back.
        let Some(credentials) = credentials.filter(|_| ok) else {
            return Err(AppError::Refused {
                message: GENERIC.into(),
            });
        };
        auth::sign_in_succeeded(&services.db, &tenant, &email, &ctx.client_address)
            .await
            .map_err(|e| ctx.repo_error(e))?;
        auth::record_sign_in(&services.db, &tenant, credentials.user_id)
            .await
            .map_err(|e| ctx.repo_error(e))?;

        start_member_session(&session, &tenant, credentials.user_id)
            .await
            .map_err(|e| ctx.internal("session start", e))?;
        leptos_axum::redirect("/");
        Ok(())
        }
        .await,
    )
}

#[server]
pub async fn sign_out() -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, session};

            let ctx = request_context()?;
            // Deletes the record server-side too, so a copied cookie is dead after sign-out.
            session()?
                .flush()
                .await
                .map_err(|e| ctx.internal("session flush", e))?;
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}

/// "Find my workspace": emails the address the links of its workspaces. The answer on screen
/// is the same whether or not the address has any, so nobody learns who uses Stockroom.
#[server]
pub async fn find_workspaces(email: String) -> Result<(), AppError> {
    crate::ssr::context::with_status(
        async move {
            use crate::ssr::context::{request_context, services};
            use crate::ssr::Site;

            let ctx = request_context()?;
            if !matches!(ctx.site, Site::Public) {
                return Err(AppError::NotFound);
            }
            let email = domain::Email::parse(&email)
                .map_err(|e| AppError::field("email", e.to_string()))?;
            let services = services()?;
            let hourly = |max| db::platform::rate_limits::Limit { max, window_secs: 3600 };
            let limits = services.settings.limits;
            let by_address = db::platform::rate_limits::allow(&services.db, "find-address", &ctx.client_address, hourly(limits.lookups_per_address))
                .await
                .map_err(|e| ctx.repo_error(e))?;
            if !by_address {
                return Err(AppError::RateLimited {
                    message: "Too many requests from your network. Please try again in an hour.".into(),
                });
            }
            // Per mailbox, the answer stays the same and the mail simply stops: nobody can
            // flood an inbox, or learn anything from being refused.
            let by_email = db::platform::rate_limits::allow(&services.db, "find-email", email.as_str(), hourly(limits.lookups_per_email))
                .await
                .map_err(|e| ctx.repo_error(e))?;
            if !by_email {
                return Ok(());
            }
            // Looked up and mailed after the answer has gone: a known address must not take
            // measurably longer to answer than an unknown one.
            let request_id = ctx.request_id.clone();
            tokio::spawn(async move {
                if let Err(err) = mail_workspace_list(&services, &email).await {
                    tracing::error!(request_id = %request_id, error = %err, "workspace list not sent");
                }
            });
            Ok(())
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
async fn mail_workspace_list(
    services: &crate::ssr::Services,
    email: &domain::Email,
) -> Result<(), String> {
    let found = db::platform::directory::workspaces_for_email(&services.db, email)
        .await
        .map_err(|e| e.to_string())?;
    if found.is_empty() {
        return Ok(());
    }
    let mut body = String::from(
        "You asked which Stockroom workspaces use this email address. Sign in here:\n\n",
    );
    for workspace in &found {
        body.push_str(&format!(
            "  {}: {}/login\n",
            workspace.name,
            services.settings.workspace_url(workspace.slug.as_str())
        ));
    }
    body.push_str("\nIf you did not ask, you can ignore this message.\n");
    services
        .mailer
        .send(email, "Your Stockroom workspaces", body)
        .await
        .map_err(|e| e.to_string())
}

pub mod account;
pub mod console;
pub mod exports;
pub mod orders;
pub mod products;
pub mod team;
