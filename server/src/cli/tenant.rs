//! `server tenant …`: operations on a whole workspace, run by the platform's operators.

use domain::Slug;

use super::{arg, connect_owner, CliError};
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
    let tenant = db::platform::tenants::find_by_slug(&db, &slug)
        .await?
        .filter(|t| t.status() != domain::TenantStatus::Purged)
        .ok_or_else(|| CliError::Argument {
            flag: "SLUG",
            reason: format!("no workspace `{slug}`"),
        })?;
    if tenant.is_active() {
        return Err(CliError::Argument {
            flag: "SLUG",
            reason: format!("`{slug}` is active: suspend it in the console first"),
        });
    }
    let outcome = purge_one(&db, &tenant, "operator: server tenant purge", reason).await;
    db.close().await;
    outcome
}

/// `server tenant purge-due`: every workspace its owner deleted whose grace period is over,
/// oldest first. One that fails does not stop the others; the command then fails naming them.
pub async fn purge_due(config: &Config) -> Result<(), CliError> {
    let db = connect_owner(config, "a purge").await?;
    let due = db::platform::lifecycle::due_for_purge(&db).await?;
    let mut failed = Vec::new();
    for tenant in &due {
        let reason = "deleted by its owner; the grace period is over";
        if let Err(err) = purge_one(&db, tenant, "operator: server tenant purge-due", reason).await
        {
            eprintln!("{}: {err}", tenant.slug());
            failed.push(tenant.slug().to_string());
        }
    }
    db.close().await;
    println!(
        "{} workspaces due, {} erased",
        due.len(),
        due.len() - failed.len()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::NotErased(failed.join(", ")))
    }
}

async fn purge_one(
    db: &db::Db,
    tenant: &db::Tenant,
    by: &str,
    reason: &str,
) -> Result<(), CliError> {
    let slug = tenant.slug().to_string();
    let report = db::platform::purge::purge(db, tenant, by, reason).await?;
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
