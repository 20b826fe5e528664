//! Persistent state: grants, pending program sign-ins and in-flight browser sign-ins.
//!
//! The rest of the broker talks only to [`Store`]; which database sits behind it is decided by
//! the `database_url` once, in [`Store::connect`]. This version ships the embedded SQLite backend
//! (`sqlite.rs`); PostgreSQL for several replicas comes as a second backend behind the same
//! methods (TODO(#5)). Times are Unix seconds.

mod sqlite;

use crate::crypto::authid::GrantId;

/// A database failure. Never shown to clients: the API turns it into a generic 500 or 503.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error or is unreachable.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database URL is not one this build supports.
    #[error("unsupported database_url (expected sqlite:///path/to/broker.db)")]
    UnsupportedUrl,
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
    backend: sqlite::SqliteStore,
}

impl Store {
    /// Opens (creating if missing) the database at `url` and applies migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::UnsupportedUrl);
        }
        Ok(Self {
            backend: sqlite::SqliteStore::connect(url).await?,
        })
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.backend.ping().await
    }

    /// Stores a new grant.
    pub async fn insert_grant(&self, row: &GrantRow) -> Result<(), StoreError> {
        self.backend.insert_grant(row).await
    }

    /// The grant with this id.
    pub async fn grant(&self, id: &GrantId) -> Result<Option<GrantRow>, StoreError> {
        self.backend.grant(id).await
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
        self.backend
            .update_grant(id, expected_version, sealed, master_key_id, now)
            .await
    }

    /// Records that the provider refused the grant's refresh token.
    pub async fn mark_reauth_required(&self, id: &GrantId, now: i64) -> Result<(), StoreError> {
        self.backend.mark_reauth_required(id, now).await
    }

    /// Updates the last-used time.
    pub async fn touch_grant(&self, id: &GrantId, now: i64) -> Result<(), StoreError> {
        self.backend.touch_grant(id, now).await
    }

    /// Deletes a grant; `false` when there was none.
    pub async fn delete_grant(&self, id: &GrantId) -> Result<bool, StoreError> {
        self.backend.delete_grant(id).await
    }

    /// Stores a new program-started sign-in.
    pub async fn insert_login(&self, row: &LoginRow) -> Result<(), StoreError> {
        self.backend.insert_login(row).await
    }

    /// The program-started sign-in with this id.
    pub async fn login(&self, id: &str) -> Result<Option<LoginRow>, StoreError> {
        self.backend.login(id).await
    }

    /// Attaches the sealed authid to a pending sign-in; `false` if it is gone or already done.
    pub async fn finish_login(&self, id: &str, sealed_authid: &[u8]) -> Result<bool, StoreError> {
        self.backend.finish_login(id, sealed_authid).await
    }

    /// Deletes a finished sign-in and returns its sealed authid; `None` if another poll took it.
    pub async fn take_login(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.backend.take_login(id).await
    }

    /// Stores a browser sign-in in flight.
    pub async fn insert_signin(&self, row: &SignInRow) -> Result<(), StoreError> {
        self.backend.insert_signin(row).await
    }

    /// The browser sign-in with this state hash.
    pub async fn signin(&self, id: &[u8; 32]) -> Result<Option<SignInRow>, StoreError> {
        self.backend.signin(id).await
    }

    /// Deletes a browser sign-in; `true` only for the one caller that deleted it.
    pub async fn consume_signin(&self, id: &[u8; 32]) -> Result<bool, StoreError> {
        self.backend.consume_signin(id).await
    }

    /// Deletes grants unused since `unused_since` and sign-ins that expired before the given
    /// times (program sign-ins are kept a while after expiry so that a late poll gets 410).
    pub async fn reap(
        &self,
        unused_since: i64,
        signins_expired_before: i64,
        logins_expired_before: i64,
    ) -> Result<Reaped, StoreError> {
        self.backend
            .reap(unused_since, signins_expired_before, logins_expired_before)
            .await
    }
}
