//! The OAuth error responses of `/token`, `/revoke` and `/api/whoami`: each variant maps to a
//! status, the RFC 6749 section 5.2 JSON body and the headers the RFCs ask for.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// Why a request to a JSON endpoint was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OAuthError {
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    #[error("invalid_client")]
    InvalidClient { basic_tried: bool },
    #[error("invalid_grant: {0}")]
    InvalidGrant(&'static str),
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    #[error("invalid_scope")]
    InvalidScope,
    #[error("invalid_token")]
    InvalidToken,
    #[error("temporarily_unavailable")]
    TemporarilyUnavailable,
    #[error("injected {status}")]
    Injected {
        status: StatusCode,
        error: &'static str,
    },
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl OAuthError {
    /// An `invalid_request` error with this description.
    pub(crate) fn invalid_request(description: impl Into<String>) -> Self {
        Self::InvalidRequest(description.into())
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::InvalidClient { .. } | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::TemporarilyUnavailable => StatusCode::TOO_MANY_REQUESTS,
            Self::Injected { status, .. } => *status,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn code_and_description(&self) -> (&'static str, &str) {
        match self {
            Self::InvalidRequest(description) => ("invalid_request", description),
            Self::InvalidClient { .. } => ("invalid_client", "client authentication failed"),
            Self::InvalidGrant(description) => ("invalid_grant", description),
            Self::UnsupportedGrantType => ("unsupported_grant_type", "unsupported grant_type"),
            Self::InvalidScope => ("invalid_scope", "scope exceeds the granted scope"),
            Self::InvalidToken => ("invalid_token", "the access token is invalid or expired"),
            Self::TemporarilyUnavailable => ("temporarily_unavailable", "rate limited"),
            Self::Injected { error, .. } => (error, "injected"),
        }
    }

    fn www_authenticate(&self) -> Option<&'static str> {
        match self {
            Self::InvalidClient { basic_tried: true } => Some(r#"Basic realm="fake""#),
            Self::InvalidToken => Some(r#"Bearer realm="fake", error="invalid_token""#),
            _ => None,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        tracing::debug!(error = %self, "refused an OAuth request");
        let (error, error_description) = self.code_and_description();
        let body = Json(ErrorBody {
            error,
            error_description,
        });
        let mut response = (self.status(), no_store(), body).into_response();
        if let Some(challenge) = self.www_authenticate() {
            let value = HeaderValue::from_static(challenge);
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// The headers RFC 6749 section 5.1 asks for on every response that may carry a token.
pub(crate) fn no_store() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ]
}
