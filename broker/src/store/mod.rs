//! Persistent state: grants, pending program sign-ins and in-flight browser sign-ins.
//!
//! The rest of the broker talks only to [`Store`]; which database sits behind it is decided by
//! the `database_url` once, in [`Store::connect`]: the embedded SQLite backend (`sqlite.rs`) or
//! PostgreSQL for several replicas (`postgres.rs`). Both keep the same schema and the same
//! sealed record format; only the SQL dialect differs. Times are Unix seconds.

mod cache;
mod listener;
mod postgres;
mod sqlite;
mod transient;

pub use cache::CacheCounters;

use crate::crypto::authid::GrantId;
use cache::GrantCache;
use std::sync::Arc;

/// A database failure. Never shown to clients: the API turns it into a generic 500 or 503.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error or is unreachable.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    /// The database was migrated by a newer broker than this one.
    #[error(
        "the database schema is newer than this broker knows (migration {0} is unknown to it); \
         run the newer oauth-broker, or restore a backup taken before the upgrade"
    )]
    SchemaTooNew(i64),
    /// The database URL is not one this build supports.
    #[error("unsupported database_url (expected sqlite:///path/to/broker.db or postgres://...)")]
    UnsupportedUrl,
}

impl StoreError {
    /// Whether the database is unreachable, restarting, locked or full: a fault that passes by
    /// itself, so clients are asked to retry (503) rather than told the broker broke (500).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Database(error) => transient::is_transient(error),
            _ => false,
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        match error {
            sqlx::migrate::MigrateError::VersionMissing(version) => Self::SchemaTooNew(version),
            other => Self::Migrate(other),
        }
    }
}

/// One stored grant.
#[derive(Debug, Clone)]
pub struct GrantRow {
    /// Hash of the authid's lookup part.
    pub id: GrantId,
    /// Provider name.
    pub provider: String,
    /// Record format version.
    pub format: i64,
    /// Id of the master key that sealed the record.
    pub master_key_id: String,
    /// The sealed secrets.
    pub sealed: Vec<u8>,
    /// Write counter.
    pub version: i64,
    /// When the provider refused the refresh token, if it did.
    pub reauth_required_at: Option<i64>,
    /// Created.
    pub created_at: i64,
    /// Last written.
    pub updated_at: i64,
    /// Last used (updated at most about once a day, see `service::tokens`).
    pub last_used_at: i64,
}

/// One program-started sign-in.
#[derive(Debug, Clone)]
pub struct LoginRow {
    /// The public login id.
    pub id: String,
    /// SHA-256 of the poll secret.
    pub poll_hash: Vec<u8>,
    /// The X25519 public key the authid is sealed to.
    pub poll_public_key: Vec<u8>,
    /// Provider name.
    pub provider: String,
    /// The sealed authid, once the user finished.
    pub sealed_authid: Option<Vec<u8>>,
    /// Created.
    pub created_at: i64,
    /// Expires.
    pub expires_at: i64,
}

/// One browser sign-in in flight.
#[derive(Debug, Clone)]
pub struct SignInRow {
    /// SHA-256 of the `state` parameter.
    pub id: [u8; 32],
    /// SHA-256 of the browser-binding cookie.
    pub browser_hash: Vec<u8>,
    /// Provider name.
    pub provider: String,
    /// The program-started sign-in it belongs to.
    pub login_id: Option<String>,
    /// The PKCE verifier, sealed under a key derived from `state`.
    pub sealed_verifier: Option<Vec<u8>>,
    /// Created.
    pub created_at: i64,
    /// Expires.
    pub expires_at: i64,
}

/// How many rows a reaper pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reaped {
    /// Grants unused for too long.
    pub grants: u64,
    /// Expired program sign-ins.
    pub logins: u64,
    /// Expired browser sign-ins.
    pub signins: u64,
}

/// The broker's database.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    /// Grant rows for token requests; `None` when turned off (see [`Store::with_grant_cache`]).
    cache: Option<Arc<GrantCache>>,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

/// Calls the same method on whichever backend is configured.
macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.backend {
            Backend::Sqlite(store) => store.$method($($arg),*).await,
            Backend::Postgres(store) => store.$method($($arg),*).await,
        }
    };
}

/// Held while a grant refreshes, so that other broker processes on the same database wait for
/// it (PostgreSQL's transaction-scoped advisory lock). With SQLite there is one process, whose
/// in-memory lock suffices, so it holds nothing. [`release`](Self::release) ends the
/// transaction at once; merely dropping it (a cancelled request) leaves the rollback to the
/// connection pool, which runs it when the connection comes back.
#[derive(Debug)]
pub struct GrantLock {
    transaction: Option<sqlx::Transaction<'static, sqlx::Postgres>>,
}

impl GrantLock {
    /// Ends the lock's transaction, releasing the lock now.
    pub async fn release(self) {
        if let Some(transaction) = self.transaction {
            if let Err(error) = transaction.commit().await {
                tracing::warn!(%error, "releasing a grant lock failed; the pool will reset it");
            }
        }
    }
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl Store {
    /// Opens the database at `url` (creating a SQLite file if missing) and applies migrations.
    /// A database migrated by a newer broker is refused.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, 16).await
    }

    /// Like [`connect`](Self::connect), with at most `max_connections` PostgreSQL connections.
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite(sqlite::SqliteStore::connect(url).await?)
        } else if is_postgres(url) {
            Backend::Postgres(postgres::PgStore::connect(url, max_connections).await?)
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        Ok(Self {
            backend,
            cache: None,
        })
    }

    /// Keeps up to `bytes` of grant rows in memory for [`grant_cached`](Self::grant_cached)
    /// (`cache.rs` says how it stays coherent); 0 keeps none. On PostgreSQL this starts the
    /// task that hears of other replicas' writes, so call it within the Tokio runtime.
    pub fn with_grant_cache(mut self, bytes: u64, counters: CacheCounters) -> Self {
        if bytes == 0 {
            self.cache = None;
            return self;
        }
        let cache = match &self.backend {
            Backend::Sqlite(_) => Arc::new(GrantCache::new(bytes, true, counters)),
            Backend::Postgres(store) => {
                let cache = Arc::new(GrantCache::new(bytes, false, counters));
                listener::spawn(store.connect_options(), &cache);
                cache
            }
        };
        self.cache = Some(cache);
        self
    }

    /// Whether grant rows are served from memory now (false while the PostgreSQL listener is
    /// reconnecting, or with the cache off).
    pub fn grant_cache_enabled(&self) -> bool {
        self.cache.as_ref().is_some_and(|cache| cache.is_enabled())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self.ping())
    }

    /// Takes grant `id`'s cross-process refresh lock (see [`GrantLock`]).
    pub async fn lock_grant(&self, id: &GrantId) -> Result<GrantLock, StoreError> {
        let transaction = match &self.backend {
            Backend::Sqlite(_) => None,
            Backend::Postgres(store) => Some(store.lock_grant(id).await?),
        };
        Ok(GrantLock { transaction })
    }

    /// Counts a refresh of grant `id` in a shared fixed window of `window` seconds; returns
    /// the count and the window's start. `None` for SQLite, whose single process counts in
    /// memory.
    pub async fn count_refresh(
        &self,
        id: &GrantId,
        now: i64,
        window: i64,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(None),
            Backend::Postgres(store) => store.count_refresh(id, now, window).await.map(Some),
        }
    }

    /// Counts a failed authid look-up from `addr` in a shared window; `None` for SQLite.
    pub async fn count_failure(
        &self,
        addr: &str,
        now: i64,
        window: i64,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(None),
            Backend::Postgres(store) => store.count_failure(addr, now, window).await.map(Some),
        }
    }

    /// Addresses any replica found over `quota` failures in a window started after `since`;
    /// empty for SQLite.
    pub async fn blocked_addresses(
        &self,
        quota: i64,
        since: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(Vec::new()),
            Backend::Postgres(store) => store.blocked_addresses(quota, since).await,
        }
    }

    /// Stores a new grant.
    pub async fn insert_grant(&self, row: &GrantRow) -> Result<(), StoreError> {
        let result = dispatch!(self.insert_grant(row));
        self.invalidate(&row.id);
        result
    }

    /// The grant with this id, read from the database.
    pub async fn grant(&self, id: &GrantId) -> Result<Option<GrantRow>, StoreError> {
        dispatch!(self.grant(id))
    }

    /// The grant with this id, from the grant cache when it holds the row. For answering from
    /// a cached access token only: anything that writes the row reads it with
    /// [`grant`](Self::grant).
    pub async fn grant_cached(&self, id: &GrantId) -> Result<Option<GrantRow>, StoreError> {
        let Some(cache) = &self.cache else {
            return self.grant(id).await;
        };
        if let Some(row) = cache.get(id) {
            return Ok(Some(row));
        }
        let ticket = cache.ticket();
        let row = self.grant(id).await?;
        if let Some(row) = &row {
            cache.put(ticket, row);
        }
        Ok(row)
    }

    /// Drops a written row from the grant cache. Runs after the write, failed or not: a write
    /// that failed may still have been committed.
    fn invalidate(&self, id: &GrantId) {
        if let Some(cache) = &self.cache {
            cache.invalidate(id);
        }
    }

    /// Replaces a grant's sealed data if its version is still `expected_version`. Returns
    /// whether it did: `false` means someone else wrote or deleted it first.
    pub async fn update_grant(
        &self,
        id: &GrantId,
        expected_version: i64,
        sealed: &[u8],
        master_key_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let result = dispatch!(self.update_grant(id, expected_version, sealed, master_key_id, now));
        self.invalidate(id);
        result
    }

    /// Records that the provider refused the grant's refresh token.
    pub async fn mark_reauth_required(&self, id: &GrantId, now: i64) -> Result<(), StoreError> {
        let result = dispatch!(self.mark_reauth_required(id, now));
        self.invalidate(id);
        result
    }

    /// Updates the last-used time.
    pub async fn touch_grant(&self, id: &GrantId, now: i64) -> Result<(), StoreError> {
        let result = dispatch!(self.touch_grant(id, now));
        self.invalidate(id);
        result
    }

    /// Deletes a grant; `false` when there was none.
    pub async fn delete_grant(&self, id: &GrantId) -> Result<bool, StoreError> {
        let result = dispatch!(self.delete_grant(id));
        self.invalidate(id);
        result
    }

    /// Stores a new program-started sign-in.
    pub async fn insert_login(&self, row: &LoginRow) -> Result<(), StoreError> {
        dispatch!(self.insert_login(row))
    }

    /// The program-started sign-in with this id.
    pub async fn login(&self, id: &str) -> Result<Option<LoginRow>, StoreError> {
        dispatch!(self.login(id))
    }

    /// Attaches the sealed authid to a pending sign-in; `false` if it is gone or already done.
    pub async fn finish_login(&self, id: &str, sealed_authid: &[u8]) -> Result<bool, StoreError> {
        dispatch!(self.finish_login(id, sealed_authid))
    }

    /// Deletes a finished sign-in and returns its sealed authid; `None` if another poll took it.
    pub async fn take_login(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        dispatch!(self.take_login(id))
    }

    /// Stores a browser sign-in in flight.
    pub async fn insert_signin(&self, row: &SignInRow) -> Result<(), StoreError> {
        dispatch!(self.insert_signin(row))
    }

    /// The browser sign-in with this state hash.
    pub async fn signin(&self, id: &[u8; 32]) -> Result<Option<SignInRow>, StoreError> {
        dispatch!(self.signin(id))
    }

    /// Deletes a browser sign-in; `true` only for the one caller that deleted it.
    pub async fn consume_signin(&self, id: &[u8; 32]) -> Result<bool, StoreError> {
        dispatch!(self.consume_signin(id))
    }

    /// Deletes grants unused since `unused_since` and sign-ins that expired before the given
    /// times (program sign-ins are kept a while after expiry so that a late poll gets 410).
    pub async fn reap(
        &self,
        unused_since: i64,
        signins_expired_before: i64,
        logins_expired_before: i64,
    ) -> Result<Reaped, StoreError> {
        let reaped =
            dispatch!(self.reap(unused_since, signins_expired_before, logins_expired_before));
        if let Some(cache) = &self.cache {
            // Which rows went is not known here, and reaping grants is rare.
            if reaped.as_ref().map_or(true, |reaped| reaped.grants > 0) {
                cache.clear();
            }
        }
        reaped
    }
}
