//! The Stockroom server: `serve` (the default), `migrate`, `seed-demo`, `check-config`.

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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
