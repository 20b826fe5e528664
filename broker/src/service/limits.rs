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

    /// Forgets state that no longer limits anyone, so memory does not grow with every address.
    pub fn sweep(&self) {
        self.failed_lookups.retain_recent();
        self.refreshes.retain_recent();
        let now = Instant::now();
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        blocked.retain(|_, until| *until > now);
    }
}

fn seconds_until(until: Instant) -> u64 {
    until
        .saturating_duration_since(Instant::now())
        .as_secs()
        .max(1)
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
