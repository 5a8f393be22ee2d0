//! The Stockroom server: `serve` (the default), `migrate`, `seed-demo`, `check-config`,
//! `add-member`, `create-admin`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use server::config::Config;
use server::{migrate, seed_demo, serve, telemetry};

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
    /// Apply pending database migrations as the owner role (database.owner_url).
    Migrate,
    /// Create the demo workspace if it does not exist yet.
    SeedDemo,
    /// Load and validate the settings, then exit.
    CheckConfig,
    /// Add a member to a workspace. The password is read from STOCKROOM_NEW_MEMBER_PASSWORD
    /// (never from the command line, where other users could read it in the process list).
    /// Create a platform console account (for admin.<base_domain>). The password is read
    /// from STOCKROOM_NEW_ADMIN_PASSWORD.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
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
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(&cli.config, std::env::vars()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(&config.log);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(&config).await,
        Command::SeedDemo => seed_demo(&config).await,
        Command::CheckConfig => Ok(()),
        Command::AddMember {
            workspace,
            email,
            name,
            role,
        } => server::add_member(&config, &workspace, &email, &name, &role).await,
        Command::CreateAdmin { email, name } => server::create_admin(&config, &email, &name).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
