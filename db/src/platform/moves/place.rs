//! Where a workspace's data is, and where a move may take it.

use domain::TenantId;
use serde_json::json;

use crate::platform::provision::database_name;
use crate::platform::tenants::Placement;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The control database, beside the other shared workspaces.
    Shared,
    Dedicated {
        cluster: String,
        database: String,
    },
}

impl Location {
    pub(super) fn from_placement(placement: &Placement) -> Self {
        match placement.dedicated() {
            None => Location::Shared,
            Some(home) => Location::Dedicated {
                cluster: home.cluster.clone(),
                database: home.database.clone(),
            },
        }
    }

    pub(super) fn from_columns(cluster: Option<String>, database: Option<String>) -> Self {
        match (cluster, database) {
            (Some(cluster), Some(database)) => Location::Dedicated { cluster, database },
            _ => Location::Shared,
        }
    }

    pub(super) fn cluster(&self) -> Option<&str> {
        match self {
            Location::Shared => None,
            Location::Dedicated { cluster, .. } => Some(cluster),
        }
    }

    /// How a move names it as its destination: `shared` or the cluster's name.
    pub fn target_name(&self) -> &str {
        self.cluster().unwrap_or("shared")
    }

    pub(super) fn database(&self) -> Option<&str> {
        match self {
            Location::Shared => None,
            Location::Dedicated { database, .. } => Some(database),
        }
    }

    pub(super) fn as_json(&self) -> serde_json::Value {
        match self {
            Location::Shared => json!("shared"),
            Location::Dedicated { cluster, database } => {
                json!({ "cluster": cluster, "database": database })
            }
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Shared => f.write_str("the shared database"),
            Location::Dedicated { cluster, database } => {
                write!(f, "database {database} on cluster {cluster}")
            }
        }
    }
}

/// Where to move a workspace: the shared database, or a database of its own on a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Shared,
    Cluster(String),
}

impl Target {
    /// `shared`, or a cluster's name.
    pub fn parse(text: &str) -> Self {
        match text {
            "shared" => Target::Shared,
            cluster => Target::Cluster(cluster.to_owned()),
        }
    }

    pub(super) fn location(&self, tenant: TenantId) -> Location {
        match self {
            Target::Shared => Location::Shared,
            Target::Cluster(cluster) => Location::Dedicated {
                cluster: cluster.clone(),
                database: database_name(tenant),
            },
        }
    }
}
