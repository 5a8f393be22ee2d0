use serde::{Deserialize, Serialize};

/// A stock-keeping unit, unique per workspace: 1–64 characters of letters, digits, `-`, `_`,
/// `.` and `/`, stored upper-case so "ab-1" and "AB-1" are one SKU.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkuError {
    #[error("Enter a SKU.")]
    Empty,
    #[error("Use at most 64 characters.")]
    TooLong,
    #[error("Use only letters, digits and - _ . /")]
    InvalidCharacter,
}

impl Sku {
    pub fn parse(input: &str) -> Result<Self, SkuError> {
        let sku = input.trim().to_ascii_uppercase();
        if sku.is_empty() {
            return Err(SkuError::Empty);
        }
        if sku.chars().count() > 64 {
            return Err(SkuError::TooLong);
        }
        if !sku
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        {
            return Err(SkuError::InvalidCharacter);
        }
        Ok(Self(sku))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sku {
    type Error = SkuError;
    fn try_from(raw: String) -> Result<Self, SkuError> {
        Self::parse(&raw)
    }
}

impl From<Sku> for String {
    fn from(sku: Sku) -> String {
        sku.0
    }
}

/// A product's description: may be empty, may span lines, at most 5,000 characters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Description(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescriptionError {
    #[error("Use at most {DESCRIPTION_MAX} characters.")]
    TooLong,
    #[error("Use text only: line breaks and tabs are fine, other control characters are not.")]
    ControlCharacter,
}

pub const DESCRIPTION_MAX: usize = 5000;

impl Description {
    pub fn parse(input: &str) -> Result<Self, DescriptionError> {
        if input.chars().count() > DESCRIPTION_MAX {
            return Err(DescriptionError::TooLong);
        }
        if input
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(DescriptionError::ControlCharacter);
        }
        Ok(Self(input.trim().to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Description {
    type Error = DescriptionError;
    fn try_from(raw: String) -> Result<Self, DescriptionError> {
        Self::parse(&raw)
    }
}

impl From<Description> for String {
    fn from(description: Description) -> String {
        description.0
    }
}

/// Units on hand or ordered: a whole number, never negative.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CountError {
    #[error("Enter a number.")]
    Empty,
    #[error("Enter a whole number, like 12.")]
    NotAWholeNumber,
    #[error("This cannot be negative.")]
    Negative,
    #[error("Enter at least 1.")]
    Zero,
    #[error("That number is too large.")]
    TooLarge,
}

const MAX_COUNT: i64 = 1_000_000_000;

fn parse_count(input: &str) -> Result<i32, CountError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(CountError::Empty);
    }
    let value: i64 = trimmed.parse().map_err(|_| {
        if trimmed.starts_with('-') && trimmed[1..].chars().all(|c| c.is_ascii_digit()) {
            CountError::Negative
        } else if trimmed.chars().all(|c| c.is_ascii_digit()) {
            CountError::TooLarge
        } else {
            CountError::NotAWholeNumber
        }
    })?;
    if value < 0 {
        return Err(CountError::Negative);
    }
    if value > MAX_COUNT {
        return Err(CountError::TooLarge);
    }
    Ok(value as i32)
}

/// Stock on hand (zero allowed).
pub fn parse_stock(input: &str) -> Result<i32, CountError> {
    parse_count(input)
}

/// A line's quantity (at least one).
pub fn parse_quantity(input: &str) -> Result<i32, CountError> {
    match parse_count(input)? {
        0 => Err(CountError::Zero),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_are_normalised_and_checked() {
        assert_eq!(Sku::parse(" ab-1 ").unwrap().as_str(), "AB-1");
        assert_eq!(Sku::parse(""), Err(SkuError::Empty));
        assert_eq!(Sku::parse("a b"), Err(SkuError::InvalidCharacter));
        assert_eq!(Sku::parse(&"x".repeat(65)), Err(SkuError::TooLong));
    }

    #[test]
    fn deserialising_goes_through_the_parser() {
        let sku: Sku = serde_json::from_str("\" ab-1 \"").unwrap();
        assert_eq!(sku.as_str(), "AB-1");
        assert!(serde_json::from_str::<Sku>("\"a b\"").is_err());
        assert!(serde_json::from_str::<Description>(&format!("\"{}\"", "x".repeat(5001))).is_err());
        assert_eq!(
            Description::parse("a\0b"),
            Err(DescriptionError::ControlCharacter)
        );
        assert!(Description::parse("line one\r\n\tline two").is_ok());
    }

    #[test]
    fn counts_are_whole_and_not_negative() {
        assert_eq!(parse_stock("0"), Ok(0));
        assert_eq!(parse_stock(" 12 "), Ok(12));
        assert_eq!(parse_stock("-3"), Err(CountError::Negative));
        assert_eq!(parse_stock("1.5"), Err(CountError::NotAWholeNumber));
        assert_eq!(parse_stock("ten"), Err(CountError::NotAWholeNumber));
        assert_eq!(parse_stock(""), Err(CountError::Empty));
        assert_eq!(parse_stock("99999999999"), Err(CountError::TooLarge));
        assert_eq!(parse_quantity("0"), Err(CountError::Zero));
        assert_eq!(parse_quantity("2"), Ok(2));
    }
}
