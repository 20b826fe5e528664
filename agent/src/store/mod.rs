//! Where authids live: the OS keyring (default) or files for headless machines.
//!
//! Only `login`, `logout` and the daemon read or write here. Keyring calls block, so they run on
//! tokio's blocking pool, never on the async workers.

mod file;
mod keyring;

use std::path::PathBuf;
use zeroize::Zeroizing;

/// Which store to use (`--store`, `OAUTH_AGENT_STORE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreKind {
    /// The OS keyring: Secret Service, macOS Keychain, Windows Credential Manager.
    Keyring,
    /// One file per account in the agent's data directory (0700 directory, 0600 files).
    File,
}

/// A secret store failure, worded for the person at the terminal.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The keyring cannot be reached (no Secret Service, locked, no session bus).
    #[error(
        "the OS keyring is not reachable ({0}); on a machine without one, use `--store file` \
         (or OAUTH_AGENT_STORE=file)"
    )]
    KeyringUnavailable(String),
    /// A file or directory of the file store is readable by others.
    #[error(
        "{path} is accessible by other users (mode {mode:o}); run `chmod {wanted:o} {path}` and \
         try again"
    )]
    TooOpen {
        /// The path.
        path: String,
        /// Its mode.
        mode: u32,
        /// The mode it should have.
        wanted: u32,
    },
    /// File system failure.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// The configured secret store.
#[derive(Debug, Clone)]
pub struct SecretStore {
    kind: StoreKind,
    data_dir: PathBuf,
}

impl SecretStore {
    /// A store of `kind`; the file store keeps its files under `data_dir`.
    pub fn new(kind: StoreKind, data_dir: PathBuf) -> Self {
        Self { kind, data_dir }
    }

    /// Which kind this is.
    pub fn kind(&self) -> StoreKind {
        self.kind
    }

    /// The authid stored for `account`, if any.
    pub async fn get(&self, account: &str) -> Result<Option<Zeroizing<String>>, StoreError> {
        let account = account.to_owned();
        match self.kind {
            StoreKind::Keyring => blocking(move || keyring::get(&account)).await,
            StoreKind::File => file::get(&self.data_dir, &account),
        }
    }

    /// Stores `authid` for `account`, replacing any previous one.
    pub async fn set(&self, account: &str, authid: &str) -> Result<(), StoreError> {
        let (account, authid) = (account.to_owned(), Zeroizing::new(authid.to_owned()));
        match self.kind {
            StoreKind::Keyring => blocking(move || keyring::set(&account, &authid)).await,
            StoreKind::File => file::set(&self.data_dir, &account, &authid),
        }
    }

    /// Deletes `account`'s authid; deleting a missing one is fine.
    pub async fn delete(&self, account: &str) -> Result<(), StoreError> {
        let account = account.to_owned();
        match self.kind {
            StoreKind::Keyring => blocking(move || keyring::delete(&account)).await,
            StoreKind::File => file::delete(&self.data_dir, &account),
        }
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::KeyringUnavailable(format!("keyring call failed: {e}")))?
}
