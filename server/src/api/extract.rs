//! Reading a request the API way: every malformed part is a problem document that names the
//! part at fault, never a framework's plain-text rejection.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::problem::{ApiError, Kind};

/// The largest body the API reads: an order of a hundred lines is a few KB.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Reads a body of at most [`BODY_LIMIT`] once, so later steps (the idempotency key's
/// request digest, the JSON reader) work on bytes in memory.
pub async fn buffer_body(req: Request, next: Next) -> Response {
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        ApiError::new(
            Kind::TooLarge,
            format!("A request body may hold at most {BODY_LIMIT} bytes."),
        )
        .into_response()
    };
    if announced.is_some_and(|length| length > BODY_LIMIT as u64) {
        return too_large();
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return too_large();
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// A JSON body of type `T`: unknown fields, wrong types and missing fields are validation
/// problems on the field's JSON path; text that is not JSON is a malformed body.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                Kind::UnsupportedMediaType,
                "Send the body as JSON, with Content-Type: application/json.",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            ApiError::new(Kind::MalformedBody, "The request body could not be read.")
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|essence| essence.trim().to_ascii_lowercase())
        .is_some_and(|essence| {
            essence == "application/json"
                || (essence.starts_with("application/") && essence.ends_with("+json"))
        })
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    let parsed = match serde_path_to_error::deserialize(&mut reader) {
        Ok(parsed) => parsed,
        Err(err) if err.inner().classify() == serde_json::error::Category::Data => {
            return Err(field_problem(err));
        }
        // The reader also says "expected value", a syntax error, for a value of the wrong
        // kind in valid JSON (a number where a status goes). Read as a document first, the
        // body tells the two apart, and the field's fault is put on the field.
        Err(_) => {
            let document: serde_json::Value = serde_json::from_slice(bytes).map_err(malformed)?;
            return serde_path_to_error::deserialize(document).map_err(field_problem);
        }
    };
    reader.end().map_err(malformed)?;
    Ok(parsed)
}

fn malformed(err: serde_json::Error) -> ApiError {
    ApiError::new(
        Kind::MalformedBody,
        format!("The body is not valid JSON: {}", without_position(&err)),
    )
}

fn field_problem(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = err.path().to_string();
    let field = if path == "." { "body".to_owned() } else { path };
    ApiError::field(Kind::Validation, field, without_position(err.inner()))
}

/// serde_json's message without its " at line 1 column 9": the field path says where.
fn without_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Query parameters of type `T`. Unknown and repeated parameters are refused too, so a
/// misspelt filter is never silently ignored.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let reader = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(reader)
            .map(ApiQuery)
            .map_err(|err| {
                let field = err.path().to_string();
                let message = err.into_inner().to_string();
                if field == "." {
                    ApiError::new(Kind::InvalidParameter, message)
                } else {
                    ApiError::field(Kind::InvalidParameter, field, message)
                }
            })
    }
}

/// The `{id}` of a path. One that is not a UUID names nothing, like an id of another
/// workspace: 404.
pub struct IdPath(pub uuid::Uuid);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found())?;
        uuid::Uuid::parse_str(&raw)
            .map(IdPath)
            .map_err(|_| ApiError::not_found())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Line {
        quantity: i32,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Order {
        lines: Vec<Line>,
    }

    #[test]
    fn body_errors_name_the_field_at_fault() {
        let fine = parse_json::<Order>(br#"{"lines":[{"quantity":3}]}"#).unwrap();
        assert_eq!(fine.lines[0].quantity, 3);
        let err =
            parse_json::<Order>(br#"{"lines":[{"quantity":1},{"quantity":"two"}]}"#).unwrap_err();
        assert_eq!(err.problem.status, 422);
        assert_eq!(err.problem.errors[0].field, "lines[1].quantity");
        assert!(!err.problem.errors[0].message.contains("line 1"));
        let unknown = parse_json::<Order>(br#"{"lines":[],"coupon":"FREE"}"#).unwrap_err();
        assert!(unknown.problem.errors[0]
            .message
            .contains("unknown field `coupon`"));
        let broken = parse_json::<Order>(br#"{"lines":["#).unwrap_err();
        assert_eq!(broken.problem.status, 400);
        let trailing = parse_json::<Order>(br#"{"lines":[]} x"#).unwrap_err();
        assert_eq!(trailing.problem.status, 400);
        let broken_and_wrong = parse_json::<Order>(br#"{"lines":[{"quantity":"#).unwrap_err();
        assert_eq!(broken_and_wrong.problem.status, 400);
        let not_a_list = parse_json::<Order>(br#"{"lines":{"quantity":1}}"#).unwrap_err();
        assert_eq!(not_a_list.problem.errors[0].field, "lines");
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    enum Status {
        Pending,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Change {
        status: Status,
    }

    #[test]
    fn a_value_of_the_wrong_kind_in_valid_json_is_the_fields_fault() {
        assert!(matches!(
            parse_json::<Change>(br#"{"status":"PENDING"}"#)
                .unwrap()
                .status,
            Status::Pending
        ));
        for body in [
            &br#"{"status":2}"#[..],
            br#"{"status":[]}"#,
            br#"{"status":null}"#,
        ] {
            let err = parse_json::<Change>(body).unwrap_err();
            assert_eq!(err.problem.status, 422, "{}", String::from_utf8_lossy(body));
            assert_eq!(err.problem.errors[0].field, "status");
            assert!(!err.problem.errors[0].message.contains("expected value"));
        }
    }
}
