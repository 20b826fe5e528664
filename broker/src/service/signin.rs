//! Browser sign-ins: the redirect to the provider and the callback that stores the grant.
//!
//! `state` is 256 random bits, stored only as a hash, single use, valid ten minutes, and bound
//! to the browser by a cookie whose hash is stored beside it. The PKCE verifier is sealed under
//! a key derived from `state` itself, so the database alone cannot complete a sign-in.

use super::grant::GrantSecrets;
use super::tokens::cached_access;
use super::{Broker, ServiceError};
use crate::config::ProviderConfig;
use crate::crypto::authid::Authid;
use crate::crypto::master_key::MasterKey;
use crate::crypto::poll_box::seal_to;
use crate::crypto::seal::SealKey;
use crate::crypto::{constant_time_eq, hash, random_token};
use crate::provider::{Pkce, ProviderClient, ProviderError};
use crate::store::{GrantRow, SignInRow};
use serde::Deserialize;
use url::Url;
use zeroize::Zeroizing;

/// How long a browser has between leaving for the provider and coming back.
pub const SIGNIN_TTL_SECS: i64 = 600;

/// Length of the browser-binding cookie value (32 random bytes in base64url).
const BROWSER_COOKIE_LEN: usize = 43;

/// Where to send the browser, and the cookie that binds the sign-in to it. `Debug` redacts.
pub struct SignInStart {
    /// The provider's authorization URL.
    pub authorize_url: Url,
    /// The browser-binding cookie value to set.
    pub browser_cookie: Zeroizing<String>,
}

/// Query parameters of `GET /callback`. `Debug` redacts `code` and `state`.
#[derive(Default, Deserialize)]
pub struct CallbackParams {
    /// The authorization code.
    pub code: Option<String>,
    /// The state we sent.
    pub state: Option<String>,
    /// The provider's error code, when the user denied or something failed.
    pub error: Option<String>,
    /// The provider's human description of `error`.
    pub error_description: Option<String>,
}

/// A finished sign-in. `Debug` redacts the authid.
pub enum SignInDone {
    /// Started in the browser: show the authid.
    ShowAuthid {
        /// The new authid.
        authid: Zeroizing<String>,
        /// The provider's display name.
        provider: String,
    },
    /// Started by a program: it collects the authid by polling.
    HandedToProgram {
        /// The provider's display name.
        provider: String,
    },
}

/// Why a browser sign-in could not go on. Each variant becomes an error page.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// No such provider.
    #[error("unknown provider")]
    UnknownProvider,
    /// The `login_id` is unknown or belongs to another provider.
    #[error("unknown sign-in link")]
    UnknownLogin,
    /// The program-started sign-in expired.
    #[error("the sign-in link expired")]
    LoginExpired,
    /// The program-started sign-in was already completed.
    #[error("the sign-in was already completed")]
    LoginFinished,
    /// The callback has no `state`.
    #[error("the callback has no state")]
    MissingState,
    /// Unknown, used or expired `state`.
    #[error("unknown or used state")]
    UnknownState,
    /// The browser-binding cookie is missing or different.
    #[error("the sign-in was started in another browser")]
    WrongBrowser,
    /// The provider reported an error, usually the user's denial.
    #[error("the provider reported an error")]
    Denied {
        /// The provider's description, to show (escaped) on the page.
        description: Option<String>,
    },
    /// No `code` in the callback.
    #[error("the callback has no code")]
    MissingCode,
    /// The provider refused the code.
    #[error("the provider refused the code")]
    CodeRejected,
    /// The provider issued no refresh token.
    #[error("the provider issued no refresh token")]
    NoRefreshToken,
    /// The provider failed.
    #[error(transparent)]
    Provider(ProviderError),
    /// A fault of the broker.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<ServiceError> for SignInError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Provider(error) => Self::Provider(error),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<crate::store::StoreError> for SignInError {
    fn from(error: crate::store::StoreError) -> Self {
        Self::Internal(error.to_string())
    }
}

fn state_id(state: &str) -> [u8; 32] {
    hash("oauth-broker state v1", &[state.as_bytes()])
}

fn browser_hash(cookie: &str) -> [u8; 32] {
    hash("oauth-broker browser v1", &[cookie.as_bytes()])
}

fn verifier_key(master: &MasterKey, state: &str) -> SealKey {
    SealKey::derive(master, state.as_bytes(), "oauth-broker pkce verifier v1")
}

/// Opens a sealed PKCE verifier with each master key in turn: a sign-in started just before a
/// key rotation was sealed under the previous key.
fn open_verifier(
    broker: &Broker,
    state: &str,
    id: &[u8],
    sealed: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    broker
        .inner
        .master_keys
        .all()
        .find_map(|master| verifier_key(master, state).open(id, sealed).ok())
}

/// Keeps a well-formed cookie the browser already has, so several tabs can sign in at once.
fn browser_cookie(existing: Option<&str>) -> Zeroizing<String> {
    match existing {
        Some(value)
            if value.len() == BROWSER_COOKIE_LEN
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Zeroizing::new(value.to_owned())
        }
        _ => random_token(32),
    }
}

impl Broker {
    /// Starts a browser sign-in at `provider`, optionally completing a program's `login_id`.
    pub async fn start_signin(
        &self,
        provider_name: &str,
        login_id: Option<&str>,
        existing_cookie: Option<&str>,
    ) -> Result<SignInStart, SignInError> {
        let provider = self
            .provider(provider_name)
            .ok_or(SignInError::UnknownProvider)?;
        if let Some(login_id) = login_id {
            self.check_login_open(login_id, provider_name).await?;
        }

        let state = random_token(32);
        let cookie = browser_cookie(existing_cookie);
        let pkce = provider.pkce.then(Pkce::generate);
        let id = state_id(&state);
        let sealed_verifier = pkce.as_ref().map(|p| {
            verifier_key(self.inner.master_keys.current(), &state).seal(&id, p.verifier.as_bytes())
        });
        let now = self.inner.clock.now();

        self.inner
            .store
            .insert_signin(&SignInRow {
                id,
                browser_hash: browser_hash(&cookie).to_vec(),
                provider: provider_name.to_owned(),
                login_id: login_id.map(str::to_owned),
                sealed_verifier,
                created_at: now,
                expires_at: now + SIGNIN_TTL_SECS,
            })
            .await?;
        tracing::info!(
            provider = provider_name,
            program = login_id.is_some(),
            "browser sign-in started"
        );

        let challenge = pkce.as_ref().map(|p| p.challenge.as_str());
        let authorize_url = ProviderClient::authorize_url(
            provider,
            &self.inner.config.redirect_uri(),
            &state,
            challenge,
        );
        Ok(SignInStart {
            authorize_url,
            browser_cookie: cookie,
        })
    }

    async fn check_login_open(&self, login_id: &str, provider: &str) -> Result<(), SignInError> {
        if !super::logins::login_id_ok(login_id) {
            return Err(SignInError::UnknownLogin);
        }
        let login = self
            .inner
            .store
            .login(login_id)
            .await?
            .ok_or(SignInError::UnknownLogin)?;
        if login.provider != provider {
            return Err(SignInError::UnknownLogin);
        }
        if login.sealed_authid.is_some() {
            return Err(SignInError::LoginFinished);
        }
        if self.inner.clock.now() >= login.expires_at {
            return Err(SignInError::LoginExpired);
        }
        Ok(())
    }

    /// Handles `GET /callback`: checks and consumes `state`, exchanges the code, stores the
    /// grant, and either returns the authid or hands it to the waiting program.
    pub async fn finish_signin(
        &self,
        params: &CallbackParams,
        cookie: Option<&str>,
    ) -> Result<SignInDone, SignInError> {
        let state = params
            .state
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or(SignInError::MissingState)?;
        let row = self.take_signin(state, cookie).await?;
        if params.error.is_some() {
            tracing::info!(provider = %row.provider, "provider returned an error to the callback");
            return Err(SignInError::Denied {
                description: params.error_description.clone(),
            });
        }
        let code = params
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or(SignInError::MissingCode)?;
        let provider = self
            .provider(&row.provider)
            .ok_or(SignInError::UnknownProvider)?;

        let verifier = match &row.sealed_verifier {
            Some(sealed) => Some(open_verifier(self, state, &row.id, sealed).ok_or_else(|| {
                SignInError::Internal("the sealed PKCE verifier does not open".into())
            })?),
            None => None,
        };
        let verifier = verifier
            .as_deref()
            .and_then(|v| std::str::from_utf8(v).ok());
        let grant = self
            .inner
            .client
            .exchange_code(provider, code, &self.inner.config.redirect_uri(), verifier)
            .await
            .map_err(|error| match error {
                ProviderError::InvalidGrant => SignInError::CodeRejected,
                other => SignInError::Provider(other),
            })?;

        let authid = self.store_new_grant(provider, grant).await?;
        match &row.login_id {
            Some(login_id) => self.hand_to_program(login_id, &authid, provider).await,
            None => Ok(SignInDone::ShowAuthid {
                authid: authid.encode(),
                provider: provider.display_name.clone(),
            }),
        }
    }

    /// Looks `state` up, checks browser and expiry, and consumes it (exactly once).
    async fn take_signin(
        &self,
        state: &str,
        cookie: Option<&str>,
    ) -> Result<SignInRow, SignInError> {
        let id = state_id(state);
        let row = self
            .inner
            .store
            .signin(&id)
            .await?
            .ok_or(SignInError::UnknownState)?;
        let same_browser =
            cookie.is_some_and(|c| constant_time_eq(&browser_hash(c), &row.browser_hash));
        if !same_browser {
            return Err(SignInError::WrongBrowser);
        }
        if !self.inner.store.consume_signin(&id).await? {
            return Err(SignInError::UnknownState);
        }
        if self.inner.clock.now() >= row.expires_at {
            return Err(SignInError::UnknownState);
        }
        Ok(row)
    }

    async fn store_new_grant(
        &self,
        provider: &ProviderConfig,
        grant: crate::provider::TokenGrant,
    ) -> Result<Authid, SignInError> {
        let (authid, row) = self.seal_new_grant(provider, &grant)?;
        self.inner.store.insert_grant(&row).await?;
        tracing::info!(provider = %provider.name, grant = ?row.id, "grant stored");
        Ok(authid)
    }

    /// A new authid and its grant row, sealed exactly as a sign-in seals it but not stored.
    /// Public so that the benchmarks' setup can insert many real rows in bulk.
    pub fn seal_new_grant(
        &self,
        provider: &ProviderConfig,
        grant: &crate::provider::TokenGrant,
    ) -> Result<(Authid, GrantRow), SignInError> {
        let refresh_token = grant
            .refresh_token
            .as_ref()
            .ok_or(SignInError::NoRefreshToken)?;
        let now = self.inner.clock.now();
        let secrets = GrantSecrets {
            refresh_token: refresh_token.to_string(),
            user_id: grant.user_id.clone(),
            scope: grant
                .scope
                .clone()
                .unwrap_or_else(|| provider.scopes.join(" ")),
            access: Some(cached_access(grant, now)),
        };

        let authid = Authid::generate();
        let id = authid.grant_id();
        let key = SealKey::for_grant(self.inner.master_keys.current(), &authid);
        let row = GrantRow {
            id,
            provider: provider.name.clone(),
            format: super::grant::FORMAT,
            master_key_id: self.inner.master_keys.current_id().to_owned(),
            sealed: secrets.seal(&key, &id, &provider.name),
            version: 1,
            reauth_required_at: None,
            created_at: now,
            updated_at: now,
            last_used_at: now,
        };
        Ok((authid, row))
    }

    async fn hand_to_program(
        &self,
        login_id: &str,
        authid: &Authid,
        provider: &ProviderConfig,
    ) -> Result<SignInDone, SignInError> {
        let login = self.inner.store.login(login_id).await?;
        let sealed = login
            .as_ref()
            .and_then(|l| seal_to(&l.poll_public_key, authid.encode().as_bytes()));
        let handed = match sealed {
            Some(sealed) => self.inner.store.finish_login(login_id, &sealed).await?,
            None => false,
        };
        if !handed {
            // Nobody can collect this grant; do not leave it behind.
            self.inner.store.delete_grant(&authid.grant_id()).await?;
            return Err(SignInError::LoginFinished);
        }
        Ok(SignInDone::HandedToProgram {
            provider: provider.display_name.clone(),
        })
    }
}
