//! The server-rendered pages: provider picker, sign-in start, callback, error pages.

use crate::service::{Broker, CallbackParams, SignInDone, SignInError};
use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;

/// The browser-binding cookie.
const BROWSER_COOKIE: &str = "oauth_broker_browser";

/// Provider error descriptions are shown at most this long.
const MAX_DETAIL_CHARS: usize = 300;

struct ProviderLink {
    href: String,
    display_name: String,
}

/// Query of `GET /`: Duplicati narrows the picker with `type` and, in its older flow, names the
/// `token` it will collect the authid with at `/fetch`. No `Debug`: the token is a poll secret.
#[derive(Default, Deserialize)]
struct IndexQuery {
    #[serde(rename = "type")]
    duplicati_type: Option<String>,
    token: Option<String>,
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    providers: Vec<ProviderLink>,
}

#[derive(Template)]
#[template(path = "authid.html")]
struct AuthidPage<'a> {
    provider: &'a str,
    authid: &'a str,
}

#[derive(Template)]
#[template(path = "done.html")]
struct DonePage<'a> {
    provider: &'a str,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    detail: Option<String>,
}

fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "page rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// `GET /`.
pub async fn index(State(broker): State<Broker>, RawQuery(query): RawQuery) -> Response {
    let query: IndexQuery =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let compat = &broker.config().compat;
    let narrowed = query
        .duplicati_type
        .as_deref()
        .filter(|_| compat.duplicati)
        .and_then(|id| compat.provider_for(id));

    let Some(provider) = narrowed else {
        let providers = broker.config().providers.values().map(link).collect();
        return render(StatusCode::OK, &IndexPage { providers });
    };
    let Some(provider) = broker.config().providers.get(provider) else {
        return error_page(&SignInError::UnknownProvider);
    };
    let mut only = link(provider);
    if let Some(token) = &query.token {
        match duplicati_login(&broker, &provider.name, token).await {
            Ok(login_id) => only.href = format!("{}?login_id={login_id}", only.href),
            Err(error) => return error_page(&error),
        }
    }
    render(
        StatusCode::OK,
        &IndexPage {
            providers: vec![only],
        },
    )
}

fn link(provider: &crate::config::ProviderConfig) -> ProviderLink {
    ProviderLink {
        href: format!("/login/{}", provider.name),
        display_name: provider.display_name.clone(),
    }
}

async fn duplicati_login(
    broker: &Broker,
    provider: &str,
    token: &str,
) -> Result<String, SignInError> {
    if !super::compat::token_ok(token) {
        return Err(SignInError::UnknownLogin);
    }
    broker
        .fetch_login(provider, token)
        .await
        .map_err(SignInError::from)
}

/// Query of `GET /login/{provider}`.
#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    login_id: Option<String>,
}

/// `GET /login/{provider}[?login_id=ID]`: redirects to the provider.
pub async fn login(
    State(broker): State<Broker>,
    provider: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    jar: CookieJar,
) -> Response {
    // A name that is not even UTF-8 is no provider's.
    let Ok(Path(provider)) = provider else {
        return error_page(&SignInError::UnknownProvider);
    };
    let query: LoginQuery =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let existing = jar.get(BROWSER_COOKIE).map(|c| c.value().to_owned());
    let start = broker
        .start_signin(&provider, query.login_id.as_deref(), existing.as_deref())
        .await;
    let start = match start {
        Ok(start) => start,
        Err(error) => return error_page(&error),
    };

    let secure = broker.config().public_url.scheme() == "https";
    let cookie = Cookie::build((BROWSER_COOKIE, start.browser_cookie.to_string()))
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(time::Duration::days(1));
    (jar.add(cookie), Redirect::to(start.authorize_url.as_str())).into_response()
}

/// `GET /callback`.
pub async fn callback(
    State(broker): State<Broker>,
    RawQuery(query): RawQuery,
    jar: CookieJar,
) -> Response {
    // A query that does not parse is treated as one without `state`: the error page says so.
    let params: CallbackParams =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let cookie = jar.get(BROWSER_COOKIE).map(|c| c.value().to_owned());
    match broker.finish_signin(&params, cookie.as_deref()).await {
        Ok(SignInDone::ShowAuthid { authid, provider }) => render(
            StatusCode::OK,
            &AuthidPage {
                provider: &provider,
                authid: &authid,
            },
        ),
        Ok(SignInDone::HandedToProgram { provider }) => render(
            StatusCode::OK,
            &DonePage {
                provider: &provider,
            },
        ),
        Err(error) => error_page(&error),
    }
}

fn error_page(error: &SignInError) -> Response {
    let (status, title, message) = describe(error);
    if status.is_server_error() {
        tracing::error!(%error, "sign-in failed");
    } else {
        tracing::info!(%error, "sign-in refused");
    }
    let detail = match error {
        SignInError::Denied { description } => description.as_deref().map(truncate),
        _ => None,
    };
    // `Cache-Control: no-store` comes from `http::harden`, like on every other response.
    render(
        status,
        &ErrorPage {
            title,
            message,
            detail,
        },
    )
}

fn truncate(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(MAX_DETAIL_CHARS)
        .collect()
}

fn describe(error: &SignInError) -> (StatusCode, &'static str, &'static str) {
    use SignInError as E;
    let again = "Start the sign-in again from your program.";
    match error {
        E::UnknownProvider => (
            StatusCode::NOT_FOUND,
            "Unknown provider",
            "This broker does not offer that provider. Choose one from the list.",
        ),
        E::UnknownLogin => (StatusCode::NOT_FOUND, "Unknown sign-in link", again),
        E::LoginExpired => (StatusCode::GONE, "Sign-in link expired", again),
        E::LoginFinished => (
            StatusCode::CONFLICT,
            "Sign-in already finished",
            "This sign-in is already complete or no longer awaited. \
             Start a new one from your program if you still need access.",
        ),
        E::MissingState | E::UnknownState => (
            StatusCode::BAD_REQUEST,
            "Sign-in not recognized",
            "This sign-in was already completed, has expired, or did not start here. \
             Start a new sign-in.",
        ),
        E::WrongBrowser => (
            StatusCode::BAD_REQUEST,
            "Different browser",
            "This sign-in was started in a different browser, or cookies are blocked for this \
             site. Start again in this browser.",
        ),
        E::Denied { .. } => (
            StatusCode::BAD_REQUEST,
            "Access not granted",
            "The provider did not grant access. Start again if you want to allow it.",
        ),
        E::MissingCode => (
            StatusCode::BAD_REQUEST,
            "Incomplete answer",
            "The provider's answer had no authorization code. Start a new sign-in.",
        ),
        E::CodeRejected => (
            StatusCode::BAD_REQUEST,
            "Sign-in not accepted",
            "The provider did not accept this sign-in (its code may have been used already). \
             Start a new sign-in.",
        ),
        E::NoRefreshToken => (
            StatusCode::BAD_GATEWAY,
            "No offline access",
            "The provider signed you in but granted no long-term (offline) access. The broker's \
             operator must check this provider's scopes and parameters.",
        ),
        E::Provider(_) => (
            StatusCode::BAD_GATEWAY,
            "Provider unavailable",
            "The provider could not be reached or failed. Wait a minute and start again.",
        ),
        E::Internal(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The broker hit an internal error. Try again later.",
        ),
    }
}

/// `GET /static/style.css`.
pub async fn style() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/style.css"),
    )
        .into_response()
}

/// `GET /static/copy.js`.
pub async fn copy_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/copy.js"),
    )
        .into_response()
}
