//! How a customer is reached: a phone number and a shipping address, both optional.

use serde::{Deserialize, Serialize};

/// A phone number as people write it: digits with the usual punctuation (`+`, spaces, `-`,
/// `.`, parentheses), 5 to 20 digits, at most 32 characters. Kept as typed (trimmed): a
/// number written "+44 131 496 0000" should read back the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("Use at most {PHONE_MAX} characters.")]
    TooLong,
    #[error("Use digits, spaces and + - . ( ) only, like +44 131 496 0000.")]
    InvalidCharacter,
    #[error("A phone number has 5 to 20 digits.")]
    DigitCount,
}

pub const PHONE_MAX: usize = 32;

impl Phone {
    /// `None` when nothing was typed: the number is optional.
    pub fn parse(input: &str) -> Result<Option<Self>, PhoneError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        if trimmed.chars().count() > PHONE_MAX {
            return Err(PhoneError::TooLong);
        }
        if !trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || " +-.()".contains(c))
        {
            return Err(PhoneError::InvalidCharacter);
        }
        let digits = trimmed.chars().filter(char::is_ascii_digit).count();
        if !(5..=20).contains(&digits) {
            return Err(PhoneError::DigitCount);
        }
        Ok(Some(Self(trimmed.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Phone {
    type Error = PhoneError;
    fn try_from(raw: String) -> Result<Self, PhoneError> {
        Self::parse(&raw)?.ok_or(PhoneError::DigitCount)
    }
}

impl From<Phone> for String {
    fn from(phone: Phone) -> String {
        phone.0
    }
}

/// A shipping address: a few lines of text (a street, a town, a postcode, a country), at
/// most [`ADDRESS_MAX`] characters and [`ADDRESS_LINES`] lines. Line breaks are the one
/// control character it keeps (stored as `\n`); blank lines and spaces around each line go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Address(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("Use at most {ADDRESS_MAX} characters.")]
    TooLong,
    #[error("Use at most {ADDRESS_LINES} lines.")]
    TooManyLines,
    #[error("Use text only: line breaks are fine, other control characters are not.")]
    ControlCharacter,
}

pub const ADDRESS_MAX: usize = 400;
pub const ADDRESS_LINES: usize = 8;

impl Address {
    /// `None` when nothing was typed: the address is optional.
    pub fn parse(input: &str) -> Result<Option<Self>, AddressError> {
        if input.chars().count() > ADDRESS_MAX {
            return Err(AddressError::TooLong);
        }
        if input
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r'))
        {
            return Err(AddressError::ControlCharacter);
        }
        let lines: Vec<&str> = input
            .split(['\n', '\r'])
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect();
        if lines.len() > ADDRESS_LINES {
            return Err(AddressError::TooManyLines);
        }
        Ok((!lines.is_empty()).then(|| Self(lines.join("\n"))))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Address {
    type Error = AddressError;
    fn try_from(raw: String) -> Result<Self, AddressError> {
        Self::parse(&raw)?.ok_or(AddressError::TooManyLines)
    }
}

impl From<Address> for String {
    fn from(address: Address) -> String {
        address.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_digits_with_punctuation() {
        assert_eq!(Phone::parse("  "), Ok(None));
        assert_eq!(
            Phone::parse(" +44 (131) 496-0000 ")
                .unwrap()
                .unwrap()
                .as_str(),
            "+44 (131) 496-0000"
        );
        assert_eq!(Phone::parse("call me"), Err(PhoneError::InvalidCharacter));
        assert_eq!(Phone::parse("12\u{0}34"), Err(PhoneError::InvalidCharacter));
        assert_eq!(Phone::parse("1234"), Err(PhoneError::DigitCount));
        assert_eq!(Phone::parse(&"1".repeat(33)), Err(PhoneError::TooLong));
        assert_eq!(Phone::parse(&"1".repeat(21)), Err(PhoneError::DigitCount));
    }

    #[test]
    fn addresses_keep_their_lines_and_nothing_else() {
        assert_eq!(Address::parse(" \r\n "), Ok(None));
        let parsed = Address::parse("  12 Harbour St \r\n\r\nLeith\n EH6 6QN ")
            .unwrap()
            .unwrap();
        assert_eq!(parsed.as_str(), "12 Harbour St\nLeith\nEH6 6QN");
        assert_eq!(Address::parse("a\tb"), Err(AddressError::ControlCharacter));
        assert_eq!(
            Address::parse("a\u{0}b"),
            Err(AddressError::ControlCharacter)
        );
        assert_eq!(Address::parse(&"x".repeat(401)), Err(AddressError::TooLong));
        assert_eq!(
            Address::parse(&"x\n".repeat(9)),
            Err(AddressError::TooManyLines)
        );
    }

    #[test]
    fn deserialising_goes_through_the_parser() {
        assert!(serde_json::from_str::<Phone>("\"abc\"").is_err());
        assert!(serde_json::from_str::<Address>("\"a\\u0000\"").is_err());
        let address: Address = serde_json::from_str("\" a \\n b \"").unwrap();
        assert_eq!(address.as_str(), "a\nb");
    }
}
