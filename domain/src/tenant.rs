use serde::{Deserialize, Serialize};

/// A plan's code as stored in the `plans` table. Plans are data, not an enum: a new plan is a
/// row, so this is only a checked string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PlanCode(String);

impl PlanCode {
    /// A code read from the database.
    pub fn new(code: impl Into<String>) -> Self {
        Self(code.into())
    }

    /// A code someone sent: the shape the `plans` table allows (`FREE`, `PRO_2`), or nothing.
    pub fn parse(input: &str) -> Option<Self> {
        let code = input.trim();
        let mut chars = code.chars();
        let shaped = chars.next().is_some_and(|c| c.is_ascii_uppercase())
            && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && (2..=32).contains(&code.len());
        shaped.then(|| Self(code.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantStatus {
    Active,
    Suspended,
    /// Its owner deleted it: closed, its data kept until the purge.
    Deleting,
    /// Its data is erased; the registry row is all that is left.
    Purged,
}

impl TenantStatus {
    pub fn from_db(status: &str) -> Self {
        // Anything not recognised is treated as closed: failing shut is the safe side.
        match status {
            "active" => Self::Active,
            "deleting" => Self::Deleting,
            "purged" => Self::Purged,
            _ => Self::Suspended,
        }
    }

    pub fn as_db(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Deleting => "deleting",
            Self::Purged => "purged",
        }
    }
}
