//! The Stockroom server as a library, so integration tests can start the same router the
//! binary serves.

pub mod config;
pub mod telemetry;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use app::ssr::context::SiteSettings;
use app::ssr::exports::ExportQueue;
use app::ssr::mail::Mailer;
use app::ssr::passwords::{HashCost, PasswordHasher};
use app::ssr::Services;
use db::{Db, DbSettings};
use tokio::net::TcpListener;

use crate::config::Config;

pub async fn connect(config: &Config) -> Result<Db, String> {
    if config.database.url.is_empty() {
        return Err("database.url is not set (Leptos.toml or STOCKROOM_DATABASE_URL); ./dev run sets up a local database".into());
    }
    Db::connect(&DbSettings {
        url: config.database.url.clone(),
        max_connections: config.database.max_connections,
        acquire_timeout: Duration::from_millis(config.database.acquire_timeout_ms),
        tenant_cache: Duration::from_millis(config.database.tenant_cache_ms),
        transaction_pooling: config.database.transaction_pooling,
    })
    .await
    .map_err(|e| format!("database.url: {e}"))
}

pub async fn migrate(config: &Config) -> Result<(), String> {
    if config.database.owner_url.is_empty() {
        return Err(
            "database.owner_url is not set (Leptos.toml or STOCKROOM_DATABASE_OWNER_URL)".into(),
        );
    }
    Db::migrate(&config.database.owner_url)
        .await
        .map_err(|e| format!("database.owner_url: {e}"))?;
    tracing::info!("migrations applied");
    Ok(())
}

pub fn password_hasher(config: &Config) -> Result<PasswordHasher, String> {
    let p = &config.passwords;
    PasswordHasher::new(
        HashCost {
            memory_kib: p.memory_kib,
            iterations: p.iterations,
            parallelism: p.parallelism,
        },
        p.max_concurrent,
    )
    .map_err(|e| format!("passwords: {e}"))
}

const DEMO_SLUG: &str = "demo";
const DEMO_EMAIL: &str = "owner@demo.example";
const DEMO_PASSWORD: &str = "stockroom-demo-1";
const DEMO_ADMIN_EMAIL: &str = "admin@demo.example";
const DEMO_ADMIN_PASSWORD: &str = "stockroom-admin-1";

pub async fn seed_demo(config: &Config) -> Result<(), String> {
    use domain::{Email, Password, PersonName, Slug, WorkspaceName};
    let db = connect(config).await?;
    let slug = Slug::parse(DEMO_SLUG).map_err(|e| e.to_string())?;
    let url = format!(
        "{}://{}.{}",
        config.server.scheme, DEMO_SLUG, config.server.base_domain
    );
    let exists = db::platform::tenants::find_by_slug(&db, &slug)
        .await
        .map_err(|e| e.to_string())?;
    if exists.is_none() {
        let hash = password_hasher(config)?
            .hash(&Password::new_choice(DEMO_PASSWORD).map_err(|e| e.to_string())?)
            .await
            .map_err(|e| e.to_string())?;
        db::platform::registration::register(
            &db,
            db::platform::registration::NewWorkspace {
                name: &WorkspaceName::parse("Demo Trading Co.").map_err(|e| e.to_string())?,
                slug: &slug,
                owner_name: &PersonName::parse("Dana Demo").map_err(|e| e.to_string())?,
                owner_email: &Email::parse(DEMO_EMAIL).map_err(|e| e.to_string())?,
                owner_password_hash: &hash,
                welcome_ticket_digest: None,
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        tracing::info!("demo workspace created");
    }
    let admin_email = Email::parse(DEMO_ADMIN_EMAIL).map_err(|e| e.to_string())?;
    let admin = db::platform::console::find_admin_credentials(&db, &admin_email)
        .await
        .map_err(|e| e.to_string())?;
    if admin.is_none() {
        let hash = password_hasher(config)?
            .hash(&Password::new_choice(DEMO_ADMIN_PASSWORD).map_err(|e| e.to_string())?)
            .await
            .map_err(|e| e.to_string())?;
        db::platform::console::create_admin(
            &db,
            &admin_email,
            &PersonName::parse("Demo Admin").map_err(|e| e.to_string())?,
            &hash,
        )
        .await
        .map_err(|e| e.to_string())?;
        tracing::info!("demo console account created");
    }
    println!("Demo workspace: {url}  (sign in as {DEMO_EMAIL} / {DEMO_PASSWORD})");
    println!(
        "Platform console: {}://admin.{}  (sign in as {DEMO_ADMIN_EMAIL} / {DEMO_ADMIN_PASSWORD})",
        config.server.scheme, config.server.base_domain
    );
    db.close().await;
    Ok(())
}

pub async fn add_member(
    config: &Config,
    workspace: &str,
    email: &str,
    name: &str,
    role: &str,
) -> Result<(), String> {
    use domain::{Email, Password, PersonName, Role, Slug};
    let slug = Slug::parse(workspace).map_err(|e| format!("--workspace: {e}"))?;
    let email = Email::parse(email).map_err(|e| format!("--email: {e}"))?;
    let name = PersonName::parse(name).map_err(|e| format!("--name: {e}"))?;
    let role: Role = role
        .parse()
        .map_err(|_| "--role: use OWNER, ADMIN or MEMBER".to_string())?;
    let password = std::env::var("STOCKROOM_NEW_MEMBER_PASSWORD").map_err(|_| {
        "set STOCKROOM_NEW_MEMBER_PASSWORD to the new member's password".to_string()
    })?;
    let password = Password::new_choice(&password).map_err(|e| format!("password: {e}"))?;
    let db = connect(config).await?;
    let tenant = db::platform::tenants::find_by_slug(&db, &slug)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("--workspace: no workspace `{slug}`"))?;
    let hash = password_hasher(config)?
        .hash(&password)
        .await
        .map_err(|e| e.to_string())?;
    db::platform::operator::add_member(&db, &tenant, &email, &name, role, &hash)
        .await
        .map_err(|e| match e {
            db::RepoError::Conflict { .. } => {
                format!("--email: {email} is already a member of {slug}")
            }
            db::RepoError::LimitReached { max, unit, .. } => {
                format!("{slug} is at its plan's limit of {max} {unit}")
            }
            other => other.to_string(),
        })?;
    println!("Added {email} to {slug} as {}", role.label());
    db.close().await;
    Ok(())
}

/// How often the export worker looks for jobs it was not woken for (queued by another server
/// process, or abandoned by a dead one).
const EXPORT_POLL: Duration = Duration::from_secs(5);

/// The mail transport the settings ask for: SMTP when `mail.smtp_url` is set, else the outbox.
pub fn mailer(config: &Config) -> Result<Mailer, String> {
    if config.mail.smtp_url.is_empty() {
        Mailer::outbox(&config.mail.outbox_dir, &config.mail.from)
            .map_err(|e| format!("mail.outbox_dir: {e}"))
    } else {
        Mailer::smtp(&config.mail.smtp_url, &config.mail.from)
            .map_err(|e| format!("mail.smtp_url: {e}"))
    }
}

/// What `server generate` makes: `tenants` workspaces named `<prefix>-<n>`, each with the
/// sign-in `owner@<prefix>-<n>.example` and the same password.
#[derive(Debug, Clone)]
pub struct GenerateSpec {
    pub prefix: String,
    pub first: u32,
    pub tenants: u32,
    pub products: i32,
    pub orders: i32,
    pub stock: i32,
    pub plan: String,
    pub password: String,
    pub jobs: usize,
}

/// Bulk data for benchmarks and demos, `jobs` workspaces at a time. Prints its progress and
/// how long it took.
pub async fn generate(config: &Config, spec: GenerateSpec) -> Result<(), String> {
    use domain::{Email, Password, PlanCode, Slug};
    let password = Password::new_choice(&spec.password).map_err(|e| format!("password: {e}"))?;
    let db = connect(config).await?;
    let hash: Arc<str> = password_hasher(config)?
        .hash(&password)
        .await
        .map_err(|e| e.to_string())?
        .into();
    let plan = PlanCode::new(spec.plan.clone());
    let started = std::time::Instant::now();
    let permits = Arc::new(tokio::sync::Semaphore::new(spec.jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for n in spec.first..spec.first + spec.tenants {
        let slug = format!("{}-{n}", spec.prefix);
        let slug = Slug::parse(&slug).map_err(|e| format!("--prefix: `{slug}`: {e}"))?;
        let email = Email::parse(&format!("owner@{slug}.example")).map_err(|e| e.to_string())?;
        let (db, hash, plan, spec) = (db.clone(), hash.clone(), plan.clone(), spec.clone());
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        tasks.spawn(async move {
            let _permit = permit;
            db::platform::generator::generate_workspace(
                &db,
                &db::platform::generator::WorkspaceSpec {
                    slug: &slug,
                    owner_email: &email,
                    owner_password_hash: &hash,
                    plan: &plan,
                    products: spec.products,
                    orders: spec.orders,
                    stock: spec.stock,
                },
            )
            .await
            .map_err(|e| format!("{slug}: {e}"))
        });
        while let Some(done) = tasks.try_join_next() {
            done.map_err(|e| e.to_string())??;
        }
        let made = n + 1 - spec.first;
        if made % 100 == 0 {
            eprintln!("{made} workspaces ({:.0?})", started.elapsed());
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    println!(
        "Generated {} workspaces x {} products x {} orders in {:.1?} (sign in as owner@{}-N.example)",
        spec.tenants,
        spec.products,
        spec.orders,
        started.elapsed(),
        spec.prefix
    );
    db.close().await;
    Ok(())
}

/// Creates a platform console account. The password comes from STOCKROOM_NEW_ADMIN_PASSWORD,
/// never from the command line, where other users of the machine could read it.
pub async fn create_admin(config: &Config, email: &str, name: &str) -> Result<(), String> {
    use domain::{Email, Password, PersonName};
    let email = Email::parse(email).map_err(|e| format!("--email: {e}"))?;
    let name = PersonName::parse(name).map_err(|e| format!("--name: {e}"))?;
    let password = std::env::var("STOCKROOM_NEW_ADMIN_PASSWORD").map_err(|_| {
        "set STOCKROOM_NEW_ADMIN_PASSWORD to the new console account's password".to_string()
    })?;
    let password = Password::new_choice(&password).map_err(|e| format!("password: {e}"))?;
    let db = connect(config).await?;
    let hash = password_hasher(config)?
        .hash(&password)
        .await
        .map_err(|e| e.to_string())?;
    db::platform::console::create_admin(&db, &email, &name, &hash)
        .await
        .map_err(|e| match e {
            db::RepoError::Conflict { .. } => {
                format!("--email: {email} already has a console account")
            }
            other => other.to_string(),
        })?;
    println!(
        "Console account {email} created; sign in at {}://admin.{}",
        config.server.scheme, config.server.base_domain
    );
    db.close().await;
    Ok(())
}

/// The services and router the binary serves, built from settings and an open database.
/// The export worker is started here too, so every server (and every test server) runs one.
pub fn app_router(
    config: &Config,
    db: Db,
    passwords: PasswordHasher,
) -> Result<axum::Router, String> {
    let mailer = mailer(config)?;
    let exports = ExportQueue::default();
    tokio::spawn(exports.clone().run(db.clone(), EXPORT_POLL));
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
            sign_in_window_secs: config.limits.sign_in_window_mins * 60,
        },
        invitation_ttl: Duration::from_secs(config.accounts.invitation_ttl_hours * 3600),
        password_reset_ttl: Duration::from_secs(config.accounts.password_reset_ttl_mins * 60),
        show_outbox: config.mail.show_outbox,
    });
    let services = Services {
        db,
        passwords,
        mailer,
        settings,
        exports,
        scopes: Arc::new(db::cache::TtlCache::new(
            app::ssr::context::SCOPE_CACHE_TTL,
            100_000,
        )),
    };

    let mut leptos = leptos::config::get_configuration(None)
        .map_err(|e| format!("leptos options: {e}"))?
        .leptos_options;
    leptos.site_addr = config
        .server
        .listen
        .parse()
        .map_err(|_| "server.listen is not an address".to_string())?;
    // cargo-leptos writes hash.txt beside the binary when it hashed the asset names.
    let hash_file = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(leptos.hash_file.as_ref())));
    leptos.hash_files = hash_file.is_some_and(|f| f.exists());

    Ok(web::router(
        services,
        web::WebSettings {
            leptos,
            request_timeout: Duration::from_secs(config.server.request_timeout_secs),
            idle_timeout: Duration::from_secs(config.sessions.idle_timeout_mins * 60),
        },
    ))
}

pub async fn serve(config: Config) -> Result<(), String> {
    let db = connect(&config).await?;
    let router = app_router(&config, db.clone(), password_hasher(&config)?)?;

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

    if config.mail.show_outbox && config.mail.smtp_url.is_empty() {
        let loopback = config
            .server
            .listen
            .parse::<std::net::SocketAddr>()
            .is_ok_and(|addr| addr.ip().is_loopback());
        if !loopback {
            tracing::warn!(
                "mail.show_outbox is on and the server listens beyond this machine: anyone who reaches it can read /dev/outbox"
            );
        }
    }
    let listener = TcpListener::bind(&config.server.listen)
        .await
        .map_err(|e| format!("server.listen: cannot bind {}: {e}", config.server.listen))?;
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
        result = server => result.map_err(|e| format!("server error: {e}")),
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
