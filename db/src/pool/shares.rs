//! Each workspace's share of the pool. A workspace's transactions take a place in its share
//! before they ask the pool for a connection, so one busy workspace (an import script, a
//! runaway integration) waits behind its own work while the others find connections free.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::TenantId;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::RepoError;

/// Past this many workspaces remembered, the idle ones are dropped before another is added,
/// so the map holds about as many entries as there are workspaces with work in flight.
const SWEEP_AT: usize = 1024;

pub(crate) struct ConnectionShares {
    pool_size: u32,
    /// How long a transaction waits for a place in its workspace's share before giving up.
    wait: Duration,
    held: Mutex<HashMap<TenantId, Share>>,
}

struct Share {
    places: usize,
    semaphore: Arc<Semaphore>,
}

impl ConnectionShares {
    pub(crate) fn new(pool_size: u32, wait: Duration) -> Self {
        Self {
            pool_size,
            wait,
            held: Mutex::new(HashMap::new()),
        }
    }

    /// A place among `percent` of the pool's connections for `tenant`, held until dropped;
    /// `None` when that share is the whole pool (nothing to hold back).
    pub(crate) async fn take(
        &self,
        tenant: TenantId,
        percent: u32,
    ) -> Result<Option<OwnedSemaphorePermit>, RepoError> {
        let places = self.places(percent);
        if places >= self.pool_size as usize {
            return Ok(None);
        }
        let semaphore = self.semaphore(tenant, places);
        match tokio::time::timeout(self.wait, semaphore.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Some(permit)),
            // Closed is impossible (no semaphore here is ever closed); either way, no place.
            Ok(Err(_)) | Err(_) => Err(RepoError::ShareUsedUp { places }),
        }
    }

    /// At least one connection, so a tiny share still lets the workspace work.
    fn places(&self, percent: u32) -> usize {
        (u64::from(self.pool_size) * u64::from(percent))
            .div_ceil(100)
            .max(1) as usize
    }

    fn semaphore(&self, tenant: TenantId, places: usize) -> Arc<Semaphore> {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if held.len() >= SWEEP_AT {
            // A semaphore nobody else holds has no place taken and nobody waiting for one.
            held.retain(|_, share| Arc::strong_count(&share.semaphore) > 1);
        }
        match held.get(&tenant) {
            Some(share) if share.places == places => share.semaphore.clone(),
            // New, or its share changed: places taken under the old size end with their
            // transactions, so for a moment the workspace may hold both.
            _ => {
                let semaphore = Arc::new(Semaphore::new(places));
                held.insert(
                    tenant,
                    Share {
                        places,
                        semaphore: semaphore.clone(),
                    },
                );
                semaphore
            }
        }
    }

    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.held.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(n: u128) -> TenantId {
        TenantId::from_uuid(uuid::Uuid::from_u128(n))
    }

    #[tokio::test]
    async fn a_workspace_waits_at_its_share_while_another_still_gets_a_place() {
        let shares = ConnectionShares::new(20, Duration::from_millis(50));
        // 25% of 20 is 5 places.
        let mut held = Vec::new();
        for _ in 0..5 {
            held.push(shares.take(tenant(1), 25).await.unwrap().unwrap());
        }
        let refused = shares.take(tenant(1), 25).await;
        assert!(matches!(refused, Err(RepoError::ShareUsedUp { places: 5 })));
        assert!(shares.take(tenant(2), 25).await.unwrap().is_some());
        held.pop();
        assert!(shares.take(tenant(1), 25).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn the_whole_pool_holds_nothing_back_and_a_tiny_share_still_has_one_place() {
        let shares = ConnectionShares::new(20, Duration::from_millis(10));
        assert!(shares.take(tenant(1), 100).await.unwrap().is_none());
        let one = shares.take(tenant(2), 1).await.unwrap();
        assert!(one.is_some());
        assert!(shares.take(tenant(2), 1).await.is_err());
    }

    #[tokio::test]
    async fn idle_workspaces_are_forgotten_so_memory_stays_bounded() {
        let shares = ConnectionShares::new(20, Duration::from_millis(10));
        let busy = shares.take(tenant(0), 10).await.unwrap();
        for n in 1..5000 {
            drop(shares.take(tenant(n), 10).await.unwrap());
        }
        assert!(shares.remembered() <= SWEEP_AT, "{}", shares.remembered());
        // The one still holding a place kept its semaphore: its share still counts.
        let _second = shares.take(tenant(0), 10).await.unwrap();
        assert!(shares.take(tenant(0), 10).await.is_err());
        drop(busy);
    }
}
