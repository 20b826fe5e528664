//! Duplicati's compatibility endpoints: where `/refresh` finds the authid and where it sends a
//! sign-in, and `/fetch`'s poll token and JSONP callback name.
//!
//! Input layout: `X-AuthID` value, NUL, query string, NUL, form body. Properties: the header
//! wins over the query and the form; the sign-in redirect stays on the broker and is a valid
//! `Location`; a token or callback name that gets through holds only its safe characters, so
//! nothing but a function call can reach the JSONP script.
#![no_main]

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Redirect};
use libfuzzer_sys::fuzz_target;
use oauth_broker::fuzzing::{fetch_request, refresh_request, RefreshRequest};

fn check_refresh(header: Option<&HeaderValue>, query: Option<&str>, form: Option<&[u8]>) {
    let header_text = header.and_then(|v| v.to_str().ok());
    match refresh_request(header, query, form) {
        RefreshRequest::Token(authid) => {
            if let Some(text) = header_text {
                assert_eq!(authid.as_str(), text, "the header did not win");
            }
        }
        RefreshRequest::Picker(location) => {
            assert!(header_text.is_none());
            let id = location
                .strip_prefix("/?type=")
                .expect("the picker is local");
            let safe = |b: u8| b.is_ascii_alphanumeric() || b"*-._+%".contains(&b);
            assert!(id.bytes().all(safe), "unescaped type in {location:?}");
            let response = Redirect::to(&location).into_response();
            assert_eq!(response.status(), StatusCode::SEE_OTHER);
            assert_eq!(response.headers()[header::LOCATION], location.as_str());
        }
        RefreshRequest::Missing => assert!(header_text.is_none()),
    }
}

fn check_fetch(query: Option<&str>) {
    let Ok(params) = fetch_request(query) else {
        return;
    };
    if let Some(token) = &params.token {
        assert!((8..=128).contains(&token.len()));
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }
    if let Some(name) = &params.callback {
        assert!((1..=64).contains(&name.len()) && !name.starts_with('.'));
        assert!(name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.'));
    }
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0);
    let header = parts.next().and_then(|h| HeaderValue::from_bytes(h).ok());
    let query = parts.next().and_then(|q| std::str::from_utf8(q).ok());
    let form = parts.next();
    check_refresh(header.as_ref(), query, form);
    check_refresh(None, query, form);
    check_fetch(query);
});
