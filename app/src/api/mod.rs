//! Server functions: thin. Each reads the request's context, calls the repository and maps the
//! result to a DTO the browser may see.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SiteKind {
    Public,
    Console,
    Workspace {
        slug: String,
        name: String,
    },
    UnknownWorkspace,
    /// Suspended by the platform, or (`deleting`) deleted by its owner and awaiting erasure.
    SuspendedWorkspace {
        name: String,
        deleting: bool,
    },
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

#[server(output = crate::codec::TextJson)]
pub async fn load_site() -> Result<SiteInfo, AppError> {
    use crate::ssr::{Call, Site};

    let call = Call::open()?;
    let kind = match call.site() {
        Site::Public => SiteKind::Public,
        Site::Console => SiteKind::Console,
        Site::Workspace(t) => SiteKind::Workspace {
            slug: t.slug().to_string(),
            name: t.name().to_owned(),
        },
        Site::UnknownWorkspace => SiteKind::UnknownWorkspace,
        Site::SuspendedWorkspace(t) => SiteKind::SuspendedWorkspace {
            name: t.name().to_owned(),
            deleting: t.status() == domain::TenantStatus::Deleting,
        },
    };
    let settings = call.settings();
    let (base_domain, public_url) = (settings.base_domain.clone(), settings.public_url());
    let console_admin = call.console_admin_name();
    let viewer = call.member().ok().map(|m| {
        let member = m.scope().member();
        Viewer {
            name: member.name.clone(),
            email: member.email.to_string(),
            role: member.role,
        }
    });
    Ok(SiteInfo {
        kind,
        base_domain,
        public_url,
        viewer,
        console_admin,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlugCheck {
    Available,
    Invalid(String),
    Taken,
}

/// The registration form's live check. Says only free/taken, never whose.
#[server(output = crate::codec::TextJson)]
pub async fn check_slug(slug: String) -> Result<SlugCheck, AppError> {
    let call = crate::ssr::Call::open()?;
    call.require_public()?;
    let slug = match domain::Slug::parse(&slug) {
        Ok(slug) => slug,
        Err(err) => return Ok(SlugCheck::Invalid(err.to_string())),
    };
    let available = call
        .run(db::platform::tenants::slug_available(call.db(), &slug))
        .await?;
    Ok(if available {
        SlugCheck::Available
    } else {
        SlugCheck::Taken
    })
}

#[cfg(feature = "ssr")]
const TOO_MANY_WORKSPACES: &str =
    "Too many workspaces were created from your network recently. Please try again in an hour.";

/// Creates a workspace and its owner, then hands the owner to the workspace's own host with a
/// single-use ticket that only this browser holds (see `ssr::handoff`).
#[server(output = crate::codec::TextJson)]
pub async fn register(
    business_name: String,
    slug: String,
    owner_name: String,
    email: String,
    password: String,
) -> Result<(), AppError> {
    use crate::ssr::{tokens, Call};
    use crate::FieldErrors;
    use db::platform::rate_limits::{allow, Limit};
    use db::platform::registration;
    use domain::*;

    let call = Call::open()?;
    call.require_public()?;
    let mut errors = FieldErrors::default();
    let name = errors.check("business_name", WorkspaceName::parse(&business_name));
    let slug = errors.check("slug", Slug::parse(&slug));
    let owner = errors.check("owner_name", PersonName::parse(&owner_name));
    let email = errors.check("email", Email::parse(&email));
    let password = errors.check("password", Password::new_choice(&password));
    let (name, slug, owner, email, password) =
        errors.into_values((name, slug, owner, email, password))?;

    let hourly = Limit {
        max: call.settings().limits.registrations_per_address,
        window_secs: 3600,
    };
    if !call
        .run(allow(call.db(), "register", call.client_address(), hourly))
        .await?
    {
        return Err(AppError::RateLimited {
            message: TOO_MANY_WORKSPACES.into(),
        });
    }
    let hash = call
        .services()
        .passwords
        .hash(&password)
        .await
        .map_err(|e| call.internal("hashing", e))?;
    let (ticket, digest) = tokens::new_token();
    let (tenant, _owner) = call
        .run(registration::register(
            call.db(),
            registration::NewWorkspace {
                name: &name,
                slug: &slug,
                owner_name: &owner,
                owner_email: &email,
                owner_password_hash: &hash,
                welcome_ticket_digest: Some(&digest),
            },
        ))
        .await?;
    tracing::info!(request_id = %call.request_id(), tenant = %tenant.id(), slug = %tenant.slug(), "workspace registered");
    let services = call.services();
    if let (Some(provisioner), Some(cluster)) = (&services.provisioner, &services.new_workspaces) {
        // The workspace exists either way: one left half-provisioned answers "try again"
        // until `server tenant provision` finishes it, so the owner still gets their link.
        let actor =
            db::platform::provision::OwnedActor::System("registration: placements.new_workspaces");
        match provisioner.place(tenant.id(), cluster, actor).await {
            Ok(placed) => {
                tracing::info!(request_id = %call.request_id(), tenant = %tenant.id(), ?placed, "workspace placed in a database of its own");
            }
            Err(err) => {
                tracing::error!(request_id = %call.request_id(), tenant = %tenant.id(), error = %err, "provisioning the new workspace's database failed; run `server tenant provision`");
            }
        }
    }
    let cookie = crate::ssr::handoff::set_cookie(call.settings(), tenant.slug().as_str(), &ticket);
    crate::ssr::cookies::send(&cookie).map_err(|e| call.internal("hand-off cookie", e))?;
    leptos_axum::redirect("/welcome");
    Ok(())
}

#[cfg(feature = "ssr")]
pub(crate) const TOO_MANY_FROM_NETWORK: &str =
    "Too many requests from your network. Please try again in an hour.";

/// "Find my workspace": emails the address the links of its workspaces. The answer on screen
/// is the same whether or not the address has any, so nobody learns who uses Stockroom.
#[server(output = crate::codec::TextJson)]
pub async fn find_workspaces(email: String) -> Result<(), AppError> {
    use db::platform::rate_limits::{allow, Limit};

    let call = crate::ssr::Call::open()?;
    call.require_public()?;
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
            "find-address",
            call.client_address(),
            hourly(limits.lookups_per_address),
        ))
        .await?;
    if !by_address {
        return Err(AppError::RateLimited {
            message: TOO_MANY_FROM_NETWORK.into(),
        });
    }
    // Per mailbox, the answer stays the same and the mail simply stops: nobody can flood an
    // inbox, or learn anything from being refused.
    let by_email = call
        .run(allow(
            call.db(),
            "find-email",
            email.as_str(),
            hourly(limits.lookups_per_email),
        ))
        .await?;
    if !by_email {
        return Ok(());
    }
    // Looked up and mailed after the answer has gone: a known address must not take
    // measurably longer to answer than an unknown one.
    let request_id = call.request_id().to_owned();
    let services = call.services().clone();
    tokio::spawn(async move {
        if let Err(err) = mail_workspace_list(&services, &email).await {
            tracing::error!(request_id = %request_id, error = %err, "workspace list not sent");
        }
    });
    Ok(())
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
pub mod api_tokens;
pub mod common;
pub mod console;
pub mod customers;
pub mod dashboard;
pub mod exports;
pub mod imports;
pub mod orders;
pub mod picker;
pub mod products;
mod session;
pub mod team;

pub use session::*;
