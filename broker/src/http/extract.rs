//! Small request readers: bearer credentials, the client's address, JSON bodies with our own
//! error shape.

use super::error::ApiError;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Extensions, HeaderMap};
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};
use zeroize::Zeroizing;

/// Request bodies larger than this are refused: every body of this API is a few bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The credential of an `Authorization: Bearer ...` header, if well formed.
pub fn bearer(headers: &HeaderMap) -> Option<Zeroizing<String>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credential) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    Some(Zeroizing::new(credential.trim().to_owned()))
}

/// The client's IP: the socket peer, or with `trust_forwarded_for` the right-most
/// `X-Forwarded-For` entry (the one the trusted proxy added).
pub fn client_addr(
    extensions: &Extensions,
    headers: &HeaderMap,
    trust_forwarded_for: bool,
) -> Option<IpAddr> {
    if trust_forwarded_for {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|part| part.trim().parse::<IpAddr>().ok())
            .next_back();
        if forwarded.is_some() {
            return forwarded;
        }
    }
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

/// Reads a bounded body. `None` for an empty body.
pub async fn body_bytes(body: Body) -> Result<Option<axum::body::Bytes>, ApiError> {
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::bad_request(format!(
                "the request body is larger than {MAX_BODY_BYTES} bytes"
            ))
        })?;
    Ok((!bytes.iter().all(u8::is_ascii_whitespace)).then_some(bytes))
}

/// Refuses a body not declared as `application/json`. Besides saying what went wrong, this
/// keeps the JSON API out of reach of cross-site forms: a page can post `text/plain` or a form
/// to any site without asking, but not `application/json`.
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::trim);
    match essence {
        Some(essence) if essence.eq_ignore_ascii_case("application/json") => Ok(()),
        _ => Err(ApiError::bad_request(
            "send the body as JSON, with `Content-Type: application/json`",
        )),
    }
}

/// Parses a JSON object, describing the problem without echoing the input. Anything else is
/// refused up front: serde would read the array `["demo"]` as the struct `{"provider":"demo"}`.
pub fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    serde_json::from_slice(bytes).map_err(|error| {
        let what = match error.classify() {
            serde_json::error::Category::Data => "has wrong or unknown fields",
            _ => "is not valid JSON",
        };
        ApiError::bad_request(format!(
            "the request body {what} (line {}, column {})",
            error.line(),
            error.column()
        ))
    })
}
