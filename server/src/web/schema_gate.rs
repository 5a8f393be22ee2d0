//! While the database lacks a migration this build expects (see `db::Db::check_schema`),
//! every request but the probes and the static files gets a 503 with `Retry-After`, in the
//! form its caller reads: a page, a server function's error, an API problem.

use app::ssr::Services;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::html::{upgrading, UPGRADE_RETRY_SECS};

pub(super) async fn refuse_while_behind(
    State(services): State<Services>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if !services.db.schema_behind()
        || matches!(path, "/healthz" | "/readyz")
        || path.starts_with("/pkg/")
    {
        return next.run(req).await;
    }
    if path.starts_with("/api/v1/") {
        return crate::api::unavailable_for(UPGRADE_RETRY_SECS);
    }
    if path.starts_with("/api/") {
        let body = serde_json::to_string(&app::AppError::Unavailable).unwrap_or_default();
        let mut response = (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::RETRY_AFTER, HeaderValue::from(UPGRADE_RETRY_SECS));
        return response;
    }
    upgrading()
}
