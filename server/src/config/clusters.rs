//! The clusters that may hold workspaces' own databases, and the pools to them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ENV_PREFIX;

/// One registered cluster. The database part of each URL is replaced by the workspace's
/// database (the owner's connects to its own to create one).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// The application role (owns nothing, cannot bypass row-level security).
    pub url: String,
    /// The owner role: creates and migrates workspace databases; only the commands that do
    /// need it, and a serving process's settings should leave it out.
    pub owner_url: String,
}

/// Connections to workspaces' own databases, under one budget: at most
/// `per_database_connections × max_open_pools` connections to all of them together.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlacementsConfig {
    pub per_database_connections: u32,
    pub max_open_pools: usize,
    pub idle_close_secs: u64,
    /// A cluster's name: every workspace registered from now on gets a database of its own
    /// there, provisioned during its registration. Empty (the default): new workspaces are
    /// shared. The server then needs `database.owner_url` and the cluster's `owner_url`.
    pub new_workspaces: String,
    /// How long a move keeps its source after the switch (a copy to fall back on) before the
    /// next `server tenant purge-due` (or the same move, run again) removes it.
    pub move_hold_secs: u64,
}

impl Default for PlacementsConfig {
    fn default() -> Self {
        Self {
            per_database_connections: 4,
            max_open_pools: 25,
            idle_close_secs: 300,
            new_workspaces: String::new(),
            move_hold_secs: 3600,
        }
    }
}

/// Each cluster has a name the registry accepts and its application role's URL; the pool
/// limits leave room for at least one connection.
pub(super) fn validate_clusters(
    clusters: &BTreeMap<String, ClusterConfig>,
    placements: &PlacementsConfig,
    control_owner_url: &str,
) -> Result<(), String> {
    for (name, cluster) in clusters {
        if !is_cluster_name(name) {
            return Err(format!(
                "clusters.{name}: a cluster's name is a lowercase letter then up to 30 lowercase letters or digits"
            ));
        }
        // `server tenant move --to shared` names the shared database.
        if name == "shared" {
            return Err(
                "clusters.shared: `shared` names the shared database; choose another name".into(),
            );
        }
        // The owner's URL is for the commands that create and migrate databases; a web
        // server must not hold it, so it may be left out of a server's settings.
        if cluster.url.is_empty() {
            return Err(format!(
                "clusters.{name}: url (the application role) is needed; owner_url only where databases are created or migrated"
            ));
        }
    }
    let p = placements;
    if p.per_database_connections == 0 || p.max_open_pools == 0 || p.idle_close_secs == 0 {
        return Err("placements: per_database_connections, max_open_pools and idle_close_secs must be at least 1".into());
    }
    if !p.new_workspaces.is_empty() {
        let name = &p.new_workspaces;
        let Some(cluster) = clusters.get(name) else {
            return Err(format!(
                "placements.new_workspaces: no cluster `{name}` in [clusters]"
            ));
        };
        // Provisioning creates the database and moves the new owner's rows out of the shared
        // one: both need an owner role.
        if cluster.owner_url.is_empty() || control_owner_url.is_empty() {
            return Err(format!(
                "placements.new_workspaces: provisioning at registration needs clusters.{name}.owner_url and database.owner_url"
            ));
        }
    }
    Ok(())
}

/// What the registry accepts as a cluster's name (`tenants_placement_check`); it also has to
/// survive an environment variable's name.
fn is_cluster_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 31
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// `STOCKROOM_CLUSTER_EAST_URL` and `STOCKROOM_CLUSTER_EAST_OWNER_URL` set `[clusters.east]`
/// (declaring it if the file does not): credentials can stay out of the file.
pub(super) fn apply_cluster_env(
    table: &mut toml::Table,
    rest: &str,
    raw: &str,
) -> Result<(), String> {
    let (name, key) = if let Some(name) = rest.strip_suffix("_OWNER_URL") {
        (name, "owner_url")
    } else if let Some(name) = rest.strip_suffix("_URL") {
        (name, "url")
    } else {
        return Err(format!(
            "unknown setting {ENV_PREFIX}CLUSTER_{rest}: a cluster takes _URL and _OWNER_URL"
        ));
    };
    let name = name.to_lowercase();
    if !is_cluster_name(&name) {
        return Err(format!(
            "{ENV_PREFIX}CLUSTER_{rest}: `{name}` is not a cluster name (a letter, then letters or digits)"
        ));
    }
    let clusters = table
        .entry("clusters")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .ok_or("Leptos.toml: `clusters` must be a [section]")?;
    let cluster = clusters
        .entry(name.clone())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .ok_or_else(|| format!("Leptos.toml: `clusters.{name}` must be a [section]"))?;
    cluster.insert(key.to_owned(), toml::Value::String(raw.to_owned()));
    Ok(())
}
