//! The console's Load page: who is busy now and over the last hour, and the pool's use.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// How many workspaces the page lists.
#[cfg(feature = "ssr")]
const BUSIEST: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadRow {
    pub slug: String,
    pub name: String,
    pub plan: String,
    pub requests_last_minute: u64,
    pub requests_last_hour: u64,
    pub limited_last_hour: u64,
    pub failed_last_hour: u64,
    pub db_ms_last_hour: u64,
    /// Requests per minute over the last hour, oldest first.
    pub per_minute: Vec<u64>,
    pub members: i64,
    pub products: i64,
    pub orders_this_month: i64,
    /// Every row the workspace keeps, in all its tables.
    pub rows: i64,
    /// An estimate: its rows times each table's average size on disk, indexes included.
    pub approx_bytes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadView {
    pub busiest: Vec<LoadRow>,
    pub others_last_minute: u64,
    pub pool_open: u32,
    pub pool_in_use: u32,
    pub pool_max: u32,
    /// The clusters this process may open workspace databases on (empty: none registered).
    pub clusters: Vec<String>,
    /// "3 of at most 25 pools open, 5 of at most 100 connections in use".
    pub databases_summary: String,
    pub databases: Vec<DatabasePoolRow>,
}

/// One open pool to a workspace's own database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabasePoolRow {
    pub cluster: String,
    pub database: String,
    /// The workspace it belongs to, if the registry still names it.
    pub slug: Option<String>,
    pub in_use: u32,
    pub connections: u32,
}

#[server(output = crate::codec::TextJson)]
pub async fn load_overview() -> Result<LoadView, AppError> {
    let call = crate::ssr::ConsoleCall::open()?;
    let overview = call
        .run(db::platform::console::load_overview(
            call.db(),
            call.scope(),
            BUSIEST,
        ))
        .await?;
    Ok(LoadView {
        busiest: overview
            .busiest
            .into_iter()
            .map(|w| LoadRow {
                slug: w.overview.slug,
                name: w.overview.name,
                plan: w.overview.plan_name,
                requests_last_minute: w.load.last_minute.requests,
                requests_last_hour: w.load.last_hour.requests,
                limited_last_hour: w.load.last_hour.limited,
                failed_last_hour: w.load.last_hour.failed,
                db_ms_last_hour: w.load.last_hour.db_time.as_millis() as u64,
                per_minute: w.load.per_minute,
                members: w.overview.members,
                products: w.overview.products,
                orders_this_month: w.overview.orders_this_month,
                rows: w.footprint.rows,
                approx_bytes: w.footprint.approx_bytes,
            })
            .collect(),
        others_last_minute: overview.rest.requests,
        pool_open: overview.pool_open,
        pool_in_use: overview.pool_open.saturating_sub(overview.pool_idle as u32),
        pool_max: overview.pool_max,
        databases_summary: format!(
            "{} of at most {} pools open, {} of at most {} connections in use",
            overview.databases.open.len(),
            overview.databases.max_pools,
            overview
                .databases
                .open
                .iter()
                .map(|(pool, _)| pool.in_use)
                .sum::<u32>(),
            overview.databases.budget
        ),
        clusters: overview.databases.clusters,
        databases: overview
            .databases
            .open
            .into_iter()
            .map(|(pool, slug)| DatabasePoolRow {
                cluster: pool.key.cluster,
                database: pool.key.database,
                slug,
                in_use: pool.in_use,
                connections: pool.connections,
            })
            .collect(),
    })
}
