//! The `/v1` API's routes and its OpenAPI 3 document, registered together so they cannot drift:
//! each handler's `#[utoipa::path]` gives both the route the router serves and the path the
//! document lists. The document is served at `GET /v1/openapi.json`.

use super::api;
use crate::service::Broker;
use axum::http::header;
use axum::response::IntoResponse;
use oauth_protocol::{ErrorBody, ErrorCode};
use std::sync::OnceLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "oauth-broker",
        description = "The broker's JSON API. Every error is `ErrorBody`; clients branch on its \
                       `error` code, never on the description."
    ),
    modifiers(&SecuritySchemes),
    components(schemas(ErrorBody, ErrorCode))
)]
struct ApiDoc;

/// The two bearer credentials: the authid, and a sign-in's poll secret.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            let scheme = HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(description));
            SecurityScheme::Http(scheme.build())
        };
        components.add_security_scheme(
            "authid",
            bearer("`Authorization: Bearer <authid>`: the AuthID from a finished sign-in"),
        );
        components.add_security_scheme(
            "poll_secret",
            bearer("`Authorization: Bearer <poll_secret>` from the `POST /v1/logins` reply"),
        );
    }
}

/// Every `/v1` route with its documentation. The router takes its `/v1` routes only from here.
pub fn v1_routes() -> OpenApiRouter<Broker> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(api::create_login))
        .routes(routes!(api::poll_login))
        .routes(routes!(api::token))
        .routes(routes!(api::revoke))
        .routes(routes!(openapi_json))
}

/// The OpenAPI document of the `/v1` API.
pub fn document() -> utoipa::openapi::OpenApi {
    v1_routes().into_openapi()
}

/// `GET /v1/openapi.json`.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "meta",
    summary = "This document",
    responses((status = 200, description = "The OpenAPI 3 document", content_type = "application/json"))
)]
async fn openapi_json() -> impl IntoResponse {
    static JSON: OnceLock<String> = OnceLock::new();
    let json = JSON.get_or_init(|| {
        document()
            .to_pretty_json()
            .unwrap_or_else(|_| "{}".to_owned())
    });
    ([(header::CONTENT_TYPE, "application/json")], json.as_str())
}
