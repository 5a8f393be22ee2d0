use std::sync::Arc;
use std::time::Duration;

use db::platform::console::ConsoleScope;
use db::{Db, RepoError, Tenant, TenantScope};
use domain::{TenantId, UserId};
use serde::{Deserialize, Serialize};

use super::passwords::PasswordHasher;
use crate::AppError;

/// What every handler may use, put into each request by the server.
#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub passwords: PasswordHasher,
    pub mailer: super::mail::Mailer,
    pub settings: Arc<SiteSettings>,
    /// Wakes the export worker when a job is queued.
    pub exports: super::exports::ExportQueue,
    /// Members already checked for a session, keyed by [`scope_cache_key`]. Safe to reuse
    /// because every change to a membership (removal, role, password, ownership, suspension)
    /// ends the sessions it concerns, and the session itself is read on every request; the
    /// two changes that keep the session they were made in forget its entry here.
    pub scopes: Arc<db::cache::TtlCache<String, TenantScope>>,
}

/// How long a checked member is reused for its session: a backstop only, for a change made
/// outside the app (for example by hand in the database).
pub const SCOPE_CACHE_TTL: Duration = Duration::from_secs(10);

/// The scope cache's key for one session of one member of one tenant.
pub fn scope_cache_key(session: &tower_sessions::session::Id, signed_in: &SignedIn) -> String {
    format!("{session}/{}/{}", signed_in.tenant_id, signed_in.user_id)
}

/// After a change that keeps its own session (the member's role or name changed under it),
/// the next request must check the member again: the session gets a new id, which no
/// server process has cached a member for, and this process forgets the old one.
pub async fn forget_scope(
    services: &Services,
    session: &tower_sessions::Session,
) -> Result<(), tower_sessions::session::Error> {
    if let Some(id) = session.id() {
        let prefix = format!("{id}/");
        services
            .scopes
            .forget_where(|key, _| key.starts_with(&prefix));
    }
    session.cycle_id().await
}

/// The few runtime settings the pages need.
#[derive(Debug, Clone)]
pub struct SiteSettings {
    /// The host (and port) tenants live under, e.g. `localhost:3000`.
    pub base_domain: String,
    /// `http` or `https`, as the browser sees the site.
    pub scheme: String,
    pub session_absolute_timeout: Duration,
    pub session_idle_timeout: Duration,
    pub limits: PublicLimits,
    /// How long an invitation link works.
    pub invitation_ttl: Duration,
    /// How long a password reset link works.
    pub password_reset_ttl: Duration,
    /// Development only: the public site lists the mail outbox at `/dev/outbox`.
    pub show_outbox: bool,
}

/// Hourly limits on what anyone may do without signing in.
#[derive(Debug, Clone, Copy)]
pub struct PublicLimits {
    pub registrations_per_address: i64,
    pub lookups_per_address: i64,
    pub lookups_per_email: i64,
    pub sign_in_failures_per_account: i64,
    pub sign_in_failures_per_address: i64,
    pub sign_in_window_secs: i64,
}

impl SiteSettings {
    pub fn public_url(&self) -> String {
        format!("{}://{}", self.scheme, self.base_domain)
    }

    pub fn workspace_url(&self, slug: &str) -> String {
        format!("{}://{}.{}", self.scheme, slug, self.base_domain)
    }

    pub fn console_url(&self) -> String {
        format!("{}://admin.{}", self.scheme, self.base_domain)
    }
}

/// Which part of the product a Host names.
#[derive(Debug, Clone)]
pub enum Site {
    Public,
    Console,
    Workspace(Tenant),
    UnknownWorkspace,
    SuspendedWorkspace(Tenant),
}

/// What the session remembers about who is signed in. The tenant is stored with the user so a
/// session can never be read as belonging to another workspace.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SignedIn {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    /// Unix seconds; the absolute session timeout counts from here.
    pub since: i64,
}

/// The session store indexes this entry to find a member's sessions (see `db`).
pub const AUTH_SESSION_KEY: &str = db::platform::sessions::SIGNED_IN_KEY;

/// What the session remembers about a console admin. A separate key from [`SignedIn`]: a
/// console session is never a tenant session, and the other way round.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ConsoleSignedIn {
    pub admin_id: domain::AdminId,
    /// Unix seconds; the absolute session timeout counts from here.
    pub since: i64,
}

pub const CONSOLE_SESSION_KEY: &str = "console";

/// Everything the middleware learnt about a request, in the request's extensions.
#[derive(Clone)]
pub struct RequestContext {
    pub request_id: String,
    /// The peer's IP address, for throttling.
    pub client_address: String,
    pub site: Site,
    /// Present only when a member of this Host's tenant is signed in.
    pub scope: Option<TenantScope>,
    /// Present only on the console's host, when a console admin is signed in.
    pub console: Option<ConsoleScope>,
}

fn request_parts() -> Result<http::request::Parts, AppError> {
    leptos::prelude::use_context::<http::request::Parts>().ok_or_else(|| {
        tracing::error!("server function called outside a request");
        AppError::Internal {
            request_id: "none".into(),
        }
    })
}

pub fn services() -> Result<Services, AppError> {
    request_parts()?
        .extensions
        .get::<Services>()
        .cloned()
        .ok_or_else(|| {
            tracing::error!("Services missing from request extensions");
            AppError::Internal {
                request_id: "none".into(),
            }
        })
}

pub fn request_context() -> Result<RequestContext, AppError> {
    request_parts()?
        .extensions
        .get::<RequestContext>()
        .cloned()
        .ok_or_else(|| {
            tracing::error!("RequestContext missing from request extensions");
            AppError::Internal {
                request_id: "none".into(),
            }
        })
}

pub fn session() -> Result<tower_sessions::Session, AppError> {
    request_parts()?
        .extensions
        .get::<tower_sessions::Session>()
        .cloned()
        .ok_or_else(|| {
            tracing::error!("session layer missing");
            AppError::Internal {
                request_id: "none".into(),
            }
        })
}

impl RequestContext {
    /// The signed-in member's scope, or the error a person should see instead.
    pub fn require_scope(&self) -> Result<&TenantScope, AppError> {
        match (&self.site, &self.scope) {
            (Site::Workspace(_), Some(scope)) => Ok(scope),
            (Site::Workspace(_), None) => Err(AppError::Unauthenticated),
            _ => Err(AppError::NotFound),
        }
    }

    /// The signed-in console admin's scope; on any other host, nothing is there.
    pub fn require_console(&self) -> Result<&ConsoleScope, AppError> {
        match (&self.site, &self.console) {
            (Site::Console, Some(scope)) => Ok(scope),
            (Site::Console, None) => Err(AppError::Unauthenticated),
            _ => Err(AppError::NotFound),
        }
    }

    /// The active tenant this Host names, for the few calls made before sign-in.
    pub fn require_workspace(&self) -> Result<&Tenant, AppError> {
        match &self.site {
            Site::Workspace(tenant) => Ok(tenant),
            _ => Err(AppError::NotFound),
        }
    }

    /// Maps a repository failure to what the person sees, logging the detail once, here.
    pub fn repo_error(&self, err: RepoError) -> AppError {
        let tenant = match &self.site {
            Site::Workspace(t) | Site::SuspendedWorkspace(t) => t.id().to_string(),
            _ => "-".to_owned(),
        };
        match err {
            RepoError::NotFound => AppError::NotFound,
            RepoError::Forbidden => AppError::Forbidden,
            RepoError::Conflict { field } => AppError::field(field, conflict_message(field)),
            RepoError::Invalid { field } => AppError::field(field, invalid_message(field)),
            RepoError::PlanRequired { feature, plans } => AppError::PlanRequired { feature, plans },
            RepoError::LimitReached { max, unit, .. } => AppError::LimitReached {
                message: format!(
                    "Your plan allows {max} {unit}, and this workspace has reached that limit."
                ),
            },
            RepoError::Refused(refusal) => AppError::Refused {
                message: refusal_message(refusal).into(),
            },
            RepoError::Unavailable(source) => {
                tracing::warn!(request_id = %self.request_id, tenant = %tenant, error = %source, "database unavailable");
                AppError::Unavailable
            }
            RepoError::Internal(source) => {
                tracing::error!(request_id = %self.request_id, tenant = %tenant, error = %source, "repository error");
                AppError::Internal {
                    request_id: self.request_id.clone(),
                }
            }
        }
    }

    pub fn internal(&self, what: &str, detail: impl std::fmt::Display) -> AppError {
        tracing::error!(request_id = %self.request_id, error = %detail, "{what}");
        AppError::Internal {
            request_id: self.request_id.clone(),
        }
    }
}

fn invalid_message(field: &str) -> &'static str {
    match field {
        "plan" => "There is no such plan.",
        "feature" => "There is no such feature.",
        "limit" => "There is no such limit.",
        _ => "This value is not valid.",
    }
}

fn refusal_message(refusal: db::Refusal) -> &'static str {
    use db::Refusal;
    match refusal {
        Refusal::LastOwner => {
            "A workspace needs at least one owner. Make someone else an owner first."
        }
        Refusal::OwnersOnly => "Only an owner can give, change or take away the owner role.",
        Refusal::AlreadyMember => "This person is already a member of this workspace.",
        Refusal::InvitationClosed => {
            "This invitation can no longer be used: it was accepted, withdrawn, or has expired."
        }
        Refusal::NotOnYourself => "You can't do that to your own account.",
        Refusal::TooManyPendingExports => {
            "Several exports are still running. Please wait for them to finish."
        }
    }
}

fn conflict_message(field: &str) -> &'static str {
    match field {
        "slug" => "This address is already taken. Please pick another one.",
        "email" => "This email address is already in use here (or already invited: resend that invitation instead).",
        "sku" => "Another product in this workspace already has this SKU.",
        _ => "This value is already in use.",
    }
}

pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Gives a server function's error response the status that matches it, so a refused form is
/// a 4xx (not logged as a server failure) and only real failures are 5xx. Only when the
/// function was called over HTTP: called while a page renders, its error belongs to the page
/// (which sets its own status), not to the whole response.
pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    let called_over_http = leptos::prelude::use_context::<http::request::Parts>()
        .is_some_and(|parts| parts.uri.path().starts_with("/api/"));
    if !called_over_http {
        return result;
    }
    if let Err(err) = &result {
        let status = match err {
            AppError::NotFound => http::StatusCode::NOT_FOUND,
            AppError::Unauthenticated => http::StatusCode::UNAUTHORIZED,
            AppError::Forbidden => http::StatusCode::FORBIDDEN,
            AppError::Validation { .. } => http::StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Refused { .. }
            | AppError::PlanRequired { .. }
            | AppError::LimitReached { .. } => http::StatusCode::FORBIDDEN,
            AppError::RateLimited { .. } => http::StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable => http::StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal { .. } | AppError::Transport { .. } => {
                http::StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
    }
    result
}

/// Signs `user_id` of `tenant` in on this browser: a new session id first (an id planted
/// before sign-in is worth nothing after it), then who is signed in and since when.
pub async fn start_member_session(
    session: &tower_sessions::Session,
    tenant: &Tenant,
    user_id: UserId,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session
        .insert(
            AUTH_SESSION_KEY,
            SignedIn {
                tenant_id: tenant.id(),
                user_id,
                since: now_unix(),
            },
        )
        .await
}
