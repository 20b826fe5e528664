//! `POST /v1/token` and `POST /v1/revoke`: access tokens from the cache or a refresh, and
//! deleting a grant.

use super::grant::{CachedAccess, GrantSecrets};
use super::pending::PendingWrite;
use super::{Broker, ServiceError};
use crate::clock::rfc3339;
use crate::crypto::authid::{Authid, GrantId};
use crate::crypto::seal::SealKey;
use crate::provider::{ProviderError, TokenGrant};
use crate::store::GrantRow;
use oauth_protocol::{TokenResponse, DEFAULT_MIN_VALID_SECS, MAX_MIN_VALID_SECS};
use std::time::Instant;

/// `last_used_at` is written at most this often per grant, keeping cache hits read-only.
const TOUCH_EVERY_SECS: i64 = 86_400;

/// The window of the shared refresh quota.
const REFRESH_WINDOW_SECS: i64 = 3600;

/// How far the clock that cached a token and the one reading it may disagree (another
/// replica's, or this one after a small step) before the token's age counts as unknown.
const CLOCK_SKEW_SECS: i64 = 60;

impl Broker {
    /// An access token valid for at least `min_valid_secs` (default 300, capped at half the
    /// token's lifetime), from the cache or by refreshing at the provider.
    pub async fn token(
        &self,
        authid: &Authid,
        min_valid_secs: Option<u64>,
    ) -> Result<TokenResponse, ServiceError> {
        let min_valid = min_valid_secs
            .unwrap_or(DEFAULT_MIN_VALID_SECS)
            .min(MAX_MIN_VALID_SECS);
        let (row, secrets, key) = self.open_grant_cached(authid).await?;
        // A refreshed record still waiting for the database is newer than the row: go and
        // write it first, under the lock.
        if !self.inner.pending.contains(&row.id) {
            if let Some(response) = self.cached(&row, &secrets, min_valid).await {
                if self.sealed_under_previous_key(&row) {
                    self.reseal(&row, &secrets, &key).await;
                }
                return Ok(response);
            }
        }

        let queued = Instant::now();
        let mut last_failure = self.inner.locks.lock(row.id).await;
        if let Some(error) = last_failure.since(queued) {
            return Err(error);
        }
        let result = self.refresh_with_db_lock(authid, min_valid, &key).await;
        last_failure.record(&result);
        result
    }

    /// Takes the grant's lock in the database, which other broker processes on the same
    /// database wait for too (PostgreSQL only), and refreshes.
    async fn refresh_with_db_lock(
        &self,
        authid: &Authid,
        min_valid: u64,
        key: &SealKey,
    ) -> Result<TokenResponse, ServiceError> {
        let _slot = match &self.inner.refresh_slots {
            Some(slots) => Some(
                slots
                    .acquire()
                    .await
                    .map_err(|_| ServiceError::Internal("refresh slots closed".into()))?,
            ),
            None => None,
        };
        let db_lock = self.inner.store.lock_grant(&authid.grant_id()).await?;
        let result = self.refresh_locked(authid, min_valid, key).await;
        db_lock.release().await;
        result
    }

    /// The refresh proper, with both locks held.
    async fn refresh_locked(
        &self,
        authid: &Authid,
        min_valid: u64,
        key: &SealKey,
    ) -> Result<TokenResponse, ServiceError> {
        // Never refresh past a refreshed record the database has not taken yet: the stored
        // refresh token may be rotated away already.
        self.flush_pending(&authid.grant_id()).await?;
        // Whoever held the lock before us has probably refreshed already: look again.
        let (row, secrets, _) = self.open_grant(authid).await?;
        if let Some(response) = self.cached(&row, &secrets, min_valid).await {
            return Ok(response);
        }
        self.refresh(row, secrets, key).await
    }

    /// The cached token, if it is valid long enough. Counts the hit and touches the row daily.
    async fn cached(
        &self,
        row: &GrantRow,
        secrets: &GrantSecrets,
        min_valid: u64,
    ) -> Option<TokenResponse> {
        let access = secrets.access.as_ref()?;
        let now = self.inner.clock.now();
        let needed = min_valid.min(access.lifetime / 2);
        let remaining = access.expires_at.saturating_sub(now);
        let lifetime = i64::try_from(access.lifetime).unwrap_or(i64::MAX);
        // More left than the token's whole lifetime means the clock went back since it was
        // cached (or a replica's clock ran ahead): its real age is unknown, so refresh rather
        // than serve a token that may be dead.
        if row.reauth_required_at.is_some()
            || remaining <= i64::try_from(needed).unwrap_or(i64::MAX)
            || remaining > lifetime.saturating_add(CLOCK_SKEW_SECS)
        {
            return None;
        }

        self.inner.metrics.cache_hit(&row.provider);
        if now - row.last_used_at >= TOUCH_EVERY_SECS {
            if let Err(error) = self.inner.store.touch_grant(&row.id, now).await {
                tracing::warn!(%error, "cannot update a grant's last-used time");
            }
        }
        Some(response(access, secrets, &row.provider, now))
    }

    async fn refresh(
        &self,
        row: GrantRow,
        mut secrets: GrantSecrets,
        key: &SealKey,
    ) -> Result<TokenResponse, ServiceError> {
        if row.reauth_required_at.is_some() {
            return Err(ServiceError::ReauthRequired);
        }
        let provider = self.provider(&row.provider).ok_or_else(|| {
            ServiceError::BadRequest(
                "this authid belongs to a provider the broker no longer offers".into(),
            )
        })?;
        self.check_refresh_quota(&row.id).await?;

        let result = self
            .inner
            .client
            .refresh(provider, &secrets.refresh_token)
            .await;
        let grant = self.refresh_outcome(&row, result).await?;
        let now = self.inner.clock.now();
        apply(&mut secrets, grant, now);

        let sealed = secrets.seal(key, &row.id, &row.provider);
        let master_key_id = self.inner.master_keys.current_id();
        let stored = match self
            .inner
            .store
            .update_grant(&row.id, row.version, &sealed, master_key_id, now)
            .await
        {
            Ok(stored) => stored,
            Err(error) => {
                let write = PendingWrite {
                    expected_version: row.version,
                    sealed,
                    master_key_id: master_key_id.to_owned(),
                    refreshed_at: now,
                };
                self.keep_pending(row.id, write);
                return Err(error.into());
            }
        };
        if !stored {
            // Only a revoke can race us here (refreshes hold the lock), so the grant is gone.
            return Err(ServiceError::InvalidAuthid);
        }
        let access = secrets
            .access
            .as_ref()
            .ok_or_else(|| ServiceError::Internal("no access token".into()))?;
        Ok(response(access, &secrets, &row.provider, now))
    }

    /// Seals a row written under a previous master key again under the current one, after a
    /// rotation. A lost race (a refresh wrote the row meanwhile, under the current key) is fine.
    async fn reseal(&self, row: &GrantRow, secrets: &GrantSecrets, key: &SealKey) {
        let sealed = secrets.seal(key, &row.id, &row.provider);
        let master_key_id = self.inner.master_keys.current_id();
        let now = self.inner.clock.now();
        match self
            .inner
            .store
            .update_grant(&row.id, row.version, &sealed, master_key_id, now)
            .await
        {
            Ok(_) => {
                tracing::debug!(grant = ?row.id, "grant sealed again under the current master key")
            }
            Err(error) => {
                tracing::warn!(%error, "cannot seal a grant again under the current master key")
            }
        }
    }

    /// Counts this refresh against the grant's hourly quota: shared by every replica on
    /// PostgreSQL, in memory for a single SQLite broker.
    async fn check_refresh_quota(&self, id: &GrantId) -> Result<(), ServiceError> {
        let quota = i64::from(self.inner.config.limits.refreshes_per_hour);
        let now = super::limits::unix_now();
        match self
            .inner
            .store
            .count_refresh(id, now, REFRESH_WINDOW_SECS)
            .await?
        {
            Some((count, start)) if count > quota => {
                let retry_after = u64::try_from(start + REFRESH_WINDOW_SECS - now).unwrap_or(1);
                Err(ServiceError::RateLimited {
                    retry_after: retry_after.max(1),
                })
            }
            Some(_) => Ok(()),
            None => self
                .inner
                .limits
                .check_refresh(id)
                .map_err(|retry_after| ServiceError::RateLimited { retry_after }),
        }
    }

    /// Records the refresh's outcome in metrics, logs, and (for `invalid_grant`) the store.
    async fn refresh_outcome(
        &self,
        row: &GrantRow,
        result: Result<TokenGrant, ProviderError>,
    ) -> Result<TokenGrant, ServiceError> {
        let provider = row.provider.as_str();
        match result {
            Ok(grant) => {
                self.inner.metrics.refresh(provider, "ok");
                tracing::debug!(
                    provider,
                    rotated = grant.refresh_token.is_some(),
                    "refreshed at provider"
                );
                Ok(grant)
            }
            Err(ProviderError::InvalidGrant) => {
                self.inner.metrics.refresh(provider, "invalid_grant");
                tracing::info!(provider, grant = ?row.id, "provider refused the refresh token");
                self.inner
                    .store
                    .mark_reauth_required(&row.id, self.inner.clock.now())
                    .await?;
                Err(ServiceError::ReauthRequired)
            }
            Err(error @ ProviderError::Unavailable { .. }) => {
                self.inner.metrics.refresh(provider, "unavailable");
                tracing::warn!(provider, %error, "refresh failed");
                Err(error.into())
            }
            Err(error @ ProviderError::Rejected { .. }) => {
                self.inner.metrics.refresh(provider, "rejected");
                tracing::error!(provider, %error, "provider rejected the broker's refresh request");
                Err(error.into())
            }
        }
    }

    /// Deletes the grant and revokes its refresh token at the provider when it can. Unknown
    /// grants are fine (revoking twice is not an error); a known grant with the wrong secret
    /// part is `InvalidAuthid`.
    pub async fn revoke(&self, authid: &Authid) -> Result<(), ServiceError> {
        let Some(row) = self.inner.store.grant(&authid.grant_id()).await? else {
            return Ok(());
        };
        let (row, secrets, _) = self.open_row(authid, row)?;

        let _guard = self.inner.locks.lock(row.id).await;
        if let Some(provider) = self.provider(&row.provider) {
            if let Err(error) = self
                .inner
                .client
                .revoke(provider, &secrets.refresh_token)
                .await
            {
                let provider = row.provider.as_str();
                tracing::warn!(provider, %error, "provider revocation failed; deleting anyway");
            }
        }
        self.inner.store.delete_grant(&row.id).await?;
        tracing::info!(provider = %row.provider, grant = ?row.id, "grant revoked");
        Ok(())
    }
}

/// Folds a refresh reply into the secrets. A missing refresh token keeps the old one
/// (RFC 6749 section 6); a new one replaces it.
fn apply(secrets: &mut GrantSecrets, grant: TokenGrant, now: i64) {
    if let Some(rotated) = &grant.refresh_token {
        secrets.refresh_token = rotated.to_string();
    }
    if let Some(scope) = &grant.scope {
        secrets.scope = scope.clone();
    }
    secrets.access = Some(cached_access(&grant, now));
}

/// The cache entry for a fresh token reply.
pub(super) fn cached_access(grant: &TokenGrant, now: i64) -> CachedAccess {
    CachedAccess {
        token: grant.access_token.to_string(),
        token_type: grant.token_type.clone(),
        expires_at: now.saturating_add(i64::try_from(grant.expires_in).unwrap_or(i64::MAX)),
        lifetime: grant.expires_in,
    }
}

fn response(
    access: &CachedAccess,
    secrets: &GrantSecrets,
    provider: &str,
    now: i64,
) -> TokenResponse {
    // Never promise more than the token's lifetime, whatever the clock did.
    let lifetime = i64::try_from(access.lifetime).unwrap_or(i64::MAX);
    let expires_at = access.expires_at.min(now.saturating_add(lifetime));
    TokenResponse {
        access_token: access.token.clone(),
        token_type: access.token_type.clone(),
        expires_in: u64::try_from(expires_at.saturating_sub(now)).unwrap_or(0),
        expires_at: rfc3339(expires_at),
        scope: secrets.scope.clone(),
        provider: provider.to_owned(),
    }
}
