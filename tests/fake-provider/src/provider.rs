//! [`FakeProvider`]: the shared handle that owns the provider's state, builds its router, and
//! offers the test controls and observations.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;

use crate::config::ProviderConfig;
use crate::fault::Fault;
use crate::records::{RevocationRecord, TokenRequestRecord};
use crate::store::Store;
use crate::{authorize, revoke, token, whoami};

/// An in-memory OAuth 2.0 provider. Clones share one state.
#[derive(Clone)]
pub struct FakeProvider {
    store: Arc<Mutex<Store>>,
}

impl FakeProvider {
    /// A provider with no grants, behaving as `config` says.
    pub fn new(config: ProviderConfig) -> Self {
        Self {
            store: Arc::new(Mutex::new(Store::new(config))),
        }
    }

    /// The provider's routes: `/authorize` (GET and POST), `/token`, `/revoke` and
    /// `/api/whoami`. The generated HTML uses relative form actions only, so the router works
    /// nested under any prefix.
    pub fn router(&self) -> Router {
        Router::new()
            .route(
                "/authorize",
                get(authorize::show_consent).post(authorize::decide),
            )
            .route("/token", post(token::token))
            .route("/revoke", post(revoke::revoke))
            .route("/api/whoami", get(whoami::whoami))
            .with_state(self.clone())
    }

    /// Queues a fault; each `/token` request pops one (first queued first) before normal
    /// handling.
    pub fn inject(&self, fault: Fault) {
        self.lock().faults.push_back(fault);
    }

    /// Delays every later `/token` response by `delay`, as a slow provider would.
    pub fn set_delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    /// Sets the lifetime of access tokens issued from now on.
    pub fn set_access_token_lifetime(&self, lifetime: Duration) {
        self.lock().config.access_token_lifetime = lifetime;
    }

    /// Moves the provider's own clock forward, which expires codes (after 600 s) and access
    /// tokens without waiting.
    pub fn advance_clock(&self, step: Duration) {
        self.lock().clock_offset += step;
    }

    /// Every `/token` request received, oldest first.
    pub fn token_requests(&self) -> Vec<TokenRequestRecord> {
        self.lock().seen.token_requests.clone()
    }

    /// The query parameters of every `GET /authorize`, oldest first.
    pub fn authorize_requests(&self) -> Vec<BTreeMap<String, String>> {
        self.lock().seen.authorize_requests.clone()
    }

    /// Every `/revoke` request received, oldest first.
    pub fn revocations(&self) -> Vec<RevocationRecord> {
        self.lock().seen.revocations.clone()
    }

    /// How many `grant_type=refresh_token` requests arrived, whatever their outcome.
    pub fn refresh_count(&self) -> usize {
        self.lock().seen.refresh_count
    }

    /// How many `grant_type=authorization_code` requests arrived, whatever their outcome.
    pub fn code_exchange_count(&self) -> usize {
        self.lock().seen.code_exchange_count
    }

    /// Every code, access token, refresh token and user id ever issued, e.g. to check that none
    /// of them shows up in a log.
    pub fn issued_secrets(&self) -> Vec<String> {
        self.lock().seen.issued_secrets.clone()
    }

    /// Revokes every grant, as if each user withdrew consent: the next refresh of any refresh
    /// token gives `invalid_grant`, and access tokens stop working too.
    pub fn revoke_all_grants(&self) {
        self.lock().revoke_all_grants();
    }

    /// Whether `token` is an access token that `/api/whoami` would accept now.
    pub fn is_access_token_valid(&self, token: &str) -> bool {
        self.lock().access_token(token).is_some()
    }

    /// How many grants are not revoked.
    pub fn live_grants(&self) -> usize {
        self.lock().live_grants()
    }

    /// The state, for one synchronous step. A panic elsewhere cannot leave the store half
    /// updated in a way that matters to a test double, so a poisoned lock is simply taken over.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for FakeProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let store = self.lock();
        f.debug_struct("FakeProvider")
            .field("name", &store.config.name)
            .field("client_id", &store.config.client_id)
            .field("live_grants", &store.live_grants())
            .finish_non_exhaustive()
    }
}
