use std::fmt;

use serde::{Deserialize, Serialize};

/// Subdomains that name parts of the platform itself, or that a phisher would love to own.
const RESERVED: &[&str] = &[
    "admin",
    "api",
    "app",
    "assets",
    "auth",
    "billing",
    "blog",
    "cdn",
    "dashboard",
    "demo-admin",
    "dev",
    "docs",
    "ftp",
    "help",
    "imap",
    "internal",
    "login",
    "mail",
    "mx",
    "ns1",
    "ns2",
    "pkg",
    "pop",
    "root",
    "smtp",
    "signup",
    "stage",
    "staging",
    "static",
    "status",
    "support",
    "system",
    "test",
    "www",
];

pub const SLUG_MIN: usize = 3;
pub const SLUG_MAX: usize = 40;

/// A workspace's subdomain label: 3–40 characters of a–z, 0–9 and inner hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("Use at least {SLUG_MIN} characters.")]
    TooShort,
    #[error("Use at most {SLUG_MAX} characters.")]
    TooLong,
    #[error("Use only lowercase letters a–z, digits and hyphens.")]
    InvalidCharacter,
    #[error("A hyphen cannot start or end the address, or follow another hyphen.")]
    MisplacedHyphen,
    #[error("This address is reserved. Please pick another one.")]
    Reserved,
}

impl Slug {
    /// Parses what a person typed; surrounding spaces and capitals are forgiven because
    /// hostnames are case-insensitive anyway.
    pub fn parse(input: &str) -> Result<Self, SlugError> {
        let slug = input.trim().to_ascii_lowercase();
        let len = slug.chars().count();
        if len < SLUG_MIN {
            return Err(SlugError::TooShort);
        }
        if len > SLUG_MAX {
            return Err(SlugError::TooLong);
        }
        if !slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(SlugError::InvalidCharacter);
        }
        if slug.starts_with('-') || slug.ends_with('-') || slug.contains("--") {
            return Err(SlugError::MisplacedHyphen);
        }
        if RESERVED.contains(&slug.as_str()) {
            return Err(SlugError::Reserved);
        }
        Ok(Self(slug))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Slug::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_and_hyphenated_names() {
        assert_eq!(Slug::parse("acme").unwrap().as_str(), "acme");
        assert_eq!(Slug::parse("acme-2-go").unwrap().as_str(), "acme-2-go");
        assert_eq!(Slug::parse("  Acme ").unwrap().as_str(), "acme");
    }

    #[test]
    fn enforces_length_bounds() {
        assert_eq!(Slug::parse("ab"), Err(SlugError::TooShort));
        assert!(Slug::parse("abc").is_ok());
        assert!(Slug::parse(&"a".repeat(40)).is_ok());
        assert_eq!(Slug::parse(&"a".repeat(41)), Err(SlugError::TooLong));
    }

    #[test]
    fn refuses_characters_outside_the_hostname_alphabet() {
        for bad in ["ac_me", "acmé", "ac.me", "ac me", "acme!"] {
            assert_eq!(Slug::parse(bad), Err(SlugError::InvalidCharacter), "{bad}");
        }
    }

    #[test]
    fn refuses_outer_and_doubled_hyphens() {
        for bad in ["-acme", "acme-", "ac--me"] {
            assert_eq!(Slug::parse(bad), Err(SlugError::MisplacedHyphen), "{bad}");
        }
    }

    #[test]
    fn refuses_reserved_words() {
        for bad in [
            "www", "admin", "api", "app", "mail", "static", "support", "WWW",
        ] {
            assert_eq!(Slug::parse(bad), Err(SlugError::Reserved), "{bad}");
        }
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<Slug>("\"ok-slug\"").is_ok());
        assert!(serde_json::from_str::<Slug>("\"no\"").is_err());
    }
}
