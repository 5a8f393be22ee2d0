use serde::{Deserialize, Serialize};
use server_fn_error::*;

/// One problem with one form field, shown next to that field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// The one error type every server function returns. What reaches the browser is only what a
/// person may read: internal detail is logged at the edge with the request id and never sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(into = "WireError", from = "WireError")]
pub enum AppError {
    #[error("We couldn't find that.")]
    NotFound,
    #[error("Please sign in to continue.")]
    Unauthenticated,
    #[error("You don't have access to that.")]
    Forbidden,
    #[error("Please correct the highlighted fields.")]
    Validation { fields: Vec<FieldError> },
    /// A refusal that is not about one field, phrased for the person (for example throttling).
    #[error("{message}")]
    Refused { message: String },
    /// The workspace's plan does not include `feature`; `plans` include it (cheapest first).
    #[error("{feature} is not included in your workspace's plan.")]
    PlanRequired { feature: String, plans: Vec<String> },
    /// The workspace reached one of its plan's limits; the message says which.
    #[error("{message}")]
    LimitReached { message: String },
    /// Too many attempts; the message says how long to wait.
    #[error("{message}")]
    RateLimited { message: String },
    /// The request carried something that cannot be stored or searched for, which no form
    /// field's check caught (the database's own refusal, kept a 4xx).
    #[error(
        "Something in this request cannot be used. Check for unusual characters and try again."
    )]
    BadInput,
    #[error("The service is busy or restarting. Please try again in a moment.")]
    Unavailable,
    /// The workspace's data is being moved to another database: its changes are paused (its
    /// pages still read), and it is back in a minute.
    #[error("This workspace is being moved to another database. Changes are paused for a minute: please try again shortly. Nothing you sent was saved.")]
    Moving,
    /// The work ran past the workspace's time limit and was stopped; nothing was written.
    #[error("That took too long and was stopped. Please try again, or narrow it down.")]
    TooSlow,
    #[error("Something went wrong on our side. Please try again. (Reference: {request_id})")]
    Internal { request_id: String },
    /// The request never reached our code or its answer never came back (network, encoding).
    #[error("We couldn't reach the server. Check your connection and try again.")]
    Transport { detail: String },
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation {
            fields: vec![FieldError {
                field: field.to_owned(),
                message: message.into(),
            }],
        }
    }

    /// The sentence an upgrade prompt shows: which plans would allow this.
    pub fn upgrade_hint(&self) -> Option<String> {
        match self {
            AppError::PlanRequired { plans, .. } if !plans.is_empty() => Some(format!(
                "Available on the {} plan{}. Ask your workspace owner to upgrade.",
                plans.join(" and "),
                if plans.len() > 1 { "s" } else { "" }
            )),
            AppError::PlanRequired { .. } | AppError::LimitReached { .. } => {
                Some("Ask your workspace owner to upgrade the plan.".into())
            }
            _ => None,
        }
    }

    /// The HTTP status a server function's error answer carries: the one place an error's
    /// kind becomes a status (the server's edge applies it to every `/api/` answer).
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Refused { .. }
            | AppError::PlanRequired { .. }
            | AppError::LimitReached { .. } => StatusCode::FORBIDDEN,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::BadInput => StatusCode::BAD_REQUEST,
            AppError::Unavailable | AppError::Moving | AppError::TooSlow => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            // Only the framework makes these on the server: the call's arguments did not
            // decode, which is the caller's mistake.
            AppError::Transport { .. } => StatusCode::BAD_REQUEST,
        }
    }

    /// The message for one field, if this error carries one.
    pub fn message_for(&self, field: &str) -> Option<String> {
        match self {
            AppError::Validation { fields } => fields
                .iter()
                .find(|f| f.field == field)
                .map(|f| f.message.clone()),
            _ => None,
        }
    }
}

/// Collects field errors while a form is parsed, so a person sees every problem at once.
#[derive(Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// Keeps the parsed value, or records why the field is wrong.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(err) => {
                self.0.push(FieldError {
                    field: field.to_owned(),
                    message: err.to_string(),
                });
                None
            }
        }
    }

    /// The parsed values of a form once every field passed, or every field's problem. `parsed`
    /// is the tuple of what [`FieldErrors::check`] returned for each field.
    pub fn into_values<T: AllParsed>(self, parsed: T) -> Result<T::Values, AppError> {
        match parsed.all_parsed() {
            Some(values) if self.0.is_empty() => Ok(values),
            _ => Err(AppError::Validation { fields: self.0 }),
        }
    }

    pub fn into_result(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation { fields: self.0 })
        }
    }
}

/// A tuple of parsed form fields, each `Some` when its field passed.
pub trait AllParsed {
    type Values;
    fn all_parsed(self) -> Option<Self::Values>;
}

macro_rules! all_parsed {
    ($($name:ident),+) => {
        impl<$($name),+> AllParsed for ($(Option<$name>,)+) {
            type Values = ($($name,)+);
            #[allow(non_snake_case)]
            fn all_parsed(self) -> Option<Self::Values> {
                let ($($name,)+) = self;
                Some(($($name?,)+))
            }
        }
    };
}

all_parsed!(A);
all_parsed!(A, B);
all_parsed!(A, B, C);
all_parsed!(A, B, C, D);
all_parsed!(A, B, C, D, E);

/// How an error travels: one flat record. serde's derive for an enum with fields generates a
/// visitor per variant, and the browser bundle carried that (about 10 KB) once for every kind
/// of JSON reader an error is read with; a flat record costs a fraction of it.
#[derive(Serialize, Deserialize, Default)]
#[serde(default)]
struct WireError {
    kind: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldError>,
    /// The message of a refusal, the feature a plan lacks, the request id or transport detail.
    #[serde(skip_serializing_if = "String::is_empty")]
    text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    plans: Vec<String>,
}

impl From<AppError> for WireError {
    fn from(err: AppError) -> Self {
        let (kind, text) = match &err {
            AppError::NotFound => ("not_found", String::new()),
            AppError::Unauthenticated => ("unauthenticated", String::new()),
            AppError::Forbidden => ("forbidden", String::new()),
            AppError::Validation { .. } => ("validation", String::new()),
            AppError::Refused { message } => ("refused", message.clone()),
            AppError::PlanRequired { feature, .. } => ("plan_required", feature.clone()),
            AppError::LimitReached { message } => ("limit_reached", message.clone()),
            AppError::RateLimited { message } => ("rate_limited", message.clone()),
            AppError::BadInput => ("bad_input", String::new()),
            AppError::Unavailable => ("unavailable", String::new()),
            AppError::Moving => ("moving", String::new()),
            AppError::TooSlow => ("too_slow", String::new()),
            AppError::Internal { request_id } => ("internal", request_id.clone()),
            AppError::Transport { detail } => ("transport", detail.clone()),
        };
        let (fields, plans) = match err {
            AppError::Validation { fields } => (fields, Vec::new()),
            AppError::PlanRequired { plans, .. } => (Vec::new(), plans),
            _ => (Vec::new(), Vec::new()),
        };
        WireError {
            kind: kind.to_owned(),
            fields,
            text,
            plans,
        }
    }
}

impl From<WireError> for AppError {
    fn from(wire: WireError) -> Self {
        let WireError {
            kind,
            fields,
            text,
            plans,
        } = wire;
        match kind.as_str() {
            "not_found" => AppError::NotFound,
            "unauthenticated" => AppError::Unauthenticated,
            "forbidden" => AppError::Forbidden,
            "validation" => AppError::Validation { fields },
            "refused" => AppError::Refused { message: text },
            "plan_required" => AppError::PlanRequired {
                feature: text,
                plans,
            },
            "limit_reached" => AppError::LimitReached { message: text },
            "rate_limited" => AppError::RateLimited { message: text },
            "bad_input" => AppError::BadInput,
            "unavailable" => AppError::Unavailable,
            "moving" => AppError::Moving,
            "too_slow" => AppError::TooSlow,
            "internal" => AppError::Internal { request_id: text },
            // "transport", or a kind this build does not know (an older page talking to a newer
            // server): shown as a failed call rather than misread.
            _ => AppError::Transport { detail: text },
        }
    }
}

mod server_fn_error {
    pub use crate::codec::TextJsonEncoding;
    pub use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
}

impl FromServerFnError for AppError {
    type Encoder = TextJsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport {
            detail: value.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_survives_the_trip_to_the_browser() {
        let errors = [
            AppError::NotFound,
            AppError::Unauthenticated,
            AppError::Forbidden,
            AppError::field("sku", "That SKU is taken."),
            AppError::Refused {
                message: "No.".into(),
            },
            AppError::PlanRequired {
                feature: "csv_export".into(),
                plans: vec!["PRO".into(), "ENTERPRISE".into()],
            },
            AppError::LimitReached {
                message: "10 of 10 products.".into(),
            },
            AppError::RateLimited {
                message: "Wait a minute.".into(),
            },
            AppError::BadInput,
            AppError::Unavailable,
            AppError::Moving,
            AppError::TooSlow,
            AppError::Internal {
                request_id: "req-1".into(),
            },
            AppError::Transport {
                detail: "offline".into(),
            },
        ];
        for err in errors {
            let json = serde_json::to_string(&err).unwrap();
            assert_eq!(
                serde_json::from_str::<AppError>(&json).unwrap(),
                err,
                "{json}"
            );
        }
        let unknown: AppError = serde_json::from_str(r#"{"kind":"from_the_future"}"#).unwrap();
        assert!(matches!(unknown, AppError::Transport { .. }));
    }

    #[test]
    fn collects_every_field_problem() {
        let mut errors = FieldErrors::default();
        assert_eq!(errors.check("a", Ok::<_, String>(1)), Some(1));
        assert_eq!(errors.check::<i32, _>("b", Err("bad b")), None);
        assert_eq!(errors.check::<i32, _>("c", Err("bad c")), None);
        let err = errors.into_result().unwrap_err();
        assert_eq!(err.message_for("b").as_deref(), Some("bad b"));
        let mut fine = FieldErrors::default();
        let (a, b) = (
            fine.check("a", Ok::<_, String>(1)),
            fine.check("b", Ok::<_, String>("x")),
        );
        assert_eq!(fine.into_values((a, b)).unwrap(), (1, "x"));
        assert_eq!(err.message_for("c").as_deref(), Some("bad c"));
        assert_eq!(err.message_for("a"), None);
    }

    #[test]
    fn internal_errors_show_only_a_reference() {
        let shown = AppError::Internal {
            request_id: "req-1".into(),
        }
        .to_string();
        assert!(shown.contains("req-1"));
        assert!(!shown.to_lowercase().contains("sql"));
    }
}
