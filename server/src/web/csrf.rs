//! Cross-site request refusal for every state-changing request.

use std::sync::Arc;

use app::ssr::context::SiteSettings;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Refuses state-changing requests from other sites. `Sec-Fetch-Site` is trusted when the
/// browser sends it; otherwise the Origin must be exactly this host. A sibling subdomain is
/// "same-site" but not "same-origin", so one workspace's page cannot post to another's.
pub(super) async fn reject_cross_site(
    State(settings): State<Arc<SiteSettings>>,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    // The registration hand-off is the one post a workspace takes from another origin, and
    // only from the public site (see `app::ssr::handoff`).
    if req.uri().path() == "/welcome" {
        return if origin == Some(settings.public_url().as_str()) {
            next.run(req).await
        } else {
            refuse(&req)
        };
    }
    let allowed = match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        None => match origin {
            Some(origin) => {
                let host = headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .unwrap_or_default();
                origin == format!("{}://{}", settings.scheme, host)
            }
            // Neither header: not a browser, so not a cross-site forgery.
            None => true,
        },
    };
    if allowed {
        next.run(req).await
    } else {
        refuse(&req)
    }
}

fn refuse(req: &Request) -> Response {
    tracing::warn!(method = %req.method(), "cross-site request refused");
    (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response()
}
