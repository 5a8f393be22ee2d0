//! argon2's memory, one block set per concurrent hash, kept only while sign-ins go on.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use argon2::Block;
use tokio::sync::OwnedSemaphorePermit;

/// argon2 memory for as many hashes as may run at once. A block set that no hash has used for
/// `keep` is freed: sign-ins come in bursts, and between them the server should not hold 7 MiB
/// per permit (a third of its resident memory) for a sign-in that may come an hour later.
/// Allocating again costs a hash about a millisecond; the hash itself takes tens.
pub(super) struct MemoryPool {
    blocks: usize,
    slots: usize,
    keep: Duration,
    /// Free block sets, each with the time it was given back.
    free: Mutex<Vec<(Vec<Block>, Instant)>>,
    /// Whether a task is waiting to free idle block sets; at most one is.
    release_pending: AtomicBool,
    /// Block sets allocated so far, for the tests.
    pub(super) allocated: AtomicUsize,
}

impl MemoryPool {
    pub(super) fn new(blocks: usize, slots: usize, keep: Duration) -> Arc<Self> {
        Arc::new(Self {
            blocks,
            slots,
            keep,
            free: Mutex::new(Vec::with_capacity(slots)),
            release_pending: AtomicBool::new(false),
            allocated: AtomicUsize::new(0),
        })
    }

    /// One hash's memory: a free block set, or a new one. The permit bounds how many exist.
    pub(super) fn take(self: &Arc<Self>, permit: Option<OwnedSemaphorePermit>) -> Memory {
        let free = self.lock_free().pop().map(|(blocks, _)| blocks);
        let blocks = free.unwrap_or_else(|| {
            self.allocated.fetch_add(1, Ordering::Relaxed);
            vec![Block::default(); self.blocks]
        });
        Memory {
            blocks,
            pool: Arc::clone(self),
            _permit: permit,
        }
    }

    /// Free block sets now, by length.
    #[cfg(test)]
    pub(super) fn kept(&self) -> Vec<usize> {
        self.lock_free().iter().map(|(b, _)| b.len()).collect()
    }

    fn lock_free(&self) -> std::sync::MutexGuard<'_, Vec<(Vec<Block>, Instant)>> {
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn give_back(self: &Arc<Self>, blocks: Vec<Block>) {
        {
            let mut free = self.lock_free();
            if free.len() >= self.slots {
                return;
            }
            // Most recently used last: `take` pops it, so the oldest are the ones left to free.
            free.push((blocks, Instant::now()));
        }
        self.schedule_release();
    }

    /// Starts the task that frees idle block sets, unless one is waiting already. Outside a
    /// runtime (a command-line tool's one hash) the memory stays until the process ends.
    fn schedule_release(self: &Arc<Self>) {
        if self.release_pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.release_pending.store(false, Ordering::Release);
            return;
        };
        let pool = Arc::clone(self);
        runtime.spawn(async move {
            let mut wait = pool.keep;
            loop {
                tokio::time::sleep(wait).await;
                match pool.release_idle(Instant::now()) {
                    Some(next) => wait = next,
                    None => break,
                }
            }
            pool.release_pending.store(false, Ordering::Release);
            // A set given back after the last look, while this task was still pending, found
            // no need to start another: look once more.
            if !pool.lock_free().is_empty() {
                pool.schedule_release();
            }
        });
    }

    /// Frees the block sets idle for `keep` at `now`; how long until the next one will be, if
    /// any is left.
    fn release_idle(&self, now: Instant) -> Option<Duration> {
        let released: Vec<_> = {
            let mut free = self.lock_free();
            let still_used = free
                .iter()
                .position(|(_, since)| now.duration_since(*since) < self.keep)
                .unwrap_or(free.len());
            free.drain(..still_used).collect()
        };
        // Dropped outside the lock: freeing megabytes takes a while.
        drop(released);
        let free = self.lock_free();
        free.first()
            .map(|(_, since)| self.keep.saturating_sub(now.duration_since(*since)))
    }
}

/// Goes back to its pool when the hash is done, on whichever thread that is, and only then
/// gives up its permit (fields drop after `drop` runs).
pub(super) struct Memory {
    pub(super) blocks: Vec<Block>,
    pool: Arc<MemoryPool>,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Drop for Memory {
    fn drop(&mut self) {
        self.pool.give_back(std::mem::take(&mut self.blocks));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_block_sets_idle_for_their_time_are_freed() {
        let keep = Duration::from_secs(10);
        let pool = MemoryPool::new(16, 2, keep);
        let (first, second) = (pool.take(None), pool.take(None));
        drop(first);
        let first_back = Instant::now();
        std::thread::sleep(Duration::from_millis(5));
        drop(second);
        assert_eq!(pool.kept(), vec![16, 16]);
        assert!(pool
            .release_idle(first_back)
            .is_some_and(|next| next <= keep));
        assert_eq!(pool.kept().len(), 2);

        let left = pool
            .release_idle(first_back + keep)
            .expect("the second is still kept");
        assert_eq!(pool.kept(), vec![16]);
        assert!(left > Duration::ZERO && left < keep, "{left:?}");

        // A hash in between takes the one left, and its wait starts again.
        let reused_at = Instant::now();
        drop(pool.take(None));
        assert_eq!(pool.allocated.load(Ordering::Relaxed), 2);
        assert!(pool.release_idle(reused_at + keep - left).is_some());
        assert_eq!(pool.kept().len(), 1);
        assert_eq!(pool.release_idle(Instant::now() + keep), None);
        assert!(pool.kept().is_empty());
        // The next sign-in allocates afresh.
        drop(pool.take(None));
        assert_eq!(pool.allocated.load(Ordering::Relaxed), 3);
    }

    #[tokio::test]
    async fn the_runtime_frees_idle_memory_by_itself() {
        let pool = MemoryPool::new(16, 2, Duration::from_millis(50));
        drop(pool.take(None));
        assert_eq!(pool.kept().len(), 1);
        for _ in 0..500 {
            if pool.kept().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(pool.kept().is_empty(), "idle memory was not freed in 5 s");
        // And it keeps doing so after the task that did it has ended.
        drop(pool.take(None));
        for _ in 0..500 {
            if pool.kept().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            pool.kept().is_empty(),
            "idle memory was not freed the second time"
        );
    }
}
