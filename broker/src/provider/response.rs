//! Reading a provider's token endpoint reply, tolerant of the usual variations.

use super::ProviderError;
use serde::Deserialize;
use serde_json::Value;
use zeroize::Zeroizing;

/// Used when a provider omits `expires_in` (RFC 6749 makes it optional): one hour, the most
/// common lifetime, so the broker refreshes no later than it probably must.
const DEFAULT_LIFETIME_SECS: u64 = 3600;

/// Lifetimes are clamped into this range, so that absurd values neither make the broker refresh
/// on every request nor cache a token for years.
const LIFETIME_RANGE: (u64, u64) = (30, 366 * 86_400);

/// A successful token endpoint reply.
pub struct TokenGrant {
    /// The access token.
    pub access_token: Zeroizing<String>,
    /// Normally `Bearer`.
    pub token_type: String,
    /// Seconds of validity, clamped to a sane range.
    pub expires_in: u64,
    /// A new refresh token, if the provider sent one.
    pub refresh_token: Option<Zeroizing<String>>,
    /// The scopes granted, if the provider said.
    pub scope: Option<String>,
    /// The provider's id for the user, if the reply carries one.
    pub user_id: Option<String>,
}

impl std::fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenGrant")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("has_refresh_token", &self.refresh_token.is_some())
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Wire {
    access_token: Option<String>,
    token_type: Option<String>,
    expires_in: Option<Value>,
    refresh_token: Option<String>,
    scope: Option<String>,
    user_id: Option<Value>,
    account_id: Option<Value>,
    uid: Option<Value>,
}

#[derive(Deserialize)]
struct WireError {
    error: Option<String>,
}

impl TokenGrant {
    /// Parses a 2xx body.
    pub(super) fn parse(body: &[u8]) -> Result<Self, ProviderError> {
        let bad =
            || ProviderError::unavailable("the provider's token reply is not usable", None, true);
        let wire: Wire = serde_json::from_slice(body).map_err(|_| bad())?;
        let access_token = wire
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(bad)?;

        Ok(Self {
            access_token: Zeroizing::new(access_token),
            token_type: wire.token_type.unwrap_or_else(|| "Bearer".to_owned()),
            expires_in: lifetime(wire.expires_in.as_ref()),
            refresh_token: wire
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(Zeroizing::new),
            scope: wire.scope,
            user_id: [wire.user_id, wire.account_id, wire.uid]
                .into_iter()
                .flatten()
                .find_map(text),
        })
    }
}

fn lifetime(value: Option<&Value>) -> u64 {
    let secs = match value {
        Some(Value::Number(n)) => n.as_f64().map(|f| f.max(0.0) as u64),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    secs.unwrap_or(DEFAULT_LIFETIME_SECS)
        .clamp(LIFETIME_RANGE.0, LIFETIME_RANGE.1)
}

fn text(value: Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The `error` code of a 4xx body, reduced to a short safe alphabet so it can be logged.
pub(super) fn error_code(body: &[u8]) -> String {
    let code = serde_json::from_slice::<WireError>(body)
        .ok()
        .and_then(|e| e.error);
    match code {
        Some(code)
            if !code.is_empty()
                && code.len() <= 64
                && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
        {
            code
        }
        _ => "unrecognized_error".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_variants_of_expires_in() {
        let grant = TokenGrant::parse(br#"{"access_token":"a","expires_in":"3599"}"#).unwrap();
        assert_eq!(grant.expires_in, 3599);
        let grant = TokenGrant::parse(br#"{"access_token":"a"}"#).unwrap();
        assert_eq!(grant.expires_in, DEFAULT_LIFETIME_SECS);
        let grant = TokenGrant::parse(br#"{"access_token":"a","expires_in":-5}"#).unwrap();
        assert_eq!(grant.expires_in, LIFETIME_RANGE.0);
        let grant = TokenGrant::parse(br#"{"access_token":"a","expires_in":1e30}"#).unwrap();
        assert_eq!(grant.expires_in, LIFETIME_RANGE.1);
        assert_eq!(grant.token_type, "Bearer");
    }

    #[test]
    fn user_id_from_any_known_field() {
        let grant = TokenGrant::parse(br#"{"access_token":"a","account_id":"dbid:1"}"#).unwrap();
        assert_eq!(grant.user_id.as_deref(), Some("dbid:1"));
        let grant = TokenGrant::parse(br#"{"access_token":"a","uid":12345}"#).unwrap();
        assert_eq!(grant.user_id.as_deref(), Some("12345"));
    }

    #[test]
    fn rejects_missing_access_token_and_garbage() {
        assert!(TokenGrant::parse(br#"{"token_type":"Bearer"}"#).is_err());
        assert!(TokenGrant::parse(br#"{"access_token": "#).is_err());
        assert!(TokenGrant::parse(b"<html>").is_err());
    }

    #[test]
    fn error_codes_are_sanitized() {
        assert_eq!(error_code(br#"{"error":"invalid_grant"}"#), "invalid_grant");
        assert_eq!(error_code(br#"{"error":"<script>"}"#), "unrecognized_error");
        assert_eq!(error_code(b"oops"), "unrecognized_error");
    }

    #[test]
    fn debug_hides_tokens_and_user_id() {
        let grant = TokenGrant::parse(
            br#"{"access_token":"at-s3cr3t","refresh_token":"rt-s3cr3t","user_id":"uid-s3cr3t",
                "scope":"files.read"}"#,
        )
        .unwrap();
        let printed = format!("{grant:?}");
        assert!(!printed.contains("s3cr3t"), "{printed}");
        assert!(printed.contains("has_refresh_token: true"), "{printed}");
        assert!(printed.contains("files.read"), "{printed}");
    }
}
