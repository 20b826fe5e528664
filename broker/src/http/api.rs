//! The JSON API under `/v1`, plus health, readiness and metrics.

use super::error::ApiError;
use super::extract::{bearer, body_bytes, client_addr, json, require_json};
use crate::crypto::authid::Authid;
use crate::service::{Broker, PollOutcome, ServiceError};
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{header, Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use oauth_protocol::{CreateLoginRequest, PollResponse, PollStatus, TokenRequest};
use oauth_protocol::{CreateLoginResponse, ErrorBody, TokenResponse};
use std::net::IpAddr;

/// `POST /v1/logins`.
#[utoipa::path(
    post,
    path = "/v1/logins",
    tag = "sign-in",
    summary = "Start a program-started sign-in",
    request_body = CreateLoginRequest,
    responses(
        (status = 201, description = "Open `login_url` in a browser, then poll", body = CreateLoginResponse),
        (status = 400, description = "Malformed body or unknown provider", body = ErrorBody),
        (status = 429, description = "Too many requests; see `Retry-After`", body = ErrorBody),
    )
)]
pub async fn create_login(
    State(broker): State<Broker>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = body_bytes(body).await?.ok_or_else(|| {
        ApiError::bad_request("send a JSON body like {\"provider\":\"onedrive\"}")
    })?;
    require_json(&headers)?;
    let request: CreateLoginRequest = json(&bytes)?;
    let login = broker.create_login(&request.provider).await?;
    Ok((StatusCode::CREATED, Json(login)).into_response())
}

/// `POST /v1/logins/{login_id}/poll`.
#[utoipa::path(
    post,
    path = "/v1/logins/{login_id}/poll",
    tag = "sign-in",
    summary = "Ask whether the sign-in has finished",
    params(("login_id" = String, Path, description = "From the `POST /v1/logins` reply")),
    security(("poll_secret" = [])),
    responses(
        (status = 200, description = "Finished: the authid (shown once)", body = PollResponse),
        (status = 202, description = "Still pending; poll again after `interval` seconds", body = PollResponse),
        (status = 404, description = "Unknown sign-in or wrong poll secret", body = ErrorBody),
        (status = 410, description = "The sign-in expired", body = ErrorBody),
        (status = 429, description = "Too many requests; see `Retry-After`", body = ErrorBody),
    )
)]
pub async fn poll_login(
    State(broker): State<Broker>,
    login_id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let secret = bearer(&headers).ok_or_else(|| {
        ApiError::new(
            oauth_protocol::ErrorCode::NotFound,
            "send the poll secret as `Authorization: Bearer <poll_secret>`",
        )
    })?;
    // An id that is not even UTF-8 is one no login has.
    let Ok(Path(login_id)) = login_id else {
        return Err(ServiceError::NotFound("no pending sign-in with this id".into()).into());
    };
    match broker.poll_login(&login_id, &secret).await? {
        PollOutcome::Pending => {
            let body = PollResponse::Pending {
                status: PollStatus::Pending,
            };
            Ok((StatusCode::ACCEPTED, Json(body)).into_response())
        }
        PollOutcome::Done { authid, provider } => {
            let body = PollResponse::Done {
                authid: authid.to_string(),
                provider,
            };
            Ok((StatusCode::OK, Json(body)).into_response())
        }
    }
}

/// `POST /v1/token`.
#[utoipa::path(
    post,
    path = "/v1/token",
    tag = "tokens",
    summary = "Get an access token for the grant the authid opens",
    request_body(content = Option<TokenRequest>, description = "Optional; an empty body is `{}`"),
    security(("authid" = [])),
    responses(
        (status = 200, description = "A token valid for at least `min_valid_secs`", body = TokenResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "`invalid_authid` or `reauth_required`", body = ErrorBody),
        (status = 429, description = "Too many requests; see `Retry-After`", body = ErrorBody),
        (status = 502, description = "The provider failed; see `Retry-After`", body = ErrorBody),
        (status = 503, description = "The provider is unavailable; see `Retry-After`", body = ErrorBody),
    )
)]
pub async fn token(State(broker): State<Broker>, request: Request) -> Result<Response, ApiError> {
    // The whole request rather than `HeaderMap` and `Extensions` extractors, which would clone
    // both on the busiest route.
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    let addr = client_addr(
        &parts.extensions,
        headers,
        broker.config().trust_forwarded_for,
    );
    let authid = authenticate(&broker, addr, headers).await?;
    let request: TokenRequest = match body_bytes(body).await? {
        Some(bytes) => {
            require_json(headers)?;
            json(&bytes)?
        }
        None => TokenRequest::default(),
    };

    match broker.token(&authid, request.min_valid_secs).await {
        Ok(token) => Ok(Json(token).into_response()),
        Err(error) => Err(lookup_failed(&broker, addr, error).await),
    }
}

/// `POST /v1/revoke`.
#[utoipa::path(
    post,
    path = "/v1/revoke",
    tag = "tokens",
    summary = "Revoke the grant at the provider and forget the authid",
    security(("authid" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Unknown authid", body = ErrorBody),
        (status = 429, description = "Too many requests; see `Retry-After`", body = ErrorBody),
    )
)]
pub async fn revoke(
    State(broker): State<Broker>,
    extensions: Extensions,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let addr = client_addr(&extensions, &headers, broker.config().trust_forwarded_for);
    let authid = authenticate(&broker, addr, &headers).await?;
    match broker.revoke(&authid).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(error) => Err(lookup_failed(&broker, addr, error).await),
    }
}

/// Checks the address is not blocked, then parses the bearer authid.
async fn authenticate(
    broker: &Broker,
    addr: Option<IpAddr>,
    headers: &HeaderMap,
) -> Result<Authid, ApiError> {
    broker
        .limits()
        .check_address(addr)
        .map_err(ApiError::rate_limited)?;
    let parsed = bearer(headers).and_then(|credential| Authid::parse(&credential).ok());
    match parsed {
        Some(authid) => Ok(authid),
        None => {
            broker.record_failure(addr).await;
            Err(ApiError::invalid_authid())
        }
    }
}

/// Counts an unknown authid against the client's address.
async fn lookup_failed(broker: &Broker, addr: Option<IpAddr>, error: ServiceError) -> ApiError {
    if matches!(error, ServiceError::InvalidAuthid) {
        broker.record_failure(addr).await;
    }
    error.into()
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// `GET /readyz`: the store answers.
pub async fn readyz(State(broker): State<Broker>) -> Response {
    match broker.store().ping().await {
        Ok(()) => "ready\n".into_response(),
        Err(error) => {
            tracing::error!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response()
        }
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(broker): State<Broker>) -> Response {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    (
        [(header::CONTENT_TYPE, content_type)],
        broker.metrics().render(),
    )
        .into_response()
}

/// A known route with the wrong method: the protocol's JSON body rather than an empty 405.
pub async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

/// Anything else. Counted under the route `unmatched`, so probes show up in the metrics.
pub async fn not_found(State(broker): State<Broker>) -> ApiError {
    broker.metrics().request("unmatched", 404);
    ApiError::new(
        oauth_protocol::ErrorCode::NotFound,
        "no such endpoint; the API lives under /v1",
    )
}
