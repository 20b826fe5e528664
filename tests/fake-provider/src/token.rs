//! `POST /token` (RFC 6749 sections 4.1.3 and 6): records the request, applies the configured
//! delay and any queued fault, authenticates the client, and hands the grant type to
//! [`crate::exchange`] or [`crate::refresh`].

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::error::{no_store, OAuthError};
use crate::fault::Fault;
use crate::form::{self, Params};
use crate::provider::FakeProvider;
use crate::records::TokenRequestRecord;
use crate::store::{GrantId, Store};
use crate::{client_auth, exchange, refresh};

/// A successful token response (RFC 6749 section 5.1) plus the provider's `user_id`.
#[derive(Debug, Serialize)]
pub(crate) struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    user_id: String,
}

/// Issues an access token for `grant` and builds the response around it.
pub(crate) fn reply(
    store: &mut Store,
    grant: GrantId,
    scope: Option<String>,
    refresh_token: Option<String>,
) -> TokenResponse {
    let access_token = store.issue_access_token(grant, scope.clone());
    let user_id = store
        .grant(grant)
        .map(|grant| grant.user_id.clone())
        .unwrap_or_default();
    TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: store.config.access_token_lifetime.as_secs(),
        refresh_token,
        scope,
        user_id,
    }
}

/// `POST /token`.
#[tracing::instrument(name = "fake_provider", skip_all, fields(route = "POST /token"))]
pub(crate) async fn token(
    State(provider): State<FakeProvider>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&provider, &headers, &body);
    let fault = delay_and_fault(&provider).await;
    if let Some(fault) = &fault {
        if let Some(response) = fault.before().await {
            return response;
        }
    }
    let outcome = handle(&provider, &headers, &body);
    match fault {
        Some(fault) => fault.reply(outcome),
        None => respond(outcome),
    }
}

/// The normal response for the outcome of handling a request.
pub(crate) fn respond(outcome: Result<TokenResponse, OAuthError>) -> Response {
    match outcome {
        Ok(reply) => (StatusCode::OK, no_store(), Json(reply)).into_response(),
        Err(error) => error.into_response(),
    }
}

fn record(provider: &FakeProvider, headers: &HeaderMap, body: &[u8]) {
    let form = form::lenient(body);
    let grant_type = form.get("grant_type").cloned().unwrap_or_default();
    let record = TokenRequestRecord {
        basic_auth: client_auth::basic_credentials(headers).and_then(Result::ok),
        content_type: form::content_type(headers).map(str::to_owned),
        grant_type,
        form,
    };
    let mut store = provider.lock();
    match record.grant_type.as_str() {
        "refresh_token" => store.seen.refresh_count += 1,
        "authorization_code" => store.seen.code_exchange_count += 1,
        _ => {}
    }
    store.seen.token_requests.push(record);
}

/// Waits out the configured delay, then takes the next queued fault, if any.
async fn delay_and_fault(provider: &FakeProvider) -> Option<Fault> {
    let delay = provider.lock().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let fault = provider.lock().faults.pop_front()?;
    tracing::debug!(?fault, "applying an injected fault");
    Some(fault)
}

fn handle(
    provider: &FakeProvider,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TokenResponse, OAuthError> {
    if !form::is_form(headers) {
        let description = "the body must be application/x-www-form-urlencoded";
        return Err(OAuthError::invalid_request(description));
    }
    let params = Params::parse(body)?;
    let mut store = provider.lock();
    let client_id = client_auth::authenticate(&store.config, headers, &params)?;
    match params.require("grant_type")? {
        "authorization_code" => exchange::exchange_code(&mut store, &client_id, &params),
        "refresh_token" => refresh::refresh(&mut store, &client_id, &params),
        _ => Err(OAuthError::UnsupportedGrantType),
    }
}
