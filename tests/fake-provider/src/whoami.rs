//! `GET /api/whoami`: the resource server tests use to prove an access token works. It answers
//! who the token belongs to while the token is valid by the provider's clock.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::error::OAuthError;
use crate::provider::FakeProvider;

#[derive(Serialize)]
struct Whoami {
    user: String,
    user_id: String,
    scope: Option<String>,
}

/// `GET /api/whoami` with `Authorization: Bearer <access token>` (RFC 6750 section 2.1).
#[tracing::instrument(name = "fake_provider", skip_all, fields(route = "GET /api/whoami"))]
pub(crate) async fn whoami(State(provider): State<FakeProvider>, headers: HeaderMap) -> Response {
    let store = provider.lock();
    let owner = bearer_token(&headers).and_then(|token| store.access_token(token));
    let Some((grant, scope)) = owner else {
        return OAuthError::InvalidToken.into_response();
    };
    let scope = scope.map(str::to_owned);
    Json(Whoami {
        user: grant.user.clone(),
        user_id: grant.user_id.clone(),
        scope,
    })
    .into_response()
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}
