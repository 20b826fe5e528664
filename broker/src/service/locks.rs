//! One refresh per grant at a time within this process.
//!
//! A request that finds the cached token too old takes the grant's lock, then looks again:
//! whoever held the lock before it has usually refreshed already, so 50 concurrent requests on
//! an expired grant make one provider call. When that call found the provider (or the database)
//! down instead, the lock keeps the failure, and requests that were already waiting get the same
//! answer at once rather than each trying again in turn: a slow provider costs one timeout, not
//! one per waiting request. Entries live only while someone holds or waits for the lock; dead
//! ones are swept when the map grows.

use super::ServiceError;
use crate::crypto::authid::GrantId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

const SWEEP_ABOVE: usize = 1024;

/// Per-grant async locks.
#[derive(Debug, Default)]
pub(super) struct RefreshLocks {
    map: Mutex<HashMap<GrantId, Weak<AsyncMutex<LastFailure>>>>,
}

/// The "retry later" failure the last refresh under a lock met, and when.
#[derive(Debug, Default)]
pub(super) struct LastFailure(Option<(Instant, ServiceError)>);

impl LastFailure {
    /// A copy of the failure met after `queued`: the holder before us failed while we waited.
    pub(super) fn since(&self, queued: Instant) -> Option<ServiceError> {
        match &self.0 {
            Some((at, error)) if *at >= queued => error.retry_later_copy(),
            _ => None,
        }
    }

    /// Remembers a "retry later" failure for the requests waiting behind this one.
    pub(super) fn record<T>(&mut self, result: &Result<T, ServiceError>) {
        self.0 = match result {
            Err(error) => error.retry_later_copy().map(|copy| (Instant::now(), copy)),
            Ok(_) => None,
        };
    }
}

impl RefreshLocks {
    /// Waits for, then holds, the lock of grant `id` until the guard drops.
    pub(super) async fn lock(&self, id: GrantId) -> OwnedMutexGuard<LastFailure> {
        self.entry(id).lock_owned().await
    }

    fn entry(&self, id: GrantId) -> Arc<AsyncMutex<LastFailure>> {
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
        let lock = Arc::new(AsyncMutex::new(LastFailure::default()));
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

    #[test]
    fn waiters_get_a_retry_later_failure_met_while_they_waited() {
        let queued = Instant::now();
        let mut last = LastFailure::default();
        last.record::<()>(&Err(ServiceError::Unavailable("down".into())));
        assert!(matches!(
            last.since(queued),
            Some(ServiceError::Unavailable(_))
        ));
        assert!(
            last.since(Instant::now() + Duration::from_secs(1))
                .is_none(),
            "a request that queued after the failure tries again itself"
        );

        last.record::<()>(&Err(ServiceError::ReauthRequired));
        assert!(
            last.since(queued).is_none(),
            "only retry-later failures are shared"
        );
        last.record::<()>(&Err(ServiceError::Unavailable("down".into())));
        last.record(&Ok(()));
        assert!(last.since(queued).is_none(), "a success clears the failure");
    }
}
