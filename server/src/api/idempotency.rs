//! `Idempotency-Key` on POST requests. The first request with a key claims it in the
//! database before its action runs and stores its answer afterwards; a retry within 24 hours
//! gets that answer again (marked `Idempotent-Replayed: true`) and the action never runs
//! twice. A retry that arrives while the first is still running waits for its answer (up to
//! [`WAIT`]), then is told to try again (409). The same key with another request is refused.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use db::tenant::idempotency::{claim, complete, release, Claim};
use sha2::{Digest, Sha256};

use super::call::ApiCall;
use super::extract::BODY_LIMIT;
use super::problem::{ApiError, Kind, PROBLEM_JSON};

pub const HEADER: &str = "idempotency-key";

/// How long a retry waits for the first request with its key to finish.
const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);
/// Our answers are small JSON documents; an order of a hundred lines is well under this.
const ANSWER_LIMIT: usize = 1024 * 1024;

pub async fn idempotent(req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    let Some(key) = key
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
    else {
        return ApiError::field(
            Kind::InvalidParameter,
            "Idempotency-Key",
            "Use 1 to 255 visible ASCII characters, for example a UUID.",
        )
        .into_response();
    };
    let Some(call) = req.extensions().get::<Arc<ApiCall>>().cloned() else {
        tracing::error!("idempotency ran before the token check");
        return ApiError::internal("none").into_response();
    };
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return ApiError::new(Kind::TooLarge, "The request body is too large.").into_response();
    };
    let request_hash = {
        let mut hash = Sha256::new();
        hash.update(parts.method.as_str());
        hash.update(b"\n");
        hash.update(parts.uri.path_and_query().map_or("", |p| p.as_str()));
        hash.update(b"\n");
        hash.update(&body);
        hex::encode(hash.finalize())
    };
    let (db, scope, token) = (call.db(), call.scope(), call.access.token_id);
    let started = Instant::now();
    loop {
        match claim(db, scope, token, &key, &request_hash).await {
            Ok(Claim::Fresh) => break,
            Ok(Claim::Done { status, body }) => return replay(status, body),
            Ok(Claim::Mismatch) => {
                return ApiError::field(
                    Kind::IdempotencyKeyReused,
                    "Idempotency-Key",
                    "This key was first used with a different request (method, path or body). Use a new key for a new request.",
                )
                .into_response()
            }
            Ok(Claim::InProgress) if started.elapsed() < WAIT => tokio::time::sleep(POLL).await,
            Ok(Claim::InProgress) => {
                return ApiError::new(
                    Kind::IdempotencyInProgress,
                    "The first request with this key has not finished. Retry with the same key in a moment.",
                )
                .into_response()
            }
            Err(err) => return call.fail(err).await.into_response(),
        }
    }

    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    let (parts, body) = response.into_parts();
    let Ok(answer) = axum::body::to_bytes(body, ANSWER_LIMIT).await else {
        tracing::error!(request_id = %call.request_id, "an API answer was too large to keep for its idempotency key");
        return ApiError::internal(&call.request_id).into_response();
    };
    // An answer that says "try again later" wrote nothing: the key is given up, so the
    // retry runs afresh. Every other answer is kept, and is what every retry gets.
    let stored = if parts.status == StatusCode::SERVICE_UNAVAILABLE {
        release(db, scope, token, &key).await
    } else {
        complete(
            db,
            scope,
            token,
            &key,
            parts.status.as_u16(),
            &String::from_utf8_lossy(&answer),
        )
        .await
    };
    if let Err(err) = stored {
        tracing::error!(request_id = %call.request_id, tenant = %call.tenant.id(), error = %err, "idempotency answer not stored");
    }
    Response::from_parts(parts, Body::from(answer))
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let content_type = if status.is_success() {
        "application/json"
    } else {
        PROBLEM_JSON
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
