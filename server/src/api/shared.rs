//! What every resource of the API shares: money, moments, pages.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::problem::{ApiError, FieldProblem, Kind};

/// An amount in integer minor units (cents for USD, yen for JPY) of a currency. A workspace
/// prices everything in its own currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Money {
    #[schema(minimum = 0, maximum = 100_000_000_000_i64, example = 1250)]
    pub amount_minor: i64,
    /// ISO 4217 code; must be the workspace's currency.
    #[schema(example = "USD", pattern = "^[A-Z]{3}$")]
    pub currency: String,
}

impl Money {
    pub fn of(amount: domain::Money, currency: &domain::Currency) -> Self {
        Money {
            amount_minor: amount.minor(),
            currency: currency.as_str().to_owned(),
        }
    }

    /// Parses an amount sent for `field`, by the same rules as the screens' price field.
    pub fn parse(
        &self,
        field: &str,
        currency: &domain::Currency,
        errors: &mut Vec<FieldProblem>,
    ) -> Option<domain::Money> {
        let mut refuse = |member: &str, message: String| {
            errors.push(FieldProblem {
                field: format!("{field}.{member}"),
                message,
            });
            None
        };
        if domain::Currency::parse(&self.currency).as_ref() != Some(currency) {
            return refuse(
                "currency",
                format!("This workspace prices in {}.", currency.as_str()),
            );
        }
        let parsed = domain::Money::try_from(self.amount_minor)
            .and_then(|amount| domain::Money::parse(&amount.to_decimal_string(currency), currency));
        match parsed {
            Ok(amount) => Some(amount),
            Err(err) => refuse("amount_minor", err.to_string()),
        }
    }
}

/// A moment as the API writes it: RFC 3339, in UTC.
pub fn timestamp(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// A moment as a client sends it (RFC 3339), for the parameter `field`.
pub fn parse_timestamp(field: &str, raw: &str) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::parse(raw, &Rfc3339)
        .ok()
        .filter(|at| (1..=9999).contains(&at.year()))
        .ok_or_else(|| {
            ApiError::field(
                Kind::InvalidParameter,
                field,
                "Use an RFC 3339 timestamp, e.g. 2026-11-30T09:00:00Z.",
            )
        })
}

// The lists' usual first pages are planned once only at this size.
pub const DEFAULT_LIMIT: u32 = db::tenant::DEFAULT_PAGE as u32;
pub const MAX_LIMIT: u32 = 100;

/// A page size from the `limit` parameter.
pub fn limit(requested: Option<u32>) -> Result<i64, ApiError> {
    match requested.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(i64::from(n)),
        _ => Err(ApiError::field(
            Kind::InvalidParameter,
            "limit",
            format!("Ask for 1 to {MAX_LIMIT} items per page."),
        )),
    }
}

/// Field problems collected while a body is checked, all reported at once.
pub fn all_valid<T>(errors: Vec<FieldProblem>, value: Option<T>) -> Result<T, ApiError> {
    match value {
        Some(value) if errors.is_empty() => Ok(value),
        _ => Err(ApiError::fields(Kind::Validation, errors)),
    }
}

/// Runs a domain parser on one field, recording its message on failure.
pub fn check<T, E: std::fmt::Display>(
    errors: &mut Vec<FieldProblem>,
    field: &str,
    parsed: Result<T, E>,
) -> Option<T> {
    parsed
        .map_err(|err| {
            errors.push(FieldProblem {
                field: field.to_owned(),
                message: err.to_string(),
            })
        })
        .ok()
}
