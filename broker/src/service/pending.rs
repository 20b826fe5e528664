//! Refreshed grants the database would not take: kept sealed in memory and written as soon as
//! it takes writes again.
//!
//! At a provider that rotates refresh tokens, a refresh makes the stored refresh token useless.
//! If writing the new record then fails (the database is unreachable, locked or full), the new
//! refresh token exists only in this process, and dropping it would lose the grant at
//! providers that refuse a rotated-away token. So the sealed record is kept here, keyed by
//! grant, and written before anything else touches the grant: by the grant's next request
//! (under its refresh lock, before any new refresh), by a pass every few seconds, and at
//! shutdown. The record is sealed already, so writing it needs no authid, and the memory holds
//! no secret in the clear. It is lost only if the process dies before the database comes back:
//! the window docs/scaling.md describes.

use super::{Broker, ServiceError};
use crate::crypto::authid::GrantId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often the background pass tries to write pending records.
const EVERY: Duration = Duration::from_secs(2);

/// Records waiting for the database.
#[derive(Debug, Default)]
pub(super) struct PendingWrites {
    /// How many records wait, so that requests read it without taking the lock.
    count: AtomicUsize,
    records: Mutex<HashMap<GrantId, PendingWrite>>,
}

/// One grant's refreshed record, as `update_grant` takes it.
#[derive(Debug)]
pub(super) struct PendingWrite {
    /// The row version the refresh read; the write is a compare-and-swap on it.
    pub expected_version: i64,
    /// The new record, sealed.
    pub sealed: Vec<u8>,
    /// The master key that sealed it.
    pub master_key_id: String,
    /// When the refresh happened.
    pub refreshed_at: i64,
}

impl PendingWrites {
    /// Keeps `write` for grant `id`, replacing an older one.
    pub(super) fn keep(&self, id: GrantId, write: PendingWrite) {
        let mut records = self.records();
        records.insert(id, write);
        self.count.store(records.len(), Ordering::Release);
    }

    /// Whether grant `id` has a record waiting.
    pub(super) fn contains(&self, id: &GrantId) -> bool {
        self.count.load(Ordering::Acquire) > 0 && self.records().contains_key(id)
    }

    fn take(&self, id: &GrantId) -> Option<PendingWrite> {
        if self.count.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut records = self.records();
        let write = records.remove(id);
        self.count.store(records.len(), Ordering::Release);
        write
    }

    fn ids(&self) -> Vec<GrantId> {
        self.records().keys().copied().collect()
    }

    fn len(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    fn records(&self) -> std::sync::MutexGuard<'_, HashMap<GrantId, PendingWrite>> {
        self.records
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Broker {
    /// Keeps a refreshed record the database refused, to write it later.
    pub(super) fn keep_pending(&self, id: GrantId, write: PendingWrite) {
        tracing::error!(
            grant = ?id,
            "cannot store a refreshed grant; keeping it in memory until the database takes it"
        );
        self.inner.pending.keep(id, write);
    }

    /// Writes grant `id`'s waiting record, if it has one. Call with the grant's refresh lock
    /// held. Fails, keeping the record, while the database still refuses it.
    pub(super) async fn flush_pending(&self, id: &GrantId) -> Result<(), ServiceError> {
        let Some(write) = self.inner.pending.take(id) else {
            return Ok(());
        };
        let stored = self
            .inner
            .store
            .update_grant(
                id,
                write.expected_version,
                &write.sealed,
                &write.master_key_id,
                write.refreshed_at,
            )
            .await;
        match stored {
            Ok(true) => tracing::info!(grant = ?id, "stored a refreshed grant kept in memory"),
            // Revoked meanwhile, or the failed write did commit after all.
            Ok(false) => tracing::warn!(grant = ?id, "a grant kept in memory changed meanwhile"),
            Err(error) => {
                self.inner.pending.keep(*id, write);
                return Err(error.into());
            }
        }
        Ok(())
    }

    /// Tries to write every waiting record; returns how many still wait.
    pub async fn flush_all_pending(&self) -> usize {
        for id in self.inner.pending.ids() {
            let _lock = self.inner.locks.lock(id).await;
            if let Err(error) = self.flush_pending(&id).await {
                tracing::warn!(%error, "the database still refuses refreshed grants");
                break;
            }
        }
        self.inner.pending.len()
    }
}

/// Runs [`Broker::flush_all_pending`] every two seconds while records wait, until aborted.
pub fn spawn_pending_flush(broker: Broker) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(EVERY);
        loop {
            interval.tick().await;
            if broker.inner.pending.len() > 0 {
                broker.flush_all_pending().await;
            }
        }
    })
}
