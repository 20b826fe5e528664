//! Turning service errors into the protocol's JSON error responses, in one place.

use crate::provider::ProviderError;
use crate::service::ServiceError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use oauth_protocol::{ErrorBody, ErrorCode};

/// Wait suggested when the provider gave no `Retry-After`.
const DEFAULT_RETRY_AFTER: u64 = 30;

/// Wait suggested while the database is unreachable, locked or full.
const DATABASE_RETRY_AFTER: u64 = 5;

/// An error response of the JSON API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with the code's usual status.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::BAD_REQUEST);
        Self {
            status,
            body: ErrorBody::new(code, description),
            retry_after: None,
        }
    }

    /// `400 bad_request`.
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, description)
    }

    /// `401 invalid_authid` with the standard explanation.
    pub fn invalid_authid() -> Self {
        Self::new(
            ErrorCode::InvalidAuthid,
            "the authid is missing, malformed or unknown; send it as `Authorization: Bearer <authid>`, \
             or sign in again to get a new one",
        )
    }

    /// `429 rate_limited`.
    pub fn rate_limited(retry_after: u64) -> Self {
        let mut error = Self::new(
            ErrorCode::RateLimited,
            format!("too many requests; retry after {retry_after} seconds"),
        );
        error.retry_after = Some(retry_after);
        error
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.body.error
    }

    /// The `Retry-After` seconds, if any.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// `405` with a `bad_request` body: the route exists, the method does not.
    pub fn method_not_allowed() -> Self {
        Self::bad_request(
            "this endpoint does not accept that method; see the API table in README.md",
        )
        .with_status(StatusCode::METHOD_NOT_ALLOWED)
    }

    pub(super) fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::InvalidAuthid => Self::invalid_authid(),
            ServiceError::ReauthRequired => Self::new(
                ErrorCode::ReauthRequired,
                "the provider no longer accepts this sign-in; sign in again to get a new authid",
            ),
            ServiceError::RateLimited { retry_after } => Self::rate_limited(retry_after),
            ServiceError::Provider(error) => provider_error(error),
            ServiceError::BadRequest(text) => Self::bad_request(text),
            ServiceError::NotFound(text) => Self::new(ErrorCode::NotFound, text),
            ServiceError::Expired => Self::new(
                ErrorCode::Expired,
                "the sign-in expired before it was finished; start a new one",
            ),
            ServiceError::Unavailable(detail) => {
                tracing::error!(error = %detail, "database unavailable");
                let retry_after = DATABASE_RETRY_AFTER;
                let mut api = Self::new(
                    ErrorCode::ServerError,
                    format!(
                        "the broker cannot use its database right now; retry after {retry_after} \
                         seconds"
                    ),
                )
                .with_status(StatusCode::SERVICE_UNAVAILABLE);
                api.retry_after = Some(retry_after);
                api
            }
            ServiceError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                Self::new(
                    ErrorCode::ServerError,
                    "the broker hit an internal error; try again later",
                )
            }
        }
    }
}

fn provider_error(error: ProviderError) -> ApiError {
    match error {
        ProviderError::InvalidGrant => ServiceError::ReauthRequired.into(),
        ProviderError::Unavailable {
            retry_after,
            bad_gateway,
            ..
        } => {
            let retry_after = retry_after.unwrap_or(DEFAULT_RETRY_AFTER).max(1);
            let mut api = ApiError::new(
                ErrorCode::ProviderUnavailable,
                format!("the provider is unavailable right now; retry after {retry_after} seconds"),
            );
            api.retry_after = Some(retry_after);
            if bad_gateway {
                api = api.with_status(StatusCode::BAD_GATEWAY);
            }
            api
        }
        ProviderError::Rejected { .. } => ApiError::new(
            ErrorCode::ProviderUnavailable,
            "the provider rejected the broker's request; the broker's operator must check its \
             configuration for this provider",
        )
        .with_status(StatusCode::BAD_GATEWAY),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
