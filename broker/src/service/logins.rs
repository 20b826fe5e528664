//! Program-started sign-ins: `POST /v1/logins` and its poll.

use super::{Broker, ServiceError};
use crate::config::join_url;
use crate::crypto::poll_box::PollKeys;
use crate::crypto::{constant_time_eq, hash, random_token};
use crate::store::LoginRow;
use oauth_protocol::CreateLoginResponse;
use url::form_urlencoded::byte_serialize;
use zeroize::Zeroizing;

/// How long a program-started sign-in stays open.
pub const LOGIN_TTL_SECS: i64 = 600;

/// How often a program should poll.
pub const POLL_INTERVAL_SECS: u64 = 2;

/// What a poll finds. `Debug` redacts the authid.
pub enum PollOutcome {
    /// The user has not finished.
    Pending,
    /// Finished: the authid, handed out this once.
    Done {
        /// The authid.
        authid: Zeroizing<String>,
        /// The provider.
        provider: String,
    },
}

/// The login id of a Duplicati `token`: public, but useless without the token itself.
fn fetch_login_id(token: &str) -> String {
    let digest = hash("oauth-broker duplicati fetch v1", &[token.as_bytes()]);
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `login_id` could be one this broker made (a random token, or a Duplicati fetch id).
/// Anything else is unknown without asking the store, which keeps bytes such as NUL, which
/// PostgreSQL refuses in text, away from it.
pub(super) fn login_id_ok(login_id: &str) -> bool {
    (1..=64).contains(&login_id.len())
        && login_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn poll_hash(poll_secret: &str) -> [u8; 32] {
    hash("oauth-broker poll secret v1", &[poll_secret.as_bytes()])
}

impl Broker {
    /// Starts a sign-in a program will collect by polling.
    pub async fn create_login(&self, provider: &str) -> Result<CreateLoginResponse, ServiceError> {
        if self.provider(provider).is_none() {
            return Err(ServiceError::BadRequest(self.unknown_provider()));
        }
        let login_id = random_token(16).to_string();
        let poll_secret = random_token(32);
        self.insert_login(provider, &login_id, &poll_secret).await?;
        tracing::info!(provider, "program sign-in started");

        let provider_segment: String = byte_serialize(provider.as_bytes()).collect();
        let path = format!("/login/{provider_segment}?login_id={login_id}");
        Ok(CreateLoginResponse {
            login_url: join_url(&self.inner.config.public_url, &path),
            login_id,
            poll_secret: poll_secret.to_string(),
            expires_in: LOGIN_TTL_SECS as u64,
            interval: POLL_INTERVAL_SECS,
        })
    }

    async fn insert_login(
        &self,
        provider: &str,
        login_id: &str,
        poll_secret: &str,
    ) -> Result<(), ServiceError> {
        let keys = PollKeys::derive(self.inner.master_keys.current(), poll_secret);
        let now = self.inner.clock.now();
        let row = LoginRow {
            id: login_id.to_owned(),
            poll_hash: poll_hash(poll_secret).to_vec(),
            poll_public_key: keys.public_key().to_vec(),
            provider: provider.to_owned(),
            sealed_authid: None,
            created_at: now,
            expires_at: now + LOGIN_TTL_SECS,
        };
        Ok(self.inner.store.insert_login(&row).await?)
    }

    /// Duplicati's older sign-in: the client picks the secret `token` itself and later collects
    /// the authid with `GET /fetch?token=`. The token serves as the poll secret; the login id is
    /// derived from it. Returns the login id, creating the sign-in unless it already exists.
    pub async fn fetch_login(&self, provider: &str, token: &str) -> Result<String, ServiceError> {
        let login_id = fetch_login_id(token);
        if self.inner.store.login(&login_id).await?.is_none() {
            self.insert_login(provider, &login_id, token).await?;
            tracing::info!(provider, "Duplicati sign-in started");
        }
        Ok(login_id)
    }

    /// `GET /fetch?token=`: the poll of a [`fetch_login`](Self::fetch_login).
    pub async fn fetch(&self, token: &str) -> Result<PollOutcome, ServiceError> {
        self.poll_login(&fetch_login_id(token), token).await
    }

    /// Polls a program-started sign-in. A wrong poll secret looks exactly like an unknown id.
    pub async fn poll_login(
        &self,
        login_id: &str,
        poll_secret: &str,
    ) -> Result<PollOutcome, ServiceError> {
        let not_found =
            || ServiceError::NotFound("no pending sign-in with this id and poll secret".into());
        if !login_id_ok(login_id) {
            return Err(not_found());
        }
        let row = self
            .inner
            .store
            .login(login_id)
            .await?
            .ok_or_else(not_found)?;
        if !constant_time_eq(&poll_hash(poll_secret), &row.poll_hash) {
            return Err(not_found());
        }
        if row.sealed_authid.is_none() {
            return match self.inner.clock.now() >= row.expires_at {
                true => Err(ServiceError::Expired),
                false => Ok(PollOutcome::Pending),
            };
        }

        // Deleting is what hands the authid out: of concurrent polls, one wins.
        let sealed = self
            .inner
            .store
            .take_login(login_id)
            .await?
            .ok_or_else(not_found)?;
        // A sign-in started before a master key rotation was sealed to the previous key's box.
        let plain = self
            .inner
            .master_keys
            .all()
            .find_map(|master| PollKeys::derive(master, poll_secret).open(&sealed).ok())
            .ok_or_else(|| ServiceError::Internal("sealed authid does not open".into()))?;
        let authid = String::from_utf8(plain.to_vec())
            .map_err(|_| ServiceError::Internal("sealed authid is not text".into()))?;
        tracing::info!(provider = %row.provider, "program sign-in collected");
        Ok(PollOutcome::Done {
            authid: Zeroizing::new(authid),
            provider: row.provider,
        })
    }
}
