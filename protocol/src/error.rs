//! The error body every endpoint returns, and its stable error codes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A stable, machine-readable error code.
///
/// Clients branch on the code, never on the description. New codes may be added; a client that
/// meets one it does not know should treat it like [`ErrorCode::BadRequest`] for 4xx statuses and
/// like [`ErrorCode::ProviderUnavailable`] for 5xx statuses.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The authid is missing, malformed or unknown (HTTP 401).
    InvalidAuthid,
    /// The provider refused the stored grant; the user must sign in again (HTTP 401).
    ReauthRequired,
    /// Too many requests; retry after the `Retry-After` header's seconds (HTTP 429).
    RateLimited,
    /// The provider failed or timed out; retry after `Retry-After` (HTTP 502 or 503).
    ProviderUnavailable,
    /// The request itself is wrong: malformed body, unknown provider, bad parameter (HTTP 400).
    BadRequest,
    /// No such resource, or no longer (HTTP 404).
    NotFound,
    /// The sign-in expired before it was finished (HTTP 410).
    Expired,
    /// The agent does not know the named account (HTTP 404, agent only).
    UnknownAccount,
    /// The caller is not allowed to use this service (HTTP 403, agent only).
    Forbidden,
    /// A fault inside the server; the details are in its log, never in the body (HTTP 500, or
    /// 503 with `Retry-After` for a fault that passes by itself, such as the broker's database
    /// being unreachable).
    ServerError,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidAuthid => "invalid_authid",
            Self::ReauthRequired => "reauth_required",
            Self::RateLimited => "rate_limited",
            Self::ProviderUnavailable => "provider_unavailable",
            Self::BadRequest => "bad_request",
            Self::NotFound => "not_found",
            Self::Expired => "expired",
            Self::UnknownAccount => "unknown_account",
            Self::Forbidden => "forbidden",
            Self::ServerError => "server_error",
        }
    }

    /// The HTTP status this code is normally sent with.
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidAuthid | Self::ReauthRequired => 401,
            Self::RateLimited => 429,
            Self::ProviderUnavailable => 503,
            Self::BadRequest => 400,
            Self::NotFound | Self::UnknownAccount => 404,
            Self::Expired => 410,
            Self::Forbidden => 403,
            Self::ServerError => 500,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON body of every error response: `{"error": "...", "error_description": "..."}`.
///
/// The shape follows RFC 6749 section 5.2 so that OAuth-aware clients read it naturally.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The stable code.
    pub error: ErrorCode,
    /// A sentence for people: what happened and what to do next. Never contains a secret.
    pub error_description: String,
}

impl ErrorBody {
    /// An error body with the given code and description.
    pub fn new(error: ErrorCode, error_description: impl Into<String>) -> Self {
        Self {
            error,
            error_description: error_description.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_wire_names() {
        for code in [
            ErrorCode::InvalidAuthid,
            ErrorCode::ReauthRequired,
            ErrorCode::RateLimited,
            ErrorCode::ProviderUnavailable,
            ErrorCode::BadRequest,
            ErrorCode::NotFound,
            ErrorCode::Expired,
            ErrorCode::UnknownAccount,
            ErrorCode::Forbidden,
            ErrorCode::ServerError,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn error_body_has_oauth_shape() {
        let body = ErrorBody::new(ErrorCode::ReauthRequired, "sign in again");
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["error"], "reauth_required");
        assert_eq!(json["error_description"], "sign in again");
    }
}
