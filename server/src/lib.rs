//! The Stockroom server as a library, so integration tests can start the same router the
//! binary serves.

pub mod api;
pub mod cli;
pub mod config;
pub mod metrics;
pub mod telemetry;
pub mod web;

pub use cli::CliError;

use std::sync::Arc;
use std::time::Duration;

use app::ssr::context::SiteSettings;
use app::ssr::exports::ExportQueue;
use app::ssr::imports::ImportQueue;
use app::ssr::mail::Mailer;
use app::ssr::passwords::{HashCost, PasswordHasher};
use app::ssr::{ServiceParts, Services};
use db::{Db, DbSettings};
use tokio::net::TcpListener;

use crate::config::Config;

/// The database for a command. A serving process listens for the changes other processes
/// announce, and so may keep sessions in memory; a one-off command does not.
pub async fn connect(config: &Config) -> Result<Db, CliError> {
    connect_with(config, false).await
}

async fn connect_with(config: &Config, listen: bool) -> Result<Db, CliError> {
    if config.database.url.is_empty() {
        return Err(CliError::setting(
            "database.url",
            "not set (Leptos.toml or STOCKROOM_DATABASE_URL); ./dev run sets up a local database",
        ));
    }
    let listen_url = if listen { listen_url(config) } else { None };
    open(config, &config.database.url, "database.url", listen_url).await
}

/// A database handle on `url` with the pool settings of `config`, for a one-off command (it
/// does not listen for changes); a failure names `setting`.
pub async fn connect_as(config: &Config, url: &str, setting: &'static str) -> Result<Db, CliError> {
    open(config, url, setting, None).await
}

async fn open(
    config: &Config,
    url: &str,
    setting: &'static str,
    listen_url: Option<String>,
) -> Result<Db, CliError> {
    Db::connect(&DbSettings {
        url: url.to_owned(),
        max_connections: config.database.max_connections,
        acquire_timeout: Duration::from_millis(config.database.acquire_timeout_ms),
        tenant_cache: Duration::from_millis(config.database.tenant_cache_ms),
        transaction_pooling: config.database.transaction_pooling,
        lock_timeout: Duration::from_millis(config.database.lock_timeout_ms),
        listen_url,
        clusters: config
            .clusters
            .iter()
            .map(|(name, cluster)| (name.clone(), cluster.url.clone()))
            .collect(),
        databases: db::PoolLimits {
            per_database: config.placements.per_database_connections,
            max_pools: config.placements.max_open_pools,
            idle_close: Duration::from_secs(config.placements.idle_close_secs),
            acquire_timeout: Duration::from_millis(config.database.acquire_timeout_ms),
        },
    })
    .await
    .map_err(|e| CliError::setting(setting, e))
}

/// Where a serving process listens for changes: `database.listen_url`, else `database.url`
/// unless that leads to a transaction-pooling proxy, which cannot carry `LISTEN`.
fn listen_url(config: &Config) -> Option<String> {
    let db = &config.database;
    if !db.listen_url.is_empty() {
        Some(db.listen_url.clone())
    } else if db.transaction_pooling {
        tracing::warn!(
            "database.transaction_pooling without database.listen_url: nothing is kept in memory, every request reads sessions and workspaces from the database"
        );
        None
    } else {
        Some(db.url.clone())
    }
}

pub fn password_hasher(config: &Config) -> Result<PasswordHasher, CliError> {
    let p = &config.passwords;
    PasswordHasher::new(
        HashCost {
            memory_kib: p.memory_kib,
            iterations: p.iterations,
            parallelism: p.parallelism,
        },
        p.max_concurrent,
    )
    .map_err(|e| CliError::setting("passwords", e))
}

/// How often the export and import workers look for work they were not woken for (queued by
/// another server process, or abandoned by a dead one).
const EXPORT_POLL: Duration = Duration::from_secs(5);

/// Gives back, every `idle_close / 2`, the connections of workspace databases nobody used for
/// `idle_close`, so a closed pool is at most half that late.
async fn close_idle_pools(databases: std::sync::Arc<db::DatabasePools>, idle_close: Duration) {
    let mut every = tokio::time::interval((idle_close / 2).max(Duration::from_secs(1)));
    loop {
        every.tick().await;
        let closed = databases.close_idle().await;
        if closed > 0 {
            tracing::debug!(closed, "idle workspace database pools closed");
        }
    }
}

/// Checks every `every` whether the database has the migrations this build expects; while it
/// lacks one, the site answers "being upgraded" (`web::schema_gate`). Logged when it changes.
async fn watch_schema(db: Db, every: Duration) {
    let mut was_behind = false;
    loop {
        match db.check_schema().await {
            Ok(missing) if !missing.is_empty() && !was_behind => {
                tracing::error!(
                    missing = ?missing,
                    "the database lacks migrations this build expects: every request gets 503 until `server migrate` applies them"
                );
                was_behind = true;
            }
            Ok(missing) if missing.is_empty() && was_behind => {
                tracing::info!(
                    "the database has every migration this build expects: serving again"
                );
                was_behind = false;
            }
            Ok(_) => {}
            // The outage guard answers for an unreachable database; this check waits for it.
            Err(err) => tracing::debug!(error = %err, "schema check failed"),
        }
        tokio::time::sleep(every).await;
    }
}

/// The mail transport the settings ask for: SMTP when `mail.smtp_url` is set, else the outbox.
pub fn mailer(config: &Config) -> Result<Mailer, CliError> {
    if config.mail.smtp_url.is_empty() {
        Mailer::outbox(&config.mail.outbox_dir, &config.mail.from)
            .map_err(|e| CliError::setting("mail.outbox_dir", e))
    } else {
        Mailer::smtp(&config.mail.smtp_url, &config.mail.from)
            .map_err(|e| CliError::setting("mail.smtp_url", e))
    }
}

/// The router the binary serves on `server.listen`; see [`routers`].
pub fn app_router(
    config: &Config,
    db: Db,
    passwords: PasswordHasher,
) -> Result<axum::Router, CliError> {
    routers(config, db, passwords).map(|routers| routers.app)
}

/// What a server serves: the sites, and the metrics for its own listener.
pub struct Routers {
    pub app: axum::Router,
    pub metrics: axum::Router,
}

/// The services and routers the binary serves, built from settings and an open database.
/// The export worker is started here too, so every server (and every test server) runs one.
/// The provisioner over the clusters whose owner URL the settings give, when they give the
/// control database's too (`[placements] new_workspaces` requires them; so does the console's
/// action, which a server without them does not offer).
fn provisioner(
    config: &Config,
) -> Result<Option<Arc<db::platform::provision::Provisioner>>, CliError> {
    use db::platform::provision::{Destination, Provisioner};
    if config.database.owner_url.is_empty() {
        return Ok(None);
    }
    let mut clusters = Vec::new();
    for (name, cluster) in &config.clusters {
        if cluster.owner_url.is_empty() {
            continue;
        }
        let to = Destination::new(name, &cluster.owner_url, &cluster.url)
            .map_err(|reason| CliError::setting("clusters", format!("clusters.{name}.{reason}")))?;
        clusters.push(to);
    }
    if clusters.is_empty() {
        return Ok(None);
    }
    let provisioner = Provisioner::new(&config.database.owner_url, clusters)
        .map_err(|reason| CliError::setting("database.owner_url", reason))?
        .with_move_hold(Duration::from_secs(config.placements.move_hold_secs));
    Ok(Some(Arc::new(provisioner)))
}

pub fn routers(config: &Config, db: Db, passwords: PasswordHasher) -> Result<Routers, CliError> {
    let mailer = mailer(config)?;
    let exports = ExportQueue::new(Duration::from_secs(
        config.accounts.export_keep_hours * 3600,
    ));
    tokio::spawn(exports.clone().run(db.clone(), EXPORT_POLL));
    if let Some(databases) = db.databases().cloned() {
        tokio::spawn(close_idle_pools(
            databases,
            Duration::from_secs(config.placements.idle_close_secs),
        ));
    }
    tokio::spawn(watch_schema(
        db.clone(),
        Duration::from_secs(config.database.schema_check_secs),
    ));
    let imports = ImportQueue::default();
    tokio::spawn(imports.clone().run(db.clone(), EXPORT_POLL));
    let settings = Arc::new(SiteSettings {
        base_domain: config.server.base_domain.clone(),
        scheme: config.server.scheme.clone(),
        session_absolute_timeout: Duration::from_secs(
            config.sessions.absolute_timeout_hours * 3600,
        ),
        session_idle_timeout: Duration::from_secs(config.sessions.idle_timeout_mins * 60),
        limits: app::ssr::context::PublicLimits {
            registrations_per_address: config.limits.registrations_per_hour_per_address,
            lookups_per_address: config.limits.workspace_lookups_per_hour_per_address,
            lookups_per_email: config.limits.workspace_lookups_per_hour_per_email,
            sign_in_failures_per_account: config.limits.sign_in_failures_per_account,
            sign_in_failures_per_address: config.limits.sign_in_failures_per_address,
            sign_in_failures_per_device: config.limits.sign_in_failures_per_device,
            sign_in_window_secs: config.limits.sign_in_window_mins * 60,
            link_attempts_per_address: config.limits.link_attempts_per_hour_per_address,
        },
        invitation_ttl: Duration::from_secs(config.accounts.invitation_ttl_hours * 3600),
        password_reset_ttl: Duration::from_secs(config.accounts.password_reset_ttl_mins * 60),
        deletion_grace: Duration::from_secs(config.accounts.deletion_grace_days * 86_400),
        show_outbox: config.mail.show_outbox,
    });
    let services = Services::new(ServiceParts {
        db,
        passwords,
        mailer,
        settings,
        exports,
        imports,
        provisioner: provisioner(config)?,
        new_workspaces: Some(config.placements.new_workspaces.clone()).filter(|c| !c.is_empty()),
    });

    let mut leptos = leptos::config::get_configuration(None)
        .map_err(|e| CliError::setting("leptos options", e))?
        .leptos_options;
    leptos.site_addr = config
        .server
        .listen
        .parse()
        .map_err(|_| CliError::setting("server.listen", "not an address"))?;
    // cargo-leptos writes hash.txt beside the binary when it hashed the asset names.
    let hash_file = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(leptos.hash_file.as_ref())));
    leptos.hash_files = hash_file.is_some_and(|f| f.exists());

    let metrics = metrics::router(metrics::Scrape {
        services: services.clone(),
        top_tenants: config.metrics.top_tenants,
    });
    let app = web::router(
        services,
        web::WebSettings {
            leptos,
            request_timeout: Duration::from_secs(config.server.request_timeout_secs),
            idle_timeout: Duration::from_secs(config.sessions.idle_timeout_mins * 60),
            trusted_proxies: config
                .trusted_proxies()
                .map_err(|e| CliError::setting("server.trusted_proxies", e))?
                .into(),
            rates: Default::default(),
            slow_request: Duration::from_millis(config.server.slow_request_ms),
        },
    );
    Ok(Routers { app, metrics })
}

/// Serves the metrics on `metrics.listen`, if set, until the process ends.
async fn serve_metrics(config: &Config, metrics: axum::Router) -> Result<(), CliError> {
    if config.metrics.listen.is_empty() {
        return Ok(());
    }
    let listener = TcpListener::bind(&config.metrics.listen)
        .await
        .map_err(|e| {
            CliError::setting(
                "metrics.listen",
                format!("cannot bind {}: {e}", config.metrics.listen),
            )
        })?;
    tracing::info!(listen = %config.metrics.listen, "serving metrics");
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, metrics).await {
            tracing::warn!(error = %err, "the metrics listener stopped");
        }
    });
    Ok(())
}

pub async fn serve(config: Config) -> Result<(), CliError> {
    let db = connect_with(&config, true).await?;
    // Before the first request, so that none is served by a build ahead of its database; the
    // watcher `routers` starts keeps checking after.
    if let Err(err) = db.check_schema().await {
        tracing::warn!(error = %err, "the first schema check failed; the watcher tries again");
    }
    let Routers {
        app: router,
        metrics,
    } = routers(&config, db.clone(), password_hasher(&config)?)?;
    serve_metrics(&config, metrics).await?;

    // Expired sessions are swept in the background; failures are logged and retried.
    let sweeper = tokio::spawn({
        let store = db.session_store();
        async move {
            use tower_sessions::session_store::ExpiredDeletion;
            let mut every = tokio::time::interval(Duration::from_secs(600));
            loop {
                every.tick().await;
                if let Err(err) = store.delete_expired().await {
                    tracing::warn!(error = %err, "sweeping expired sessions failed");
                }
            }
        }
    });

    let listener = TcpListener::bind(&config.server.listen)
        .await
        .map_err(|e| {
            CliError::setting(
                "server.listen",
                format!("cannot bind {}: {e}", config.server.listen),
            )
        })?;
    tracing::info!(
        listen = %config.server.listen,
        public = %format!("{}://{}", config.server.scheme, config.server.base_domain),
        "serving"
    );

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown({
        let mut stop_rx = stop_rx.clone();
        async move {
            let _ = stop_rx.wait_for(|stopping| *stopping).await;
        }
    });
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: no new connections, finishing in-flight requests");
        let _ = stop_tx.send(true);
    });
    let mut grace_rx = stop_rx;
    let result = tokio::select! {
        result = server => result.map_err(|e| CliError::Serve(e.to_string())),
        _ = async {
            let _ = grace_rx.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!("in-flight requests still running after the grace period; exiting");
            Ok(())
        }
    };
    sweeper.abort();
    db.close().await;
    tracing::info!("stopped");
    result
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
