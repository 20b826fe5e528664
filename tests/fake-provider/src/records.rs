//! What the provider saw: one record per `/token` and `/revoke` request, kept for tests to assert
//! on. The records hold the client's credentials as sent, so print them only in tests.

use std::collections::BTreeMap;

/// One request to `/token`, recorded on arrival, before any fault or check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRequestRecord {
    /// The `grant_type` parameter, or an empty string when absent.
    pub grant_type: String,
    /// Every form parameter (the last one wins if a name repeats).
    pub form: BTreeMap<String, String>,
    /// Client id and secret from an HTTP Basic `Authorization` header, already form-decoded.
    pub basic_auth: Option<(String, String)>,
    /// The `Content-Type` header as sent.
    pub content_type: Option<String>,
}

/// One request to `/revoke` (RFC 7009), recorded on arrival, before any check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevocationRecord {
    /// The `token` parameter, or an empty string when absent.
    pub token: String,
    /// The `token_type_hint` parameter.
    pub token_type_hint: Option<String>,
    /// Client id and secret from an HTTP Basic `Authorization` header, already form-decoded.
    pub basic_auth: Option<(String, String)>,
    /// Every form parameter (the last one wins if a name repeats).
    pub form: BTreeMap<String, String>,
}
