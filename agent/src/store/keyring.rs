//! The OS keyring through the `keyring` crate: service `oauth-agent`, user = account name.
//! On Linux it speaks the Secret Service D-Bus API with a pure-Rust client (zbus), so no system
//! development package is needed to build it.

use super::StoreError;
use zeroize::Zeroizing;

const SERVICE: &str = "oauth-agent";

fn entry(account: &str) -> Result<keyring::Entry, StoreError> {
    keyring::Entry::new(SERVICE, account).map_err(unavailable)
}

fn unavailable(error: keyring::Error) -> StoreError {
    StoreError::KeyringUnavailable(error.to_string())
}

pub(super) fn get(account: &str) -> Result<Option<Zeroizing<String>>, StoreError> {
    match entry(account)?.get_password() {
        Ok(authid) => Ok(Some(Zeroizing::new(authid))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(error) => Err(unavailable(error)),
    }
}

pub(super) fn set(account: &str, authid: &str) -> Result<(), StoreError> {
    entry(account)?.set_password(authid).map_err(unavailable)
}

pub(super) fn delete(account: &str) -> Result<(), StoreError> {
    match entry(account)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(error) => Err(unavailable(error)),
    }
}
