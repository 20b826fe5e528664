//! The daemon: accounts, their tokens, background refresh, and the local HTTP API.
//!
//! [`Daemon`] is the state; [`run`] serves it on an already-bound listener until a shutdown
//! future completes (the binary passes SIGINT/SIGTERM), which is also how tests run it.

mod account;
mod api;
mod refresher;

use crate::broker::{BrokerClient, BrokerError};
use crate::clock::Clock;
use crate::config::AgentConfig;
use crate::store::SecretStore;
use account::{Account, Cached};
use oauth_protocol::{AccountStatus, ErrorCode, MAX_MIN_VALID_SECS};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use api::router;

/// Wait before reading the secret store again after it failed (a locked keyring, say).
const STORE_RETRY_SECS: i64 = 30;

/// Tunables; the defaults suit production.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// `min_valid` for askers that do not say, and the background refresh's margin.
    pub min_valid_secs: u64,
    /// How often the background refresher looks at the clock (clock jumps are noticed then).
    pub tick: Duration,
    /// Longest back-off between failed refreshes.
    pub max_backoff: Duration,
    /// Broker URL for every account (`--broker`), instead of each account's own.
    pub broker_override: Option<String>,
    /// A group admitted besides `allowed_gids`: the group of a socket the service manager
    /// passed with group read and write (see [`crate::activation::socket_group`]).
    pub socket_group: Option<u32>,
}

impl Default for DaemonOptions {
    fn default() -> Self {
        Self {
            min_valid_secs: oauth_protocol::DEFAULT_MIN_VALID_SECS,
            tick: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            broker_override: None,
            socket_group: None,
        }
    }
}

/// Why the daemon cannot hand out a token.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// No such account in the config.
    #[error(
        "unknown account '{0}': sign in first with `oauth-agent login {0} --provider PROVIDER`"
    )]
    UnknownAccount(String),
    /// The account needs a new sign-in.
    #[error(
        "account '{name}' needs a new sign-in: run `oauth-agent login {name} --provider {provider}`"
    )]
    ReauthRequired {
        /// Account.
        name: String,
        /// Its provider.
        provider: String,
    },
    /// The broker or provider is failing and no valid token is cached.
    #[error(
        "account '{name}': {error}; the agent retries by itself, try again in {retry_after} s"
    )]
    Unavailable {
        /// Account.
        name: String,
        /// What failed.
        error: BrokerError,
        /// Seconds until the next attempt.
        retry_after: u64,
    },
    /// The secret store failed.
    #[error("account '{name}': {error}")]
    Store {
        /// Account.
        name: String,
        /// What failed.
        error: crate::store::StoreError,
    },
}

impl DaemonError {
    /// The protocol code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::UnknownAccount(_) => ErrorCode::UnknownAccount,
            Self::ReauthRequired { .. } => ErrorCode::ReauthRequired,
            Self::Unavailable { error, .. } => match error.code() {
                ErrorCode::RateLimited => ErrorCode::RateLimited,
                _ => ErrorCode::ProviderUnavailable,
            },
            Self::Store { .. } => ErrorCode::ServerError,
        }
    }
}

/// The daemon's state. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Daemon {
    inner: Arc<Inner>,
}

struct Inner {
    config_path: PathBuf,
    config: Mutex<AgentConfig>,
    store: SecretStore,
    broker: BrokerClient,
    clock: Clock,
    options: DaemonOptions,
    accounts: Mutex<HashMap<String, Arc<Account>>>,
    authids: tokio::sync::Mutex<HashMap<String, zeroize::Zeroizing<String>>>,
}

/// A token copy for the API layer.
#[derive(Clone)]
pub struct CachedToken {
    /// The token.
    pub token: zeroize::Zeroizing<String>,
    /// Its type.
    pub token_type: String,
    /// Unix seconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for Inner {
    /// Everything but the cached authids (the accounts print their names only).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("config_path", &self.config_path)
            .field("store", &self.store)
            .field("options", &self.options)
            .field("accounts", &self.accounts)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedToken")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl From<Cached> for CachedToken {
    fn from(cached: Cached) -> Self {
        Self {
            token: cached.token,
            token_type: cached.token_type,
            expires_at: cached.expires_at,
        }
    }
}

impl Daemon {
    /// A daemon reading accounts from `config_path` and authids from `store`.
    pub fn new(
        config_path: PathBuf,
        store: SecretStore,
        clock: Clock,
        options: DaemonOptions,
    ) -> Self {
        let config = AgentConfig::load(&config_path).unwrap_or_else(|error| {
            tracing::error!(%error, "cannot read the agent config; starting with no accounts");
            AgentConfig::default()
        });
        let inner = Inner {
            config_path,
            config: Mutex::new(config),
            store,
            broker: BrokerClient::new(Duration::from_secs(30)),
            clock,
            options,
            accounts: Mutex::default(),
            authids: tokio::sync::Mutex::default(),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Who may use the socket besides the daemon's own user: the config's `allowed_uids`, and
    /// its `allowed_gids` plus the passed socket's group.
    pub fn access_lists(&self) -> (Vec<u32>, Vec<u32>) {
        let config = self.config();
        let mut gids = config.allowed_gids.clone();
        gids.extend(self.inner.options.socket_group);
        (config.allowed_uids.clone(), gids)
    }

    fn config(&self) -> std::sync::MutexGuard<'_, AgentConfig> {
        self.inner.config.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Re-reads the config file and forgets every account's state and authid, so that a new
    /// sign-in or a logout takes effect at once. Tokens are fetched again on the next request.
    pub async fn reload(&self) {
        match AgentConfig::load(&self.inner.config_path) {
            Ok(config) => *self.config() = config,
            Err(error) => tracing::error!(%error, "cannot re-read the agent config"),
        }
        let mut authids = self.inner.authids.lock().await;
        authids.clear();
        self.inner
            .accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    fn broker_for(&self, configured: &str) -> String {
        self.inner
            .options
            .broker_override
            .clone()
            .unwrap_or_else(|| configured.to_owned())
    }

    /// The account's config entry, re-reading the file once if it is not known yet (a `login`
    /// while the daemon runs).
    fn configured(&self, name: &str) -> Result<crate::config::Account, DaemonError> {
        if let Some(account) = self.config().accounts.get(name) {
            return Ok(account.clone());
        }
        if let Ok(config) = AgentConfig::load(&self.inner.config_path) {
            *self.config() = config;
        }
        let account = self.config().accounts.get(name).cloned();
        account.ok_or_else(|| DaemonError::UnknownAccount(name.to_owned()))
    }

    /// The account called `name`, set up (with its refresher) on first use.
    fn account(&self, name: &str) -> Result<Arc<Account>, DaemonError> {
        if let Some(account) = self
            .inner
            .accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
        {
            return Ok(account.clone());
        }
        let configured = self.configured(name)?;

        let mut accounts = self
            .inner
            .accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let account = accounts.entry(name.to_owned()).or_insert_with(|| {
            let broker = self.broker_for(&configured.broker);
            let account = Arc::new(Account::new(
                name.to_owned(),
                broker,
                configured.provider.clone(),
            ));
            refresher::spawn(self.clone(), Arc::downgrade(&account));
            account
        });
        Ok(account.clone())
    }

    /// A token for `name` valid for at least `min_valid_secs` (capped at half its lifetime).
    pub async fn token(
        &self,
        name: &str,
        min_valid_secs: Option<u64>,
    ) -> Result<CachedToken, DaemonError> {
        let account = self.account(name)?;
        let min_valid = min_valid_secs
            .unwrap_or(self.inner.options.min_valid_secs)
            .min(MAX_MIN_VALID_SECS);
        if let Some(cached) = account.fresh(self.inner.clock.now(), min_valid) {
            return Ok(cached.into());
        }
        self.refresh(&account, min_valid).await
    }

    /// Refreshes unless someone else just did; shares the result with concurrent askers.
    /// While the broker fails (or the account backs off), a still-valid token is served.
    async fn refresh(&self, account: &Account, min_valid: u64) -> Result<CachedToken, DaemonError> {
        let _flight = account.refresh.lock().await;
        let now = self.inner.clock.now();
        if let Some(cached) = account.fresh(now, min_valid) {
            return Ok(cached.into());
        }
        let result = match self.backing_off(account, now) {
            Some(refused) => Err(refused),
            None => self.call_broker(account, MAX_MIN_VALID_SECS).await,
        };
        match result {
            Err(DaemonError::Unavailable { .. }) if account.still_valid(now).is_some() => account
                .still_valid(now)
                .map(Into::into)
                .ok_or_else(|| unreachable_state(account)),
            other => other,
        }
    }

    /// The refusal to call the broker now: the account needs a sign-in or is backing off.
    fn backing_off(&self, account: &Account, now: i64) -> Option<DaemonError> {
        let state = account.lock();
        if state.reauth_required {
            return Some(reauth(account));
        }
        if state.retry_at <= now {
            return None;
        }
        let error = BrokerError::Unreachable {
            broker: account.broker.clone(),
            reason: state
                .last_error
                .clone()
                .unwrap_or_else(|| "backing off".into()),
        };
        let retry_after = u64::try_from(state.retry_at - now).unwrap_or(1);
        Some(DaemonError::Unavailable {
            name: account.name.clone(),
            error,
            retry_after,
        })
    }

    /// One broker call; updates the account's cache or error state.
    async fn call_broker(
        &self,
        account: &Account,
        min_valid: u64,
    ) -> Result<CachedToken, DaemonError> {
        let authid = self.authid(account).await?;
        let result = self
            .inner
            .broker
            .token(&account.broker, &authid, Some(min_valid))
            .await;
        let now = self.inner.clock.now();
        match result {
            Ok(token) => {
                account.store(&token, now, self.inner.options.min_valid_secs);
                tracing::debug!(account = %account.name, expires_in = token.expires_in, "token refreshed");
                account
                    .fresh(now, 0)
                    .map(Into::into)
                    .ok_or_else(|| unreachable_state(account))
            }
            Err(error) => {
                let backoff = account.failed(&error, now, self.inner.options.max_backoff);
                tracing::warn!(account = %account.name, code = %error.code(), %error, "refresh failed");
                if !error.is_transient() {
                    return Err(reauth(account));
                }
                Err(DaemonError::Unavailable {
                    name: account.name.clone(),
                    error,
                    retry_after: backoff.as_secs().max(1),
                })
            }
        }
    }

    /// The account's authid, read from the store once and then kept in memory.
    async fn authid(&self, account: &Account) -> Result<zeroize::Zeroizing<String>, DaemonError> {
        let mut authids = self.inner.authids.lock().await;
        if let Some(authid) = authids.get(&account.name) {
            return Ok(authid.clone());
        }
        let stored = self.inner.store.get(&account.name).await;
        let stored = stored.map_err(|error| {
            let mut state = account.lock();
            state.last_error = Some(error.to_string());
            state.retry_at = self.inner.clock.now() + STORE_RETRY_SECS;
            DaemonError::Store {
                name: account.name.clone(),
                error,
            }
        })?;
        let Some(authid) = stored else {
            let mut state = account.lock();
            state.reauth_required = true;
            state.last_error = Some("no authid is stored for this account".into());
            return Err(reauth(account));
        };
        authids.insert(account.name.clone(), authid.clone());
        Ok(authid)
    }

    /// Drops `name`'s cached token (git's `erase`); the next asker gets a fresh one.
    pub fn forget_token(&self, name: &str) -> Result<(), DaemonError> {
        self.account(name)?.forget_token();
        Ok(())
    }

    /// Every configured account's state.
    pub fn status(&self) -> Vec<AccountStatus> {
        let config = self.config().clone();
        let accounts = self
            .inner
            .accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        config
            .accounts
            .iter()
            .map(|(name, configured)| match accounts.get(name) {
                Some(account) => status_of(account),
                None => AccountStatus {
                    name: name.clone(),
                    provider: configured.provider.clone(),
                    broker: self.broker_for(&configured.broker),
                    expires_at: None,
                    last_refresh: None,
                    last_error: None,
                    reauth_required: false,
                },
            })
            .collect()
    }

    /// Loads every configured account, so their tokens are fetched and kept fresh from the
    /// start rather than on the first request.
    pub fn warm_up(&self) {
        let names: Vec<String> = self.config().accounts.keys().cloned().collect();
        for name in names {
            let _ = self.account(&name);
        }
    }

    pub(crate) fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    pub(crate) fn options(&self) -> &DaemonOptions {
        &self.inner.options
    }
}

fn reauth(account: &Account) -> DaemonError {
    DaemonError::ReauthRequired {
        name: account.name.clone(),
        provider: account.provider.clone(),
    }
}

fn unreachable_state(account: &Account) -> DaemonError {
    let error = BrokerError::BadReply(account.broker.clone());
    DaemonError::Unavailable {
        name: account.name.clone(),
        error,
        retry_after: 1,
    }
}

fn status_of(account: &Account) -> AccountStatus {
    let state = account.lock();
    AccountStatus {
        name: account.name.clone(),
        provider: account.provider.clone(),
        broker: account.broker.clone(),
        expires_at: state
            .cached
            .as_ref()
            .map(|c| crate::clock::rfc3339(c.expires_at)),
        last_refresh: state.last_refresh.map(crate::clock::rfc3339),
        last_error: state.last_error.clone(),
        reauth_required: state.reauth_required,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreKind;

    #[tokio::test]
    async fn debug_hides_cached_authids_and_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let store = SecretStore::new(StoreKind::File, dir.path().to_owned());
        let daemon = Daemon::new(
            dir.path().join("absent.toml"),
            store,
            Clock::default(),
            DaemonOptions::default(),
        );
        let authid = zeroize::Zeroizing::new("authid-s3cr3t".to_owned());
        daemon
            .inner
            .authids
            .lock()
            .await
            .insert("work".into(), authid);
        let printed = format!("{daemon:?}");
        assert!(!printed.contains("s3cr3t"), "{printed}");
        assert!(printed.contains("absent.toml"), "{printed}");

        let token = CachedToken {
            token: zeroize::Zeroizing::new("token-s3cr3t".to_owned()),
            token_type: "Bearer".into(),
            expires_at: 1,
        };
        assert!(!format!("{token:?}").contains("s3cr3t"));
    }
}
