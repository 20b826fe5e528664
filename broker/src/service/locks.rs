//! One refresh per grant at a time within this process.
//!
//! A request that finds the cached token too old takes the grant's lock, then looks again:
//! whoever held the lock before it has usually refreshed already, so 50 concurrent requests on
//! an expired grant make one provider call. Entries live only while someone holds or waits for
//! the lock; dead ones are swept when the map grows.

use crate::crypto::authid::GrantId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

const SWEEP_ABOVE: usize = 1024;

/// Per-grant async locks.
#[derive(Debug, Default)]
pub(super) struct RefreshLocks {
    map: Mutex<HashMap<GrantId, Weak<AsyncMutex<()>>>>,
}

impl RefreshLocks {
    /// Waits for, then holds, the lock of grant `id` until the guard drops.
    pub(super) async fn lock(&self, id: GrantId) -> OwnedMutexGuard<()> {
        self.entry(id).lock_owned().await
    }

    fn entry(&self, id: GrantId) -> Arc<AsyncMutex<()>> {
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(lock) = map.get(&id).and_then(Weak::upgrade) {
            return lock;
        }
        if map.len() >= SWEEP_ABOVE {
            map.retain(|_, lock| lock.strong_count() > 0);
        }
        let lock = Arc::new(AsyncMutex::new(()));
        map.insert(id, Arc::downgrade(&lock));
        lock
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn same_grant_serializes_other_grants_do_not() {
        let locks = Arc::new(RefreshLocks::default());
        let a = GrantId([1; 32]);
        let b = GrantId([2; 32]);

        let held = locks.lock(a).await;
        let other = tokio::time::timeout(Duration::from_secs(1), locks.lock(b)).await;
        assert!(other.is_ok(), "a different grant must not wait");
        let same = tokio::time::timeout(Duration::from_secs(1), locks.lock(a)).await;
        assert!(same.is_err(), "the same grant must wait");

        drop(held);
        assert!(tokio::time::timeout(Duration::from_secs(1), locks.lock(a))
            .await
            .is_ok());
    }
}
