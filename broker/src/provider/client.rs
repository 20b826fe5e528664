//! HTTP requests to a provider's token and revocation endpoints.

use super::response::{error_code, TokenGrant};
use super::ProviderError;
use crate::config::{ClientAuth, ProviderConfig};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use std::time::Duration;
use url::form_urlencoded::byte_serialize;
use url::Url;
use zeroize::Zeroizing;

/// The broker's HTTP client for providers. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ProviderClient {
    http: reqwest::Client,
}

/// Provider replies larger than this are not token replies; refuse to buffer them.
const MAX_REPLY_BYTES: usize = 256 * 1024;

impl ProviderClient {
    /// A client whose every request gives up after `timeout`. Redirects are not followed: a
    /// token endpoint that redirects is misconfigured, and following could leak the client
    /// secret to another host.
    pub fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("oauth-broker/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http })
    }

    /// The URL the user's browser is sent to.
    pub fn authorize_url(
        provider: &ProviderConfig,
        redirect_uri: &str,
        state: &str,
        code_challenge: Option<&str>,
    ) -> Url {
        let mut url = provider.authorize_url.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("response_type", "code");
            query.append_pair("client_id", &provider.client_id);
            query.append_pair("redirect_uri", redirect_uri);
            if !provider.scopes.is_empty() {
                query.append_pair("scope", &provider.scopes.join(" "));
            }
            query.append_pair("state", state);
            if let Some(challenge) = code_challenge {
                query.append_pair("code_challenge", challenge);
                query.append_pair("code_challenge_method", "S256");
            }
            for (name, value) in &provider.authorize_params {
                query.append_pair(name, value);
            }
        }
        url
    }

    /// Exchanges an authorization code (RFC 6749 section 4.1.3).
    pub async fn exchange_code(
        &self,
        provider: &ProviderConfig,
        code: &str,
        redirect_uri: &str,
        code_verifier: Option<&str>,
    ) -> Result<TokenGrant, ProviderError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ];
        if let Some(verifier) = code_verifier {
            form.push(("code_verifier", verifier));
        }
        // The reply holds the tokens in plain text: zeroed once parsed.
        let body = Zeroizing::new(self.post(provider, &provider.token_url, form).await?);
        TokenGrant::parse(&body)
    }

    /// Refreshes (RFC 6749 section 6). No `scope` (the same scopes are implied) and no
    /// `redirect_uri` (not part of a refresh, and Dropbox rejects it).
    pub async fn refresh(
        &self,
        provider: &ProviderConfig,
        refresh_token: &str,
    ) -> Result<TokenGrant, ProviderError> {
        let form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        // The reply holds the tokens in plain text: zeroed once parsed.
        let body = Zeroizing::new(self.post(provider, &provider.token_url, form).await?);
        TokenGrant::parse(&body)
    }

    /// Revokes a refresh token (RFC 7009). Does nothing when the provider has no endpoint.
    pub async fn revoke(
        &self,
        provider: &ProviderConfig,
        refresh_token: &str,
    ) -> Result<(), ProviderError> {
        let Some(url) = &provider.revocation_url else {
            return Ok(());
        };
        let form = vec![
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
        ];
        self.post(provider, url, form).await.map(drop)
    }

    async fn post(
        &self,
        provider: &ProviderConfig,
        url: &Url,
        mut form: Vec<(&str, &str)>,
    ) -> Result<Vec<u8>, ProviderError> {
        let mut request = self
            .http
            .post(url.clone())
            .header("accept", "application/json");
        match (&provider.client_secret, provider.client_auth) {
            (Some(secret), ClientAuth::Basic) => {
                request = request.header(
                    "authorization",
                    basic_auth(&provider.client_id, secret.expose()),
                );
            }
            (Some(secret), ClientAuth::Post) => {
                form.push(("client_id", &provider.client_id));
                form.push(("client_secret", secret.expose()));
            }
            (None, _) => form.push(("client_id", &provider.client_id)),
        }

        let response = request.form(&form).send().await.map_err(transport_error)?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = read_limited(response).await?;
        classify(status, retry_after, body)
    }
}

/// RFC 6749 section 2.3.1: both parts are form-urlencoded before the Basic encoding.
fn basic_auth(client_id: &str, secret: &str) -> String {
    let id: String = byte_serialize(client_id.as_bytes()).collect();
    let secret: String = byte_serialize(secret.as_bytes()).collect();
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

fn transport_error(error: reqwest::Error) -> ProviderError {
    let reason = if error.is_timeout() {
        "the provider did not answer in time"
    } else if error.is_connect() {
        "cannot connect to the provider"
    } else {
        "the connection to the provider failed"
    };
    ProviderError::unavailable(reason, None, false)
}

fn retry_after(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(|secs| secs.min(3600))
}

async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, ProviderError> {
    // Sized up front where the length is known, so that growing leaves no stray copies behind.
    let expected = response.content_length().unwrap_or(0) as usize;
    let mut body = Vec::with_capacity(expected.min(MAX_REPLY_BYTES));
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > MAX_REPLY_BYTES {
            return Err(ProviderError::unavailable(
                "the provider's reply is too large",
                None,
                true,
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn classify(
    status: StatusCode,
    retry_after: Option<u64>,
    body: Vec<u8>,
) -> Result<Vec<u8>, ProviderError> {
    if status.is_success() {
        return Ok(body);
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(ProviderError::unavailable(
            "the provider asked to slow down",
            retry_after,
            false,
        ));
    }
    if status.is_server_error() {
        let reason = format!("the provider answered {}", status.as_u16());
        return Err(ProviderError::unavailable(reason, retry_after, true));
    }
    match error_code(&body).as_str() {
        "invalid_grant" => Err(ProviderError::InvalidGrant),
        "temporarily_unavailable" => Err(ProviderError::unavailable(
            "the provider is temporarily unavailable",
            retry_after,
            false,
        )),
        other if status.is_client_error() => Err(ProviderError::Rejected {
            error: other.to_owned(),
        }),
        _ => Err(ProviderError::unavailable(
            format!("unexpected status {}", status.as_u16()),
            None,
            true,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_encodes_reserved_characters_first() {
        // "id:x" and "s/cr%t" must be form-encoded before base64, so the colon stays unambiguous.
        let header = basic_auth("id:x", "s/cr%t");
        let decoded = STANDARD
            .decode(header.trim_start_matches("Basic "))
            .unwrap();
        assert_eq!(decoded, b"id%3Ax:s%2Fcr%25t");
    }

    #[test]
    fn classifies_statuses() {
        let invalid = br#"{"error":"invalid_grant"}"#.to_vec();
        assert_eq!(
            classify(StatusCode::BAD_REQUEST, None, invalid),
            Err(ProviderError::InvalidGrant)
        );

        let client = br#"{"error":"invalid_client"}"#.to_vec();
        assert_eq!(
            classify(StatusCode::UNAUTHORIZED, None, client),
            Err(ProviderError::Rejected {
                error: "invalid_client".into()
            })
        );

        let Err(ProviderError::Unavailable {
            retry_after,
            bad_gateway,
            ..
        }) = classify(StatusCode::SERVICE_UNAVAILABLE, Some(7), Vec::new())
        else {
            panic!("5xx must be unavailable")
        };
        assert_eq!((retry_after, bad_gateway), (Some(7), true));
    }
}
