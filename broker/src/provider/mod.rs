//! Talking to OAuth providers: the authorization URL, the code exchange, refresh and
//! revocation (RFC 6749, RFC 7636 PKCE, RFC 7009).
//!
//! Requests are built by hand on `reqwest` rather than through a generic OAuth client crate,
//! because the broker must see what those crates hide: the HTTP status, `Retry-After`, and
//! the exact `error` code, to tell "sign in again" from "try later" from "the operator's
//! configuration is wrong".

mod client;
mod pkce;
mod response;

pub use client::ProviderClient;
pub use pkce::Pkce;
pub use response::TokenGrant;

/// Why a provider request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider refused the code or refresh token (`invalid_grant`): the user must sign in
    /// again.
    #[error("the provider refused the grant (invalid_grant)")]
    InvalidGrant,
    /// The provider is down, slow, or asked us to back off.
    #[error("the provider is unavailable: {reason}")]
    Unavailable {
        /// What happened, for the log.
        reason: String,
        /// Seconds to wait, from the provider's `Retry-After` when it sent one.
        retry_after: Option<u64>,
        /// Whether the provider answered with a 5xx or an unusable body (502) rather than not
        /// answering in time or asking us to slow down (503).
        bad_gateway: bool,
    },
    /// The provider rejected the request for a reason the user cannot fix (`invalid_client`,
    /// `unauthorized_client`, ...): the broker's configuration needs attention.
    #[error(
        "the provider rejected the request with `{error}`; check the provider's configuration"
    )]
    Rejected {
        /// The OAuth error code, reduced to a safe alphabet.
        error: String,
    },
}

impl ProviderError {
    fn unavailable(reason: impl Into<String>, retry_after: Option<u64>, bad_gateway: bool) -> Self {
        Self::Unavailable {
            reason: reason.into(),
            retry_after,
            bad_gateway,
        }
    }
}
