//! Loading the configuration: files, environment overrides and the errors a person reads.

use super::*;

fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, String> {
    let dir = std::env::temp_dir().join(format!("stockroom-config-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("Leptos.toml");
    std::fs::write(&path, text).unwrap();
    let result = Config::load(
        &path,
        env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
    );
    std::fs::remove_dir_all(dir).ok();
    result
}

#[test]
fn the_shipped_file_is_valid() {
    let shipped = include_str!("../../../Leptos.toml");
    let config = load(shipped, &[]).unwrap();
    assert_eq!(config.server.base_domain, "localhost:3000");
    assert_eq!(config.passwords.memory_kib, 7_168);
}

#[test]
fn environment_overrides_the_file_with_typed_values() {
    let config = load(
        "[server]\nlisten = \"127.0.0.1:1\"\n",
        &[
            ("STOCKROOM_SERVER_LISTEN", "0.0.0.0:8080"),
            ("STOCKROOM_DATABASE_MAX_CONNECTIONS", "7"),
            ("STOCKROOM_DATABASE_URL", "postgres://u:p@h/db"),
            ("STOCKROOM_DATA_DIR", "/not/a/setting"),
        ],
    )
    .unwrap();
    assert_eq!(config.server.listen, "0.0.0.0:8080");
    assert_eq!(config.database.max_connections, 7);
    assert_eq!(config.database.url, "postgres://u:p@h/db");
}

#[test]
fn unknown_keys_name_themselves() {
    let err = load("[server]\nlisten = \"127.0.0.1:1\"\nlisen = 3\n", &[]).unwrap_err();
    assert!(err.contains("line 3") && err.contains("lisen"), "{err}");
    let err = load("", &[("STOCKROOM_SERVER_LISEN", "x")]).unwrap_err();
    assert!(err.contains("STOCKROOM_SERVER_LISEN"), "{err}");
}

#[test]
fn the_outbox_page_is_off_unless_asked_for_and_never_over_https() {
    let shipped = load(include_str!("../../../Leptos.toml"), &[]).unwrap();
    assert!(!shipped.mail.show_outbox);
    let err = load(
        "",
        &[
            ("STOCKROOM_MAIL_SHOW_OUTBOX", "true"),
            ("STOCKROOM_SERVER_SCHEME", "https"),
        ],
    )
    .unwrap_err();
    assert!(err.contains("mail.show_outbox"), "{err}");
}

#[test]
fn the_lock_timeout_must_end_before_the_request_does() {
    let err = load(
        "",
        &[
            ("STOCKROOM_DATABASE_LOCK_TIMEOUT_MS", "30000"),
            ("STOCKROOM_SERVER_REQUEST_TIMEOUT_SECS", "30"),
        ],
    )
    .unwrap_err();
    assert!(err.contains("database.lock_timeout_ms"), "{err}");
    assert!(load("", &[("STOCKROOM_DATABASE_LOCK_TIMEOUT_MS", "2000")]).is_ok());
}

#[test]
fn malformed_values_name_the_setting() {
    let err = load("[server\n", &[]).unwrap_err();
    assert!(err.contains("line 1"), "{err}");
    let err = load("[server]\nlisten = \"nowhere\"\n", &[]).unwrap_err();
    assert!(err.contains("server.listen"), "{err}");
    let err = load("", &[("STOCKROOM_DATABASE_MAX_CONNECTIONS", "many")]).unwrap_err();
    assert!(err.contains("environment"), "{err}");
}

#[test]
fn clusters_come_from_the_file_or_the_environment_and_bad_ones_name_themselves() {
    let config = load(
        "[clusters.east]\nurl = \"postgres://app@east/postgres\"\nowner_url = \"postgres://own@east/postgres\"\n",
        &[
            ("STOCKROOM_CLUSTER_WEST2_URL", "postgres://app@west/postgres"),
            ("STOCKROOM_CLUSTER_WEST2_OWNER_URL", "postgres://own@west/postgres"),
            ("STOCKROOM_CLUSTER_EAST_URL", "postgres://app2@east/postgres"),
        ],
    )
    .unwrap();
    let names: Vec<&str> = config.clusters.keys().map(String::as_str).collect();
    assert_eq!(names, ["east", "west2"]);
    assert_eq!(config.clusters["east"].url, "postgres://app2@east/postgres");
    assert_eq!(
        config.clusters["east"].owner_url,
        "postgres://own@east/postgres"
    );
    assert_eq!(
        config.clusters["west2"].owner_url,
        "postgres://own@west/postgres"
    );

    // A serving process needs the application role's URL only.
    let serving = load("", &[("STOCKROOM_CLUSTER_NORTH_URL", "postgres://app@n/x")]).unwrap();
    assert!(serving.clusters["north"].owner_url.is_empty());
    let half = load(
        "",
        &[("STOCKROOM_CLUSTER_NORTH_OWNER_URL", "postgres://o@n/x")],
    )
    .unwrap_err();
    assert!(half.contains("clusters.north: url"), "{half}");
    let badly_named = load(
        "[clusters.East-1]\nurl = \"postgres://a@h/x\"\nowner_url = \"postgres://o@h/x\"\n",
        &[],
    )
    .unwrap_err();
    assert!(badly_named.contains("clusters.East-1"), "{badly_named}");
    let unknown_key = load("", &[("STOCKROOM_CLUSTER_EAST_PASSWORD", "x")]).unwrap_err();
    assert!(
        unknown_key.contains("STOCKROOM_CLUSTER_EAST_PASSWORD"),
        "{unknown_key}"
    );
    let no_budget = load("[placements]\nmax_open_pools = 0\n", &[]).unwrap_err();
    assert!(no_budget.contains("placements"), "{no_budget}");
}

#[test]
fn new_workspaces_are_placed_only_on_a_cluster_where_databases_can_be_made() {
    let east = "[clusters.east]\nurl = \"postgres://app@east/postgres\"\n";
    let placing = [("STOCKROOM_PLACEMENTS_NEW_WORKSPACES", "east")];
    let nowhere = load("", &placing).unwrap_err();
    assert!(
        nowhere.contains("placements.new_workspaces: no cluster `east`"),
        "{nowhere}"
    );
    let no_owner = load(east, &placing).unwrap_err();
    assert!(no_owner.contains("clusters.east.owner_url"), "{no_owner}");
    let owners = [
        ("STOCKROOM_PLACEMENTS_NEW_WORKSPACES", "east"),
        (
            "STOCKROOM_CLUSTER_EAST_OWNER_URL",
            "postgres://own@east/postgres",
        ),
        (
            "STOCKROOM_DATABASE_OWNER_URL",
            "postgres://own@control/stockroom",
        ),
    ];
    let config = load(east, &owners).unwrap();
    assert_eq!(config.placements.new_workspaces, "east");
}

#[test]
fn no_cluster_may_be_called_shared() {
    let refused = load(
        "[clusters.shared]\nurl = \"postgres://stockroom_app:x@db:5432/stockroom\"\n",
        &[],
    )
    .unwrap_err();
    assert!(refused.contains("clusters.shared"), "{refused}");
}
