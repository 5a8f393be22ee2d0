use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::Role;

/// What an API token may do. A write token acts with its creator's role as it is at each
/// call (never more); a read token only reads, whatever its creator's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiTokenRole {
    Read,
    Write,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Choose read or write.")]
pub struct ApiTokenRoleError;

impl ApiTokenRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiTokenRole::Read => "read",
            ApiTokenRole::Write => "write",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ApiTokenRole::Read => "Read only",
            ApiTokenRole::Write => "Read and write",
        }
    }

    /// The role a call made with this token acts with, given its creator's current role.
    pub fn effective_role(self, creator: Role) -> Role {
        match self {
            ApiTokenRole::Read => Role::Member,
            ApiTokenRole::Write => creator,
        }
    }
}

impl FromStr for ApiTokenRole {
    type Err = ApiTokenRoleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "read" => Ok(ApiTokenRole::Read),
            "write" => Ok(ApiTokenRole::Write),
            _ => Err(ApiTokenRoleError),
        }
    }
}

impl fmt::Display for ApiTokenRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_token_never_acts_above_its_creator_and_a_read_token_as_a_member() {
        for creator in [Role::Member, Role::Admin, Role::Owner] {
            assert_eq!(ApiTokenRole::Write.effective_role(creator), creator);
            assert_eq!(ApiTokenRole::Read.effective_role(creator), Role::Member);
        }
        assert_eq!("write".parse(), Ok(ApiTokenRole::Write));
        assert_eq!("WRITE".parse::<ApiTokenRole>(), Err(ApiTokenRoleError));
    }
}
