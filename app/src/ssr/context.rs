use std::sync::Arc;
use std::time::Duration;

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
}

/// Hourly limits on what anyone may do without signing in.
#[derive(Debug, Clone, Copy)]
pub struct PublicLimits {
    pub registrations_per_address: i64,
    pub lookups_per_address: i64,
    pub lookups_per_email: i64,
}

impl SiteSettings {
    pub fn public_url(&self) -> String {
        format!("{}://{}", self.scheme, self.base_domain)
    }

    pub fn workspace_url(&self, slug: &str) -> String {
        format!("{}://{}.{}", self.scheme, slug, self.base_domain)
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

pub const AUTH_SESSION_KEY: &str = "auth";

/// Everything the middleware learnt about a request, in the request's extensions.
#[derive(Clone)]
pub struct RequestContext {
    pub request_id: String,
    /// The peer's IP address, for throttling.
    pub client_address: String,
    pub site: Site,
    /// Present only when a member of this Host's tenant is signed in.
    pub scope: Option<TenantScope>,
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

fn conflict_message(field: &str) -> &'static str {
    match field {
        "slug" => "This address is already taken. Please pick another one.",
        "email" => "This email address is already in use here.",
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
/// a 4xx (not logged as a server failure) and only real failures are 5xx.
pub fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(err) = &result {
        let status = match err {
            AppError::NotFound => http::StatusCode::NOT_FOUND,
            AppError::Unauthenticated => http::StatusCode::UNAUTHORIZED,
            AppError::Forbidden => http::StatusCode::FORBIDDEN,
            AppError::Validation { .. } => http::StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Refused { .. } => http::StatusCode::FORBIDDEN,
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
