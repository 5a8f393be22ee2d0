//! The Prometheus endpoint, on a listener of its own (`metrics.listen`), never on a site: the
//! sites' router has no route for it, so a workspace's host cannot reach it whatever the path.
//!
//! Request counts and latencies go through the `metrics` facade as they happen; the state of
//! the pool, the outage guard, the password queue and the session cache is read at scrape
//! time; per-workspace series come from `db::load` for the busiest `top_tenants` only, the rest
//! summed as `tenant="other"`, so the number of series stays bounded whatever the number of
//! workspaces.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use app::ssr::{Services, Site};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use db::load::Outcome;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

const REQUESTS: &str = "stockroom_http_requests_total";
const DURATION: &str = "stockroom_http_request_duration_seconds";

/// The process's recorder, installed once (tests start many servers in one process).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ])
            .expect("bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder already installed (only possible in tests): keep ours for rendering.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// What a scrape needs besides the recorder.
#[derive(Clone)]
pub struct Scrape {
    pub services: Services,
    pub top_tenants: usize,
}

pub fn router(scrape: Scrape) -> Router {
    handle();
    Router::new()
        .route("/metrics", get(render))
        .with_state(scrape)
}

async fn render(State(scrape): State<Scrape>) -> Response {
    let mut out = handle().render();
    let db = &scrape.services.db;
    let (open, idle) = db.pool_use();
    let (hits, misses) = db.session_cache_counts();
    let gauges = [
        ("stockroom_db_pool_connections_open", open as f64),
        ("stockroom_db_pool_connections_idle", idle as f64),
        (
            "stockroom_db_pool_connections_in_use",
            open.saturating_sub(idle as u32) as f64,
        ),
        ("stockroom_db_outage", f64::from(u8::from(db.in_outage()))),
        (
            "stockroom_password_hashes_queued",
            scrape.services.passwords.queued() as f64,
        ),
        (
            "stockroom_export_jobs_run_total",
            scrape.services.exports.jobs_run() as f64,
        ),
        ("stockroom_session_cache_hits_total", hits as f64),
        ("stockroom_session_cache_misses_total", misses as f64),
        ("stockroom_tenants_tracked", db.load().tracked() as f64),
        (
            "stockroom_cache_listening",
            f64::from(u8::from(db.is_listening())),
        ),
        (
            "stockroom_cache_listener_losses_total",
            db.cache_listener_losses() as f64,
        ),
    ];
    for (name, value) in gauges {
        let _ = writeln!(out, "# TYPE {name} gauge\n{name} {value}");
    }
    render_tenants(&mut out, db.load(), scrape.top_tenants);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

/// One figure of a workspace's usage, as a series value.
type UsageFigure = fn(&db::load::Usage) -> f64;

/// Last-minute figures per workspace: the busiest `top` by their own label, the rest as one.
fn render_tenants(out: &mut String, load: &db::load::TenantLoad, top: usize) {
    let (rows, rest) = load.top(top);
    let series: [(&str, UsageFigure); 4] = [
        ("stockroom_tenant_requests_last_minute", |u| {
            u.requests as f64
        }),
        ("stockroom_tenant_limited_last_minute", |u| u.limited as f64),
        ("stockroom_tenant_failed_last_minute", |u| u.failed as f64),
        ("stockroom_tenant_db_seconds_last_minute", |u| {
            u.db_time.as_secs_f64()
        }),
    ];
    for (name, value) in series {
        let _ = writeln!(out, "# TYPE {name} gauge");
        for row in &rows {
            let _ = writeln!(
                out,
                "{name}{{tenant=\"{}\"}} {}",
                row.tenant,
                value(&row.last_minute)
            );
        }
        let _ = writeln!(out, "{name}{{tenant=\"other\"}} {}", value(&rest));
    }
}

/// Counts every site request by route and status, times it, charges it to its workspace, and
/// logs the slow ones. Runs after the site is known and before the rate limit, so refusals
/// count too.
pub(crate) async fn observe(State(slow): State<Duration>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let tenant = match req.extensions().get::<Site>() {
        Some(Site::Workspace(tenant)) => Some(tenant.id()),
        _ => None,
    };
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let path = req.uri().path().to_owned();
    let db = req.extensions().get::<Services>().map(|s| s.db.clone());
    let response = next.run(req).await;
    let took = started.elapsed();
    let status = response.status();
    let route = route_label(matched, &path, status);
    metrics::counter!(REQUESTS, "route" => route.clone(), "status" => status.as_u16().to_string())
        .increment(1);
    metrics::histogram!(DURATION, "route" => route.clone()).record(took.as_secs_f64());
    if let (Some(tenant), Some(db)) = (tenant, db) {
        charge(&db, tenant, status);
    }
    if took >= slow {
        tracing::warn!(route = %route, status = status.as_u16(), took_ms = took.as_millis() as u64, "slow request");
    }
    response
}

/// Charges a request that answered `status` to its workspace (the console's Load page).
pub(crate) fn charge(db: &db::Db, tenant: domain::TenantId, status: StatusCode) {
    let outcome = if status == StatusCode::TOO_MANY_REQUESTS {
        Outcome::Limited
    } else if status.is_server_error() {
        Outcome::Failed
    } else {
        Outcome::Served
    };
    db.load().record_request(tenant, outcome);
}

/// A bounded set of labels: the route pattern the router matched; a server function's own
/// path only when it exists (an unknown one answers 404, so made-up paths cannot add series).
/// The JSON API's routes all match a pattern; a made-up path under it can answer 401 before
/// 404 (the token is checked first), so it never becomes a label either.
fn route_label(matched: Option<String>, path: &str, status: StatusCode) -> String {
    match matched {
        Some(pattern) if !pattern.contains('*') => pattern,
        _ if path.starts_with("/api/")
            && !path.starts_with("/api/v1/")
            && status != StatusCode::NOT_FOUND =>
        {
            path.to_owned()
        }
        _ => "unmatched".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::TenantId;

    #[test]
    fn a_thousand_busy_workspaces_make_only_top_n_plus_one_series() {
        let load = db::load::TenantLoad::default();
        for n in 0..1000u128 {
            for _ in 0..=(n % 7) {
                load.record_request(
                    TenantId::from_uuid(uuid::Uuid::from_u128(n)),
                    Outcome::Served,
                );
            }
        }
        let mut out = String::new();
        render_tenants(&mut out, &load, 20);
        let requests: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("stockroom_tenant_requests_last_minute{"))
            .collect();
        assert_eq!(requests.len(), 21);
        let total: f64 = requests
            .iter()
            .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
            .sum();
        // Every request is in some series: the top twenty's or "other".
        let expected: u128 = (0..1000u128).map(|n| n % 7 + 1).sum();
        assert_eq!(total as u128, expected);
    }

    #[test]
    fn made_up_paths_do_not_make_labels() {
        assert_eq!(
            route_label(Some("/products/{id}".into()), "/products/9", StatusCode::OK),
            "/products/{id}"
        );
        assert_eq!(
            route_label(None, "/api/list_products123", StatusCode::OK),
            "/api/list_products123"
        );
        assert_eq!(
            route_label(None, "/api/made_up", StatusCode::NOT_FOUND),
            "unmatched"
        );
        assert_eq!(
            route_label(None, "/whatever", StatusCode::NOT_FOUND),
            "unmatched"
        );
        assert_eq!(
            route_label(
                Some("/api/v1/products/{id}".into()),
                "/api/v1/products/9",
                StatusCode::OK
            ),
            "/api/v1/products/{id}"
        );
        assert_eq!(
            route_label(
                Some("/api/v1/{*rest}".into()),
                "/api/v1/made-up",
                StatusCode::UNAUTHORIZED
            ),
            "unmatched"
        );
    }
}
