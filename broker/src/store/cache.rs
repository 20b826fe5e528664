//! An in-process cache of grant rows, so that a token request whose access token is still valid
//! costs no database round trip.
//!
//! The cache holds rows exactly as stored: the record stays sealed, and every request still
//! opens it with the caller's authid. Nothing is in memory here that the database file does not
//! hold already, and a request with a wrong authid fails the same way on a cached row.
//!
//! Coherence:
//! - Every write this process makes through [`Store`](super::Store) drops the row's entry after
//!   the write.
//! - A read that raced a write must not put the old row back. A read takes a [`Ticket`] (the
//!   invalidation generation) before it asks the database; after inserting, it takes its entry
//!   out again if any invalidation happened meanwhile.
//! - Other processes' writes (PostgreSQL replicas, an operator's SQL) reach every replica through
//!   LISTEN/NOTIFY: a trigger on `grants` names each changed or deleted row (`listener.rs`).
//!   While that channel is down the cache is empty and serves nothing.
//! - Entries expire after [`TTL`], which bounds how long a change the cache cannot hear of (a
//!   SQLite file edited by hand or restored while the broker runs) can go unseen.

use super::GrantRow;
use crate::crypto::authid::GrantId;
use prometheus_client::metrics::counter::Counter;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::time::Instant;

/// How long an entry is served before the row is read again.
pub const TTL: Duration = Duration::from_secs(60);

/// Bytes an entry costs besides its sealed record and strings: the key, timestamps, the
/// cache's own bookkeeping. An estimate; the weight only has to be roughly right.
const ENTRY_OVERHEAD: u64 = 160;

/// Grant rows by id, bounded in bytes.
#[derive(Debug)]
pub(super) struct GrantCache {
    rows: quick_cache::sync::Cache<GrantId, Arc<Entry>, RowWeight>,
    /// Bumped by every invalidation; see [`Ticket`].
    generation: AtomicU64,
    /// False while writes by other processes could go unheard (the PostgreSQL listener is
    /// down): nothing is served or stored then.
    enabled: AtomicBool,
    hits: Counter,
    misses: Counter,
    /// The PostgreSQL listener task, stopped when the cache goes.
    listener: OnceLock<tokio::task::AbortHandle>,
}

#[derive(Debug)]
struct Entry {
    row: GrantRow,
    read_at: Instant,
}

#[derive(Debug, Clone)]
struct RowWeight;

impl quick_cache::Weighter<GrantId, Arc<Entry>> for RowWeight {
    fn weight(&self, _id: &GrantId, entry: &Arc<Entry>) -> u64 {
        let row = &entry.row;
        let bytes = row.sealed.len() + row.provider.len() + row.master_key_id.len();
        u64::try_from(bytes).unwrap_or(u64::MAX) + ENTRY_OVERHEAD
    }
}

/// The invalidation generation when a database read began.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ticket(u64);

/// Hit and miss counters, for the metrics.
#[derive(Debug, Clone, Default)]
pub struct CacheCounters {
    /// Rows served from memory.
    pub hits: Counter,
    /// Rows read from the database (also while the cache is off).
    pub misses: Counter,
}

impl GrantCache {
    /// A cache of at most `bytes`; `enabled` is false when it must wait for a listener.
    pub(super) fn new(bytes: u64, enabled: bool, counters: CacheCounters) -> Self {
        let estimated_rows = usize::try_from(bytes / 700).unwrap_or(usize::MAX).max(16);
        Self {
            rows: quick_cache::sync::Cache::with_weighter(estimated_rows, bytes, RowWeight),
            generation: AtomicU64::new(0),
            enabled: AtomicBool::new(enabled),
            hits: counters.hits,
            misses: counters.misses,
            listener: OnceLock::new(),
        }
    }

    /// The row, if cached and fresh.
    pub(super) fn get(&self, id: &GrantId) -> Option<GrantRow> {
        let entry = self
            .enabled
            .load(Ordering::Acquire)
            .then(|| self.rows.get(id))
            .flatten();
        match entry {
            Some(entry) if entry.read_at.elapsed() < TTL => {
                self.hits.inc();
                Some(entry.row.clone())
            }
            _ => {
                self.misses.inc();
                None
            }
        }
    }

    /// Call before reading a row from the database, and hand the ticket to [`put`](Self::put).
    pub(super) fn ticket(&self) -> Ticket {
        Ticket(self.generation.load(Ordering::SeqCst))
    }

    /// Keeps a row read from the database under `ticket`, unless an invalidation came between.
    pub(super) fn put(&self, ticket: Ticket, row: &GrantRow) {
        if !self.enabled.load(Ordering::Acquire) {
            return;
        }
        let id = row.id;
        let entry = Entry {
            row: row.clone(),
            read_at: Instant::now(),
        };
        self.rows.insert(id, Arc::new(entry));
        // An invalidation after this check removes the entry itself; one before it shows here.
        if self.generation.load(Ordering::SeqCst) != ticket.0 {
            self.rows.remove(&id);
        }
    }

    /// Drops a row that was just written or deleted.
    pub(super) fn invalidate(&self, id: &GrantId) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.rows.remove(id);
    }

    /// Drops every row.
    pub(super) fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.rows.clear();
    }

    /// Stops serving and storing rows (the listener lost its connection), and empties.
    pub(super) fn suspend(&self) {
        self.enabled.store(false, Ordering::Release);
        self.clear();
    }

    /// Empties, then serves and stores again (the listener is subscribed again).
    pub(super) fn resume(&self) {
        self.clear();
        self.enabled.store(true, Ordering::Release);
    }

    /// Whether rows are served now.
    pub(super) fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    /// Ties the listener task's life to the cache's.
    pub(super) fn set_listener(&self, handle: tokio::task::AbortHandle) {
        if let Err(handle) = self.listener.set(handle) {
            handle.abort();
        }
    }
}

impl Drop for GrantCache {
    fn drop(&mut self) {
        if let Some(listener) = self.listener.get() {
            listener.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(byte: u8, version: i64) -> GrantRow {
        GrantRow {
            id: GrantId([byte; 32]),
            provider: "demo".to_owned(),
            format: 1,
            master_key_id: "k1".to_owned(),
            sealed: vec![byte; 300],
            version,
            reauth_required_at: None,
            created_at: 0,
            updated_at: 0,
            last_used_at: 0,
        }
    }

    fn cache() -> GrantCache {
        GrantCache::new(1 << 20, true, CacheCounters::default())
    }

    #[tokio::test]
    async fn a_stored_row_is_served_and_counted_as_a_hit() {
        let counters = CacheCounters::default();
        let cache = GrantCache::new(1 << 20, true, counters.clone());
        assert!(cache.get(&GrantId([1; 32])).is_none());

        cache.put(cache.ticket(), &row(1, 7));
        let cached = cache.get(&GrantId([1; 32])).expect("cached");
        assert_eq!((cached.version, cached.sealed.len()), (7, 300));
        assert_eq!((counters.hits.get(), counters.misses.get()), (1, 1));
    }

    #[tokio::test]
    async fn an_invalidated_row_is_read_again() {
        let cache = cache();
        cache.put(cache.ticket(), &row(1, 1));
        cache.put(cache.ticket(), &row(2, 1));

        cache.invalidate(&GrantId([1; 32]));
        assert!(cache.get(&GrantId([1; 32])).is_none());
        assert!(cache.get(&GrantId([2; 32])).is_some());
    }

    #[tokio::test]
    async fn a_read_that_raced_a_write_does_not_put_the_old_row_back() {
        let cache = cache();
        let ticket = cache.ticket();
        // The write lands between the racing read and its `put`.
        cache.invalidate(&GrantId([1; 32]));
        cache.put(ticket, &row(1, 1));
        assert!(cache.get(&GrantId([1; 32])).is_none());

        cache.put(cache.ticket(), &row(1, 2));
        assert_eq!(cache.get(&GrantId([1; 32])).map(|r| r.version), Some(2));
    }

    #[tokio::test(start_paused = true)]
    async fn entries_expire_after_the_ttl() {
        let cache = cache();
        cache.put(cache.ticket(), &row(1, 1));
        tokio::time::advance(TTL - Duration::from_secs(1)).await;
        assert!(cache.get(&GrantId([1; 32])).is_some());

        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(cache.get(&GrantId([1; 32])).is_none());
    }

    #[tokio::test]
    async fn a_suspended_cache_serves_and_stores_nothing_until_resumed() {
        let cache = cache();
        cache.put(cache.ticket(), &row(1, 1));
        cache.suspend();
        assert!(!cache.is_enabled());
        assert!(cache.get(&GrantId([1; 32])).is_none());
        cache.put(cache.ticket(), &row(2, 1));

        cache.resume();
        assert!(
            cache.get(&GrantId([1; 32])).is_none(),
            "emptied when suspended"
        );
        assert!(
            cache.get(&GrantId([2; 32])).is_none(),
            "nothing stored while suspended"
        );
        cache.put(cache.ticket(), &row(2, 1));
        assert!(cache.get(&GrantId([2; 32])).is_some());
    }

    #[tokio::test]
    async fn the_cache_stays_within_its_byte_bound() {
        let cache = GrantCache::new(20 * 460, true, CacheCounters::default());
        for byte in 0..200u8 {
            cache.put(cache.ticket(), &row(byte, 1));
        }
        let held = (0..200u8)
            .filter(|byte| cache.rows.get(&GrantId([*byte; 32])).is_some())
            .count();
        assert!(
            (1..=20).contains(&held),
            "{held} rows of 460 bytes in 9200 bytes"
        );
        assert!(cache.rows.weight() <= 20 * 460);
    }
}
