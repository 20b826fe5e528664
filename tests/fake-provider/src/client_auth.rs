//! Client authentication at `/token` and `/revoke` (RFC 6749 section 2.3.1), enforced as the
//! provider's [`ClientAuth`] says, with secrets compared in constant time.

use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::config::{ClientAuth, ProviderConfig};
use crate::error::OAuthError;
use crate::form::Params;
use crate::secret;

/// Credentials as the client presented them, before they are checked.
struct Presented<'a> {
    client_id: &'a str,
    secret: Option<&'a str>,
}

/// Client id and secret from an HTTP Basic `Authorization` header: `None` when there is no
/// Basic header, `Some(Err(()))` when there is one that cannot be decoded.
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), ()>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    Some(decode_basic(encoded.trim()).ok_or(()))
}

/// Checks the client's credentials and returns its client id.
pub(crate) fn authenticate(
    config: &ProviderConfig,
    headers: &HeaderMap,
    params: &Params,
) -> Result<String, OAuthError> {
    let basic = basic_credentials(headers);
    let refused = || OAuthError::InvalidClient {
        basic_tried: basic.is_some(),
    };
    let credentials = match &basic {
        Some(Ok(credentials)) => Some(credentials),
        Some(Err(())) => return Err(refused()),
        None => None,
    };
    let presented = presented(config.client_auth, credentials, params);
    let accepted = presented.filter(|presented| accepts(config, presented));
    accepted
        .map(|presented| presented.client_id.to_owned())
        .ok_or_else(refused)
}

/// The credentials of the one method the request used, if that method is allowed.
fn presented<'a>(
    mode: ClientAuth,
    basic: Option<&'a (String, String)>,
    params: &'a Params,
) -> Option<Presented<'a>> {
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    match (mode, basic, body_secret) {
        (ClientAuth::Basic | ClientAuth::Any, Some((id, secret)), None) => {
            // A client_id in the body is tolerated with Basic, but it must name the same client.
            let consistent = body_id.is_none_or(|body_id| body_id == id);
            consistent.then_some(Presented {
                client_id: id,
                secret: Some(secret),
            })
        }
        (ClientAuth::Post | ClientAuth::Any, None, Some(secret)) => Some(Presented {
            client_id: body_id?,
            secret: Some(secret),
        }),
        (ClientAuth::None, None, None) => Some(Presented {
            client_id: body_id?,
            secret: None,
        }),
        _ => None,
    }
}

fn accepts(config: &ProviderConfig, presented: &Presented<'_>) -> bool {
    if presented.client_id != config.client_id {
        return false;
    }
    match (&config.client_secret, presented.secret) {
        (Some(expected), Some(given)) => secret::equal(expected, given),
        (_, None) => config.client_auth == ClientAuth::None,
        (None, Some(_)) => false,
    }
}

/// `base64(urlencode(id) ":" urlencode(secret))` back to the id and secret.
fn decode_basic(encoded: &str) -> Option<(String, String)> {
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

/// Undoes `application/x-www-form-urlencoded` encoding of one value: `+` is a space and `%XX`
/// a byte. A `%` that starts no valid escape is kept as it is.
fn form_decode(value: &str) -> Option<String> {
    let mut out = Vec::with_capacity(value.len());
    let mut rest = value.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        rest = tail;
        match (first, escaped_byte(tail)) {
            (b'%', Some(byte)) => {
                out.push(byte);
                rest = &tail[2..];
            }
            (b'+', _) => out.push(b' '),
            (byte, _) => out.push(byte),
        }
    }
    String::from_utf8(out).ok()
}

/// The byte that two hex digits at the start of `tail` stand for.
fn escaped_byte(tail: &[u8]) -> Option<u8> {
    let digit = |byte: &u8| char::from(*byte).to_digit(16);
    let (high, low) = (digit(tail.first()?)?, digit(tail.get(1)?)?);
    u8::try_from(high * 16 + low).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut headers = HeaderMap::new();
        let encoded = STANDARD.encode("my%20client:s%3Ac+r%2Bt%");
        let value = format!("Basic {encoded}").parse().unwrap();
        headers.insert(header::AUTHORIZATION, value);
        let credentials = basic_credentials(&headers).unwrap().unwrap();
        assert_eq!(credentials, ("my client".into(), "s:c r+t%".into()));
    }

    #[test]
    fn undecodable_basic_header_is_an_attempt_that_fails() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "basic !!!".parse().unwrap());
        assert_eq!(basic_credentials(&headers), Some(Err(())));
    }
}
