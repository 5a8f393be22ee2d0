use std::fmt;

use serde::{Deserialize, Serialize};

/// An email address, trimmed and lower-cased so that one mailbox is one account per tenant.
///
/// The check is modest where it runs in the browser (one `@`, a dotted domain, no spaces or
/// control characters). On the server (feature `server`) the mailer's own parser must accept
/// the address too, so every stored address is one the mailer can send to, and to exactly
/// the mailbox shown: a string like `"name"<other@host>` is no address at all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Enter your email address.")]
    Empty,
    #[error("Enter an email address like name@example.com.")]
    Malformed,
    #[error("That email address is too long.")]
    TooLong,
}

const EMAIL_MAX: usize = 254;

impl Email {
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let email = input.trim().to_lowercase();
        if email.is_empty() {
            return Err(EmailError::Empty);
        }
        if email.len() > EMAIL_MAX {
            return Err(EmailError::TooLong);
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(EmailError::Malformed);
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@');
        if local.is_empty()
            || !domain_ok
            || email.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(EmailError::Malformed);
        }
        #[cfg(feature = "server")]
        if email.parse::<lettre::Address>().is_err() {
            return Err(EmailError::Malformed);
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Email::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_spaces() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
    }

    #[test]
    fn refuses_what_cannot_be_an_address() {
        assert_eq!(Email::parse("   "), Err(EmailError::Empty));
        for bad in [
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "ann@.com",
            "a b@x.io",
            "a@b@c.io",
            "a@x..io",
            "a\0b@x.io",
            "ann@exa\u{7}mple.com",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Malformed), "{bad}");
        }
        #[cfg(feature = "server")]
        for lettre_refuses in ["\"name\"<other@host.example>", "a(b)@x.io"] {
            assert_eq!(
                Email::parse(lettre_refuses),
                Err(EmailError::Malformed),
                "{lettre_refuses}"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }
}
