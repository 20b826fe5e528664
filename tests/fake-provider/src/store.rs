//! The provider's memory: settings, its own clock, authorization codes, grants, tokens, users,
//! and what tests observe. Everything here is synchronous and runs under one lock.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

use crate::config::ProviderConfig;
use crate::error::OAuthError;
use crate::fault::Fault;
use crate::records::{RevocationRecord, TokenRequestRecord};
use crate::secret;

/// Index of a grant in [`Store::grants`].
pub(crate) type GrantId = usize;

/// An authorization code and everything the token request is checked against.
#[derive(Clone)]
pub(crate) struct Code {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: Option<String>,
    pub(crate) scope: Option<String>,
    pub(crate) user: String,
    pub(crate) offline: bool,
    pub(crate) expires_at: Instant,
}

/// One user's consent to one client, from code exchange until revoked.
pub(crate) struct Grant {
    pub(crate) client_id: String,
    pub(crate) user: String,
    pub(crate) user_id: String,
    pub(crate) scope: Option<String>,
    /// The refresh token that currently works; `None` when none was issued.
    pub(crate) refresh_token: Option<String>,
    pub(crate) revoked: bool,
}

struct CodeEntry {
    code: Code,
    used: bool,
    /// The grant the code was exchanged for, revoked if the code is replayed.
    grant: Option<GrantId>,
}

struct RefreshEntry {
    grant: GrantId,
    rotated_away: bool,
}

struct AccessEntry {
    grant: GrantId,
    scope: Option<String>,
    expires_at: Instant,
    revoked: bool,
}

/// What tests read back through the provider's observation methods.
#[derive(Default)]
pub(crate) struct Observations {
    pub(crate) token_requests: Vec<TokenRequestRecord>,
    pub(crate) authorize_requests: Vec<BTreeMap<String, String>>,
    pub(crate) revocations: Vec<RevocationRecord>,
    pub(crate) refresh_count: usize,
    pub(crate) code_exchange_count: usize,
    pub(crate) issued_secrets: Vec<String>,
}

/// All of the provider's state.
pub(crate) struct Store {
    pub(crate) config: ProviderConfig,
    /// How far [`crate::FakeProvider::advance_clock`] moved the provider's clock.
    pub(crate) clock_offset: Duration,
    /// Added before every `/token` response.
    pub(crate) delay: Duration,
    pub(crate) faults: VecDeque<Fault>,
    pub(crate) seen: Observations,
    codes: HashMap<String, CodeEntry>,
    grants: Vec<Grant>,
    refresh_tokens: HashMap<String, RefreshEntry>,
    access_tokens: HashMap<String, AccessEntry>,
    /// User id by user name, assigned at the first sign-in of that name.
    users: HashMap<String, String>,
}

impl Store {
    pub(crate) fn new(config: ProviderConfig) -> Self {
        Self {
            config,
            clock_offset: Duration::ZERO,
            delay: Duration::ZERO,
            faults: VecDeque::new(),
            seen: Observations::default(),
            codes: HashMap::new(),
            grants: Vec::new(),
            refresh_tokens: HashMap::new(),
            access_tokens: HashMap::new(),
            users: HashMap::new(),
        }
    }

    /// The provider's notion of now: tokio's clock plus every [`Self::clock_offset`] step.
    pub(crate) fn now(&self) -> Instant {
        Instant::now() + self.clock_offset
    }

    /// The user id for `user`, issued on the first sign-in of that name.
    pub(crate) fn sign_in(&mut self, user: &str) -> String {
        if let Some(user_id) = self.users.get(user) {
            return user_id.clone();
        }
        let user_id = self.remember(secret::random_user_id());
        self.users.insert(user.to_owned(), user_id.clone());
        user_id
    }

    /// Stores `code` and returns the new single-use authorization code.
    pub(crate) fn new_code(&mut self, code: Code) -> String {
        let value = self.remember(secret::random_token());
        let entry = CodeEntry {
            code,
            used: false,
            grant: None,
        };
        self.codes.insert(value.clone(), entry);
        value
    }

    /// Uses up `code`. A replayed code revokes the grant it was exchanged for (RFC 6749 10.5).
    pub(crate) fn redeem_code(&mut self, code: &str) -> Result<Code, OAuthError> {
        let entry = self
            .codes
            .get_mut(code)
            .ok_or(OAuthError::InvalidGrant("unknown code"))?;
        if entry.used {
            if let Some(grant) = entry.grant {
                self.revoke_grant(grant);
            }
            return Err(OAuthError::InvalidGrant("the code was already used"));
        }
        entry.used = true;
        Ok(entry.code.clone())
    }

    /// Records that `code` was exchanged for `grant`.
    pub(crate) fn bind_code(&mut self, code: &str, grant: GrantId) {
        if let Some(entry) = self.codes.get_mut(code) {
            entry.grant = Some(grant);
        }
    }

    /// Creates a live grant for the user a code was issued to.
    pub(crate) fn new_grant(&mut self, code: &Code) -> GrantId {
        let user_id = self.sign_in(&code.user);
        self.grants.push(Grant {
            client_id: code.client_id.clone(),
            user: code.user.clone(),
            user_id,
            scope: code.scope.clone(),
            refresh_token: None,
            revoked: false,
        });
        self.grants.len() - 1
    }

    pub(crate) fn grant(&self, id: GrantId) -> Option<&Grant> {
        self.grants.get(id)
    }

    /// Issues an access token for `grant` that expires after the configured lifetime.
    pub(crate) fn issue_access_token(&mut self, grant: GrantId, scope: Option<String>) -> String {
        let token = self.remember(secret::random_token());
        let expires_at = self.now() + self.config.access_token_lifetime;
        let entry = AccessEntry {
            grant,
            scope,
            expires_at,
            revoked: false,
        };
        self.access_tokens.insert(token.clone(), entry);
        token
    }

    /// Issues a new refresh token for `grant`; the previous one, if any, is rotated away.
    pub(crate) fn issue_refresh_token(&mut self, grant: GrantId) -> String {
        let token = self.remember(secret::random_token());
        let entry = RefreshEntry {
            grant,
            rotated_away: false,
        };
        self.refresh_tokens.insert(token.clone(), entry);
        let previous = self
            .grants
            .get_mut(grant)
            .and_then(|g| g.refresh_token.replace(token.clone()));
        if let Some(entry) = previous.and_then(|old| self.refresh_tokens.get_mut(&old)) {
            entry.rotated_away = true;
        }
        token
    }

    /// The grant of a refresh token and whether the token was rotated away; `None` if unknown.
    pub(crate) fn refresh_token(&self, token: &str) -> Option<(GrantId, bool)> {
        let entry = self.refresh_tokens.get(token)?;
        Some((entry.grant, entry.rotated_away))
    }

    /// The grant and scope of an access token that is valid now by the provider's clock.
    pub(crate) fn access_token(&self, token: &str) -> Option<(&Grant, Option<&str>)> {
        let entry = self.access_tokens.get(token)?;
        let grant = self.grants.get(entry.grant)?;
        let valid = !entry.revoked && !grant.revoked && self.now() < entry.expires_at;
        valid.then_some((grant, entry.scope.as_deref()))
    }

    /// The grant of an access token, valid or not.
    pub(crate) fn access_token_grant(&self, token: &str) -> Option<GrantId> {
        self.access_tokens.get(token).map(|entry| entry.grant)
    }

    /// Revokes one access token and nothing else.
    pub(crate) fn revoke_access_token(&mut self, token: &str) {
        if let Some(entry) = self.access_tokens.get_mut(token) {
            entry.revoked = true;
        }
    }

    /// Revokes a grant: every refresh token and access token of it stops working.
    pub(crate) fn revoke_grant(&mut self, id: GrantId) {
        if let Some(grant) = self.grants.get_mut(id) {
            grant.revoked = true;
        }
    }

    pub(crate) fn revoke_all_grants(&mut self) {
        self.grants
            .iter_mut()
            .for_each(|grant| grant.revoked = true);
    }

    pub(crate) fn live_grants(&self) -> usize {
        self.grants.iter().filter(|grant| !grant.revoked).count()
    }

    /// Adds a newly issued secret to the observations and returns it.
    fn remember(&mut self, secret: String) -> String {
        self.seen.issued_secrets.push(secret.clone());
        secret
    }
}
