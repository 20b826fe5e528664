//! `grant_type=authorization_code` (RFC 6749 section 4.1.3, RFC 7636 section 4.6): checks the
//! code against what the authorization request bound it to, then creates the grant.

use crate::error::OAuthError;
use crate::form::Params;
use crate::secret;
use crate::store::{Code, Store};
use crate::token::{self, TokenResponse};

/// Exchanges a code for an access token and, when the grant allows one, a refresh token.
pub(crate) fn exchange_code(
    store: &mut Store,
    client_id: &str,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let value = params.require("code")?;
    let redirect_uri = params.require("redirect_uri")?;
    let code = store.redeem_code(value)?;
    check(store, &code, client_id, redirect_uri)?;
    check_verifier(&code, params.get("code_verifier"))?;

    let grant = store.new_grant(&code);
    store.bind_code(value, grant);
    let issues_refresh_token = code.offline || store.config.offline_param.is_none();
    let refresh_token = issues_refresh_token.then(|| store.issue_refresh_token(grant));
    Ok(token::reply(store, grant, code.scope, refresh_token))
}

fn check(
    store: &Store,
    code: &Code,
    client_id: &str,
    redirect_uri: &str,
) -> Result<(), OAuthError> {
    if store.now() >= code.expires_at {
        return Err(OAuthError::InvalidGrant("the code has expired"));
    }
    if code.client_id != client_id {
        return Err(OAuthError::InvalidGrant(
            "the code was issued to another client",
        ));
    }
    if code.redirect_uri != redirect_uri {
        return Err(OAuthError::InvalidGrant(
            "redirect_uri differs from the authorization request",
        ));
    }
    Ok(())
}

/// The PKCE check. A verifier without a challenge is refused too, so a client cannot be
/// downgraded to no PKCE unnoticed.
fn check_verifier(code: &Code, verifier: Option<&str>) -> Result<(), OAuthError> {
    match (&code.code_challenge, verifier) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(OAuthError::invalid_request(
            "missing parameter code_verifier",
        )),
        (None, Some(_)) => Err(OAuthError::InvalidGrant(
            "code_verifier without a code_challenge",
        )),
        (Some(challenge), Some(verifier)) if secret::pkce_matches(verifier, challenge) => Ok(()),
        (Some(_), Some(_)) => Err(OAuthError::InvalidGrant("code_verifier does not match")),
    }
}
