//! `server tenant …`: operations on a whole workspace, run by the platform's operators.

use domain::Slug;

use super::{arg, connect_as, connect_owner, CliError};
use crate::config::Config;

/// `server tenant purge SLUG --reason TEXT`: erases a closed (suspended, or deleted by its
/// owner) workspace's data as the owner role (the application role may not delete orders),
/// prints what each table lost and the verification scan's verdict, and fails when the scan
/// finds anything left.
pub async fn purge_workspace(config: &Config, slug: &str, reason: &str) -> Result<(), CliError> {
    let slug = arg("SLUG", Slug::parse(slug))?;
    let reason = arg("--reason", domain::AuditReason::parse(reason))?;
    let reason = reason.as_str();
    let db = connect_owner(config, "a purge").await?;
    let tenant = workspace(&db, &slug).await?;
    if tenant.is_active() {
        return Err(CliError::Argument {
            flag: "SLUG",
            reason: format!("`{slug}` is active: suspend it in the console first"),
        });
    }
    let outcome = purge_one(
        config,
        &db,
        &tenant,
        "operator: server tenant purge",
        reason,
    )
    .await;
    db.close().await;
    outcome
}

/// `server tenant purge-due`: every workspace its owner deleted whose grace period is over,
/// oldest first. One that fails does not stop the others; the command then fails naming them.
pub async fn purge_due(config: &Config) -> Result<(), CliError> {
    let db = connect_owner(config, "a purge").await?;
    // First: a workspace whose move keeps a copy is not purged until that copy is gone.
    let mut failed = clean_moved_sources(config, &db).await?;
    let due = db::platform::lifecycle::due_for_purge(&db).await?;
    let cleaning_failed = failed.len();
    for tenant in &due {
        let reason = "deleted by its owner; the grace period is over";
        if let Err(err) = purge_one(
            config,
            &db,
            tenant,
            "operator: server tenant purge-due",
            reason,
        )
        .await
        {
            eprintln!("{}: {err}", tenant.slug());
            failed.push(tenant.slug().to_string());
        }
    }
    println!(
        "{} workspaces due, {} erased",
        due.len(),
        due.len() - (failed.len() - cleaning_failed)
    );
    db.close().await;
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::NotErased(failed.join(", ")))
    }
}

/// The sources that moves kept for their hold, now over: removed, one line each. Returns the
/// slugs of those that could not be.
async fn clean_moved_sources(config: &Config, db: &db::Db) -> Result<Vec<String>, CliError> {
    let mut clusters = db::platform::moves::Clusters::new();
    for name in config.clusters.keys() {
        // A cluster without its owner's URL here: a move whose source is there fails below,
        // naming the setting.
        if let Ok(cluster) = cluster_owner(config, name, "[clusters]") {
            clusters.insert(name.clone(), cluster);
        }
    }
    let mut failed = Vec::new();
    for (tenant, outcome) in db::platform::moves::clean_due(db, &clusters).await? {
        let slug = match db::platform::tenants::find_by_id(db, tenant).await? {
            Some(found) => found.slug().to_string(),
            None => tenant.to_string(),
        };
        match outcome {
            Ok(from) => println!("{slug}: the copy its move left in {from} is removed"),
            Err(db::RepoError::NotFound) => {}
            Err(db::RepoError::Invalid { field: "cluster" }) => {
                eprintln!("{slug}: its move's source is on a cluster without an owner_url here");
                failed.push(slug);
            }
            Err(err) => {
                eprintln!("{slug}: its move's source could not be removed: {err}");
                failed.push(slug);
            }
        }
    }
    Ok(failed)
}

async fn purge_one(
    config: &Config,
    db: &db::Db,
    tenant: &db::Tenant,
    by: &str,
    reason: &str,
) -> Result<(), CliError> {
    use db::platform::purge::{purge, purge_dedicated};
    let slug = tenant.slug().to_string();
    let report = match tenant.placement().dedicated() {
        None => purge(db, tenant, by, reason).await?,
        Some(home) => {
            let cluster = cluster_owner(config, &home.cluster, "SLUG")?;
            let report = purge_dedicated(db, tenant, &cluster, by, reason).await?;
            println!(
                "{slug}: database {} on cluster {} dropped",
                home.database, home.cluster
            );
            report
        }
    };
    for (table, rows) in report.removed.iter().filter(|(_, rows)| *rows > 0) {
        println!("{slug}: {table}: {rows} rows removed");
    }
    println!("{slug}: {} rows removed in all", report.rows_removed());
    if !report.verified() {
        let left: Vec<String> = report
            .remaining
            .iter()
            .map(|(table, rows)| format!("{table} ({rows})"))
            .collect();
        return Err(CliError::NotErased(format!("{slug}: {}", left.join(", "))));
    }
    println!("{slug}: verified, no row of it is left in any table with a tenant_id; its address is free again");
    Ok(())
}

/// `server tenant provision SLUG --cluster NAME`: gives a new or empty workspace a database of
/// its own on a registered cluster, printing each step as it finishes. Needs
/// `database.owner_url` (its rows leave the shared database) and the cluster's `owner_url`
/// (which creates and migrates the database). Safe to run again after a stop or a failure:
/// it goes on where it was; on a workspace already there it does nothing.
pub async fn provision_workspace(
    config: &Config,
    slug: &str,
    cluster: &str,
) -> Result<(), CliError> {
    use db::platform::provision::{provision, Provisioned, Step};

    let slug = arg("SLUG", Slug::parse(slug))?;
    let to = cluster_owner(config, cluster, "--cluster")?;
    if config.database.owner_url.is_empty() {
        return Err(CliError::setting(
            "database.owner_url",
            "not set (Leptos.toml or STOCKROOM_DATABASE_OWNER_URL): the workspace's rows leave the shared database, which only the owner role may delete",
        ));
    }
    let db = connect_as(config, &config.database.owner_url, "database.owner_url").await?;
    let tenant = workspace(&db, &slug).await?;
    let actor = db::platform::console::Actor::System("operator: server tenant provision");
    let outcome = provision(&db, tenant.id(), &to, actor, |step| {
        let done = match step {
            Step::Marked => "marked as being provisioned; its requests wait until it is ready",
            Step::Drained => "no transaction of it is still running",
            Step::Created => "database created",
            Step::Migrated => "database migrated",
            Step::Copied => "rows copied",
            Step::Switched => "switched: served from its own database",
        };
        println!("{slug}: {done}");
        std::ops::ControlFlow::Continue(())
    })
    .await;
    db.close().await;
    match outcome {
        Ok(Provisioned::Done { database, rows }) => {
            println!(
                "{slug}: placed in database {database} on cluster {cluster} ({rows} rows copied)"
            );
            Ok(())
        }
        Ok(Provisioned::AlreadyThere { database }) => {
            println!("{slug}: already in database {database} on cluster {cluster}; nothing to do");
            Ok(())
        }
        Ok(Provisioned::Stopped(step)) => Err(CliError::Serve(format!("stopped after {step:?}"))),
        Err(db::RepoError::Refused(refusal)) => Err(CliError::Argument {
            flag: match refusal {
                db::Refusal::DatabaseExists { .. } => "--cluster",
                _ => "SLUG",
            },
            reason: app::ssr::call::refusal_message(&refusal),
        }),
        Err(db::RepoError::Unavailable(err)) => Err(CliError::Argument {
            flag: "--cluster",
            reason: format!("cannot reach cluster `{cluster}` (or the control database): {err}"),
        }),
        Err(err) => Err(err.into()),
    }
}

/// `server tenant move SLUG --to shared|CLUSTER [--hold-secs N]`: moves a workspace's data,
/// printing each phase as it finishes and, at the end, the rows per table and how long its
/// writes were refused. Needs `database.owner_url` and the owner URL of every cluster
/// involved. Run again after a stop, it finishes the same move.
pub async fn move_workspace(
    config: &Config,
    slug: &str,
    to: &str,
    hold_secs: Option<u64>,
) -> Result<(), CliError> {
    use db::platform::moves::{move_workspace, Clusters, Moved, Phase, Target};

    let slug = arg("SLUG", Slug::parse(slug))?;
    let target = Target::parse(to);
    let mut clusters = Clusters::new();
    if let Target::Cluster(name) = &target {
        clusters.insert(name.clone(), cluster_owner(config, name, "--to")?);
    }
    if config.database.owner_url.is_empty() {
        return Err(CliError::setting(
            "database.owner_url",
            "not set (Leptos.toml or STOCKROOM_DATABASE_OWNER_URL): a move reads and removes the workspace's rows as the owner role",
        ));
    }
    let db = connect_as(config, &config.database.owner_url, "database.owner_url").await?;
    let tenant = workspace(&db, &slug).await?;
    if let Some(home) = tenant.placement().dedicated() {
        if !clusters.contains_key(&home.cluster) {
            let from = cluster_owner(config, &home.cluster, "SLUG")?;
            clusters.insert(home.cluster.clone(), from);
        }
    }
    // A move run again after its switch cleans its source, which may be on any cluster.
    for name in config.clusters.keys() {
        if !clusters.contains_key(name) {
            if let Ok(cluster) = cluster_owner(config, name, "[clusters]") {
                clusters.insert(name.clone(), cluster);
            }
        }
    }
    let actor = db::platform::console::Actor::System("operator: server tenant move");
    let started = std::time::Instant::now();
    let outcome = move_workspace(
        &db,
        tenant.id(),
        &target,
        &clusters,
        std::time::Duration::from_secs(hold_secs.unwrap_or(config.placements.move_hold_secs)),
        actor,
        |phase| {
            let done = match phase {
                Phase::Frozen => "writes frozen; reads carry on from where it is",
                Phase::Drained => "no write of it is still running",
                Phase::Prepared => "destination ready, on the same schema",
                Phase::Copied => "rows copied",
                Phase::Verified => "counts and checksums equal on both sides",
                Phase::Switched => "switched: every server serves it from its new place",
                Phase::Cleaned => "source removed",
            };
            println!("{slug}: {done} ({:.1} s)", started.elapsed().as_secs_f64());
            std::ops::ControlFlow::Continue(())
        },
    )
    .await;
    db.close().await;
    match outcome {
        Ok(Moved::Done(report)) => {
            for (table, rows) in report.tables.iter().filter(|(_, rows)| *rows > 0) {
                println!("{slug}: {table}: {rows} rows");
            }
            println!(
                "{slug}: moved from {} to {}: {} rows; writes refused for {:.1} s (copy {:.1} s, verification {:.1} s)",
                report.from,
                report.to,
                report.rows(),
                report.writes_frozen_for.as_secs_f64(),
                report.copy_took.as_secs_f64(),
                report.verify_took.as_secs_f64(),
            );
            if let Some(until) = report.source_kept_until {
                println!(
                    "{slug}: the source is kept until {until}; then run this command again, or `server tenant purge-due`, to remove it"
                );
            }
            Ok(())
        }
        Ok(Moved::Stopped(phase)) => Err(CliError::Serve(format!("stopped after {phase:?}"))),
        Err(db::RepoError::Refused(refusal)) => Err(CliError::Argument {
            flag: match refusal {
                db::Refusal::DatabaseExists { .. }
                | db::Refusal::AlreadyThere { .. }
                | db::Refusal::DestinationHoldsRows { .. }
                | db::Refusal::MoveUnderWay { .. } => "--to",
                _ => "SLUG",
            },
            reason: app::ssr::call::refusal_message(&refusal),
        }),
        Err(db::RepoError::Unavailable(err)) => Err(CliError::Argument {
            flag: "--to",
            reason: format!("cannot reach a database of this move: {err}"),
        }),
        Err(err) => Err(err.into()),
    }
}

/// The cluster `name` as its owner role reaches it, from the settings: the databases of
/// workspaces are created and dropped there.
fn cluster_owner(
    config: &Config,
    name: &str,
    flag: &'static str,
) -> Result<db::platform::provision::Destination, CliError> {
    let refused = |reason: String| CliError::Argument { flag, reason };
    let Some(settings) = config.clusters.get(name) else {
        let known: Vec<&str> = config.clusters.keys().map(String::as_str).collect();
        return Err(refused(format!(
            "no cluster `{name}` in [clusters] (registered: {})",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )));
    };
    if settings.owner_url.is_empty() {
        let variable = format!("STOCKROOM_CLUSTER_{}_OWNER_URL", name.to_uppercase());
        return Err(refused(format!(
            "clusters.{name}.owner_url is not set (Leptos.toml or {variable}): workspace databases are created and dropped as the cluster's owner role"
        )));
    }
    db::platform::provision::Destination::new(name, &settings.owner_url, &settings.url)
        .map_err(|reason| refused(format!("clusters.{name}.{reason}")))
}

/// The workspace `slug` names (not one already erased), or an error naming SLUG.
async fn workspace(db: &db::Db, slug: &Slug) -> Result<db::Tenant, CliError> {
    db::platform::tenants::find_by_slug(db, slug)
        .await?
        .filter(|t| t.status() != domain::TenantStatus::Purged)
        .ok_or_else(|| CliError::Argument {
            flag: "SLUG",
            reason: format!("no workspace `{slug}`"),
        })
}
