//! `server migrate`: the control database, then every workspace database the registry names,
//! several at once. A database that fails does not stop the others when asked
//! (`--continue-on-error`); the command then fails naming each one. Running it again after a
//! kill goes on where it was: each database applies only what it lacks.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use db::{DatabaseKey, MigrationLimits};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{connect_as, CliError};
use crate::config::Config;

pub struct MigrateOptions {
    /// How many workspace databases migrate at once.
    pub jobs: usize,
    /// Go on with the others after one fails (otherwise no new one starts).
    pub continue_on_error: bool,
}

/// What became of one workspace database.
enum Outcome {
    Migrated,
    Failed(String),
    /// Not started: an earlier one failed, without `--continue-on-error`.
    NotStarted,
}

pub async fn migrate(config: &Config, options: MigrateOptions) -> Result<(), CliError> {
    if config.database.owner_url.is_empty() {
        return Err(CliError::setting(
            "database.owner_url",
            "not set (Leptos.toml or STOCKROOM_DATABASE_OWNER_URL)",
        ));
    }
    let limits = MigrationLimits {
        lock_timeout: std::time::Duration::from_millis(config.database.migration_lock_timeout_ms),
        statement_timeout: std::time::Duration::from_secs(
            config.database.migration_statement_timeout_secs,
        ),
    };
    db::Db::migrate(&config.database.owner_url, limits)
        .await
        .map_err(|e| CliError::setting("database.owner_url", e))?;
    println!("control database: migrated");

    let control = connect_as(config, &config.database.owner_url, "database.owner_url").await?;
    let databases = db::platform::tenants::dedicated_databases(&control).await;
    control.close().await;
    let databases = databases?;
    if databases.is_empty() {
        return Ok(());
    }
    let outcomes = migrate_fleet(config, databases, limits, &options).await;
    let mut failed = Vec::new();
    for (key, outcome) in &outcomes {
        let name = format!("{}/{}", key.cluster, key.database);
        match outcome {
            Outcome::Migrated => println!("{name}: migrated"),
            Outcome::Failed(reason) => {
                println!("{name}: FAILED: {reason}");
                failed.push(name);
            }
            Outcome::NotStarted => {
                println!("{name}: not started (an earlier database failed)");
                failed.push(name);
            }
        }
    }
    let migrated = outcomes.len() - failed.len();
    println!(
        "{migrated} of {} workspace databases migrated",
        outcomes.len()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::NotMigrated(failed.join(", ")))
    }
}

/// Migrates `databases`, `jobs` at a time, with a progress bar on a terminal; the outcomes in
/// the order given.
async fn migrate_fleet(
    config: &Config,
    databases: Vec<DatabaseKey>,
    limits: MigrationLimits,
    options: &MigrateOptions,
) -> Vec<(DatabaseKey, Outcome)> {
    let bar = ProgressBar::new(databases.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} workspace databases ({elapsed})")
            .expect("the template is valid"),
    );
    let room = Arc::new(Semaphore::new(options.jobs.max(1)));
    let failed = Arc::new(AtomicBool::new(false));
    let mut running = JoinSet::new();
    let mut outcomes: Vec<Option<Outcome>> = databases.iter().map(|_| None).collect();
    for (index, key) in databases.iter().cloned().enumerate() {
        // Taken here, in order: with --jobs 1 the databases go strictly one after another,
        // and none starts after a failure unless asked to go on.
        let place = room.clone().acquire_owned().await.expect("never closed");
        if !options.continue_on_error && failed.load(Ordering::SeqCst) {
            outcomes[index] = Some(Outcome::NotStarted);
            continue;
        }
        // The owner's URL per cluster: a cluster the settings do not name (or name without
        // its owner) fails alone, with the setting to add.
        let owner_url = config
            .clusters
            .get(&key.cluster)
            .map(|cluster| cluster.owner_url.clone())
            .filter(|url| !url.is_empty());
        let (failed, bar) = (failed.clone(), bar.clone());
        running.spawn(async move {
            let outcome = match owner_url {
                None => Outcome::Failed(format!(
                    "clusters.{}.owner_url is not set (Leptos.toml or STOCKROOM_CLUSTER_{}_OWNER_URL)",
                    key.cluster,
                    key.cluster.to_uppercase()
                )),
                Some(url) => match db::Db::migrate_database(&url, &key.database, limits).await {
                    Ok(()) => Outcome::Migrated,
                    Err(err) => Outcome::Failed(err.to_string()),
                },
            };
            if matches!(outcome, Outcome::Failed(_)) {
                failed.store(true, Ordering::SeqCst);
            }
            bar.inc(1);
            drop(place);
            (index, outcome)
        });
    }
    while let Some(done) = running.join_next().await {
        match done {
            Ok((index, outcome)) => outcomes[index] = Some(outcome),
            Err(err) => tracing::error!(error = %err, "a migration task failed"),
        }
    }
    bar.finish_and_clear();
    databases
        .into_iter()
        .zip(outcomes)
        .map(|(key, outcome)| {
            let outcome = outcome.unwrap_or_else(|| Outcome::Failed("its task stopped".to_owned()));
            (key, outcome)
        })
        .collect()
}
