//! Duplicati's wire format, so an unmodified Duplicati can use this broker with
//! `--oauth-url=https://broker.example.com/refresh`.
//!
//! - `GET|POST /refresh`: the authid in `X-AuthID` (or, from older clients, the `authid` query
//!   or form field); 200 `{"access_token","expires","type"}`. Errors keep the broker's JSON body
//!   and add `X-Reason`, the sentence Duplicati shows its user. `v2_authid` is never sent: the
//!   refresh token never leaves the broker.
//! - `GET /refresh?type=ID` without an authid: Duplicati's newer UI opening the sign-in; it is
//!   sent to the picker `/?type=ID`.
//! - `GET /fetch?token=T[&callback=NAME]`: the older UI's poll, as JSON or JSONP.

use super::error::ApiError;
use super::extract::{body_bytes, client_addr};
use crate::crypto::authid::Authid;
use crate::service::{Broker, PollOutcome, ServiceError};
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, Extensions, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use oauth_protocol::ErrorCode;
use serde::{Deserialize, Serialize};
use std::fmt;
use url::form_urlencoded::byte_serialize;
use zeroize::Zeroizing;

/// The reply Duplicati parses. Field order is part of the byte-exact shape.
#[derive(Serialize)]
struct RefreshReply<'a> {
    access_token: &'a str,
    expires: u64,
    #[serde(rename = "type")]
    provider_type: &'a str,
}

/// No `Debug`: it holds an authid.
#[derive(Default, Deserialize)]
struct RefreshParams {
    authid: Option<String>,
    #[serde(rename = "type")]
    duplicati_type: Option<String>,
}

/// Whether a Duplicati `token` looks like one its clients generate (and can smuggle nothing).
pub fn token_ok(token: &str) -> bool {
    (8..=128).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What a `/refresh` request asks for.
pub enum RefreshRequest {
    /// A token for this authid (not parsed yet).
    Token(Zeroizing<String>),
    /// No authid but Duplicati's provider `type`: the sign-in picker at this local location.
    Picker(String),
    /// Neither.
    Missing,
}

impl fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(_) => f.write_str("Token([redacted])"),
            Self::Picker(location) => f.debug_tuple("Picker").field(location).finish(),
            Self::Missing => f.write_str("Missing"),
        }
    }
}

/// Finds `/refresh`'s authid in `X-AuthID`, else the query, else the form body. Parameters
/// that do not parse count as absent.
pub fn refresh_request(
    header: Option<&HeaderValue>,
    query: Option<&str>,
    form: Option<&[u8]>,
) -> RefreshRequest {
    let query: RefreshParams =
        serde_urlencoded::from_str(query.unwrap_or_default()).unwrap_or_default();
    let form: RefreshParams = form
        .and_then(|bytes| serde_urlencoded::from_bytes(bytes).ok())
        .unwrap_or_default();
    let header = header.and_then(|v| v.to_str().ok()).map(str::to_owned);
    match header.or(query.authid).or(form.authid) {
        Some(authid) => RefreshRequest::Token(Zeroizing::new(authid)),
        None => match query.duplicati_type {
            Some(id) => {
                let id: String = byte_serialize(id.as_bytes()).collect();
                RefreshRequest::Picker(format!("/?type={id}"))
            }
            None => RefreshRequest::Missing,
        },
    }
}

/// `GET|POST /refresh`.
pub async fn refresh(
    State(broker): State<Broker>,
    RawQuery(query): RawQuery,
    extensions: Extensions,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let form = match body_bytes(body).await {
        Ok(form) => form,
        Err(error) => return with_reason(error),
    };
    let authid = match refresh_request(headers.get("x-authid"), query.as_deref(), form.as_deref()) {
        RefreshRequest::Token(authid) => authid,
        RefreshRequest::Picker(location) => return Redirect::to(&location).into_response(),
        RefreshRequest::Missing => return with_reason(ApiError::invalid_authid()),
    };

    let addr = client_addr(&extensions, &headers, broker.config().trust_forwarded_for);
    if let Err(retry_after) = broker.limits().check_address(addr) {
        return with_reason(ApiError::rate_limited(retry_after));
    }
    let Ok(authid) = Authid::parse(&authid) else {
        broker.record_failure(addr).await;
        return with_reason(ApiError::invalid_authid());
    };
    match broker.token(&authid, None).await {
        Ok(token) => {
            let reply = RefreshReply {
                access_token: &token.access_token,
                expires: token.expires_in,
                provider_type: broker.config().compat.duplicati_id(&token.provider),
            };
            axum::Json(reply).into_response()
        }
        Err(error) => {
            if matches!(error, ServiceError::InvalidAuthid) {
                broker.record_failure(addr).await;
            }
            with_reason(error.into())
        }
    }
}

/// The broker's error response plus `X-Reason`, the short sentence Duplicati shows.
fn with_reason(error: ApiError) -> Response {
    let reason = match error.code() {
        ErrorCode::InvalidAuthid => {
            "The AuthID is unknown or malformed; create a new AuthID".into()
        }
        ErrorCode::ReauthRequired => {
            "the provider no longer accepts this sign-in; create a new AuthID".into()
        }
        ErrorCode::RateLimited => match error.retry_after() {
            Some(secs) => format!("Too many requests; retry after {secs} seconds"),
            None => "Too many requests; retry later".to_owned(),
        },
        ErrorCode::ProviderUnavailable => match error.retry_after() {
            Some(secs) => format!("The provider is unavailable; retry after {secs} seconds"),
            None => "The provider is unavailable; retry later".to_owned(),
        },
        ErrorCode::ServerError => "The OAuth broker hit an internal error; retry later".into(),
        _ => "The request was not understood".into(),
    };
    // Duplicati reads 503 as "try later"; it does not know 502.
    let error = match error.code() {
        ErrorCode::ProviderUnavailable => error.with_status(StatusCode::SERVICE_UNAVAILABLE),
        _ => error,
    };
    let mut response = error.into_response();
    // Every reason above is fixed ASCII text, so it is always a valid header value.
    if let Ok(value) = HeaderValue::from_str(&reason) {
        response.headers_mut().insert("x-reason", value);
    }
    response
}

/// `/fetch`'s parameters, checked. `Debug` leaves out the poll token.
#[derive(Default, Deserialize)]
pub struct FetchParams {
    /// The poll token, when [`token_ok`]; a malformed one counts as absent.
    pub token: Option<String>,
    /// The JSONP function name, when asked for.
    pub callback: Option<String>,
}

impl std::fmt::Debug for FetchParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchParams")
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("callback", &self.callback)
            .finish()
    }
}

/// The `callback` parameter names something other than a plain function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidCallback;

/// Reads `/fetch`'s query. A query that does not parse counts as empty.
pub fn fetch_request(query: Option<&str>) -> Result<FetchParams, InvalidCallback> {
    let mut params: FetchParams =
        serde_urlencoded::from_str(query.unwrap_or_default()).unwrap_or_default();
    if !params.callback.as_deref().is_none_or(callback_ok) {
        return Err(InvalidCallback);
    }
    params.token = params.token.filter(|token| token_ok(token));
    Ok(params)
}

#[derive(Serialize)]
#[serde(untagged)]
enum FetchReply {
    Ready { authid: String },
    Wait { wait: &'static str },
    Error { error: &'static str },
}

/// `GET /fetch?token=T[&callback=NAME]`.
pub async fn fetch(State(broker): State<Broker>, RawQuery(query): RawQuery) -> Response {
    let Ok(params) = fetch_request(query.as_deref()) else {
        let error = FetchReply::Error {
            error: "invalid callback name",
        };
        return (StatusCode::BAD_REQUEST, axum::Json(error)).into_response();
    };
    // No Duplicati client sends a token like that: a plain 400, unlike the 200 `{"error"}`
    // its clients expect for an unknown or expired token.
    let Some(token) = params.token.as_deref().filter(|t| token_ok(t)) else {
        let error = FetchReply::Error {
            error: "missing or malformed token",
        };
        return (StatusCode::BAD_REQUEST, axum::Json(error)).into_response();
    };
    let reply = match broker.fetch(token).await {
        Ok(PollOutcome::Pending) => FetchReply::Wait { wait: "Not ready" },
        Ok(PollOutcome::Done { authid, .. }) => FetchReply::Ready {
            authid: authid.to_string(),
        },
        Err(ServiceError::Internal(detail)) => {
            tracing::error!(error = %detail, "fetch failed");
            FetchReply::Error {
                error: "internal error; try again",
            }
        }
        Err(_) => FetchReply::Error {
            error: "unknown or expired token; sign in again",
        },
    };
    let json = serde_json::to_string(&reply).unwrap_or_default();
    match params.callback {
        Some(name) => (
            [(
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            )],
            format!("{name}({json});"),
        )
            .into_response(),
        None => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
    }
}

/// JSONP callback names: letters, digits, `_` and `.` only, so nothing but a function call can
/// be injected into the script.
fn callback_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        && !name.starts_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(request: RefreshRequest) -> String {
        match request {
            RefreshRequest::Token(authid) => authid.to_string(),
            other => panic!("expected an authid, got {other:?}"),
        }
    }

    #[test]
    fn refresh_takes_the_header_then_the_query_then_the_form() {
        let header = HeaderValue::from_static("from-header");
        let query = Some("authid=from-query");
        let form = Some(&b"authid=from-form"[..]);
        assert_eq!(
            token(refresh_request(Some(&header), query, form)),
            "from-header"
        );
        assert_eq!(token(refresh_request(None, query, form)), "from-query");
        assert_eq!(token(refresh_request(None, Some("x=1"), form)), "from-form");
        assert!(matches!(
            refresh_request(None, None, Some(b"\xff")),
            RefreshRequest::Missing
        ));
    }

    #[test]
    fn refresh_without_authid_opens_a_local_picker_with_the_type_escaped() {
        let request = refresh_request(None, Some("type=a%2F%2Fevil.example%0d%0aX:%20y"), None);
        let RefreshRequest::Picker(location) = request else {
            panic!("expected the picker, got {request:?}");
        };
        assert_eq!(location, "/?type=a%2F%2Fevil.example%0D%0AX%3A+y");
    }

    #[test]
    fn fetch_refuses_bad_callbacks_and_drops_malformed_tokens() {
        assert_eq!(
            fetch_request(Some("token=abc&callback=alert(1)")).err(),
            Some(InvalidCallback)
        );
        let params = fetch_request(Some("token=short&callback=cb.done")).unwrap();
        assert_eq!(params.token, None);
        assert_eq!(params.callback.as_deref(), Some("cb.done"));
        let params = fetch_request(Some("token=abcdefgh_-12")).unwrap();
        assert_eq!(params.token.as_deref(), Some("abcdefgh_-12"));
    }
}
