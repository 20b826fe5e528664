//! `POST /revoke` (RFC 7009): records the request, authenticates the client as `/token` does,
//! and revokes a refresh token's whole grant or a single access token.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::client_auth;
use crate::error::OAuthError;
use crate::form::{self, Params};
use crate::provider::FakeProvider;
use crate::records::RevocationRecord;
use crate::store::Store;

/// `POST /revoke`. Unknown tokens are answered `200` too (RFC 7009 section 2.2).
#[tracing::instrument(name = "fake_provider", skip_all, fields(route = "POST /revoke"))]
pub(crate) async fn revoke(
    State(provider): State<FakeProvider>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&provider, &headers, &body);
    match handle(&provider, &headers, &body) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(error) => error.into_response(),
    }
}

fn record(provider: &FakeProvider, headers: &HeaderMap, body: &[u8]) {
    let form = form::lenient(body);
    let record = RevocationRecord {
        token: form.get("token").cloned().unwrap_or_default(),
        token_type_hint: form.get("token_type_hint").cloned(),
        basic_auth: client_auth::basic_credentials(headers).and_then(Result::ok),
        form,
    };
    provider.lock().seen.revocations.push(record);
}

fn handle(provider: &FakeProvider, headers: &HeaderMap, body: &[u8]) -> Result<(), OAuthError> {
    if !form::is_form(headers) {
        let description = "the body must be application/x-www-form-urlencoded";
        return Err(OAuthError::invalid_request(description));
    }
    let params = Params::parse(body)?;
    let mut store = provider.lock();
    let client_id = client_auth::authenticate(&store.config, headers, &params)?;
    revoke_token(&mut store, &client_id, params.require("token")?);
    Ok(())
}

/// Revokes `token` if it was issued to `client_id`: a refresh token takes its grant (and so
/// every access token of it) along, an access token goes alone. The hint is not needed, since
/// both kinds are looked up.
fn revoke_token(store: &mut Store, client_id: &str, token: &str) {
    let owned = |store: &Store, grant| store.grant(grant).is_some_and(|g| g.client_id == client_id);
    if let Some((grant, _)) = store.refresh_token(token) {
        if owned(store, grant) {
            store.revoke_grant(grant);
        }
    } else if let Some(grant) = store.access_token_grant(token) {
        if owned(store, grant) {
            store.revoke_access_token(token);
        }
    }
}
