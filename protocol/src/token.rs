//! `POST /v1/token`: an access token for the grant an authid opens.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Optional body of `POST /v1/token`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// Seconds the returned token must still be valid for. Defaults to
    /// [`DEFAULT_MIN_VALID_SECS`](crate::DEFAULT_MIN_VALID_SECS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_valid_secs: Option<u64>,
}

/// Reply to `POST /v1/token`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The access token to present to the provider's API.
    pub access_token: String,
    /// Token type, normally `Bearer`.
    pub token_type: String,
    /// Seconds the token remains valid from the moment of the reply.
    pub expires_in: u64,
    /// When the token expires, as an RFC 3339 timestamp in UTC.
    pub expires_at: String,
    /// Scopes the grant holds, space separated, as the provider reported them.
    pub scope: String,
    /// The provider the grant belongs to.
    pub provider: String,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .field("provider", &self.provider)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_response_debug_hides_the_access_token() {
        let response = TokenResponse {
            access_token: "at-s3cr3t".into(),
            token_type: "Bearer".into(),
            expires_in: 3599,
            expires_at: "2030-01-01T00:00:00Z".into(),
            scope: "files.read".into(),
            provider: "demo".into(),
        };
        let printed = format!("{response:?}");
        assert!(!printed.contains("s3cr3t"), "{printed}");
        assert!(printed.contains("files.read"), "{printed}");
    }
}
