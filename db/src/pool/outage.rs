//! The outage guard: while the database is unreachable, requests hear "unavailable" quickly
//! instead of each waiting the whole acquire timeout.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// While the database is unreachable, every request would wait the whole acquire timeout
/// (sqlx keeps retrying the connection until then) before its 503. Once a wait has timed out
/// while no other wait succeeded either, later ones give up after [`Outage::FAST_TIMEOUT`]:
/// enough to connect to a database that is back, short enough that a client hears
/// "unavailable" at once. The first success ends the outage.
///
/// A pool that is only busy (every connection in use, a spike of requests) is not an outage:
/// connections keep coming back, so some wait succeeds every few milliseconds, and a waiter
/// that timed out there does not shorten anyone else's wait.
pub(super) struct Outage {
    started: Instant,
    /// Milliseconds after `started` of the last wait that got a connection.
    last_success_ms: AtomicU64,
    /// Milliseconds after `started` of the last timed-out wait of an outage; 0 when none.
    last_failure_ms: AtomicU64,
    /// During an outage one waiter at a time keeps the full timeout, so a database that takes
    /// longer than the short timeout to accept a connection (TLS, recovery) is still reached.
    probing: AtomicBool,
}

impl Outage {
    const FAST_TIMEOUT: Duration = Duration::from_millis(500);
    /// A timed-out wait means an outage only if no wait succeeded for this long before it.
    const NOTHING_SUCCEEDED_FOR: Duration = Duration::from_secs(1);
    /// A failure older than this no longer counts: waits get the full timeout again.
    const REMEMBERED: Duration = Duration::from_secs(10);

    pub(super) fn new() -> Self {
        Self {
            started: Instant::now(),
            last_success_ms: AtomicU64::new(0),
            last_failure_ms: AtomicU64::new(0),
            probing: AtomicBool::new(false),
        }
    }

    pub(super) fn connected() -> Self {
        let outage = Self::new();
        outage
            .last_success_ms
            .store(outage.now_ms(), Ordering::Relaxed);
        outage
    }

    fn now_ms(&self) -> u64 {
        // Never 0, which means "no outage".
        self.started.elapsed().as_millis() as u64 + 1
    }

    /// Whether waits are being shortened now, for the metrics.
    pub(super) fn is_open(&self) -> bool {
        self.ongoing()
    }

    fn ongoing(&self) -> bool {
        let last = self.last_failure_ms.load(Ordering::Relaxed);
        last != 0 && self.now_ms().saturating_sub(last) < Self::REMEMBERED.as_millis() as u64
    }

    /// Runs one wait for a connection, shortened during an outage, and records its outcome.
    pub(super) async fn guard<T>(
        &self,
        wait: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, sqlx::Error> {
        let ongoing = self.ongoing();
        // Released on drop, so a cancelled request does not keep the probe to itself.
        let probe = ongoing.then(|| ProbeTurn::take(&self.probing)).flatten();
        let shortened = ongoing && probe.is_none();
        let result = if shortened {
            tokio::time::timeout(Self::FAST_TIMEOUT, wait)
                .await
                .unwrap_or(Err(sqlx::Error::PoolTimedOut))
        } else {
            wait.await
        };
        drop(probe);
        let now = self.now_ms();
        match &result {
            Ok(_) => {
                self.last_success_ms.store(now, Ordering::Relaxed);
                self.last_failure_ms.store(0, Ordering::Relaxed);
            }
            // A shortened wait says nothing new: only a full one extends the outage.
            Err(sqlx::Error::PoolTimedOut) if !shortened => {
                // 0: nothing has succeeded since start-up.
                let last_success = self.last_success_ms.load(Ordering::Relaxed);
                if last_success == 0
                    || now.saturating_sub(last_success)
                        >= Self::NOTHING_SUCCEEDED_FOR.as_millis() as u64
                {
                    self.last_failure_ms.store(now, Ordering::Relaxed);
                }
            }
            Err(_) => {}
        }
        result
    }
}

/// The one full-length wait allowed during an outage.
struct ProbeTurn<'a>(&'a AtomicBool);

impl<'a> ProbeTurn<'a> {
    fn take(flag: &'a AtomicBool) -> Option<Self> {
        // `then`, not `then_some`: a turn built and dropped on a refusal would hand the turn
        // back (its `Drop`) while its holder still waits.
        flag.compare_exchange(false, true, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
            .then(|| ProbeTurn(flag))
    }
}

impl Drop for ProbeTurn<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn after_one_timed_out_wait_the_next_ones_give_up_quickly() {
        let outage = Outage::new();
        let timed_out = outage
            .guard(async { Err::<(), _>(sqlx::Error::PoolTimedOut) })
            .await;
        assert!(matches!(timed_out, Err(sqlx::Error::PoolTimedOut)));
        assert!(outage.ongoing());

        // Another request is making the outage's one full-length wait.
        let _probe = ProbeTurn::take(&outage.probing).unwrap();
        let started = Instant::now();
        let never = outage.guard(std::future::pending::<Result<(), sqlx::Error>>());
        assert!(matches!(never.await, Err(sqlx::Error::PoolTimedOut)));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_connection_ends_the_outage() {
        let outage = Outage::new();
        let _ = outage
            .guard(async { Err::<(), _>(sqlx::Error::PoolTimedOut) })
            .await;
        outage
            .guard(async { Ok::<_, sqlx::Error>(()) })
            .await
            .unwrap();
        assert!(!outage.ongoing());
    }

    #[tokio::test]
    async fn during_an_outage_one_waiter_keeps_the_full_wait() {
        let outage = Outage::new();
        let _ = outage
            .guard(async { Err::<(), _>(sqlx::Error::PoolTimedOut) })
            .await;
        // A slow connection attempt (say 700 ms) holds the probe and still gets through...
        let slow = outage.guard(async {
            tokio::time::sleep(Duration::from_millis(700)).await;
            Ok::<_, sqlx::Error>(())
        });
        // ...while everyone else gives up early.
        let other = outage.guard(std::future::pending::<Result<(), sqlx::Error>>());
        let (slow, other) = tokio::join!(slow, other);
        assert!(slow.is_ok());
        assert!(matches!(other, Err(sqlx::Error::PoolTimedOut)));
    }

    #[test]
    fn a_refused_probe_turn_leaves_the_turn_with_its_holder() {
        let flag = AtomicBool::new(false);
        let held = ProbeTurn::take(&flag).expect("the first takes the turn");
        assert!(ProbeTurn::take(&flag).is_none());
        assert!(
            ProbeTurn::take(&flag).is_none(),
            "a refusal handed the turn back"
        );
        drop(held);
        assert!(ProbeTurn::take(&flag).is_some());
    }

    #[tokio::test]
    async fn a_busy_pool_is_not_an_outage() {
        let outage = Outage::new();
        // Another request got a connection a moment ago: the pool is busy, not unreachable.
        outage
            .guard(async { Ok::<_, sqlx::Error>(()) })
            .await
            .unwrap();
        let _ = outage
            .guard(async { Err::<(), _>(sqlx::Error::PoolTimedOut) })
            .await;
        assert!(!outage.ongoing());
    }

    #[tokio::test]
    async fn other_errors_are_not_an_outage() {
        let outage = Outage::new();
        let _ = outage
            .guard(async { Err::<(), _>(sqlx::Error::RowNotFound) })
            .await;
        assert!(!outage.ongoing());
    }
}
