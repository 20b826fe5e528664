//! The broker's `/v1` request readers: the JSON bodies of `POST /v1/logins` and
//! `POST /v1/token`, and the `Authorization: Bearer` header every authid travels in. The same
//! bytes go to each reader.
//!
//! A body is accepted only as a JSON object, and what it parses to reads back the same when
//! written as JSON. A refused body gets `400 bad_request` with one of three fixed sentences, so
//! nothing from the body (an authid pasted in the wrong place, say) is echoed.
#![no_main]

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse as _;
use libfuzzer_sys::fuzz_target;
use oauth_broker::crypto::authid::Authid;
use oauth_broker::fuzzing::{bearer, json_body};
use oauth_broker::http::ApiError;
use oauth_protocol::{CreateLoginRequest, ErrorBody, ErrorCode, TokenRequest};
use serde::de::DeserializeOwned;
use serde::Serialize;

fn check_body<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(data: &[u8]) {
    match json_body::<T>(data) {
        Ok(value) => {
            let first = data.iter().find(|b| !b.is_ascii_whitespace());
            assert_eq!(
                first,
                Some(&b'{'),
                "a body that is not an object was accepted"
            );
            let written = serde_json::to_vec(&value).expect("a request body serializes");
            let again = json_body::<T>(&written).expect("a written body reads back");
            assert_eq!(again, value);
        }
        Err(error) => check_refusal(error),
    }
}

fn check_refusal(error: ApiError) {
    let response = error.into_response();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = futures::executor::block_on(axum::body::to_bytes(response.into_body(), 1 << 16))
        .expect("an error body is in memory");
    let body: ErrorBody = serde_json::from_slice(&body).expect("an error body is JSON");
    assert_eq!(body.error, ErrorCode::BadRequest);
    let shape: String = body
        .error_description
        .chars()
        .filter(|c| !c.is_ascii_digit())
        .collect();
    let fixed = [
        "the request body must be a JSON object",
        "the request body has wrong or unknown fields (line , column )",
        "the request body is not valid JSON (line , column )",
    ];
    assert!(
        fixed.contains(&shape.as_str()),
        "unexpected description {shape:?}"
    );
}

/// A bearer credential is the header's second word, trimmed; only `Bearer` (any case) counts.
fn check_bearer(data: &[u8]) {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, value);
    let Some(credential) = bearer(&headers) else {
        return;
    };
    let text = std::str::from_utf8(data).expect("a bearer header is text");
    let scheme = text.trim().get(..6).unwrap_or_default();
    assert!(scheme.eq_ignore_ascii_case("bearer"));
    assert_eq!(credential.trim(), credential.as_str());
    assert!(text.contains(credential.as_str()));
    let _ = Authid::parse(&credential);
}

fuzz_target!(|data: &[u8]| {
    check_body::<CreateLoginRequest>(data);
    check_body::<TokenRequest>(data);
    check_bearer(data);
});
