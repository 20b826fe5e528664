//! Wall-clock time in Unix seconds, with an offset tests can move forward.
//!
//! The broker compares token expiry against this clock only. Production code never changes the
//! offset; tests call [`Clock::advance`] instead of sleeping until a token expires.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A clock; clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    /// Now, in Unix seconds.
    pub fn now(&self) -> i64 {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        i64::try_from(system).unwrap_or(i64::MAX) + self.offset.load(Ordering::Relaxed)
    }

    /// Moves this clock (and its clones) forward by `secs`.
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::Relaxed);
    }
}

/// Formats Unix seconds as RFC 3339 in UTC; out-of-range values give the epoch.
pub fn rfc3339(unix: i64) -> String {
    use time::format_description::well_known::Rfc3339;
    let at =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    at.format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_is_shared_by_clones() {
        let clock = Clock::default();
        let clone = clock.clone();
        let before = clone.now();
        clock.advance(3600);
        assert!(clone.now() >= before + 3600);
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
