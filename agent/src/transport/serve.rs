//! Serving the daemon's router on a local listener, with a deadline for request heads and
//! graceful shutdown; the same on a Unix socket and a named pipe.
//!
//! `axum::serve` would do, but it sets no timer on hyper, so a caller that connects and sends
//! its request head a byte at a time, or nothing at all, holds its connection for as long as it
//! likes. On a system-wide agent every member of the client group can connect; this loop gives
//! each request head [`HEADER_READ_TIMEOUT`] to arrive, which also closes keep-alive connections
//! idle that long. HTTP/1.1 only, as the module docs of `transport` say.

use super::Peer;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::serve::Listener;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1::Builder;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::time::Duration;
use tower::ServiceExt as _;

/// How long a caller has to send a request's head, counted from the connection's start or the
/// end of the previous response.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long shutdown waits for requests in flight; a token request that waits for the broker
/// gives up after the daemon's own 60 s deadline.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(65);

/// Serves `app` on `listener` until `shutdown` completes, then finishes requests in flight.
/// `peer_of` tells who is on the other end of each connection.
pub async fn serve_on<L: Listener>(
    mut listener: L,
    app: Router,
    peer_of: fn(&L::Io) -> Peer,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut builder = Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();

    tokio::pin!(shutdown);
    loop {
        let (io, _) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let peer = peer_of(&io);
        let service = app
            .clone()
            .map_request(move |request: axum::http::Request<Incoming>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection =
            builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::trace!(error = %error, "connection ended with an error");
            }
        });
    }

    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after the shutdown grace period; stopping anyway");
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::{UnixListener, UnixStream};

    /// A router answering the caller's uid, served on a socket in `dir`.
    fn start(dir: &std::path::Path) -> (std::path::PathBuf, tokio::sync::oneshot::Sender<()>) {
        let path = dir.join("agent.sock");
        let listener = UnixListener::bind(&path).expect("a socket");
        let app = Router::new().route(
            "/uid",
            get(|ConnectInfo(peer): ConnectInfo<Peer>| async move { format!("{:?}", peer.uid) }),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel();
        tokio::spawn(serve_on(listener, app, Peer::of, async move {
            let _ = stopped.await;
        }));
        (path, stop)
    }

    /// Everything the daemon sends until it closes the connection, which it must do well
    /// within twice the deadline (on the paused clock, so the test never waits that long).
    async fn read_to_close(stream: &mut UnixStream) -> String {
        let mut text = String::new();
        let read = stream.read_to_string(&mut text);
        let closed = tokio::time::timeout(2 * HEADER_READ_TIMEOUT, read).await;
        closed.expect("closed in time").expect("a clean close");
        text
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_head_that_never_ends_loses_its_connection() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let (path, _stop) = start(dir.path());
        let mut stream = UnixStream::connect(&path).await.expect("a connection");
        stream
            .write_all(b"GET /uid HTTP/1.1\r\nHost: agent\r\nX-Slow: ")
            .await
            .expect("a write");

        let started = tokio::time::Instant::now();
        let answer = read_to_close(&mut stream).await;
        assert!(
            started.elapsed() >= HEADER_READ_TIMEOUT,
            "closed before the deadline"
        );
        assert!(!answer.contains("200 OK"), "{answer}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_whole_request_is_served_with_the_callers_uid() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let (path, _stop) = start(dir.path());
        let mut stream = UnixStream::connect(&path).await.expect("a connection");
        stream
            .write_all(b"GET /uid HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n")
            .await
            .expect("a write");

        let answer = read_to_close(&mut stream).await;
        let uid = nix::unistd::getuid().as_raw();
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(answer.ends_with(&format!("Some({uid})")), "{answer}");
    }
}
