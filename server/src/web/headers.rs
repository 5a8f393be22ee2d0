//! What every answer of a site carries: security headers, a bounded body, no caching of what
//! is personal, and request paths in logs without the secrets some of them hold.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The policy for answers that set none of their own (server functions, the server's plain
/// pages): nothing may run, nothing may frame it. Leptos pages set theirs, with the nonce of
/// their scripts (`app::ssr::security::page_policy`).
const DEFAULT_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Every answer of a site: no sniffing, no referrer beyond this origin, a content security
/// policy, and — as each one is made for whoever asked, signed in or not — never cached.
pub(super) async fn security_headers(mut req: Request, next: Next) -> Response {
    let page_nonce = app::ssr::security::PageNonce::default();
    req.extensions_mut().insert(page_nonce.clone());
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !headers.contains_key(header::REFERRER_POLICY) {
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        // A Leptos page that lost the policy it set (see `PageNonce`). The request's span
        // names the (redacted) path.
        let policy = page_nonce.get().and_then(|nonce| {
            tracing::warn!("page answered without its own policy; set from its nonce");
            HeaderValue::from_str(&app::ssr::security::page_policy(nonce)).ok()
        });
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            policy.unwrap_or(HeaderValue::from_static(DEFAULT_POLICY)),
        );
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
    response
}

/// The largest body a form or a server function call may send. The biggest is an order of
/// a hundred lines, a few KB; what is bigger is refused before anything reads it.
pub(super) const FORM_BODY_LIMIT: usize = 64 * 1024;

/// Refuses a body over its limit with 413, whether its length is announced or not; a body
/// within it is read once here and handed on. The limit is `FORM_BODY_LIMIT`, but for the
/// product import's upload, whose page states its own.
pub(super) async fn limit_body(req: Request, next: Next) -> Response {
    let upload = req.uri().path() == super::imports::UPLOAD_PATH;
    let (limit, refuse): (usize, fn() -> Response) = if upload {
        (super::imports::UPLOAD_BODY_LIMIT, super::imports::too_large)
    } else {
        (FORM_BODY_LIMIT, too_large)
    };
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit as u64) {
        return refuse();
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return refuse();
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn too_large() -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        "This request is larger than this page accepts.",
    )
        .into_response()
}

/// Paths that carry a live single-use token: logged without it.
const SECRET_PATHS: [&str; 2] = ["/invite/", "/reset/"];

/// The request path as logs show it: `/invite/<token>` becomes `/invite/…`.
pub(super) fn redacted_path(path: &str) -> std::borrow::Cow<'_, str> {
    match SECRET_PATHS
        .iter()
        .find(|prefix| path.starts_with(*prefix) && path.len() > prefix.len())
    {
        Some(prefix) => format!("{prefix}…").into(),
        None => path.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_reach_the_log() {
        assert_eq!(redacted_path("/invite/abc123secret"), "/invite/…");
        assert_eq!(redacted_path("/reset/abc123secret"), "/reset/…");
        assert_eq!(redacted_path("/products/42"), "/products/42");
        assert_eq!(redacted_path("/invite/"), "/invite/");
    }

    /// A page whose render recorded its nonce gets the page's policy from the middleware if
    /// its answer came without one; an answer with its own policy keeps it; anything else gets
    /// the default.
    #[tokio::test]
    async fn a_page_that_lost_its_policy_gets_it_back_from_its_nonce() {
        use axum::routing::get;
        use tower::ServiceExt;

        async fn lost(req: Request) -> Response {
            let slot = req
                .extensions()
                .get::<app::ssr::security::PageNonce>()
                .expect("the middleware hands every request a slot")
                .clone();
            slot.fill("n0nce");
            axum::response::Html("<script nonce=\"n0nce\"></script>").into_response()
        }
        async fn own() -> Response {
            (
                [(header::CONTENT_SECURITY_POLICY, "default-src 'self'")],
                "own",
            )
                .into_response()
        }
        let app = axum::Router::new()
            .route("/lost", get(lost))
            .route("/own", get(own))
            .route("/plain", get(|| async { "plain" }))
            .layer(axum::middleware::from_fn(security_headers));
        let policy = |path: &'static str| {
            let app = app.clone();
            async move {
                let response = app
                    .oneshot(Request::get(path).body(Body::empty()).unwrap())
                    .await
                    .unwrap();
                response.headers()[header::CONTENT_SECURITY_POLICY]
                    .to_str()
                    .unwrap()
                    .to_owned()
            }
        };
        assert_eq!(
            policy("/lost").await,
            app::ssr::security::page_policy("n0nce")
        );
        assert_eq!(policy("/own").await, "default-src 'self'");
        assert_eq!(policy("/plain").await, DEFAULT_POLICY);
    }
}
