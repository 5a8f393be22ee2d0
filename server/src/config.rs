//! Runtime settings: `Leptos.toml`, then `STOCKROOM_<SECTION>_<KEY>` environment overrides.
//! Anything unknown or malformed stops start-up with one line naming the setting.

use std::path::Path;

use serde::{Deserialize, Serialize};

mod clusters;

use clusters::{apply_cluster_env, validate_clusters};
pub use clusters::{ClusterConfig, PlacementsConfig};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub sessions: SessionConfig,
    pub passwords: PasswordConfig,
    pub mail: MailConfig,
    pub accounts: AccountsConfig,
    pub limits: LimitsConfig,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
    pub placements: PlacementsConfig,
    /// The PostgreSQL clusters that may hold workspaces' own databases, by name.
    pub clusters: std::collections::BTreeMap<String, ClusterConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Where the Prometheus endpoint listens, apart from the sites; empty: off.
    pub listen: String,
    /// Workspaces with series of their own; the rest are summed as `other`.
    pub top_tenants: usize,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            listen: String::new(),
            top_tenants: 20,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: String,
    pub base_domain: String,
    pub scheme: String,
    pub shutdown_grace_secs: u64,
    pub request_timeout_secs: u64,
    pub trusted_proxies: Vec<String>,
    /// Requests slower than this are logged with their workspace, route and time.
    pub slow_request_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:3000".into(),
            base_domain: "localhost:3000".into(),
            scheme: "http".into(),
            shutdown_grace_secs: 20,
            request_timeout_secs: 30,
            trusted_proxies: Vec::new(),
            slow_request_ms: 1000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub url: String,
    pub owner_url: String,
    pub max_connections: u32,
    pub acquire_timeout_ms: u64,
    pub tenant_cache_ms: u64,
    pub transaction_pooling: bool,
    pub listen_url: String,
    pub lock_timeout_ms: u64,
    pub migration_lock_timeout_ms: u64,
    pub migration_statement_timeout_secs: u64,
    pub schema_check_secs: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            owner_url: String::new(),
            max_connections: 20,
            acquire_timeout_ms: 3000,
            tenant_cache_ms: 2000,
            transaction_pooling: false,
            listen_url: String::new(),
            lock_timeout_ms: 5000,
            migration_lock_timeout_ms: 5000,
            migration_statement_timeout_secs: 600,
            schema_check_secs: 10,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    pub idle_timeout_mins: u64,
    pub absolute_timeout_hours: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle_timeout_mins: 120,
            absolute_timeout_hours: 24,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordConfig {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    pub max_concurrent: usize,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        Self {
            memory_kib: 7_168,
            iterations: 5,
            parallelism: 1,
            max_concurrent: 2,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    pub from: String,
    pub smtp_url: String,
    pub outbox_dir: String,
    pub show_outbox: bool,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            from: "Stockroom <no-reply@stockroom.localhost>".into(),
            smtp_url: String::new(),
            outbox_dir: ".data/outbox".into(),
            show_outbox: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountsConfig {
    pub invitation_ttl_hours: u64,
    pub password_reset_ttl_mins: u64,
    pub deletion_grace_days: u64,
    pub export_keep_hours: u64,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            invitation_ttl_hours: 72,
            password_reset_ttl_mins: 60,
            deletion_grace_days: 30,
            export_keep_hours: 168,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub registrations_per_hour_per_address: i64,
    pub workspace_lookups_per_hour_per_address: i64,
    pub workspace_lookups_per_hour_per_email: i64,
    pub sign_in_failures_per_account: i64,
    pub sign_in_failures_per_address: i64,
    pub sign_in_failures_per_device: i64,
    pub sign_in_window_mins: i64,
    pub link_attempts_per_hour_per_address: i64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            registrations_per_hour_per_address: 10,
            workspace_lookups_per_hour_per_address: 20,
            workspace_lookups_per_hour_per_email: 3,
            sign_in_failures_per_account: 5,
            sign_in_failures_per_address: 30,
            sign_in_failures_per_device: 10,
            sign_in_window_mins: 15,
            link_attempts_per_hour_per_address: 30,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            filter: "info".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

const ENV_PREFIX: &str = "STOCKROOM_";

impl Config {
    /// Reads `path` (a missing file means all defaults) and applies environment overrides.
    pub fn load(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(err) => return Err(format!("cannot read {}: {err}", path.display())),
        };
        let name = path.display();
        // Parsed once as the typed struct so file mistakes are reported with their line.
        toml::from_str::<Config>(&text)
            .map_err(|err| describe_toml_error(&name.to_string(), &text, &err))?;
        let mut table: toml::Table = toml::from_str(&text)
            .map_err(|err| describe_toml_error(&name.to_string(), &text, &err))?;
        apply_env(&mut table, env)?;
        let config: Config =
            toml::Value::Table(table)
                .try_into()
                .map_err(|err: toml::de::Error| {
                    format!("invalid setting in the environment: {}", err.message())
                })?;
        config.validate()?;
        Ok(config)
    }

    /// `server.trusted_proxies`, parsed: addresses or networks (`10.0.0.0/8`, `::1`).
    pub fn trusted_proxies(&self) -> Result<Vec<ipnet::IpNet>, String> {
        self.server
            .trusted_proxies
            .iter()
            .map(|entry| {
                entry
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        format!(
                            "server.trusted_proxies: `{entry}` is not an address or a network like 10.0.0.0/8"
                        )
                    })
            })
            .collect()
    }

    fn validate(&self) -> Result<(), String> {
        self.trusted_proxies()?;
        if self.server.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(format!(
                "server.listen: `{}` is not an address like 127.0.0.1:3000",
                self.server.listen
            ));
        }
        if !matches!(self.server.scheme.as_str(), "http" | "https") {
            return Err(format!(
                "server.scheme: `{}` must be \"http\" or \"https\"",
                self.server.scheme
            ));
        }
        if self.server.base_domain.is_empty() || self.server.base_domain.contains('/') {
            return Err(format!(
                "server.base_domain: `{}` must be a host name, optionally with :port",
                self.server.base_domain
            ));
        }
        if self.database.schema_check_secs == 0 {
            return Err("database.schema_check_secs must be at least 1".into());
        }
        if self.database.max_connections == 0 {
            return Err("database.max_connections must be at least 1".into());
        }
        if self.database.lock_timeout_ms == 0
            || self.database.lock_timeout_ms >= self.server.request_timeout_secs * 1000
        {
            return Err(format!(
                "database.lock_timeout_ms: {} must be above 0 and below the request timeout ({} s), so a lock wait ends in a clean error before the request is cut off",
                self.database.lock_timeout_ms, self.server.request_timeout_secs
            ));
        }
        if self.sessions.idle_timeout_mins == 0 || self.sessions.absolute_timeout_hours == 0 {
            return Err("sessions: timeouts must be at least 1".into());
        }
        let loopback_only = self
            .server
            .listen
            .parse::<std::net::SocketAddr>()
            .is_ok_and(|addr| addr.ip().is_loopback());
        if self.mail.show_outbox && !loopback_only {
            return Err(format!(
                "mail.show_outbox: the development outbox page lists every workspace's links; it cannot be on when server.listen ({}) reaches beyond this machine",
                self.server.listen
            ));
        }
        if self.mail.show_outbox && self.server.scheme == "https" {
            return Err(
                "mail.show_outbox: the development outbox page would publish every workspace's links; it cannot be on when server.scheme is https".into(),
            );
        }
        if !self.metrics.listen.is_empty()
            && self.metrics.listen.parse::<std::net::SocketAddr>().is_err()
        {
            return Err(format!(
                "metrics.listen: `{}` is not an address like 127.0.0.1:9100 (leave it empty for no metrics)",
                self.metrics.listen
            ));
        }
        if self.metrics.listen == self.server.listen {
            return Err("metrics.listen: must differ from server.listen: metrics are never served on the sites".into());
        }
        if !(1..=1000).contains(&self.metrics.top_tenants) {
            return Err(format!(
                "metrics.top_tenants: {} must be from 1 to 1000",
                self.metrics.top_tenants
            ));
        }
        if self.accounts.invitation_ttl_hours == 0 || self.accounts.password_reset_ttl_mins == 0 {
            return Err("accounts: link lifetimes must be at least 1".into());
        }
        if !(1..=8760).contains(&self.accounts.export_keep_hours) {
            return Err("accounts.export_keep_hours: from 1 to 8760 (a year)".into());
        }
        validate_clusters(&self.clusters, &self.placements, &self.database.owner_url)?;
        if self.accounts.deletion_grace_days > 3650 {
            return Err("accounts.deletion_grace_days: at most 3650 (ten years)".into());
        }
        Ok(())
    }
}

/// `STOCKROOM_SERVER_LISTEN=…` sets `[server] listen`. A variable that names a known section
/// but an unknown key is an error; variables naming no section (e.g. STOCKROOM_DATA_DIR) are
/// left to the scripts that use them.
fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), String> {
    let defaults = toml::Table::try_from(Config::default()).map_err(|e| e.to_string())?;
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with(ENV_PREFIX))
        .collect();
    vars.sort();
    for (var, raw) in vars {
        let rest = &var[ENV_PREFIX.len()..];
        if let Some(cluster) = rest.strip_prefix("CLUSTER_") {
            apply_cluster_env(table, cluster, &raw)?;
            continue;
        }
        let Some((section, key)) = defaults.iter().find_map(|(section, _)| {
            let head = format!("{}_", section.to_uppercase());
            rest.strip_prefix(&head)
                .map(|key| (section.clone(), key.to_lowercase()))
        }) else {
            continue;
        };
        let known = defaults
            .get(&section)
            .and_then(|s| s.as_table())
            .is_some_and(|s| s.contains_key(&key));
        if !known {
            return Err(format!(
                "unknown setting {var}: [{section}] has no key `{key}`"
            ));
        }
        let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or(toml::Value::String(raw));
        let entry = table
            .entry(section.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        match entry.as_table_mut() {
            Some(section_table) => {
                section_table.insert(key, value);
            }
            None => return Err(format!("Leptos.toml: `{section}` must be a [section]")),
        }
    }
    Ok(())
}

fn describe_toml_error(name: &str, text: &str, err: &toml::de::Error) -> String {
    let line = err
        .span()
        .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
    let message = err.message().trim().replace('\n', "; ");
    match line {
        Some(line) => format!("{name} line {line}: {message}"),
        None => format!("{name}: {message}"),
    }
}

#[cfg(test)]
mod tests;
