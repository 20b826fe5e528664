//! The agent's client of the broker's `/v1` API. The authid only ever leaves the process in the
//! `Authorization` header of these requests.

use oauth_protocol::{
    CreateLoginRequest, CreateLoginResponse, ErrorBody, ErrorCode, PollResponse, TokenRequest,
    TokenResponse,
};
use reqwest::StatusCode;
use std::time::Duration;
use url::form_urlencoded::byte_serialize;

/// What went wrong talking to the broker.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BrokerError {
    /// The broker answered with an error body.
    #[error("{description}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The stable code.
        code: ErrorCode,
        /// The broker's description.
        description: String,
        /// Seconds to wait, from `Retry-After`.
        retry_after: Option<u64>,
    },
    /// The broker could not be reached or did not answer in time.
    #[error("cannot reach the broker at {broker}: {reason}")]
    Unreachable {
        /// The broker's URL.
        broker: String,
        /// What failed.
        reason: String,
    },
    /// The broker answered something that is not the protocol.
    #[error("the broker at {0} sent a reply the agent does not understand")]
    BadReply(String),
}

impl BrokerError {
    /// The protocol code this error stands for, for the agent's own API.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Api { code, .. } => *code,
            Self::Unreachable { .. } | Self::BadReply(_) => ErrorCode::ProviderUnavailable,
        }
    }

    /// Whether retrying later can help.
    pub fn is_transient(&self) -> bool {
        !matches!(
            self.code(),
            ErrorCode::ReauthRequired | ErrorCode::InvalidAuthid
        )
    }
}

/// A poll's outcome. `Debug` redacts the authid.
pub enum Poll {
    /// Not finished yet.
    Pending,
    /// Finished; the authid.
    Done(zeroize::Zeroizing<String>),
}

impl std::fmt::Debug for Poll {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Pending => f.write_str("Pending"),
            Self::Done(_) => f.write_str("Done([redacted])"),
        }
    }
}

/// HTTP client of the broker.
#[derive(Debug, Clone)]
pub struct BrokerClient {
    http: reqwest::Client,
}

impl BrokerClient {
    /// A client whose requests give up after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("oauth-agent/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self { http }
    }

    /// `POST /v1/logins`.
    pub async fn start_login(
        &self,
        broker: &str,
        provider: &str,
    ) -> Result<CreateLoginResponse, BrokerError> {
        let body = CreateLoginRequest {
            provider: provider.to_owned(),
        };
        let request = self.http.post(url(broker, "/v1/logins")).json(&body);
        let response = send(broker, request).await?;
        parse(broker, response).await
    }

    /// `POST /v1/logins/{id}/poll`.
    pub async fn poll(
        &self,
        broker: &str,
        login_id: &str,
        poll_secret: &str,
    ) -> Result<Poll, BrokerError> {
        let id: String = byte_serialize(login_id.as_bytes()).collect();
        let request = self
            .http
            .post(url(broker, &format!("/v1/logins/{id}/poll")))
            .bearer_auth(poll_secret);
        let response = send(broker, request).await?;
        match parse::<PollResponse>(broker, response).await? {
            PollResponse::Pending { .. } => Ok(Poll::Pending),
            PollResponse::Done { authid, .. } => Ok(Poll::Done(zeroize::Zeroizing::new(authid))),
        }
    }

    /// `POST /v1/token`.
    pub async fn token(
        &self,
        broker: &str,
        authid: &str,
        min_valid_secs: Option<u64>,
    ) -> Result<TokenResponse, BrokerError> {
        let body = TokenRequest { min_valid_secs };
        let request = self
            .http
            .post(url(broker, "/v1/token"))
            .bearer_auth(authid)
            .json(&body);
        let response = send(broker, request).await?;
        parse(broker, response).await
    }

    /// `POST /v1/revoke`.
    pub async fn revoke(&self, broker: &str, authid: &str) -> Result<(), BrokerError> {
        let request = self
            .http
            .post(url(broker, "/v1/revoke"))
            .bearer_auth(authid);
        let response = send(broker, request).await?;
        if response.status() == StatusCode::NO_CONTENT {
            return Ok(());
        }
        Err(error(broker, response).await)
    }
}

fn url(broker: &str, path: &str) -> String {
    format!("{}{path}", broker.trim_end_matches('/'))
}

async fn send(
    broker: &str,
    request: reqwest::RequestBuilder,
) -> Result<reqwest::Response, BrokerError> {
    request.send().await.map_err(|e| BrokerError::Unreachable {
        broker: broker.to_owned(),
        reason: if e.is_timeout() {
            "timed out".into()
        } else {
            "connection failed".into()
        },
    })
}

async fn parse<T: serde::de::DeserializeOwned>(
    broker: &str,
    response: reqwest::Response,
) -> Result<T, BrokerError> {
    if !response.status().is_success() {
        return Err(error(broker, response).await);
    }
    response
        .json()
        .await
        .map_err(|_| BrokerError::BadReply(broker.to_owned()))
}

async fn error(broker: &str, response: reqwest::Response) -> BrokerError {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    match response.json::<ErrorBody>().await {
        Ok(body) => BrokerError::Api {
            status,
            code: body.error,
            description: body.error_description,
            retry_after,
        },
        Err(_) => BrokerError::BadReply(broker.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_debug_hides_the_authid() {
        let done = Poll::Done(zeroize::Zeroizing::new("authid-s3cr3t".to_owned()));
        assert_eq!(format!("{done:?}"), "Done([redacted])");
    }
}
