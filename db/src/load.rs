//! Who is using what, in this process: requests, refusals, failures and time spent holding a
//! database connection, per workspace. Kept in memory (nothing here touches the database),
//! for the metrics endpoint and the console's Load page.
//!
//! Memory and series stay bounded whatever the number of workspaces: at most [`MAX_TRACKED`]
//! workspaces are remembered (the least busy are dropped first), and readers ask for the top
//! few by a score that decays with a half-life of a minute, so a workspace that was busy an
//! hour ago does not stay on top.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use domain::TenantId;

/// Workspaces remembered at most; past it, the least busy half is forgotten.
pub const MAX_TRACKED: usize = 5000;
const HALF_LIFE: Duration = Duration::from_secs(60);
/// A second of connection time weighs as much as this many requests in the score.
const DB_SECOND_WEIGHT: f64 = 100.0;
const MINUTES: usize = 60;

/// How a request ended, as far as fair shares and operators care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Served,
    /// Refused for being over the workspace's rate (429).
    Limited,
    /// Answered with a server-side failure (5xx).
    Failed,
}

/// What one workspace did over some span of time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub requests: u64,
    pub limited: u64,
    pub failed: u64,
    /// Time its transactions held a database connection.
    pub db_time: Duration,
}

impl Usage {
    fn add(&mut self, other: &Usage) {
        self.requests += other.requests;
        self.limited += other.limited;
        self.failed += other.failed;
        self.db_time += other.db_time;
    }
}

/// One workspace's figures for readers.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantLoadRow {
    pub tenant: TenantId,
    /// Decayed requests-and-database-time, the ranking.
    pub score: f64,
    /// Since this process started (or since it started remembering the workspace).
    pub total: Usage,
    pub last_minute: Usage,
    pub last_hour: Usage,
    /// Requests per minute over the last hour, oldest first (for a sparkline).
    pub per_minute: Vec<u64>,
}

struct Entry {
    score: f64,
    scored_at: Instant,
    total: Usage,
    /// One slot per minute of the last hour, each stamped with the minute it counts.
    minutes: [(u64, Usage); MINUTES],
}

pub struct TenantLoad {
    started: Instant,
    entries: Mutex<HashMap<TenantId, Entry>>,
}

impl Default for TenantLoad {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            entries: Mutex::new(HashMap::new()),
        }
    }
}

fn decay(score: f64, elapsed: Duration) -> f64 {
    score * 0.5f64.powf(elapsed.as_secs_f64() / HALF_LIFE.as_secs_f64())
}

impl TenantLoad {
    pub fn record_request(&self, tenant: TenantId, outcome: Outcome) {
        let usage = Usage {
            requests: 1,
            limited: u64::from(outcome == Outcome::Limited),
            failed: u64::from(outcome == Outcome::Failed),
            db_time: Duration::ZERO,
        };
        self.record(tenant, usage, 1.0);
    }

    pub fn record_db_time(&self, tenant: TenantId, held: Duration) {
        let usage = Usage {
            db_time: held,
            ..Usage::default()
        };
        self.record(tenant, usage, held.as_secs_f64() * DB_SECOND_WEIGHT);
    }

    fn minute(&self, now: Instant) -> u64 {
        now.duration_since(self.started).as_secs() / 60
    }

    fn record(&self, tenant: TenantId, usage: Usage, weight: f64) {
        let now = Instant::now();
        let minute = self.minute(now);
        let mut entries = self.lock();
        if entries.len() >= MAX_TRACKED && !entries.contains_key(&tenant) {
            forget_least_busy(&mut entries, now);
        }
        let entry = entries.entry(tenant).or_insert_with(|| Entry {
            score: 0.0,
            scored_at: now,
            total: Usage::default(),
            minutes: [(u64::MAX, Usage::default()); MINUTES],
        });
        entry.score = decay(entry.score, now.duration_since(entry.scored_at)) + weight;
        entry.scored_at = now;
        entry.total.add(&usage);
        let slot = &mut entry.minutes[(minute % MINUTES as u64) as usize];
        if slot.0 != minute {
            *slot = (minute, Usage::default());
        }
        slot.1.add(&usage);
    }

    /// The `n` busiest workspaces now, busiest first, and the rest's last minute summed.
    pub fn top(&self, n: usize) -> (Vec<TenantLoadRow>, Usage) {
        let now = Instant::now();
        let minute = self.minute(now);
        let entries = self.lock();
        let mut rows: Vec<TenantLoadRow> = entries
            .iter()
            .map(|(tenant, entry)| {
                let in_window = |age: u64| {
                    entry
                        .minutes
                        .iter()
                        .filter(move |(m, _)| *m != u64::MAX && minute.saturating_sub(*m) < age)
                };
                let mut last_minute = Usage::default();
                in_window(1).for_each(|(_, u)| last_minute.add(u));
                let mut last_hour = Usage::default();
                in_window(MINUTES as u64).for_each(|(_, u)| last_hour.add(u));
                let per_minute = (0..MINUTES as u64)
                    .rev()
                    .map(|ago| {
                        let wanted = minute.checked_sub(ago);
                        entry
                            .minutes
                            .iter()
                            .find(|(m, _)| Some(*m) == wanted)
                            .map_or(0, |(_, u)| u.requests)
                    })
                    .collect();
                TenantLoadRow {
                    tenant: *tenant,
                    score: decay(entry.score, now.duration_since(entry.scored_at)),
                    total: entry.total,
                    last_minute,
                    last_hour,
                    per_minute,
                }
            })
            .collect();
        rows.sort_by(|a, b| b.score.total_cmp(&a.score));
        let mut rest = Usage::default();
        for row in rows.iter().skip(n) {
            rest.add(&row.last_minute);
        }
        rows.truncate(n);
        (rows, rest)
    }

    /// Workspaces remembered now.
    pub fn tracked(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn forget_least_busy(entries: &mut HashMap<TenantId, Entry>, now: Instant) {
    let mut scores: Vec<f64> = entries
        .values()
        .map(|e| decay(e.score, now.duration_since(e.scored_at)))
        .collect();
    let middle = scores.len() / 2;
    let (_, median, _) = scores.select_nth_unstable_by(middle, f64::total_cmp);
    let median = *median;
    entries.retain(|_, e| decay(e.score, now.duration_since(e.scored_at)) > median);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(n: u128) -> TenantId {
        TenantId::from_uuid(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn the_busiest_come_first_and_the_rest_is_summed() {
        let load = TenantLoad::default();
        for n in 1..=30u128 {
            for _ in 0..n {
                load.record_request(tenant(n), Outcome::Served);
            }
        }
        load.record_request(tenant(30), Outcome::Limited);
        load.record_db_time(tenant(1), Duration::from_secs(1));
        let (top, rest) = load.top(3);
        // One second of connection time outweighs thirty requests.
        let order: Vec<_> = top.iter().map(|r| r.tenant).collect();
        assert_eq!(order, vec![tenant(1), tenant(30), tenant(29)]);
        assert_eq!(top[1].last_minute.requests, 31);
        assert_eq!(top[1].last_minute.limited, 1);
        assert_eq!(top[0].total.db_time, Duration::from_secs(1));
        assert_eq!(top[1].per_minute.len(), MINUTES);
        assert_eq!(top[1].per_minute.last(), Some(&31));
        // Workspaces 2 to 28, one request each per number.
        assert_eq!(rest.requests, (2..=28).sum::<u64>());
    }

    #[test]
    fn memory_stays_bounded_with_ten_thousand_workspaces() {
        let load = TenantLoad::default();
        for n in 0..10_000u128 {
            load.record_request(tenant(n), Outcome::Served);
        }
        assert!(load.tracked() <= MAX_TRACKED, "{}", load.tracked());
        assert_eq!(load.top(20).0.len(), 20);
    }
}
