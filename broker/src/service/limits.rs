//! Rate limits: failed authid look-ups per client address, provider refreshes per grant.
//!
//! Both use `governor`'s keyed GCRA limiters. A client address whose failures exceed its quota
//! is refused outright (429) until the quota refills, so guessing authids gains nothing even
//! for a guess that would have been right. Cached token hits touch neither limiter.

use crate::config::Limits;
use crate::crypto::authid::GrantId;
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The broker's rate limiters.
#[derive(Debug)]
pub struct RateLimits {
    failed_lookups: DefaultKeyedRateLimiter<IpAddr>,
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    refreshes: DefaultKeyedRateLimiter<GrantId>,
}

impl RateLimits {
    /// Limiters with the configured quotas.
    pub fn new(limits: &Limits) -> Self {
        let per_minute =
            NonZeroU32::new(limits.failed_lookups_per_minute).unwrap_or(NonZeroU32::MIN);
        let per_hour = NonZeroU32::new(limits.refreshes_per_hour).unwrap_or(NonZeroU32::MIN);
        Self {
            failed_lookups: RateLimiter::keyed(Quota::per_minute(per_minute)),
            blocked: Mutex::default(),
            refreshes: RateLimiter::keyed(Quota::per_hour(per_hour)),
        }
    }

    /// `Err(seconds)` while `addr` is blocked for too many failed look-ups.
    pub fn check_address(&self, addr: Option<IpAddr>) -> Result<(), u64> {
        let Some(addr) = addr else { return Ok(()) };
        let blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        match blocked.get(&addr) {
            Some(until) if *until > Instant::now() => Err(seconds_until(*until)),
            _ => Ok(()),
        }
    }

    /// Counts a failed look-up from `addr`; blocks the address once it is over quota.
    pub fn record_failure(&self, addr: Option<IpAddr>) {
        let Some(addr) = addr else { return };
        if let Err(not_until) = self.failed_lookups.check_key(&addr) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
            blocked.insert(addr, Instant::now() + wait.max(Duration::from_secs(1)));
        }
    }

    /// `Err(seconds)` when grant `id` may not refresh at the provider yet.
    pub fn check_refresh(&self, id: &GrantId) -> Result<(), u64> {
        self.refreshes.check_key(id).map_err(|not_until| {
            not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                .max(1)
        })
    }

    /// Blocks `addr` for `duration` (another replica saw it fail too often).
    pub fn block(&self, addr: IpAddr, duration: Duration) {
        let until = Instant::now() + duration;
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        let entry = blocked.entry(addr).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// Forgets state that no longer limits anyone, so memory does not grow with every address.
    pub fn sweep(&self) {
        self.failed_lookups.retain_recent();
        self.refreshes.retain_recent();
        let now = Instant::now();
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        blocked.retain(|_, until| *until > now);
    }
}

/// Real wall-clock seconds: rate limits count real requests, whatever the token clock says.
pub(super) fn unix_now() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn seconds_until(until: Instant) -> u64 {
    until
        .saturating_duration_since(Instant::now())
        .as_secs()
        .max(1)
}

/// The window of the shared failed-look-up quota.
const FAILURE_WINDOW_SECS: i64 = 60;

/// How often a replica learns which addresses the others blocked.
const SYNC_EVERY: Duration = Duration::from_secs(2);

impl super::Broker {
    /// Counts a failed authid look-up from `addr`: in memory, and on PostgreSQL in the shared
    /// window every replica sees.
    pub async fn record_failure(&self, addr: Option<IpAddr>) {
        self.inner.limits.record_failure(addr);
        let Some(addr) = addr else { return };
        let now = unix_now();
        let key = addr.to_string();
        match self
            .inner
            .store
            .count_failure(&key, now, FAILURE_WINDOW_SECS)
            .await
        {
            Ok(Some((count, start))) => {
                let quota = i64::from(self.inner.config.limits.failed_lookups_per_minute);
                if count > quota {
                    let left = u64::try_from(start + FAILURE_WINDOW_SECS - now).unwrap_or(1);
                    self.inner
                        .limits
                        .block(addr, Duration::from_secs(left.max(1)));
                }
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "cannot count a failed look-up in the database"),
        }
    }

    /// Blocks, here, the addresses other replicas found over quota.
    async fn sync_blocked(&self) {
        let quota = i64::from(self.inner.config.limits.failed_lookups_per_minute);
        let now = unix_now();
        let blocked = self
            .inner
            .store
            .blocked_addresses(quota, now - FAILURE_WINDOW_SECS)
            .await;
        match blocked {
            Ok(list) => {
                for (addr, start) in list {
                    let Ok(addr) = addr.parse::<IpAddr>() else {
                        continue;
                    };
                    let left = u64::try_from(start + FAILURE_WINDOW_SECS - now).unwrap_or(0);
                    if left > 0 {
                        self.inner.limits.block(addr, Duration::from_secs(left));
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot read blocked addresses"),
        }
    }
}

/// Keeps this replica's view of blocked addresses in step with the others (PostgreSQL only;
/// with SQLite there is nothing to learn and no query is made).
pub fn spawn_limit_sync(broker: super::Broker) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(SYNC_EVERY);
        loop {
            interval.tick().await;
            broker.sync_blocked().await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_is_blocked_after_quota_of_failures() {
        let limits = RateLimits::new(&Limits {
            failed_lookups_per_minute: 3,
            refreshes_per_hour: 2,
        });
        let addr = Some(IpAddr::from([10, 0, 0, 1]));
        let other = Some(IpAddr::from([10, 0, 0, 2]));

        for _ in 0..3 {
            assert!(limits.check_address(addr).is_ok());
            limits.record_failure(addr);
        }
        assert!(limits.check_address(addr).is_ok());
        limits.record_failure(addr);
        let retry = limits.check_address(addr).unwrap_err();
        assert!((1..=60).contains(&retry));
        assert!(limits.check_address(other).is_ok());
    }

    #[test]
    fn refreshes_limited_per_grant() {
        let limits = RateLimits::new(&Limits {
            failed_lookups_per_minute: 3,
            refreshes_per_hour: 2,
        });
        let a = GrantId([1; 32]);
        assert!(limits.check_refresh(&a).is_ok());
        assert!(limits.check_refresh(&a).is_ok());
        assert!(limits.check_refresh(&a).is_err());
        assert!(limits.check_refresh(&GrantId([2; 32])).is_ok());
    }
}
