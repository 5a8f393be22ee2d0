//! What plans gate. Plans themselves are rows (see `PlanCode`); the features and limits the
//! code checks are named here, each matching a row of `features` / `limit_kinds`.

use serde::{Deserialize, Serialize};

/// A capability a plan may include.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Feature {
    CsvExport,
}

/// A feature or limit code as someone sent it: the shape the `features` and `limit_kinds`
/// tables allow (`csv_export`), or nothing. Whether it names a row is the database's to say.
pub fn parse_code(input: &str) -> Option<&str> {
    let code = input.trim();
    let mut chars = code.chars();
    let shaped = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && (2..=48).contains(&code.len());
    shaped.then_some(code)
}

impl Feature {
    pub const ALL: [Feature; 1] = [Feature::CsvExport];

    pub fn code(self) -> &'static str {
        match self {
            Feature::CsvExport => "csv_export",
        }
    }
}

/// A count a plan may cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LimitKind {
    /// Products that are not archived.
    Products,
    /// Members plus invitations still open.
    Members,
    /// Orders placed since the first of this month (UTC).
    OrdersPerMonth,
    /// API tokens neither revoked nor expired.
    ApiTokens,
}

impl LimitKind {
    pub const ALL: [LimitKind; 4] = [
        LimitKind::Products,
        LimitKind::Members,
        LimitKind::OrdersPerMonth,
        LimitKind::ApiTokens,
    ];

    pub fn code(self) -> &'static str {
        match self {
            LimitKind::Products => "max_products",
            LimitKind::Members => "max_members",
            LimitKind::OrdersPerMonth => "max_orders_per_month",
            LimitKind::ApiTokens => "max_api_tokens",
        }
    }
}

/// A console admin's setting for one limit of one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LimitOverride {
    /// No override: the plan decides.
    Inherit,
    Unlimited,
    Max(i64),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitOverrideError {
    #[error(
        "Enter a whole number of 0 or more, \"unlimited\", or leave it empty to follow the plan."
    )]
    NotANumber,
    #[error("A limit cannot be negative.")]
    Negative,
}

impl LimitOverride {
    /// Parses the console's field: empty follows the plan, "unlimited" lifts the limit,
    /// a whole number of 0 or more caps it.
    pub fn parse(input: &str) -> Result<Self, LimitOverrideError> {
        let input = input.trim();
        if input.is_empty() {
            return Ok(LimitOverride::Inherit);
        }
        if input.eq_ignore_ascii_case("unlimited") {
            return Ok(LimitOverride::Unlimited);
        }
        let value: i64 = input
            .replace(['_', ','], "")
            .parse()
            .map_err(|_| LimitOverrideError::NotANumber)?;
        if value < 0 {
            return Err(LimitOverrideError::Negative);
        }
        Ok(LimitOverride::Max(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_overrides_parse_from_the_console_field() {
        assert_eq!(LimitOverride::parse(""), Ok(LimitOverride::Inherit));
        assert_eq!(
            LimitOverride::parse(" Unlimited "),
            Ok(LimitOverride::Unlimited)
        );
        assert_eq!(LimitOverride::parse("0"), Ok(LimitOverride::Max(0)));
        assert_eq!(LimitOverride::parse("1,000"), Ok(LimitOverride::Max(1000)));
        assert_eq!(
            LimitOverride::parse("-1"),
            Err(LimitOverrideError::Negative)
        );
        assert_eq!(
            LimitOverride::parse("ten"),
            Err(LimitOverrideError::NotANumber)
        );
        assert_eq!(
            LimitOverride::parse("1.5"),
            Err(LimitOverrideError::NotANumber)
        );
    }

    #[test]
    fn codes_are_distinct() {
        let mut codes: Vec<_> = LimitKind::ALL.iter().map(|l| l.code()).collect();
        codes.extend(Feature::ALL.iter().map(|f| f.code()));
        let count = codes.len();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), count);
    }
}
