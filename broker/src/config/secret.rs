//! The provider's client secret: where it comes from, and types that never print it.

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

        let value = Zeroizing::new(if let Some(path) = &raw.client_secret_file {
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
        });

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

impl fmt::Debug for RawProvider {
    /// Every field, but an inline `client_secret` prints as `[redacted]`. The destructuring
    /// makes a new field a compile error here until it is decided whether it may be printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let RawProvider {
            preset,
            display_name,
            authorize_url,
            token_url,
            revocation_url,
            client_id,
            client_secret_file,
            client_secret_env,
            client_secret,
            scopes,
            client_auth,
            pkce,
            authorize_params,
        } = self;
        f.debug_struct("RawProvider")
            .field("preset", preset)
            .field("display_name", display_name)
            .field("authorize_url", authorize_url)
            .field("token_url", token_url)
            .field("revocation_url", revocation_url)
            .field("client_id", client_id)
            .field("client_secret_file", client_secret_file)
            .field("client_secret_env", client_secret_env)
            .field(
                "client_secret",
                &client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("scopes", scopes)
            .field("client_auth", client_auth)
            .field("pkce", pkce)
            .field("authorize_params", authorize_params)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_client_secret() {
        let secret = ClientSecret::new("s3cr3t-client-secret".to_owned());
        assert_eq!(format!("{secret:?}"), "ClientSecret([redacted])");

        let raw = RawProvider {
            client_id: Some("the-client-id".to_owned()),
            client_secret: Some("s3cr3t-client-secret".to_owned()),
            ..RawProvider::default()
        };
        let printed = format!("{raw:?}");
        assert!(!printed.contains("s3cr3t"), "{printed}");
        assert!(printed.contains("the-client-id"), "{printed}");
    }
}
