//! A workspace's fair share of what every workspace shares: how many requests a minute it may
//! send, how many of the pool's connections it may hold at once, and how long one of its
//! statements may run. Set by its plan, overridden per workspace by the console, like the
//! counted limits (they are rows of the same tables, of kind `share`).

use std::time::Duration;

use crate::scope::{begin_for_tenant, end_read};
use crate::tenant::plan::{caps, Cap};
use crate::{Db, RepoError, Tenant};

const REQUESTS_PER_MINUTE: &str = "requests_per_minute";
const REQUEST_BURST: &str = "request_burst";
const CONNECTION_SHARE: &str = "connection_share";
const STATEMENT_TIMEOUT_MS: &str = "statement_timeout_ms";
/// The `limit_kinds` of kind `share` this code enforces (a test checks the table agrees).
pub const CODES: [&str; 4] = [
    REQUESTS_PER_MINUTE,
    REQUEST_BURST,
    CONNECTION_SHARE,
    STATEMENT_TIMEOUT_MS,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Shares {
    /// `None`: requests are not limited.
    pub rate: Option<Rate>,
    /// The percentage of the pool's connections the workspace may hold at once; `None`: all.
    pub connections_percent: Option<u32>,
    /// `None`: the database's own setting.
    pub statement_timeout: Option<Duration>,
}

/// Requests a minute on average, and how many may arrive at once above that average.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

impl Shares {
    pub(crate) fn from_caps(caps: &[Cap]) -> Self {
        let positive = |code| {
            Cap::value_of(caps, code)
                .and_then(|v| u32::try_from(v).ok())
                .filter(|v| *v > 0)
        };
        let rate = positive(REQUESTS_PER_MINUTE).map(|per_minute| Rate {
            per_minute,
            // No burst set: a second's worth, and at least one request.
            burst: positive(REQUEST_BURST).unwrap_or((per_minute / 60).max(1)),
        });
        Self {
            rate,
            connections_percent: positive(CONNECTION_SHARE).filter(|p| *p < 100),
            statement_timeout: positive(STATEMENT_TIMEOUT_MS)
                .map(|ms| Duration::from_millis(u64::from(ms))),
        }
    }
}

/// `tenant`'s shares now. From memory while this process hears of every change (a console
/// override counts from the next request on); otherwise read in the tenant's own transaction,
/// since overrides are that tenant's rows.
pub async fn of(db: &Db, tenant: &Tenant) -> Result<Shares, RepoError> {
    if let Some(caps) = db.caches.caps(tenant.id()) {
        return Ok(Shares::from_caps(&caps));
    }
    let mut tx = begin_for_tenant(db, tenant).await?;
    let caps = caps(db, &mut tx, tenant.id()).await?;
    end_read(tx);
    Ok(Shares::from_caps(&caps))
}
