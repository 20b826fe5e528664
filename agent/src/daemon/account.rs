//! One account inside the daemon: its cached token, its single-flight refresh, and when the
//! next background refresh is due.
//!
//! Tokens live only in memory. A refresh is due when about two thirds of the token's lifetime
//! has passed (with jitter), and never later than `min_valid` before expiry, so askers in
//! steady state are always served from the cache. Failures back off exponentially with jitter
//! while the still-valid token keeps being served; `reauth_required` stops all retries.

use crate::broker::BrokerError;
use oauth_protocol::{ErrorCode, TokenResponse};
use rand::Rng as _;
use std::sync::Mutex;
use std::time::Duration;
use zeroize::Zeroizing;

/// A token in the cache.
#[derive(Clone)]
pub(super) struct Cached {
    pub token: Zeroizing<String>,
    pub token_type: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// Seconds of validity it had when received.
    pub lifetime: u64,
}

/// The mutable part of an account.
#[derive(Default)]
pub(super) struct State {
    pub cached: Option<Cached>,
    pub refresh_at: i64,
    pub last_refresh: Option<i64>,
    pub last_error: Option<String>,
    pub reauth_required: bool,
    pub failures: u32,
    /// No broker call before this time (back-off), Unix seconds.
    pub retry_at: i64,
}

/// One account.
pub(super) struct Account {
    pub name: String,
    pub broker: String,
    pub provider: String,
    pub state: Mutex<State>,
    /// Held while a refresh runs: concurrent askers wait and then share its result.
    pub refresh: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// `min_valid` never asks more than half a token's lifetime: a provider's 10-minute tokens
/// cannot have 30 minutes left.
pub(super) fn effective_min_valid(min_valid: u64, lifetime: u64) -> i64 {
    i64::try_from(min_valid.min(lifetime / 2)).unwrap_or(i64::MAX)
}

impl Account {
    pub(super) fn new(name: String, broker: String, provider: String) -> Self {
        Self {
            name,
            broker,
            provider,
            state: Mutex::new(State::default()),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached token if it has more than `min_valid` (capped) seconds left.
    pub(super) fn fresh(&self, now: i64, min_valid: u64) -> Option<Cached> {
        let state = self.lock();
        let cached = state.cached.as_ref()?;
        let needed = effective_min_valid(min_valid, cached.lifetime);
        (cached.expires_at - now > needed).then(|| cached.clone())
    }

    /// The cached token if it is valid at all: served while the broker is unreachable.
    pub(super) fn still_valid(&self, now: i64) -> Option<Cached> {
        let state = self.lock();
        state
            .cached
            .as_ref()
            .filter(|c| c.expires_at - now >= 1)
            .cloned()
    }

    /// Stores a token from the broker and schedules the next background refresh.
    pub(super) fn store(&self, token: &TokenResponse, now: i64, default_min_valid: u64) {
        let lifetime = token.expires_in.max(1);
        let expires_at = now + i64::try_from(lifetime).unwrap_or(i64::MAX / 2);
        let mut state = self.lock();
        state.cached = Some(Cached {
            token: Zeroizing::new(token.access_token.clone()),
            token_type: token.token_type.clone(),
            expires_at,
            lifetime,
        });
        state.refresh_at = refresh_at(now, expires_at, lifetime, default_min_valid);
        state.last_refresh = Some(now);
        state.last_error = None;
        state.failures = 0;
        state.retry_at = 0;
    }

    /// Records a failed broker call; returns the back-off before the next attempt.
    pub(super) fn failed(&self, error: &BrokerError, now: i64, max_backoff: Duration) -> Duration {
        let mut state = self.lock();
        state.last_error = Some(format!("{}: {error}", error.code()));
        if error.code() == ErrorCode::ReauthRequired || error.code() == ErrorCode::InvalidAuthid {
            state.reauth_required = true;
            state.cached = None;
            return max_backoff;
        }
        state.failures = state.failures.saturating_add(1);
        let backoff = backoff(state.failures, max_backoff, error);
        state.retry_at = now + i64::try_from(backoff.as_secs()).unwrap_or(i64::MAX / 2);
        backoff
    }

    /// Drops the cached token (git's `erase`).
    pub(super) fn forget_token(&self) {
        let mut state = self.lock();
        state.cached = None;
        state.refresh_at = 0;
    }
}

/// Two thirds of the lifetime, give or take a twentieth, and no later than `min_valid` (capped
/// at half the lifetime) before expiry.
fn refresh_at(now: i64, expires_at: i64, lifetime: u64, default_min_valid: u64) -> i64 {
    let lifetime_i = i64::try_from(lifetime).unwrap_or(i64::MAX / 4);
    let jitter_span = (lifetime_i / 20).max(1);
    let jitter = rand::thread_rng().gen_range(-jitter_span..=jitter_span);
    let planned = now + lifetime_i * 2 / 3 + jitter;
    let latest = expires_at - effective_min_valid(default_min_valid, lifetime);
    planned.min(latest).max(now)
}

/// Exponential with full jitter between half and all of the step, capped; at least the broker's
/// `Retry-After`.
fn backoff(failures: u32, max: Duration, error: &BrokerError) -> Duration {
    let step = Duration::from_secs(1u64 << failures.min(16)).min(max);
    let factor = rand::thread_rng().gen_range(0.5..=1.0);
    let jittered = step.mul_f64(factor).max(Duration::from_secs(1));
    let floor = match error {
        BrokerError::Api {
            retry_after: Some(secs),
            ..
        } => Duration::from_secs(*secs),
        _ => Duration::ZERO,
    };
    jittered.max(floor).min(max.max(floor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_is_due_at_two_thirds_and_before_min_valid() {
        for _ in 0..100 {
            let at = refresh_at(0, 3600, 3600, 300);
            assert!((2220..=2580).contains(&at), "{at}");
            let short = refresh_at(0, 60, 60, 300);
            assert!(short <= 30, "min_valid is capped at half of 60 s: {short}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let error = BrokerError::Unreachable {
            broker: "b".into(),
            reason: "x".into(),
        };
        let max = Duration::from_secs(300);
        assert!(backoff(1, max, &error) <= Duration::from_secs(2));
        assert!(backoff(5, max, &error) >= Duration::from_secs(16));
        assert!(backoff(30, max, &error) <= max);
        let slow = BrokerError::Api {
            status: 429,
            code: ErrorCode::RateLimited,
            description: String::new(),
            retry_after: Some(120),
        };
        assert!(backoff(1, max, &slow) >= Duration::from_secs(120));
    }
}
