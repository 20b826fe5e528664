//! `/authorize` (RFC 6749 section 4.1.1, RFC 7636): validates the authorization request, shows
//! the consent page, and turns the user's decision into a redirect carrying a code or an error.
//! A request whose client or redirect URI cannot be trusted gets an error page, never a redirect.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use url::Url;

use crate::config::ProviderConfig;
use crate::consent;
use crate::form::{self, Params};
use crate::provider::FakeProvider;
use crate::secret;
use crate::store::Code;

/// How long an authorization code can be exchanged, by the provider's clock.
const CODE_LIFETIME: Duration = Duration::from_secs(600);

/// The user name when the consent form sends none.
const DEFAULT_USER: &str = "demo-user";

/// An authorization request that passed every check.
struct Checked {
    redirect_uri: Url,
    state: Option<String>,
    code_challenge: Option<String>,
    offline: bool,
}

/// Why an authorization request was refused.
enum Rejection {
    /// The client or redirect URI is not trusted: show an error page.
    Page(String),
    /// The redirect URI is trusted: send the error back to the client.
    Redirect(Url),
}

/// `GET /authorize`: records the query and shows the consent page.
#[tracing::instrument(name = "fake_provider", skip_all, fields(route = "GET /authorize"))]
pub(crate) async fn show_consent(
    State(provider): State<FakeProvider>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let mut store = provider.lock();
    store
        .seen
        .authorize_requests
        .push(form::lenient(query.as_bytes()));
    let checked = Params::parse(query.as_bytes())
        .map_err(|error| Rejection::Page(error.to_string()))
        .and_then(|params| check(&store.config, &params).map(|_| params));
    match checked {
        Ok(params) => consent::page(&store.config.name, &params),
        Err(rejection) => rejection.into_response(),
    }
}

/// `POST /authorize`: the consent form's answer, with the authorization parameters carried in
/// hidden inputs (or left in the query of the URL the form posts to).
#[tracing::instrument(name = "fake_provider", skip_all, fields(route = "POST /authorize"))]
pub(crate) async fn decide(
    State(provider): State<FakeProvider>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    match decide_params(&provider, query.unwrap_or_default().as_bytes(), &body) {
        Ok(location) => see_other(location),
        Err(rejection) => rejection.into_response(),
    }
}

fn decide_params(provider: &FakeProvider, query: &[u8], body: &[u8]) -> Result<Url, Rejection> {
    let page = |error: crate::error::OAuthError| Rejection::Page(error.to_string());
    let params = Params::parse(query)
        .map_err(page)?
        .overlay(Params::parse(body).map_err(page)?);
    let mut store = provider.lock();
    let checked = check(&store.config, &params)?;
    match params.get("decision") {
        Some("allow") => {}
        Some("deny") => {
            let description = "The user denied access";
            return Err(error_redirect(&checked, "access_denied", description));
        }
        _ => return Err(Rejection::Page("decision must be allow or deny".into())),
    }
    let user = params.get("user").unwrap_or(DEFAULT_USER).to_owned();
    store.sign_in(&user);
    let code = Code {
        client_id: store.config.client_id.clone(),
        redirect_uri: params.get("redirect_uri").unwrap_or_default().to_owned(),
        code_challenge: checked.code_challenge.clone(),
        scope: params.get("scope").map(str::to_owned),
        user,
        offline: checked.offline,
        expires_at: store.now() + CODE_LIFETIME,
    };
    let code = store.new_code(code);
    Ok(with_params(&checked, &[("code", &code)]))
}

/// Checks the request in the order RFC 6749 section 4.1.2.1 asks: client and redirect URI
/// first (error page), then everything else (error redirect).
fn check(config: &ProviderConfig, params: &Params) -> Result<Checked, Rejection> {
    if params.get("client_id") != Some(config.client_id.as_str()) {
        return Err(Rejection::Page("unknown or missing client_id".into()));
    }
    let redirect_uri = params.get("redirect_uri").and_then(trusted_redirect_uri);
    let redirect_uri =
        redirect_uri.ok_or(Rejection::Page("missing or invalid redirect_uri".into()))?;
    let mut checked = Checked {
        redirect_uri,
        state: params.get("state").map(str::to_owned),
        code_challenge: None,
        offline: is_offline(config, params),
    };
    let redirect = |(error, description)| error_redirect(&checked, error, description);
    response_type(params).map_err(redirect)?;
    let pkce = code_challenge(config, params);
    checked.code_challenge =
        pkce.map_err(|description| redirect(("invalid_request", description)))?;
    Ok(checked)
}

/// Only the code flow is offered; the error and its description otherwise.
fn response_type(params: &Params) -> Result<(), (&'static str, &'static str)> {
    match params.get("response_type") {
        Some("code") => Ok(()),
        None => Err(("invalid_request", "missing response_type")),
        Some(_) => Err((
            "unsupported_response_type",
            "only response_type=code is supported",
        )),
    }
}

/// An absolute `http` or `https` URI without a fragment (RFC 6749 section 3.1.2).
fn trusted_redirect_uri(value: &str) -> Option<Url> {
    let url = Url::parse(value).ok()?;
    let web = matches!(url.scheme(), "http" | "https") && url.has_host();
    (web && url.fragment().is_none()).then_some(url)
}

/// The S256 code challenge, if any; only S256 is accepted (RFC 7636 section 4.3).
fn code_challenge(
    config: &ProviderConfig,
    params: &Params,
) -> Result<Option<String>, &'static str> {
    let method = params.get("code_challenge_method");
    let Some(challenge) = params.get("code_challenge") else {
        return match (method, config.require_pkce) {
            (Some(_), _) => Err("code_challenge_method without code_challenge"),
            (None, true) => Err("code_challenge is required"),
            (None, false) => Ok(None),
        };
    };
    if method != Some("S256") {
        return Err("code_challenge_method must be S256");
    }
    if !secret::is_pkce_value(challenge) {
        return Err("code_challenge is malformed");
    }
    Ok(Some(challenge.to_owned()))
}

fn is_offline(config: &ProviderConfig, params: &Params) -> bool {
    let Some((name, value)) = &config.offline_param else {
        return false;
    };
    params.get(name) == Some(value.as_str())
}

fn error_redirect(checked: &Checked, error: &str, description: &str) -> Rejection {
    let params = [("error", error), ("error_description", description)];
    Rejection::Redirect(with_params(checked, &params))
}

/// The redirect URI with `params` and the client's `state` appended to its query.
fn with_params(checked: &Checked, params: &[(&str, &str)]) -> Url {
    let mut url = checked.redirect_uri.clone();
    {
        let mut query = url.query_pairs_mut();
        query.extend_pairs(params);
        if let Some(state) = &checked.state {
            query.append_pair("state", state);
        }
    }
    url
}

fn see_other(location: Url) -> Response {
    match HeaderValue::from_str(location.as_str()) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => consent::error_page("the redirect_uri cannot be used in a Location header"),
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Rejection::Page(message) => {
                tracing::debug!(%message, "refused an authorization request");
                consent::error_page(&message)
            }
            Rejection::Redirect(location) => see_other(location),
        }
    }
}
