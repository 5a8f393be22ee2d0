//! The server's subcommands besides `serve`: migrations, the demo workspace, accounts made
//! from the command line, bulk data, and (`tenant`) whole-workspace operations. Each fails with
//! one line that names what to fix.

use std::fmt::Display;
use std::sync::Arc;

use domain::{Email, Password, PersonName, PlanCode, Role, Slug, WorkspaceName};

use crate::config::Config;
use crate::{connect, connect_as, password_hasher};

mod migrate;
mod tenant;
pub use migrate::{migrate, MigrateOptions};
pub use tenant::{move_workspace, provision_workspace, purge_due, purge_workspace};

/// Why a command (or start-up) failed, phrased for the operator who ran it.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A setting is missing or does not work.
    #[error("{setting}: {reason}")]
    Setting {
        setting: &'static str,
        reason: String,
    },
    /// A command-line argument does not parse, or names nothing.
    #[error("{flag}: {reason}")]
    Argument { flag: &'static str, reason: String },
    /// A password read from the environment is missing or refused by the policy.
    #[error("{variable}: {reason}")]
    Secret {
        variable: &'static str,
        reason: String,
    },
    #[error("database: {0}")]
    Repo(#[from] db::RepoError),
    #[error("password hashing: {0}")]
    Hashing(#[from] app::ssr::passwords::HashError),
    #[error("server: {0}")]
    Serve(String),
    /// The erasure ran, but the scan after it found rows of the workspace.
    #[error("rows of the workspace remain after the purge: {0}")]
    NotErased(String),
    /// `server migrate` left these workspace databases behind.
    #[error("not migrated: {0}")]
    NotMigrated(String),
}

impl CliError {
    pub(crate) fn setting(setting: &'static str, reason: impl Display) -> Self {
        CliError::Setting {
            setting,
            reason: reason.to_string(),
        }
    }
}

/// Parses a command-line value, naming the flag when it does not parse.
fn arg<T, E: Display>(flag: &'static str, parsed: Result<T, E>) -> Result<T, CliError> {
    parsed.map_err(|e| CliError::Argument {
        flag,
        reason: e.to_string(),
    })
}

/// A new account's password, from the environment (never from the command line, where other
/// users of the machine could read it in the process list).
fn password_from_env(variable: &'static str) -> Result<Password, CliError> {
    let secret = |reason: String| CliError::Secret { variable, reason };
    let raw = std::env::var(variable)
        .map_err(|_| secret("set it to the new account's password".into()))?;
    Password::new_choice(&raw).map_err(|e| secret(e.to_string()))
}

const DEMO_SLUG: &str = "demo";
const DEMO_EMAIL: &str = "owner@demo.example";
const DEMO_PASSWORD: &str = "stockroom-demo-1";
const DEMO_MEMBER_EMAIL: &str = "member@demo.example";
const DEMO_MEMBER_PASSWORD: &str = "stockroom-member-1";
const DEMO_ADMIN_EMAIL: &str = "admin@demo.example";
const DEMO_ADMIN_PASSWORD: &str = "stockroom-admin-1";

/// The demo's fixed values; they always parse, and a failure would name which one changed.
fn demo<T, E: Display>(parsed: Result<T, E>) -> Result<T, CliError> {
    arg("demo data", parsed)
}

/// Creates the demo workspace, its second member and the console account where missing, and
/// fills the workspace with the demo's products, customers and orders once (a workspace
/// with products or orders is left as it is). With `reset`, the demo's catalogue, customers
/// and orders are deleted first (as the owner role: the application role cannot delete
/// orders), so it is the fresh demo again.
pub async fn seed_demo(config: &Config, reset: bool) -> Result<(), CliError> {
    let db = connect(config).await?;
    let hasher = password_hasher(config)?;
    let slug = demo(Slug::parse(DEMO_SLUG))?;
    let url = format!(
        "{}://{}.{}",
        config.server.scheme, DEMO_SLUG, config.server.base_domain
    );
    if db::platform::tenants::find_by_slug(&db, &slug)
        .await?
        .is_none()
    {
        let hash = hasher
            .hash(&demo(Password::new_choice(DEMO_PASSWORD))?)
            .await?;
        db::platform::registration::register(
            &db,
            db::platform::registration::NewWorkspace {
                name: &demo(WorkspaceName::parse("Demo Trading Co."))?,
                slug: &slug,
                owner_name: &demo(PersonName::parse("Dana Demo"))?,
                owner_email: &demo(Email::parse(DEMO_EMAIL))?,
                owner_password_hash: &hash,
                welcome_ticket_digest: None,
            },
        )
        .await?;
        tracing::info!("demo workspace created");
    }
    let tenant = db::platform::tenants::find_by_slug(&db, &slug)
        .await?
        .ok_or_else(|| CliError::setting("demo data", "the demo workspace vanished"))?;
    let owner = demo_user(&db, &tenant, DEMO_EMAIL).await?.ok_or_else(|| {
        CliError::setting(
            "demo data",
            format!("{DEMO_EMAIL} is no longer in the demo"),
        )
    })?;
    let member_email = demo(Email::parse(DEMO_MEMBER_EMAIL))?;
    let member = match demo_user(&db, &tenant, DEMO_MEMBER_EMAIL).await? {
        Some(member) => member,
        None => {
            let hash = hasher
                .hash(&demo(Password::new_choice(DEMO_MEMBER_PASSWORD))?)
                .await?;
            let name = demo(PersonName::parse("Sam Member"))?;
            db::platform::operator::add_member(
                &db,
                &tenant,
                &member_email,
                &name,
                Role::Member,
                &hash,
            )
            .await?
        }
    };
    if reset {
        let owner_db = connect_owner(config, "--reset").await?;
        db::platform::demo::reset(&owner_db, tenant.id()).await?;
        owner_db.close().await;
        tracing::info!("demo data deleted");
    }
    if db::platform::demo::needs_seeding(&db, &tenant).await? {
        db::platform::demo::seed(&db, &tenant, owner, member).await?;
        tracing::info!("demo data written");
    }
    let admin_email = demo(Email::parse(DEMO_ADMIN_EMAIL))?;
    if db::platform::console::find_admin_credentials(&db, &admin_email)
        .await?
        .is_none()
    {
        let hash = hasher
            .hash(&demo(Password::new_choice(DEMO_ADMIN_PASSWORD))?)
            .await?;
        let name = demo(PersonName::parse("Demo Admin"))?;
        db::platform::console::create_admin(&db, &admin_email, &name, &hash).await?;
        tracing::info!("demo console account created");
    }
    println!("Demo workspace: {url}  (sign in as {DEMO_EMAIL} / {DEMO_PASSWORD}, or as the member {DEMO_MEMBER_EMAIL} / {DEMO_MEMBER_PASSWORD})");
    println!(
        "Platform console: {}://admin.{}  (sign in as {DEMO_ADMIN_EMAIL} / {DEMO_ADMIN_PASSWORD})",
        config.server.scheme, config.server.base_domain
    );
    db.close().await;
    Ok(())
}

/// The demo member with this (fixed) email, if they are in the workspace.
async fn demo_user(
    db: &db::Db,
    tenant: &db::Tenant,
    email: &str,
) -> Result<Option<domain::UserId>, CliError> {
    let email = demo(Email::parse(email))?;
    Ok(db::platform::auth::find_credentials(db, tenant, &email)
        .await?
        .map(|c| c.user_id))
}

pub async fn add_member(
    config: &Config,
    workspace: &str,
    email: &str,
    name: &str,
    role: &str,
) -> Result<(), CliError> {
    let slug = arg("--workspace", Slug::parse(workspace))?;
    let email = arg("--email", Email::parse(email))?;
    let name = arg("--name", PersonName::parse(name))?;
    let role: Role = arg(
        "--role",
        role.parse().map_err(|_| "use OWNER, ADMIN or MEMBER"),
    )?;
    let password = password_from_env("STOCKROOM_NEW_MEMBER_PASSWORD")?;
    let db = connect(config).await?;
    let tenant = db::platform::tenants::find_by_slug(&db, &slug)
        .await?
        .ok_or_else(|| CliError::Argument {
            flag: "--workspace",
            reason: format!("no workspace `{slug}`"),
        })?;
    let hash = password_hasher(config)?.hash(&password).await?;
    db::platform::operator::add_member(&db, &tenant, &email, &name, role, &hash)
        .await
        .map_err(|e| match e {
            db::RepoError::Conflict { .. } => CliError::Argument {
                flag: "--email",
                reason: format!("{email} is already a member of {slug}"),
            },
            db::RepoError::LimitReached { max, unit, .. } => CliError::Argument {
                flag: "--workspace",
                reason: format!("{slug} is at its plan's limit of {max} {unit}"),
            },
            other => other.into(),
        })?;
    println!("Added {email} to {slug} as {}", role.label());
    db.close().await;
    Ok(())
}

/// Creates a platform console account; the password comes from STOCKROOM_NEW_ADMIN_PASSWORD.
pub async fn create_admin(config: &Config, email: &str, name: &str) -> Result<(), CliError> {
    let email = arg("--email", Email::parse(email))?;
    let name = arg("--name", PersonName::parse(name))?;
    let password = password_from_env("STOCKROOM_NEW_ADMIN_PASSWORD")?;
    let db = connect(config).await?;
    let hash = password_hasher(config)?.hash(&password).await?;
    db::platform::console::create_admin(&db, &email, &name, &hash)
        .await
        .map_err(|e| match e {
            db::RepoError::Conflict { .. } => CliError::Argument {
                flag: "--email",
                reason: format!("{email} already has a console account"),
            },
            other => other.into(),
        })?;
    println!(
        "Console account {email} created; sign in at {}://admin.{}",
        config.server.scheme, config.server.base_domain
    );
    db.close().await;
    Ok(())
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
pub async fn generate(config: &Config, spec: GenerateSpec) -> Result<(), CliError> {
    let password = Password::new_choice(&spec.password).map_err(|e| CliError::Secret {
        variable: "STOCKROOM_GENERATE_PASSWORD",
        reason: e.to_string(),
    })?;
    let db = connect(config).await?;
    let hash: Arc<str> = password_hasher(config)?.hash(&password).await?.into();
    let plan = PlanCode::new(spec.plan.clone());
    let started = std::time::Instant::now();
    let permits = Arc::new(tokio::sync::Semaphore::new(spec.jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let joined = |done: Result<Result<(), CliError>, tokio::task::JoinError>| {
        done.map_err(|e| CliError::Serve(e.to_string()))?
    };
    for n in spec.first..spec.first + spec.tenants {
        let slug = arg("--prefix", Slug::parse(&format!("{}-{n}", spec.prefix)))?;
        let email = arg("--prefix", Email::parse(&format!("owner@{slug}.example")))?;
        let (db, hash, plan, spec) = (db.clone(), hash.clone(), plan.clone(), spec.clone());
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| CliError::Serve(e.to_string()))?;
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
            .map(|_| ())
            .map_err(CliError::from)
        });
        while let Some(done) = tasks.try_join_next() {
            joined(done)?;
        }
        let made = n + 1 - spec.first;
        if made % 100 == 0 {
            eprintln!("{made} workspaces ({:.0?})", started.elapsed());
        }
    }
    while let Some(done) = tasks.join_next().await {
        joined(done)?;
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

/// Creates an API token acting for the workspace's longest-standing owner and prints its
/// secret (once): for operators, and for tools that need a token before anyone signs in.
pub async fn create_api_token(
    config: &Config,
    workspace: &str,
    name: &str,
    role: &str,
    expires_in_days: Option<u16>,
) -> Result<(), CliError> {
    let slug = arg("--workspace", Slug::parse(workspace))?;
    let name = arg("--name", domain::TokenName::parse(name))?;
    let role: domain::ApiTokenRole = arg("--role", role.parse())?;
    let db = connect(config).await?;
    let tenant = db::platform::tenants::find_by_slug(&db, &slug)
        .await?
        .ok_or_else(|| CliError::Argument {
            flag: "--workspace",
            reason: format!("no workspace `{slug}`"),
        })?;
    let owner = db::platform::operator::first_owner(&db, &tenant)
        .await?
        .ok_or_else(|| CliError::Argument {
            flag: "--workspace",
            reason: format!("{slug} has no owner to act for"),
        })?;
    let minted = app::ssr::tokens::new_api_token(tenant.id());
    let expires_at = expires_in_days
        .map(|days| time::OffsetDateTime::now_utc() + time::Duration::days(i64::from(days)));
    db::tenant::api_tokens::create(
        &db,
        &owner,
        &db::tenant::api_tokens::NewApiToken {
            name: &name,
            role,
            prefix: &minted.prefix,
            digest: &minted.digest,
            expires_at,
        },
    )
    .await
    .map_err(|e| match e {
        db::RepoError::LimitReached { max, unit, .. } => CliError::Argument {
            flag: "--workspace",
            reason: format!("{slug} is at its plan's limit of {max} {unit}"),
        },
        other => other.into(),
    })?;
    eprintln!(
        "Created {} token {} for {slug}, acting for {}; the secret follows (shown only now):",
        role.as_str(),
        minted.prefix,
        owner.member().email
    );
    println!("{}", minted.secret);
    db.close().await;
    Ok(())
}

/// The owner role's connection, for the commands that delete what the application role may
/// not (`what` names the command in the error when `database.owner_url` is missing).
pub(crate) async fn connect_owner(config: &Config, what: &str) -> Result<db::Db, CliError> {
    if config.database.owner_url.is_empty() {
        return Err(CliError::setting(
            "database.owner_url",
            format!("not set (Leptos.toml or STOCKROOM_DATABASE_OWNER_URL): {what} deletes orders, which only the owner role may"),
        ));
    }
    connect_as(config, &config.database.owner_url, "database.owner_url").await
}
