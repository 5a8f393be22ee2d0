use serde::{Deserialize, Serialize};

macro_rules! bounded_text {
    ($name:ident, $error:ident, $max:expr, $empty_msg:literal) => {
        /// Trimmed, non-empty, bounded text shown back to people. Deserialising goes through
        /// [`Self::parse`] too, so no request can build one that breaks the rules.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        pub enum $error {
            #[error($empty_msg)]
            Empty,
            #[error("Use at most {} characters.", $max)]
            TooLong,
            #[error(
                "Use letters, digits and punctuation only (no line breaks or control characters)."
            )]
            ControlCharacter,
        }

        impl $name {
            pub fn parse(input: &str) -> Result<Self, $error> {
                let trimmed = input.trim();
                if trimmed.is_empty() {
                    return Err($error::Empty);
                }
                if trimmed.chars().count() > $max {
                    return Err($error::TooLong);
                }
                if trimmed.chars().any(char::is_control) {
                    return Err($error::ControlCharacter);
                }
                Ok(Self(trimmed.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $error;
            fn try_from(raw: String) -> Result<Self, $error> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

bounded_text!(
    WorkspaceName,
    WorkspaceNameError,
    80,
    "Enter your business name."
);
bounded_text!(PersonName, PersonNameError, 80, "Enter your name.");
bounded_text!(ProductName, ProductNameError, 200, "Enter a product name.");
bounded_text!(
    TokenName,
    TokenNameError,
    100,
    "Enter a name for the token."
);
bounded_text!(
    AuditReason,
    AuditReasonError,
    500,
    "Say why: the audit log keeps the reason."
);
bounded_text!(
    CustomerName,
    CustomerNameError,
    120,
    "Enter the customer's name."
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds() {
        assert_eq!(
            WorkspaceName::parse("  Acme Ltd ").unwrap().as_str(),
            "Acme Ltd"
        );
        assert_eq!(WorkspaceName::parse("   "), Err(WorkspaceNameError::Empty));
        assert_eq!(
            PersonName::parse(&"x".repeat(81)),
            Err(PersonNameError::TooLong)
        );
        assert!(PersonName::parse(&"x".repeat(80)).is_ok());
    }

    #[test]
    fn refuses_control_characters() {
        for bad in [
            "a\0b",
            "line\nbreak",
            "tab\tbed",
            "bell\u{7}",
            "del\u{7f}",
            "c1\u{85}x",
        ] {
            assert_eq!(
                ProductName::parse(bad),
                Err(ProductNameError::ControlCharacter),
                "{bad:?}"
            );
        }
        assert!(ProductName::parse("Zoë’s « mug » 😀").is_ok());
    }
}
