use std::fmt;

/// What someone typed into a search or filter box: trimmed, bounded, and free of control
/// characters (which no stored value contains, and which the database refuses in a query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("Search for at most {SEARCH_MAX} characters.")]
    TooLong,
    #[error("Search for letters, digits and punctuation only.")]
    ControlCharacter,
}

pub const SEARCH_MAX: usize = 100;

impl SearchText {
    /// `None` when nothing was typed: no filter.
    pub fn parse(input: &str) -> Result<Option<Self>, SearchError> {
        let trimmed = input.trim();
        if trimmed.chars().count() > SEARCH_MAX {
            return Err(SearchError::TooLong);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(SearchError::ControlCharacter);
        }
        Ok((!trimmed.is_empty()).then(|| Self(trimmed.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SearchText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_no_filter_and_junk_is_refused() {
        assert_eq!(SearchText::parse("   "), Ok(None));
        assert_eq!(SearchText::parse(" mug ").unwrap().unwrap().as_str(), "mug");
        assert_eq!(SearchText::parse("a\0"), Err(SearchError::ControlCharacter));
        assert_eq!(
            SearchText::parse(&"x".repeat(101)),
            Err(SearchError::TooLong)
        );
        assert!(SearchText::parse("50% off_ \\ ' \" ;--").unwrap().is_some());
    }
}
