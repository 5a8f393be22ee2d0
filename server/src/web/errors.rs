//! The one place a server function's error becomes an HTTP status.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// server_fn answers every error with a 500 and a `serverfnerror` header, whatever went
/// wrong; the body is our [`app::AppError`], whose kind says what the status should be (a
/// refused form is a 4xx, not a server failure). Arguments that do not decode never reach our
/// code and come back as a transport error: the caller's mistake, so a 400. A plain form post
/// that the framework already turned into a redirect keeps its redirect.
pub(super) async fn server_fn_status(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key("serverfnerror")
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Our errors are a few hundred bytes; anything larger is not one of them.
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response();
    };
    if let Ok(err) = serde_json::from_slice::<app::AppError>(&bytes) {
        if let app::AppError::Transport { detail } = &err {
            tracing::info!(detail = %detail, "server function called with arguments that do not decode");
        }
        parts.status = err.status();
        if parts.status == StatusCode::SERVICE_UNAVAILABLE {
            // A move's freeze lasts about as long as copying the workspace takes.
            let seconds = if err == app::AppError::Moving {
                "60"
            } else {
                "5"
            };
            parts.headers.insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static(seconds),
            );
        }
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}
