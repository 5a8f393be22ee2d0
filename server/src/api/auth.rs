//! Who an API request is for: the Host names the workspace (and nothing else does), the
//! bearer token names the member it acts for, with its creator's current role (kept in memory
//! only until a change concerns it: see `TenantScope::for_api_token`).
//! Session cookies are never read here, and the token is never accepted by the screens.

use std::sync::Arc;

use app::ssr::tokens::{api_token_parts, api_token_tag, digest};
use app::ssr::Services;
use axum::extract::Request;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use db::{Tenant, TenantScope, TokenCheck};
use tower_http::request_id::RequestId;

use super::call::{unavailable, ApiCall};
use super::problem::{ApiError, Kind};
use crate::web::{classify_host, HostKind};

pub async fn authenticate(
    Extension(services): Extension<Services>,
    Extension(rates): Extension<Arc<crate::web::TenantRates>>,
    req: Request,
    next: Next,
) -> Response {
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-")
        .to_owned();
    // Read before any await: a request is not `Sync`, so no reference to it may be held
    // across one.
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or_default()
        .to_owned();
    let presented = Presented {
        authorization: req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap_or_default().to_owned()),
        has_cookie: req.headers().contains_key(header::COOKIE),
    };
    let tenant = match workspace(&services, &host).await {
        Ok(tenant) => tenant,
        Err(refusal) => return refusal.into_response(),
    };
    tracing::Span::current().record("tenant", tracing::field::display(tenant.id()));
    // Charged to the workspace like its screens' requests (the console's Load page), the
    // refusals included.
    let (db, tenant_id) = (services.db.clone(), tenant.id());
    let response = admit(services, &rates, tenant, &presented, request_id, req, next).await;
    crate::metrics::charge(&db, tenant_id, response.status());
    response
}

/// Within the workspace's request rate and with a token of this workspace that may do it,
/// the call goes on.
async fn admit(
    services: Services,
    rates: &crate::web::TenantRates,
    tenant: Tenant,
    presented: &Presented,
    request_id: String,
    mut req: Request,
    next: Next,
) -> Response {
    // The workspace's request rate counts its API calls and its screens' requests alike,
    // before any token is checked.
    match crate::web::over_rate(&services, rates, &tenant).await {
        Ok(None) => {}
        Ok(Some(wait)) => {
            let seconds = crate::web::retry_after_secs(wait);
            return ApiError::new(
                Kind::RateLimited,
                format!("This workspace is sending more requests than its plan allows. Try again in {seconds} s."),
            )
            .with_retry_after(u32::try_from(seconds).unwrap_or(u32::MAX))
            .into_response();
        }
        Err(()) => return unavailable().into_response(),
    }
    let access = match token(&services, &tenant, presented, &request_id).await {
        Ok(access) => access,
        Err(refusal) => return refusal.into_response(),
    };
    // A read token is refused every write here, before any handler runs; its transactions
    // are READ ONLY underneath as well (see `TenantScope::for_api_token`).
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if writes && access.scope.is_read_only() {
        return ApiError::new(
            Kind::ReadOnlyToken,
            "This token was created read-only. Create a read-write token to change anything.",
        )
        .into_response();
    }
    req.extensions_mut().insert(Arc::new(ApiCall {
        access,
        tenant,
        services,
        request_id,
    }));
    next.run(req).await
}

/// The credentials a request came with.
struct Presented {
    authorization: Option<String>,
    has_cookie: bool,
}

/// The active workspace the Host names, or the problem that says why there is none.
async fn workspace(services: &Services, host: &str) -> Result<Tenant, ApiError> {
    let no_workspace = || {
        ApiError::new(
            Kind::WorkspaceNotFound,
            "The API answers on a workspace's own address: https://<workspace>.<domain>/api/v1/.",
        )
    };
    match classify_host(host, &services.settings.base_domain) {
        HostKind::Foreign => Err(ApiError::new(
            Kind::WrongHost,
            "This server does not answer for this address.",
        )),
        HostKind::Public | HostKind::Console | HostKind::NoWorkspace => Err(no_workspace()),
        HostKind::Workspace(slug) => {
            match db::platform::tenants::find_by_slug(&services.db, &slug).await {
                Ok(Some(tenant)) if tenant.is_active() => Ok(tenant),
                Ok(Some(tenant)) => match tenant.status() {
                    // Erased: nothing of it is left to answer for, not even that it was there.
                    domain::TenantStatus::Purged => Err(no_workspace()),
                    // The same kind (clients already handle it), in its own words.
                    domain::TenantStatus::Deleting => Err(ApiError::new(
                        Kind::WorkspaceSuspended,
                        "This workspace is scheduled for deletion; its API no longer answers.",
                    )),
                    _ => Err(ApiError::new(
                        Kind::WorkspaceSuspended,
                        "This workspace is suspended; its owner can contact support.",
                    )),
                },
                Ok(None) => Err(no_workspace()),
                Err(err) => {
                    tracing::warn!(error = %err, "tenant lookup failed");
                    Err(unavailable())
                }
            }
        }
    }
}

/// The bearer token's scope. Every refusal is the same 401, so nobody learns whether a
/// token exists elsewhere; the log tells them apart, by the token's public prefix only.
async fn token(
    services: &Services,
    tenant: &Tenant,
    presented: &Presented,
    request_id: &str,
) -> Result<db::ApiAccess, ApiError> {
    let refuse = |detail: &str| ApiError::new(Kind::Unauthenticated, detail);
    let Some(authorization) = &presented.authorization else {
        return Err(refuse(if presented.has_cookie {
            "The API does not accept a signed-in session. Send an API token: Authorization: Bearer <token>."
        } else {
            "Send an API token: Authorization: Bearer <token>. Workspace owners and admins create them under Settings, API."
        }));
    };
    let invalid = "This API token is not valid here: it is mistyped, revoked, expired, or belongs to another workspace.";
    let presented = Some(authorization.as_str())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some((prefix, tag)) = presented.and_then(api_token_parts) else {
        tracing::warn!(request_id = %request_id, tenant = %tenant.id(), reason = "malformed", "api_token_refused");
        return Err(refuse(invalid));
    };
    let secret = presented.unwrap_or_default();
    match TenantScope::for_api_token(&services.db, tenant, &digest(secret)).await {
        Ok(TokenCheck::Valid(access)) => Ok(access),
        Ok(TokenCheck::Unknown) if tag != api_token_tag(tenant.id()) => {
            tracing::warn!(request_id = %request_id, tenant = %tenant.id(), prefix = %prefix, "api_token_mismatch: a token of another workspace was presented on this host");
            Err(refuse(invalid))
        }
        Ok(TokenCheck::Unknown) => {
            tracing::warn!(request_id = %request_id, tenant = %tenant.id(), prefix = %prefix, reason = "unknown", "api_token_refused");
            Err(refuse(invalid))
        }
        Ok(TokenCheck::Refused { prefix, reason }) => {
            tracing::warn!(request_id = %request_id, tenant = %tenant.id(), prefix = %prefix, reason = %reason, "api_token_refused");
            Err(refuse(invalid))
        }
        Err(err) => {
            tracing::warn!(request_id = %request_id, tenant = %tenant.id(), error = %err, "api token check failed");
            Err(unavailable())
        }
    }
}
