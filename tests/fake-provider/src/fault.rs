//! Faults a test queues with [`crate::FakeProvider::inject`]: what each one does before the
//! normal `/token` handling, and to the reply that handling produced.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use tokio::sync::watch;

use crate::error::{no_store, OAuthError};
use crate::token::{self, TokenResponse};

/// A fault for one `/token` request. Each request pops at most one, first queued first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and an `injected` JSON error (`server_error` for 5xx).
    Status(u16),
    /// Answer `400 invalid_grant`, as if the grant had been revoked.
    InvalidGrant,
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// Wait until the test opens the gate, then handle the request normally.
    Hold(Gate),
    /// Answer `200` with a truncated JSON body.
    MalformedJson,
    /// Answer `429 temporarily_unavailable` with this `Retry-After`.
    RateLimited {
        /// The `Retry-After` header value, in seconds.
        retry_after_secs: u64,
    },
    /// Start a `200` reply and close the connection partway through its body, without handling
    /// the request: a proxy in front of the provider failing. Nothing changes at the provider.
    Disconnect,
    /// Handle the request (a refresh rotates the refresh token as usual), then close the
    /// connection partway through the reply: the client never learns the new tokens.
    LoseReply,
    /// Handle the request normally but send this `expires_in` (`None`: leave it out), as
    /// providers with odd token replies do.
    ExpiresIn(Option<Value>),
}

impl Fault {
    /// What happens before normal handling: a response that replaces it, or `None` when the
    /// request goes on (after the wait, for [`Fault::Delay`] and [`Fault::Hold`]).
    pub(crate) async fn before(&self) -> Option<Response> {
        match self {
            Fault::Status(status) => Some(injected_status(*status)),
            Fault::InvalidGrant => Some(OAuthError::InvalidGrant("injected").into_response()),
            Fault::Delay(delay) => {
                tokio::time::sleep(*delay).await;
                None
            }
            Fault::Hold(gate) => {
                gate.wait().await;
                None
            }
            Fault::MalformedJson => Some(malformed_json()),
            Fault::RateLimited { retry_after_secs } => Some(rate_limited(*retry_after_secs)),
            Fault::Disconnect => Some(cut_off(br#"{"access_token":"never-issued","#.to_vec())),
            Fault::LoseReply | Fault::ExpiresIn(_) => None,
        }
    }

    /// The response for the outcome of normal handling.
    pub(crate) fn reply(&self, outcome: Result<TokenResponse, OAuthError>) -> Response {
        match (self, outcome) {
            (Fault::LoseReply, Ok(reply)) => {
                cut_off(serde_json::to_vec(&reply).unwrap_or_default())
            }
            (Fault::ExpiresIn(expires_in), Ok(reply)) => {
                with_expires_in(&reply, expires_in.clone())
            }
            (_, outcome) => token::respond(outcome),
        }
    }
}

/// A gate a [`Fault::Hold`] waits at until the test opens it. Clones share one gate.
#[derive(Clone)]
pub struct Gate {
    open: Arc<watch::Sender<bool>>,
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Self {
        Self {
            open: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Opens the gate for every request waiting at it, and every later one.
    pub fn open(&self) {
        self.open.send_replace(true);
    }

    async fn wait(&self) {
        let mut open = self.open.subscribe();
        // The sender lives as long as `self`, so waiting cannot fail.
        let _ = open.wait_for(|open| *open).await;
    }
}

impl Default for Gate {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for Gate {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.open, &other.open)
    }
}

impl Eq for Gate {}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("open", &*self.open.borrow())
            .finish()
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

/// A `200` whose body stops after half of `body` with the connection closed.
fn cut_off(mut body: Vec<u8>) -> Response {
    body.truncate(body.len() / 2);
    let chunks = futures::stream::iter([
        Ok(body),
        Err(std::io::Error::other("connection closed by the fault")),
    ]);
    let content_type = [(header::CONTENT_TYPE, "application/json")];
    (StatusCode::OK, content_type, Body::from_stream(chunks)).into_response()
}

fn with_expires_in(reply: &TokenResponse, expires_in: Option<Value>) -> Response {
    let mut json = serde_json::to_value(reply).unwrap_or_default();
    if let Value::Object(fields) = &mut json {
        match expires_in {
            Some(value) => fields.insert("expires_in".into(), value),
            None => fields.remove("expires_in"),
        };
    }
    (StatusCode::OK, no_store(), Json(json)).into_response()
}
