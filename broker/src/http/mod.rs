//! The HTTP face of the broker: the router, its middleware, and serving it.
//!
//! The router is a plain function of a [`Broker`], so tests can call it without a socket.
//! Every request is counted by route and status. With `debug` logging on, each also gets one
//! span with its method and matched route (never the raw URI, which may carry codes or ids); at
//! the default `info` there is none, since creating and formatting it cost about an eighth of a
//! cache hit's time (docs/performance.md).

mod api;
pub(crate) mod compat;
mod error;
pub(crate) mod extract;
pub mod openapi;
mod pages;

pub use error::ApiError;

use crate::service::Broker;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument as _;

/// Requests that take longer than this are answered with 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The broker's routes.
pub fn router(broker: Broker) -> Router {
    let mut routes = Router::new()
        .route("/", get(pages::index))
        .route("/login/{provider}", get(pages::login))
        .route("/callback", get(pages::callback))
        .route("/static/style.css", get(pages::style))
        .route("/static/copy.js", get(pages::copy_js))
        .merge(openapi::v1_routes().split_for_parts().0)
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(api::metrics));
    if broker.config().compat.duplicati {
        routes = routes
            .route("/refresh", get(compat::refresh).post(compat::refresh))
            .route("/fetch", get(compat::fetch));
    }
    routes
        .route_layer(middleware::from_fn_with_state(broker.clone(), observe))
        .method_not_allowed_fallback(api::method_not_allowed)
        .fallback(api::not_found)
        .with_state(broker)
}

/// Adds the response headers every response carries and the request time limit.
pub fn harden(router: Router) -> Router {
    let header_layer = |name, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    router
        .layer(header_layer(header::CACHE_CONTROL, "no-store"))
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::REFERRER_POLICY, "no-referrer"))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
}

/// One span per request with the matched route (at `debug`); counts the response.
async fn observe(State(broker): State<Broker>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |path| path.as_str())
        .to_owned();
    let span = tracing::debug_span!("request", method = %request.method(), route = %route);
    let response = next.run(request).instrument(span.clone()).await;

    let status = response.status().as_u16();
    broker.metrics().request(&route, status);
    span.in_scope(|| match route.as_str() {
        "/healthz" | "/readyz" | "/metrics" => tracing::trace!(status, "request done"),
        _ => tracing::debug!(status, "request done"),
    });
    response
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes in-flight requests.
/// Each request head must arrive within [`oauth_serve::HEADER_READ_TIMEOUT`]; HTTP/1.1 only
/// (`oauth_serve` says why).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let peer_of = |_: &TcpStream, addr: &SocketAddr| *addr;
    oauth_serve::serve(listener, app, peer_of, shutdown).await;
    Ok(())
}
