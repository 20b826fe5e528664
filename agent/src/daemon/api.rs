//! The daemon's local HTTP API: `GET /v1/tokens/{name}`, `DELETE /v1/tokens/{name}`,
//! `GET /v1/status`, `POST /v1/reload`. Every request's caller is checked first.

use super::{Daemon, DaemonError};
use crate::transport::{self, Peer};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use oauth_protocol::{AgentStatus, AgentToken, ErrorBody, ErrorCode};
use serde::Deserialize;

/// The routes, with the peer check in front of all of them.
pub fn router(daemon: Daemon) -> Router {
    Router::new()
        .route("/v1/tokens/{name}", get(token).delete(forget))
        .route("/v1/status", get(status))
        .route("/v1/reload", post(reload))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(daemon.clone(), check_peer))
        .with_state(daemon)
}

fn error(code: ErrorCode, description: impl Into<String>) -> Response {
    let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(ErrorBody::new(code, description))).into_response()
}

impl IntoResponse for DaemonError {
    fn into_response(self) -> Response {
        let retry_after = match &self {
            Self::Unavailable { retry_after, .. } => Some(*retry_after),
            _ => None,
        };
        let mut response = error(self.code(), self.to_string());
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Refuses callers that are neither the daemon's user nor on its access lists.
async fn check_peer(State(daemon): State<Daemon>, request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<Peer>>()
        .map(|info| info.0);
    let (uids, gids) = daemon.access_lists();
    match peer {
        Some(peer) if transport::allowed(peer, &uids, &gids) => next.run(request).await,
        _ => {
            tracing::warn!(
                ?peer,
                "refused a caller that is not allowed to use this agent"
            );
            error(
                ErrorCode::Forbidden,
                "this agent serves only its own user and the configured uids and groups",
            )
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct TokenQuery {
    min_valid_secs: Option<u64>,
}

/// The account name from the path, if it is one an account can have.
fn account_name(name: Result<Path<String>, PathRejection>) -> Option<String> {
    name.ok()
        .map(|Path(name)| name)
        .filter(|name| crate::config::check_account_name(name).is_ok())
}

/// The refusal of a name no account can have. It does not echo the name: that may be anything
/// a client sent, such as a path or markup.
fn bad_name() -> Response {
    error(
        ErrorCode::BadRequest,
        "not a valid account name: use letters, digits, '-', '_' and '.' \
         (at most 64, not starting with '.')",
    )
}

async fn token(
    State(daemon): State<Daemon>,
    name: Result<Path<String>, PathRejection>,
    query: Result<Query<TokenQuery>, QueryRejection>,
) -> Response {
    let Some(name) = account_name(name) else {
        return bad_name();
    };
    let Ok(Query(query)) = query else {
        return error(
            ErrorCode::BadRequest,
            "min_valid_secs must be a whole number of seconds",
        );
    };
    match daemon.token(&name, query.min_valid_secs).await {
        Ok(token) => {
            let now = daemon.clock().now();
            Json(AgentToken {
                access_token: token.token.to_string(),
                token_type: token.token_type,
                expires_in: u64::try_from(token.expires_at - now).unwrap_or(0),
                expires_at: crate::clock::rfc3339(token.expires_at),
            })
            .into_response()
        }
        Err(error) => error.into_response(),
    }
}

async fn forget(
    State(daemon): State<Daemon>,
    name: Result<Path<String>, PathRejection>,
) -> Response {
    let Some(name) = account_name(name) else {
        return bad_name();
    };
    match daemon.forget_token(&name) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => error.into_response(),
    }
}

async fn status(State(daemon): State<Daemon>) -> Json<AgentStatus> {
    Json(AgentStatus {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        accounts: daemon.status(),
    })
}

async fn reload(State(daemon): State<Daemon>) -> StatusCode {
    daemon.reload().await;
    StatusCode::NO_CONTENT
}

async fn method_not_allowed() -> Response {
    let mut response = error(
        ErrorCode::BadRequest,
        "this endpoint does not take that method; see GET /v1/status and GET /v1/tokens/{name}",
    );
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
}

async fn not_found() -> Response {
    error(
        ErrorCode::NotFound,
        "no such endpoint; see GET /v1/status and GET /v1/tokens/{name}",
    )
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::daemon::DaemonOptions;
    use crate::store::{SecretStore, StoreKind};
    use oauth_protocol::ErrorBody;
    use std::path::PathBuf;
    use tower::ServiceExt as _;

    /// One request from the daemon's own user to a daemon without accounts.
    async fn ask(method: &str, uri: &str) -> (StatusCode, ErrorBody) {
        let nowhere = PathBuf::from("/nonexistent/oauth-agent");
        let store = SecretStore::new(StoreKind::File, nowhere.clone());
        let daemon = Daemon::new(
            nowhere.join("agent.toml"),
            store,
            Clock::default(),
            DaemonOptions::default(),
        );
        let peer = Peer {
            uid: Some(nix::unistd::getuid().as_raw()),
            gid: None,
        };
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .body(axum::body::Body::empty())
            .expect("a valid request");
        request.extensions_mut().insert(ConnectInfo(peer));
        let response = router(daemon).oneshot(request).await;
        let response = response.expect("the router is infallible");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await;
        let body = body.expect("a body in memory");
        (
            status,
            serde_json::from_slice(&body).expect("the JSON error body"),
        )
    }

    // Both found by the agent_api fuzz target (docs/fuzzing.md): axum's own answers carried
    // an empty or plain-text body instead of the protocol's error.
    #[tokio::test]
    async fn a_wrong_method_gets_the_json_error_body() {
        let (status, body) = ask("PUT", "/v1/tokens/work").await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body.error, ErrorCode::BadRequest);
    }

    #[tokio::test]
    async fn an_undecodable_account_name_gets_the_json_error_body() {
        for method in ["GET", "DELETE"] {
            let (status, body) = ask(method, "/v1/tokens/%FF").await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(body.error, ErrorCode::BadRequest);
        }
    }
}
