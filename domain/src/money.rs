use std::fmt;

use serde::{Deserialize, Serialize};

/// An ISO 4217 currency code, e.g. `USD`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

impl TryFrom<String> for Currency {
    type Error = &'static str;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Currency::parse(&raw).ok_or("a currency is three letters, like USD")
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> String {
        currency.0
    }
}

/// Currencies whose minor unit is not a hundredth.
const ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];
const THREE_DECIMAL: &[&str] = &["BHD", "JOD", "KWD", "OMR", "TND"];

impl Currency {
    pub fn parse(code: &str) -> Option<Self> {
        let code = code.trim().to_ascii_uppercase();
        (code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase())).then_some(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// How many decimal places one major unit has.
    pub fn decimals(&self) -> u32 {
        if ZERO_DECIMAL.contains(&self.0.as_str()) {
            0
        } else if THREE_DECIMAL.contains(&self.0.as_str()) {
            3
        } else {
            2
        }
    }
}

/// An amount in integer minor units (cents for USD). Never a float.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Money(i64);

/// Minor units as they travel: never negative, never beyond what totals can hold.
impl TryFrom<i64> for Money {
    type Error = MoneyError;
    fn try_from(minor: i64) -> Result<Self, MoneyError> {
        match minor {
            ..0 => Err(MoneyError::Negative),
            0..=MAX_TRAVELLING_MINOR => Ok(Money(minor)),
            _ => Err(MoneyError::TooLarge),
        }
    }
}

impl From<Money> for i64 {
    fn from(money: Money) -> i64 {
        money.0
    }
}

/// The largest amount that may travel: an order total of [`MAX_MINOR`]-priced lines still
/// fits, while an i64 near overflow does not.
const MAX_TRAVELLING_MINOR: i64 = i64::MAX / 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("Enter a price.")]
    Empty,
    #[error("Enter a price like 12.50, using digits only.")]
    NotANumber,
    /// "12,50": read as a hundredfold price by some, as 12.50 by others; never guessed at.
    #[error("Use a decimal point, like 12.50, not a decimal comma.")]
    DecimalComma,
    #[error("The price cannot be negative.")]
    Negative,
    #[error("Use at most {0} decimal places.")]
    TooPrecise(u32),
    #[error("That price is too large.")]
    TooLarge,
}

/// Amounts above a billion major units are refused: it keeps totals of many lines far from
/// overflowing i64.
const MAX_MINOR: i64 = 100_000_000_000;

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_minor(minor: i64) -> Self {
        Self(minor)
    }

    pub fn minor(self) -> i64 {
        self.0
    }

    /// Parses a price as a person types it ("12", "12.5", "1,299.00") in `currency`.
    pub fn parse(input: &str, currency: &Currency) -> Result<Self, MoneyError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(MoneyError::Empty);
        }
        let cleaned = strip_thousands_separators(trimmed).ok_or_else(|| {
            if is_decimal_comma(trimmed) {
                MoneyError::DecimalComma
            } else {
                MoneyError::NotANumber
            }
        })?;
        if cleaned.starts_with('-') {
            return Err(MoneyError::Negative);
        }
        let (whole, fraction) = match cleaned.split_once('.') {
            Some((whole, fraction)) => (whole, fraction),
            None => (cleaned.as_str(), ""),
        };
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
            return Err(MoneyError::NotANumber);
        }
        let decimals = currency.decimals();
        if fraction.len() as u32 > decimals {
            return Err(MoneyError::TooPrecise(decimals));
        }
        let scale = 10_i64.pow(decimals);
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| MoneyError::TooLarge)?
        };
        let fraction: i64 = if fraction.is_empty() {
            0
        } else {
            let padded = format!("{fraction:0<width$}", width = decimals as usize);
            padded.parse().map_err(|_| MoneyError::NotANumber)?
        };
        let minor = whole
            .checked_mul(scale)
            .and_then(|w| w.checked_add(fraction))
            .ok_or(MoneyError::TooLarge)?;
        if minor > MAX_MINOR {
            return Err(MoneyError::TooLarge);
        }
        Ok(Self(minor))
    }

    pub fn checked_mul(self, quantity: i64) -> Option<Money> {
        self.0.checked_mul(quantity).map(Money)
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// The amount as a plain decimal for form fields ("12.50").
    pub fn to_decimal_string(self, currency: &Currency) -> String {
        let decimals = currency.decimals();
        if decimals == 0 {
            return self.0.to_string();
        }
        let scale = 10_i64.pow(decimals);
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!(
            "{sign}{}.{:0width$}",
            abs / scale as u64,
            abs % scale as u64,
            width = decimals as usize
        )
    }

    /// The amount for display: "USD 1,299.00".
    pub fn display(self, currency: &Currency) -> MoneyDisplay {
        MoneyDisplay {
            amount: self,
            currency: currency.clone(),
        }
    }
}

/// "1,299.50" → "1299.50". A comma is only a thousands separator between groups of exactly
/// three digits, so "12,50" (a decimal comma) is refused rather than read as 1250.
fn strip_thousands_separators(input: &str) -> Option<String> {
    if !input.contains(',') {
        return Some(input.to_owned());
    }
    let (whole, fraction) = match input.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (input, None),
    };
    let mut groups = whole.split(',');
    let first = groups.next()?;
    let digits = |g: &str| g.chars().all(|c| c.is_ascii_digit());
    let valid = (1..=3).contains(&first.len())
        && digits(first)
        && groups.all(|g| g.len() == 3 && digits(g));
    if !valid || fraction.is_some_and(|f| f.contains(',')) {
        return None;
    }
    let mut cleaned = whole.replace(',', "");
    if let Some(fraction) = fraction {
        cleaned.push('.');
        cleaned.push_str(fraction);
    }
    Some(cleaned)
}

/// Digits, one comma, then one to three digits and nothing else, where the comma cannot be a
/// thousands separator: "12,50", "0,5", "1234,567".
fn is_decimal_comma(input: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    input
        .split_once(',')
        .is_some_and(|(whole, fraction)| digits(whole) && digits(fraction) && fraction.len() <= 3)
}

pub struct MoneyDisplay {
    amount: Money,
    currency: Currency,
}

impl fmt::Display for MoneyDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = self.amount.to_decimal_string(&self.currency);
        let (sign, plain) = plain
            .strip_prefix('-')
            .map(|p| ("-", p))
            .unwrap_or(("", plain.as_str()));
        let (whole, fraction) = plain
            .split_once('.')
            .map(|(w, f)| (w, Some(f)))
            .unwrap_or((plain, None));
        let mut grouped = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        write!(f, "{sign}{} {grouped}", self.currency.as_str())?;
        if let Some(fraction) = fraction {
            write!(f, ".{fraction}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("usd").unwrap()
    }

    #[test]
    fn parses_what_people_type() {
        assert_eq!(Money::parse("12", &usd()), Ok(Money(1200)));
        assert_eq!(Money::parse("12.5", &usd()), Ok(Money(1250)));
        assert_eq!(Money::parse("0.05", &usd()), Ok(Money(5)));
        assert_eq!(Money::parse(".5", &usd()), Ok(Money(50)));
        assert_eq!(Money::parse("1,299.00", &usd()), Ok(Money(129_900)));
        assert_eq!(Money::parse("12,345,678", &usd()), Ok(Money(1_234_567_800)));
        assert_eq!(
            Money::parse("500", &Currency::parse("JPY").unwrap()),
            Ok(Money(500))
        );
    }

    #[test]
    fn refuses_what_is_not_a_price() {
        assert_eq!(Money::parse("", &usd()), Err(MoneyError::Empty));
        assert_eq!(Money::parse("-1", &usd()), Err(MoneyError::Negative));
        assert_eq!(Money::parse("abc", &usd()), Err(MoneyError::NotANumber));
        assert_eq!(Money::parse("1.2.3", &usd()), Err(MoneyError::NotANumber));
        // A decimal comma must not become a hundred times the price.
        assert_eq!(Money::parse("12,50", &usd()), Err(MoneyError::DecimalComma));
        assert_eq!(Money::parse("0,5", &usd()), Err(MoneyError::DecimalComma));
        assert_eq!(Money::parse("1,2,3", &usd()), Err(MoneyError::NotANumber));
        assert_eq!(
            Money::parse("1234,567", &usd()),
            Err(MoneyError::DecimalComma)
        );
        assert_eq!(Money::parse("1e5", &usd()), Err(MoneyError::NotANumber));
        assert_eq!(Money::parse(".", &usd()), Err(MoneyError::NotANumber));
        assert_eq!(
            Money::parse("1.234", &usd()),
            Err(MoneyError::TooPrecise(2))
        );
        assert_eq!(
            Money::parse("1.5", &Currency::parse("JPY").unwrap()),
            Err(MoneyError::TooPrecise(0))
        );
        assert_eq!(
            Money::parse("99999999999999999999", &usd()),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn displays_with_grouping_and_code() {
        assert_eq!(Money(129_900).display(&usd()).to_string(), "USD 1,299.00");
        assert_eq!(Money(5).display(&usd()).to_string(), "USD 0.05");
        assert_eq!(
            Money(1_000_000)
                .display(&Currency::parse("JPY").unwrap())
                .to_string(),
            "JPY 1,000,000"
        );
        assert_eq!(Money(1250).to_decimal_string(&usd()), "12.50");
    }
}
