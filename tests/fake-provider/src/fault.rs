//! Faults a test queues with [`crate::FakeProvider::inject`], and the response each one gives in
//! place of the normal `/token` handling.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::OAuthError;

/// A fault for one `/token` request. Each request pops at most one, first queued first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and an `injected` JSON error (`server_error` for 5xx).
    Status(u16),
    /// Answer `400 invalid_grant`, as if the grant had been revoked.
    InvalidGrant,
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// Answer `200` with a truncated JSON body.
    MalformedJson,
    /// Answer `429 temporarily_unavailable` with this `Retry-After`.
    RateLimited {
        /// The `Retry-After` header value, in seconds.
        retry_after_secs: u64,
    },
}

impl Fault {
    /// The response that replaces normal handling, or `None` when the request goes on (after
    /// the delay for [`Fault::Delay`]).
    pub(crate) async fn apply(self) -> Option<Response> {
        match self {
            Fault::Status(status) => Some(injected_status(status)),
            Fault::InvalidGrant => Some(OAuthError::InvalidGrant("injected").into_response()),
            Fault::Delay(delay) => {
                tokio::time::sleep(delay).await;
                None
            }
            Fault::MalformedJson => Some(malformed_json()),
            Fault::RateLimited { retry_after_secs } => Some(rate_limited(retry_after_secs)),
        }
    }
}

fn injected_status(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let error = match status.as_u16() {
        401 => "invalid_client",
        429 => "temporarily_unavailable",
        400..=499 => "invalid_request",
        _ => "server_error",
    };
    OAuthError::Injected { status, error }.into_response()
}

fn malformed_json() -> Response {
    let content_type = [(header::CONTENT_TYPE, "application/json")];
    (StatusCode::OK, content_type, r#"{"access_token": "#).into_response()
}

fn rate_limited(retry_after_secs: u64) -> Response {
    let mut response = OAuthError::TemporarilyUnavailable.into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}
