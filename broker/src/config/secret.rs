//! The provider's client secret: where it comes from, and a type that never prints it.

use super::{ConfigError, RawProvider};
use std::fmt;
use std::sync::Arc;
use zeroize::Zeroizing;

/// A client secret. `Debug` prints `[redacted]`; the memory is zeroed when the last copy drops.
#[derive(Clone)]
pub struct ClientSecret(Arc<Zeroizing<String>>);

impl ClientSecret {
    /// Wraps a secret value.
    pub fn new(value: String) -> Self {
        Self(Arc::new(Zeroizing::new(value)))
    }

    /// The secret, for building a request.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// Reads the secret from whichever of `client_secret_file`, `client_secret_env` and
    /// `client_secret` the table sets. None of them means a public client.
    pub(super) fn resolve(key: &str, raw: &RawProvider) -> Result<Option<Self>, ConfigError> {
        let sources = [
            raw.client_secret_file.is_some(),
            raw.client_secret_env.is_some(),
            raw.client_secret.is_some(),
        ];
        if sources.iter().filter(|set| **set).count() > 1 {
            return Err(ConfigError::invalid(
                key,
                "set only one of client_secret_file, client_secret_env and client_secret",
            ));
        }

        let value = if let Some(path) = &raw.client_secret_file {
            let path = super::paths::secret_path(&format!("{key}_file"), path.clone())?;
            std::fs::read_to_string(&path).map_err(|e| {
                ConfigError::invalid(
                    format!("{key}_file"),
                    format!("cannot read {}: {e}", path.display()),
                )
            })?
        } else if let Some(var) = &raw.client_secret_env {
            std::env::var(var).map_err(|_| {
                ConfigError::invalid(
                    format!("{key}_env"),
                    format!("environment variable `{var}` is not set or not UTF-8"),
                )
            })?
        } else if let Some(value) = &raw.client_secret {
            value.clone()
        } else {
            return Ok(None);
        };

        let value = value.trim().to_owned();
        if value.is_empty() {
            return Err(ConfigError::invalid(key, "the client secret is empty"));
        }
        Ok(Some(Self::new(value)))
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}
