//! The broker's behaviour, independent of HTTP: sign-ins, polls, tokens, revocation, reaping.
//!
//! [`Broker`] holds everything a request needs (configuration, store, master key, provider
//! client, clock, locks, limits, metrics). The `http` module only translates requests into calls
//! here and [`ServiceError`]s into responses.

pub(crate) mod grant;
mod limits;
mod locks;
mod logins;
mod pending;
mod reaper;
mod redacted;
mod signin;
mod tokens;

pub use limits::{spawn_limit_sync, RateLimits};
pub use logins::PollOutcome;
pub use pending::spawn_pending_flush;
pub use reaper::spawn_reaper;
pub use signin::{CallbackParams, SignInDone, SignInError, SignInStart};

use crate::clock::Clock;
use crate::config::{Config, ProviderConfig};
use crate::crypto::master_keys::MasterKeys;
use crate::metrics::Metrics;
use crate::provider::{ProviderClient, ProviderError};
use crate::store::{Store, StoreError};
use std::sync::Arc;

/// What a caller of the service did wrong, or what went wrong for it.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Malformed, unknown or wrong authid.
    #[error("the authid is not valid")]
    InvalidAuthid,
    /// The provider no longer accepts the grant.
    #[error("the provider no longer accepts this sign-in")]
    ReauthRequired,
    /// A rate limit was hit.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until a retry can succeed.
        retry_after: u64,
    },
    /// The provider failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The request is wrong; the text says how.
    #[error("{0}")]
    BadRequest(String),
    /// Nothing there; the text says what.
    #[error("{0}")]
    NotFound(String),
    /// The sign-in expired.
    #[error("the sign-in expired")]
    Expired,
    /// The database is unreachable, locked or full for now; logged, never shown.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A fault of the broker itself; logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// A copy of an error that says "retry later" (the provider or the database is down), for
    /// requests that queued behind the one that met it; `None` for any other error.
    fn retry_later_copy(&self) -> Option<Self> {
        match self {
            Self::Provider(error @ ProviderError::Unavailable { .. }) => {
                Some(Self::Provider(error.clone()))
            }
            Self::Unavailable(detail) => Some(Self::Unavailable(detail.clone())),
            _ => None,
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        if error.is_unavailable() {
            Self::Unavailable(error.to_string())
        } else {
            Self::Internal(error.to_string())
        }
    }
}

/// The broker. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Broker {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    store: Store,
    master_keys: MasterKeys,
    client: ProviderClient,
    clock: Clock,
    locks: locks::RefreshLocks,
    /// Refreshes holding a database lock at once (PostgreSQL only), see [`refresh_slots`].
    refresh_slots: Option<tokio::sync::Semaphore>,
    pending: pending::PendingWrites,
    limits: RateLimits,
    metrics: Metrics,
}

/// On PostgreSQL a refresh holds one pool connection for its advisory-lock transaction and needs
/// a second for its reads and writes. With as many refreshes in flight as the pool has
/// connections, each would hold one and wait for another until the pool's timeout. At most half
/// the pool may be held by refreshes, so every refresh can finish and cache hits still find a
/// connection; further refreshes queue in memory.
fn refresh_slots(config: &Config) -> Option<tokio::sync::Semaphore> {
    let postgres = crate::store::is_postgres(&config.database_url);
    let slots = usize::try_from(config.database_max_connections / 2).unwrap_or(1);
    postgres.then(|| tokio::sync::Semaphore::new(slots.max(1)))
}

impl Broker {
    /// Assembles a broker from its parts, and gives the store its grant cache (which on
    /// PostgreSQL starts a task: call within the Tokio runtime).
    pub fn new(
        config: Config,
        store: Store,
        master_keys: MasterKeys,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let client = ProviderClient::new(config.provider_timeout)?;
        let limits = RateLimits::new(&config.limits);
        let refresh_slots = refresh_slots(&config);
        let metrics = Metrics::default();
        let store = store.with_grant_cache(config.grant_cache_bytes, metrics.grant_cache());
        let inner = Inner {
            config,
            store,
            master_keys,
            client,
            clock,
            locks: locks::RefreshLocks::default(),
            refresh_slots,
            pending: pending::PendingWrites::default(),
            limits,
            metrics,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The rate limits.
    pub fn limits(&self) -> &RateLimits {
        &self.inner.limits
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    fn provider(&self, name: &str) -> Option<&ProviderConfig> {
        self.inner.config.providers.get(name)
    }

    fn unknown_provider(&self) -> String {
        let known: Vec<&str> = self
            .inner
            .config
            .providers
            .keys()
            .map(String::as_str)
            .collect();
        format!("unknown provider; this broker offers: {}", known.join(", "))
    }
}
