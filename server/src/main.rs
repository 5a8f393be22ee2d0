//! The Stockroom server: `serve` (the default), `migrate`, `seed-demo`, `check-config`,
//! `add-member`, `create-admin`, `generate`, `endpoints`, `api-token create`, `tenant purge`, `tenant purge-due`, `tenant provision`, `tenant move`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use server::config::Config;
use server::{cli, serve, telemetry};

/// With the system allocator, buffers freed on many threads stayed in those threads' arenas
/// and the resident size only grew (measured in bench/: 594 MB after sign-ins, when argon2
/// still had memory of its own per hash; it now reuses a pool, see `PasswordHasher`).
#[global_allocator]
static ALLOCATOR: allocator::MiMalloc = allocator::MiMalloc;

#[derive(Parser)]
#[command(
    name = "server",
    about = "Stockroom: multi-tenant inventory and orders"
)]
struct Cli {
    /// Settings file; environment variables STOCKROOM_<SECTION>_<KEY> override it.
    #[arg(
        long,
        env = "STOCKROOM_CONFIG",
        default_value = "Leptos.toml",
        global = true
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the site (the default).
    Serve,
    /// Apply pending database migrations as the owner role (database.owner_url), then to
    /// every workspace database the registry names (each cluster's owner_url).
    Migrate {
        /// How many workspace databases migrate at once.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
        jobs: u16,
        /// Go on with the other databases after one fails (the command still fails, naming
        /// each one); otherwise no new one starts after a failure.
        #[arg(long)]
        continue_on_error: bool,
    },
    /// Create the demo workspace and fill it with demo data, once.
    SeedDemo {
        /// Delete the demo's products, customers and orders first and seed them afresh
        /// (needs database.owner_url).
        #[arg(long)]
        reset: bool,
    },
    /// Load and validate the settings, then exit.
    CheckConfig,
    /// Create a platform console account (for admin.<base_domain>). The password is read
    /// from STOCKROOM_NEW_ADMIN_PASSWORD.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
    /// Generate workspaces full of products and orders, for benchmarks and demos. Each
    /// workspace `<prefix>-<n>` has the sign-in `owner@<prefix>-<n>.example` with the password
    /// from STOCKROOM_GENERATE_PASSWORD (default `bench-password-1`).
    Generate {
        #[arg(long, default_value_t = 10)]
        tenants: u32,
        #[arg(long, default_value_t = 1000)]
        products: i32,
        #[arg(long, default_value_t = 100)]
        orders: i32,
        /// Units each product starts with.
        #[arg(long, default_value_t = 1000)]
        stock: i32,
        #[arg(long, default_value = "bench")]
        prefix: String,
        /// Number of the first workspace (to add more to an existing set).
        #[arg(long, default_value_t = 1)]
        first: u32,
        /// Plan of the generated workspaces (ENTERPRISE: no limits get in the way).
        #[arg(long, default_value = "ENTERPRISE")]
        plan: String,
        /// Workspaces written at once.
        #[arg(long, default_value_t = 2)]
        jobs: usize,
    },
    /// Print the path of every server function (one per line), for load generators.
    Endpoints,
    /// Add a member to a workspace. The password is read from STOCKROOM_NEW_MEMBER_PASSWORD
    /// (never from the command line, where other users could read it in the process list).
    AddMember {
        #[arg(long)]
        workspace: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// OWNER, ADMIN or MEMBER
        #[arg(long, default_value = "MEMBER")]
        role: String,
    },
    /// API tokens of a workspace.
    ApiToken {
        #[command(subcommand)]
        command: ApiTokenCommand,
    },
    /// Operations on a whole workspace.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Erase every row of a suspended workspace from every table that has a tenant_id, then
    /// check that none is left; recorded in the console's audit log. Needs
    /// database.owner_url. Safe to run again after a stop: it goes on where it was.
    Purge {
        /// The workspace's slug.
        slug: String,
        /// Why (kept in the audit log).
        #[arg(long)]
        reason: String,
    },
    /// Erase every workspace its owner deleted whose grace period is over, and remove the
    /// sources that moves kept once their hold is over (run it daily, e.g. from cron). Needs
    /// database.owner_url (and a cluster's owner_url for a source there).
    PurgeDue,
    /// Give a new or empty workspace a database of its own on a registered cluster (create,
    /// migrate, copy its members, switch). Needs database.owner_url and the cluster's
    /// owner_url. Safe to run again after a stop: it goes on where it was.
    Provision {
        /// The workspace's slug.
        slug: String,
        /// The cluster's name, as [clusters.NAME] in the settings.
        #[arg(long)]
        cluster: String,
    },
    /// Move a workspace's data to `shared` or to a database of its own on a registered
    /// cluster: its writes are refused meanwhile (reads carry on), every table is copied,
    /// counted and checksummed, then every server switches to it at once. Needs
    /// database.owner_url and the owner_url of each cluster involved. Safe to run again after
    /// a stop: it finishes the move (or, after a failed verification, it was rolled back).
    Move {
        /// The workspace's slug.
        slug: String,
        /// `shared`, or a cluster's name as [clusters.NAME] in the settings.
        #[arg(long)]
        to: String,
        /// Seconds to keep the source after the switch before removing it (the same command,
        /// or `tenant purge-due`, removes it once they have passed); by default
        /// placements.move_hold_secs.
        #[arg(long)]
        hold_secs: Option<u64>,
    },
}

#[derive(Subcommand)]
enum ApiTokenCommand {
    /// Create a token acting for the workspace's longest-standing owner; prints the secret
    /// (only now) on standard output.
    Create {
        #[arg(long)]
        workspace: String,
        #[arg(long)]
        name: String,
        /// read or write
        #[arg(long, default_value = "read")]
        role: String,
        /// Days until it expires (default: never).
        #[arg(long)]
        expires_in_days: Option<u16>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    allocator::give_back_freed_memory_at_once();
    let normal_pages_only = allocator::use_normal_pages_only();
    let cli = Cli::parse();
    let config = match Config::load(&cli.config, std::env::vars()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(&config.log);
    if !normal_pages_only {
        tracing::warn!("the kernel refused to turn transparent huge pages off for this process; it may hold more memory than it uses");
    }
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate {
            jobs,
            continue_on_error,
        } => {
            let options = cli::MigrateOptions {
                jobs: usize::from(jobs),
                continue_on_error,
            };
            cli::migrate(&config, options).await
        }
        Command::SeedDemo { reset } => cli::seed_demo(&config, reset).await,
        Command::CheckConfig => Ok(()),
        Command::AddMember {
            workspace,
            email,
            name,
            role,
        } => cli::add_member(&config, &workspace, &email, &name, &role).await,
        Command::CreateAdmin { email, name } => cli::create_admin(&config, &email, &name).await,
        Command::Tenant {
            command: TenantCommand::Purge { slug, reason },
        } => cli::purge_workspace(&config, &slug, &reason).await,
        Command::Tenant {
            command: TenantCommand::PurgeDue,
        } => cli::purge_due(&config).await,
        Command::Tenant {
            command: TenantCommand::Provision { slug, cluster },
        } => cli::provision_workspace(&config, &slug, &cluster).await,
        Command::Tenant {
            command:
                TenantCommand::Move {
                    slug,
                    to,
                    hold_secs,
                },
        } => cli::move_workspace(&config, &slug, &to, hold_secs).await,
        Command::ApiToken {
            command:
                ApiTokenCommand::Create {
                    workspace,
                    name,
                    role,
                    expires_in_days,
                },
        } => cli::create_api_token(&config, &workspace, &name, &role, expires_in_days).await,
        Command::Generate {
            tenants,
            products,
            orders,
            stock,
            prefix,
            first,
            plan,
            jobs,
        } => {
            let password = std::env::var("STOCKROOM_GENERATE_PASSWORD")
                .unwrap_or_else(|_| "bench-password-1".to_owned());
            cli::generate(
                &config,
                cli::GenerateSpec {
                    prefix,
                    first,
                    tenants,
                    products,
                    orders,
                    stock,
                    plan,
                    password,
                    jobs,
                },
            )
            .await
        }
        Command::Endpoints => {
            let mut paths: Vec<_> = leptos::server_fn::axum::server_fn_paths()
                .map(|(path, method)| format!("{method} {path}"))
                .collect();
            paths.sort();
            for path in paths {
                println!("{path}");
            }
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
