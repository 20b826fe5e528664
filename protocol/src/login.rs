//! Program-started sign-in: `POST /v1/logins` and `POST /v1/logins/{login_id}/poll`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Body of `POST /v1/logins`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateLoginRequest {
    /// Name of a provider configured at the broker, for example `onedrive`.
    pub provider: String,
}

/// Reply to `POST /v1/logins` (HTTP 201).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateLoginResponse {
    /// Public id of this sign-in; part of the poll URL.
    pub login_id: String,
    /// The page the user opens in a browser to sign in.
    pub login_url: String,
    /// Secret the caller presents as a bearer token when polling. Never shown to the user.
    pub poll_secret: String,
    /// Seconds until the sign-in expires.
    pub expires_in: u64,
    /// Seconds the caller should wait between polls.
    pub interval: u64,
}

impl fmt::Debug for CreateLoginResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateLoginResponse")
            .field("login_id", &self.login_id)
            .field("login_url", &self.login_url)
            .field("poll_secret", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish()
    }
}

/// Status of a sign-in that has not finished yet.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PollStatus {
    /// The user has not finished signing in yet (HTTP 202).
    Pending,
}

/// Reply to `POST /v1/logins/{login_id}/poll`: pending (202) or finished (200, exactly once).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PollResponse {
    /// The sign-in is still in progress.
    Pending {
        /// Always [`PollStatus::Pending`].
        status: PollStatus,
    },
    /// The sign-in finished; the authid is handed out once and then forgotten by the broker.
    Done {
        /// The new authid. Keep it secret: it is the only key to the stored grant.
        authid: String,
        /// The provider the grant belongs to.
        provider: String,
    },
}

impl fmt::Debug for PollResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pending { status } => f.debug_struct("Pending").field("status", status).finish(),
            Self::Done { provider, .. } => f
                .debug_struct("Done")
                .field("authid", &"[redacted]")
                .field("provider", provider)
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_response_shapes() {
        let pending: PollResponse = serde_json::from_str(r#"{"status":"pending"}"#).unwrap();
        assert_eq!(
            pending,
            PollResponse::Pending {
                status: PollStatus::Pending
            }
        );

        let done: PollResponse =
            serde_json::from_str(r#"{"authid":"a.b","provider":"demo"}"#).unwrap();
        assert!(matches!(done, PollResponse::Done { .. }));
        assert!(!format!("{done:?}").contains("a.b"));
    }

    #[test]
    fn create_login_debug_hides_poll_secret() {
        let response = CreateLoginResponse {
            login_id: "id".into(),
            login_url: "http://x/login/demo?login_id=id".into(),
            poll_secret: "very-secret".into(),
            expires_in: 600,
            interval: 2,
        };
        assert!(!format!("{response:?}").contains("very-secret"));
    }
}
