//! Form and query parameters: parsed once into [`Params`], where a repeated name is an error
//! (RFC 6749 section 3.1) and an empty value counts as absent.

use std::collections::BTreeMap;

use axum::http::{header, HeaderMap};

use crate::error::OAuthError;

/// The parameters of one request, each name at most once.
#[derive(Clone, Debug, Default)]
pub(crate) struct Params(BTreeMap<String, String>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` bytes, refusing repeated names.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, OAuthError> {
        let mut params = BTreeMap::new();
        for (name, value) in pairs(bytes) {
            if params.contains_key(&name) {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {name} is repeated"
                )));
            }
            params.insert(name, value);
        }
        Ok(Self(params))
    }

    /// The non-empty value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    /// The non-empty value of `name`, or `invalid_request` naming it.
    pub(crate) fn require(&self, name: &str) -> Result<&str, OAuthError> {
        let missing = || OAuthError::invalid_request(format!("missing parameter {name}"));
        self.get(name).ok_or_else(missing)
    }

    /// Adds every parameter of `other`, replacing those with the same name.
    pub(crate) fn overlay(mut self, other: Params) -> Self {
        self.0.extend(other.0);
        self
    }

    /// Every parameter, in name order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }
}

/// Every parameter of a form where the last value of a repeated name wins; for records.
pub(crate) fn lenient(bytes: &[u8]) -> BTreeMap<String, String> {
    pairs(bytes).collect()
}

/// Whether the request declares an `application/x-www-form-urlencoded` body.
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    let Some(content_type) = content_type(headers) else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

/// The `Content-Type` header, when it is valid text.
pub(crate) fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::CONTENT_TYPE)?.to_str().ok()
}

fn pairs(bytes: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    url::form_urlencoded::parse(bytes).map(|(name, value)| (name.into_owned(), value.into_owned()))
}
