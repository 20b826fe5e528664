//! The agent's local API, served over its Unix socket or named pipe:
//! `GET /v1/tokens/{name}?min_valid_secs=N` and `GET /v1/status`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Reply to `GET /v1/tokens/{name}`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentToken {
    /// The access token.
    pub access_token: String,
    /// Normally `Bearer`.
    pub token_type: String,
    /// Seconds the token remains valid from the moment of the reply.
    pub expires_in: u64,
    /// When the token expires, RFC 3339 in UTC.
    pub expires_at: String,
}

impl fmt::Debug for AgentToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentToken")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The state of one account in the daemon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountStatus {
    /// The account's name.
    pub name: String,
    /// The provider it signs in to.
    pub provider: String,
    /// The broker it uses.
    pub broker: String,
    /// When the cached token expires (RFC 3339), if one is cached.
    pub expires_at: Option<String>,
    /// When the daemon last got a token from the broker (RFC 3339).
    pub last_refresh: Option<String>,
    /// The last error, as `code: description`, cleared by the next success.
    pub last_error: Option<String>,
    /// Whether the account needs a new sign-in (`reauth_required`).
    pub reauth_required: bool,
}

/// Reply to `GET /v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStatus {
    /// The daemon's version.
    pub version: String,
    /// Every configured account.
    pub accounts: Vec<AccountStatus>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_token_debug_hides_the_access_token() {
        let token = AgentToken {
            access_token: "at-s3cr3t".into(),
            token_type: "Bearer".into(),
            expires_in: 3599,
            expires_at: "2030-01-01T00:00:00Z".into(),
        };
        let printed = format!("{token:?}");
        assert!(!printed.contains("s3cr3t"), "{printed}");
        assert!(printed.contains("3599"), "{printed}");
    }
}
