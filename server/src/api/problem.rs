//! Every error of the API as an RFC 9457 problem document (`application/problem+json`): a
//! stable `type` per kind of error (a link into the API reference), a title, the status, a
//! detail for people, the fields at fault, and never internal text.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// The kinds of error the API answers with. The reference page lists each one under the
/// anchor its `type` names, so the two cannot drift apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    InvalidParameter,
    MalformedBody,
    Unauthenticated,
    Forbidden,
    ReadOnlyToken,
    PlanRequired,
    PlanLimit,
    WorkspaceSuspended,
    NotFound,
    WorkspaceNotFound,
    MethodNotAllowed,
    StaleVersion,
    IdempotencyInProgress,
    TooLarge,
    UnsupportedMediaType,
    WrongHost,
    Validation,
    IdempotencyKeyReused,
    RateLimited,
    Internal,
    Unavailable,
}

impl Kind {
    pub const ALL: [Kind; 21] = [
        Kind::InvalidParameter,
        Kind::MalformedBody,
        Kind::Unauthenticated,
        Kind::Forbidden,
        Kind::ReadOnlyToken,
        Kind::PlanRequired,
        Kind::PlanLimit,
        Kind::WorkspaceSuspended,
        Kind::NotFound,
        Kind::WorkspaceNotFound,
        Kind::MethodNotAllowed,
        Kind::StaleVersion,
        Kind::IdempotencyInProgress,
        Kind::TooLarge,
        Kind::UnsupportedMediaType,
        Kind::WrongHost,
        Kind::Validation,
        Kind::IdempotencyKeyReused,
        Kind::RateLimited,
        Kind::Internal,
        Kind::Unavailable,
    ];

    /// The anchor on the reference page, also the last part of `type`.
    pub fn slug(self) -> &'static str {
        match self {
            Kind::InvalidParameter => "invalid-parameter",
            Kind::MalformedBody => "malformed-body",
            Kind::Unauthenticated => "unauthenticated",
            Kind::Forbidden => "forbidden",
            Kind::ReadOnlyToken => "read-only-token",
            Kind::PlanRequired => "plan-required",
            Kind::PlanLimit => "plan-limit",
            Kind::WorkspaceSuspended => "workspace-suspended",
            Kind::NotFound => "not-found",
            Kind::WorkspaceNotFound => "workspace-not-found",
            Kind::MethodNotAllowed => "method-not-allowed",
            Kind::StaleVersion => "stale-version",
            Kind::IdempotencyInProgress => "idempotency-in-progress",
            Kind::TooLarge => "too-large",
            Kind::UnsupportedMediaType => "unsupported-media-type",
            Kind::WrongHost => "wrong-host",
            Kind::Validation => "validation",
            Kind::IdempotencyKeyReused => "idempotency-key-reused",
            Kind::RateLimited => "rate-limited",
            Kind::Internal => "internal",
            Kind::Unavailable => "unavailable",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Kind::InvalidParameter | Kind::MalformedBody => StatusCode::BAD_REQUEST,
            Kind::Unauthenticated => StatusCode::UNAUTHORIZED,
            Kind::Forbidden
            | Kind::ReadOnlyToken
            | Kind::PlanRequired
            | Kind::PlanLimit
            | Kind::WorkspaceSuspended => StatusCode::FORBIDDEN,
            Kind::NotFound | Kind::WorkspaceNotFound => StatusCode::NOT_FOUND,
            Kind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Kind::StaleVersion | Kind::IdempotencyInProgress => StatusCode::CONFLICT,
            Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Kind::WrongHost => StatusCode::MISDIRECTED_REQUEST,
            Kind::Validation | Kind::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Kind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Kind::InvalidParameter => "A parameter of the request is not valid",
            Kind::MalformedBody => "The request body is not valid JSON",
            Kind::Unauthenticated => "A valid API token is required",
            Kind::Forbidden => "The token's role does not allow this",
            Kind::ReadOnlyToken => "This token can only read",
            Kind::PlanRequired => "The workspace's plan does not include this",
            Kind::PlanLimit => "The workspace's plan limit is reached",
            Kind::WorkspaceSuspended => "This workspace is suspended",
            Kind::NotFound => "Not found",
            Kind::WorkspaceNotFound => "No workspace at this address",
            Kind::MethodNotAllowed => "This method is not allowed here",
            Kind::StaleVersion => "The resource changed since it was read",
            Kind::IdempotencyInProgress => "A request with this idempotency key is still running",
            Kind::TooLarge => "The request body is too large",
            Kind::UnsupportedMediaType => "The request body must be JSON",
            Kind::WrongHost => "This server does not answer for this address",
            Kind::Validation => "Some fields are not valid",
            Kind::IdempotencyKeyReused => "This idempotency key was used for another request",
            Kind::RateLimited => "Too many requests",
            Kind::Internal => "Something went wrong on our side",
            Kind::Unavailable => "The service is busy or restarting",
        }
    }

    /// The `type` member: a stable reference into the API reference page.
    pub fn type_uri(self) -> String {
        format!("/docs/api#problem-{}", self.slug())
    }
}

/// One field at fault. `field` is a JSON path into the request body (`lines[0].quantity`),
/// a query parameter's name, or a header's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// An error answer (RFC 9457).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// Identifies the kind of error; resolves (against this host) to its description in the
    /// API reference. Stable: match on it.
    #[serde(rename = "type")]
    #[schema(example = "/docs/api#problem-validation")]
    pub kind: String,
    pub title: String,
    /// The HTTP status code of this answer.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// What happened and what to do, for people.
    pub detail: String,
    /// The fields at fault (validation and parameter errors).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<FieldProblem>,
    /// Plans that would allow this (plan errors), cheapest first.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub plans: Vec<String>,
    /// Quote it when you contact support (server errors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A problem on its way out, with the headers some kinds carry.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Boxed: errors travel in every handler's `Result`, which stays small this way.
    pub problem: Box<Problem>,
    /// Seconds, for `Retry-After` (429 and 503).
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(kind: Kind, detail: impl Into<String>) -> Self {
        ApiError {
            problem: Box::new(Problem {
                kind: kind.type_uri(),
                title: kind.title().to_owned(),
                status: kind.status().as_u16(),
                detail: detail.into(),
                errors: Vec::new(),
                plans: Vec::new(),
                request_id: None,
            }),
            retry_after: matches!(kind, Kind::Unavailable | Kind::IdempotencyInProgress)
                .then_some(1),
        }
    }

    /// A validation error on several fields at once.
    pub fn fields(kind: Kind, errors: Vec<FieldProblem>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => "Several fields are not valid; see errors.".to_owned(),
        };
        let mut err = ApiError::new(kind, detail);
        err.problem.errors = errors;
        err
    }

    pub fn field(kind: Kind, field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::fields(
            kind,
            vec![FieldProblem {
                field: field.into(),
                message: message.into(),
            }],
        )
    }

    pub fn with_plans(mut self, plans: Vec<String>) -> Self {
        self.problem.plans = plans;
        self
    }

    pub fn with_retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn internal(request_id: &str) -> Self {
        let mut err = ApiError::new(
            Kind::Internal,
            format!("Please try again. If it keeps happening, contact support with the reference {request_id}."),
        );
        err.problem.request_id = Some(request_id.to_owned());
        err
    }

    pub fn not_found() -> Self {
        ApiError::new(
            Kind::NotFound,
            "There is nothing with this id in this workspace.",
        )
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// The screens' errors in the API's words: what a shared check (a rate limit, a plan gate)
/// says to a person becomes the matching problem.
impl From<app::AppError> for ApiError {
    fn from(err: app::AppError) -> Self {
        use app::AppError as E;
        let detail = err.to_string();
        match err {
            E::NotFound => ApiError::not_found(),
            E::Unauthenticated => ApiError::new(Kind::Unauthenticated, detail),
            E::Forbidden | E::Refused { .. } => ApiError::new(Kind::Forbidden, detail),
            E::Validation { fields } => ApiError::fields(
                Kind::Validation,
                fields
                    .into_iter()
                    .map(|f| FieldProblem {
                        field: f.field,
                        message: f.message,
                    })
                    .collect(),
            ),
            E::PlanRequired { plans, .. } => {
                ApiError::new(Kind::PlanRequired, detail).with_plans(plans)
            }
            E::LimitReached { .. } => ApiError::new(Kind::PlanLimit, detail),
            E::RateLimited { .. } => ApiError::new(Kind::RateLimited, detail).with_retry_after(60),
            E::BadInput | E::Transport { .. } => ApiError::new(Kind::MalformedBody, detail),
            E::Unavailable | E::TooSlow => ApiError::new(Kind::Unavailable, detail),
            E::Moving => ApiError::new(Kind::Unavailable, detail).with_retry_after(60),
            E::Internal { request_id } => ApiError::internal(&request_id),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&*self.problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"stockroom\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_type_and_an_error_status() {
        let mut slugs: Vec<_> = Kind::ALL.iter().map(|k| k.slug()).collect();
        slugs.sort();
        slugs.dedup();
        assert_eq!(slugs.len(), Kind::ALL.len());
        for kind in Kind::ALL {
            assert!(kind.status().as_u16() >= 400, "{kind:?}");
            assert!(kind.type_uri().ends_with(kind.slug()));
        }
    }

    #[test]
    fn rate_limits_answer_429_with_retry_after() {
        let response = ApiError::from(app::AppError::RateLimited {
            message: "Slow down.".into(),
        })
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "60");
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }

    #[test]
    fn internal_errors_carry_only_a_reference() {
        let err = ApiError::from(app::AppError::Internal {
            request_id: "req-9".into(),
        });
        assert_eq!(err.problem.status, 500);
        assert_eq!(err.problem.request_id.as_deref(), Some("req-9"));
        assert!(!err.problem.detail.to_lowercase().contains("sql"));
    }
}
