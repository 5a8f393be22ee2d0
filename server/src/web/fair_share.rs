//! Each workspace's requests a minute, kept in this process: over its rate a workspace gets
//! 429 with `Retry-After` and nobody else notices. The public site, sign-in and registration
//! keep their own per-address and per-account limits besides (`db::platform::rate_limits`).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::ssr::{Services, Site};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use db::tenant::shares::Rate;
use domain::TenantId;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::html::{plain_page, unavailable};
use super::tenancy::SERVER_FN_PREFIX;

/// Every so many checks, workspaces whose bucket has refilled are dropped, so memory follows
/// the workspaces active in the last minute or so, not every workspace ever seen.
const SWEEP_EVERY: u64 = 4096;

/// One keyed limiter per distinct rate (a handful: one per plan, and the console's overrides),
/// each keyed by workspace. governor keys share one quota per limiter, hence the grouping.
#[derive(Default)]
pub struct TenantRates {
    limiters: Mutex<HashMap<Rate, Arc<DefaultKeyedRateLimiter<TenantId>>>>,
    checks: AtomicU64,
}

impl TenantRates {
    /// `Err(wait)`: over the rate; the next request would be allowed after `wait`.
    pub fn check(&self, tenant: TenantId, rate: Rate) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.forget_idle();
        }
        let limiter = self.limiter(rate);
        limiter
            .check_key(&tenant)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    fn limiter(&self, rate: Rate) -> Arc<DefaultKeyedRateLimiter<TenantId>> {
        let mut limiters = self.lock();
        limiters
            .entry(rate)
            .or_insert_with(|| Arc::new(RateLimiter::keyed(quota(rate))))
            .clone()
    }

    fn forget_idle(&self) {
        let mut limiters = self.lock();
        for limiter in limiters.values() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        limiters.retain(|_, limiter| !limiter.is_empty());
    }

    /// Workspaces remembered now, over every rate.
    pub fn remembered(&self) -> usize {
        self.lock().values().map(|l| l.len()).sum()
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<Rate, Arc<DefaultKeyedRateLimiter<TenantId>>>> {
        self.limiters
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn quota(rate: Rate) -> Quota {
    let per_minute = NonZeroU32::new(rate.per_minute).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(rate.burst).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(per_minute).allow_burst(burst)
}

/// Refuses a workspace's request over its rate before it touches a session or the database.
pub(super) async fn limit_rate(
    State((services, rates)): State<(Services, Arc<TenantRates>)>,
    req: Request,
    next: Next,
) -> Response {
    let Some(Site::Workspace(tenant)) = req.extensions().get::<Site>() else {
        return next.run(req).await;
    };
    match over_rate(&services, &rates, tenant).await {
        Ok(None) => next.run(req).await,
        Ok(Some(wait)) => too_many_requests(&req, wait),
        Err(()) => unavailable(),
    }
}

/// How long `tenant` must wait before its next request, if it is over its rate now (counting
/// this request); `Err` when its shares could not be read (logged here).
pub async fn over_rate(
    services: &Services,
    rates: &TenantRates,
    tenant: &db::Tenant,
) -> Result<Option<Duration>, ()> {
    let shares = db::tenant::shares::of(&services.db, tenant)
        .await
        .map_err(|err| tracing::warn!(error = %err, "reading the workspace's shares failed"))?;
    let Some(rate) = shares.rate else {
        return Ok(None);
    };
    Ok(rates.check(tenant.id(), rate).err().inspect(|wait| {
        tracing::info!(
            wait_ms = wait.as_millis() as u64,
            "workspace over its request rate"
        );
    }))
}

/// Whole seconds to wait, rounded up and at least one: "0" would invite a retry that fails.
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// A readable page for a person, the typed error for a server function.
fn too_many_requests(req: &Request, wait: Duration) -> Response {
    let seconds = retry_after_secs(wait);
    let message = format!(
        "This workspace is sending more requests than its plan allows. Please try again in {seconds} second{}.",
        if seconds == 1 { "" } else { "s" }
    );
    let retry_after = HeaderValue::from(seconds);
    if req.uri().path().starts_with(SERVER_FN_PREFIX) {
        let body =
            serde_json::to_string(&app::AppError::RateLimited { message }).unwrap_or_default();
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [
                (header::RETRY_AFTER, retry_after),
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
            ],
            body,
        )
            .into_response();
    }
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, retry_after)],
        Html(plain_page("Too many requests", &message)),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(n: u128) -> TenantId {
        TenantId::from_uuid(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn a_workspace_gets_its_burst_then_waits_while_another_is_untouched() {
        let rates = TenantRates::default();
        let rate = Rate {
            per_minute: 60,
            burst: 3,
        };
        for _ in 0..3 {
            assert!(rates.check(tenant(1), rate).is_ok());
        }
        let wait = rates.check(tenant(1), rate).unwrap_err();
        // One request a second refills.
        assert!(
            wait <= Duration::from_secs(1) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert!(rates.check(tenant(2), rate).is_ok());
    }

    #[test]
    fn workspaces_whose_bucket_refilled_are_forgotten() {
        let rates = TenantRates::default();
        // 60,000 a minute refills a token every millisecond.
        let fast = Rate {
            per_minute: 60_000,
            burst: 1,
        };
        for n in 0..2000 {
            let _ = rates.check(tenant(n), fast);
        }
        assert!(rates.remembered() > 0);
        std::thread::sleep(Duration::from_millis(20));
        rates.forget_idle();
        assert_eq!(rates.remembered(), 0);
    }
}
