//! `grant_type=refresh_token` (RFC 6749 section 6): issues a new access token and applies the
//! provider's [`Rotation`] to the refresh token, including reuse detection.

use crate::config::Rotation;
use crate::error::OAuthError;
use crate::form::Params;
use crate::store::{GrantId, Store};
use crate::token::{self, TokenResponse};

/// Refreshes the grant of the presented refresh token.
pub(crate) fn refresh(
    store: &mut Store,
    client_id: &str,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    if store.config.reject_redirect_uri_on_refresh && params.get("redirect_uri").is_some() {
        return Err(OAuthError::invalid_request(
            "redirect_uri is not allowed on refresh",
        ));
    }
    let presented = params.require("refresh_token")?;
    let grant = live_grant(store, client_id, presented)?;
    let scope = narrowed_scope(store, grant, params.get("scope"))?;
    let refresh_token = match store.config.rotation {
        Rotation::Never => {
            let repeat = store.config.refresh_returns_refresh_token;
            repeat.then(|| presented.to_owned())
        }
        Rotation::Always | Rotation::AlwaysRevokeOnReuse => Some(store.issue_refresh_token(grant)),
    };
    Ok(token::reply(store, grant, scope, refresh_token))
}

/// The grant of a refresh token that may be used now. Presenting a rotated-away token is
/// refused, and with [`Rotation::AlwaysRevokeOnReuse`] it revokes the whole grant.
fn live_grant(store: &mut Store, client_id: &str, presented: &str) -> Result<GrantId, OAuthError> {
    let unknown = OAuthError::InvalidGrant("unknown or revoked refresh token");
    let (grant, rotated_away) = store.refresh_token(presented).ok_or(unknown)?;
    let live = store
        .grant(grant)
        .is_some_and(|g| !g.revoked && g.client_id == client_id);
    if !live {
        return Err(OAuthError::InvalidGrant("unknown or revoked refresh token"));
    }
    if rotated_away && !store.config.old_refresh_tokens_stay_valid {
        if store.config.rotation == Rotation::AlwaysRevokeOnReuse {
            tracing::debug!(
                grant,
                "a rotated-away refresh token was reused: revoking the grant"
            );
            store.revoke_grant(grant);
        }
        return Err(OAuthError::InvalidGrant(
            "the refresh token was rotated away",
        ));
    }
    Ok(grant)
}

/// The requested scope if it is within the granted one (RFC 6749 section 6), else the granted
/// scope.
fn narrowed_scope(
    store: &Store,
    grant: GrantId,
    requested: Option<&str>,
) -> Result<Option<String>, OAuthError> {
    let granted = store.grant(grant).and_then(|grant| grant.scope.clone());
    let Some(requested) = requested else {
        return Ok(granted);
    };
    let granted_words: Vec<&str> = granted.as_deref().unwrap_or_default().split(' ').collect();
    if requested
        .split(' ')
        .all(|word| granted_words.contains(&word))
    {
        Ok(Some(requested.to_owned()))
    } else {
        Err(OAuthError::InvalidScope)
    }
}
