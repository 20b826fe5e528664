//! Serving an axum router on a listener, with a deadline for request heads and graceful
//! shutdown: the broker's TCP listener and the agent's Unix socket and named pipe alike.
//!
//! `axum::serve` would do, but it sets no timer on hyper, so a client that connects and sends
//! its request head a byte at a time, or nothing at all, holds its connection for as long as it
//! likes: a request timeout starts only once the head is read. [`serve`] gives hyper a timer
//! and a deadline for the head of every request ([`HEADER_READ_TIMEOUT`]), which also closes
//! keep-alive connections idle that long, and otherwise serves as `axum::serve` does: who is on
//! the other end as `ConnectInfo`, requests in flight finished on shutdown.
//!
//! HTTP/1.1 only. `axum::serve` also takes cleartext HTTP/2 with prior knowledge, but sniffing
//! for it waits for the first bytes without any deadline, and the clients of both (agents,
//! Duplicati, browsers through a TLS proxy, backup jobs on the local socket) speak HTTP/1.1.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
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

/// How long a client has to send a request's head (request line and headers), counted from
/// the connection's start or the end of the previous response.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long shutdown waits for requests in flight; both servers bound a request to 60 s.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(65);

/// Serves `app` on `listener` until `shutdown` completes, then finishes requests in flight.
/// `peer_of` tells who is on the other end of each connection; requests carry it as
/// `ConnectInfo`. Accept errors are the listener's to handle (axum's listeners log and retry).
pub async fn serve<L, P>(
    mut listener: L,
    app: Router,
    peer_of: fn(&L::Io, &L::Addr) -> P,
    shutdown: impl Future<Output = ()> + Send + 'static,
) where
    L: Listener,
    P: Clone + Send + Sync + 'static,
{
    let mut builder = Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();

    tokio::pin!(shutdown);
    loop {
        let (io, addr) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let peer = peer_of(&io, &addr);
        let service = app.clone().map_request(move |request: Request<Incoming>| {
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(peer.clone()));
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use std::net::SocketAddr;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::{TcpListener, TcpStream};

    /// A router answering the caller's address, served on a loopback port.
    async fn start() -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let addr = listener.local_addr().expect("an address");
        let app = Router::new().route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let peer_of = |_: &TcpStream, addr: &SocketAddr| *addr;
        tokio::spawn(serve(listener, app, peer_of, async move {
            let _ = stopped.await;
        }));
        (addr, stop)
    }

    /// Sends `bytes` on a fresh connection and returns everything the server sends until it
    /// closes, which it must do well within twice the deadline (on the paused clock, so the
    /// test never waits that long), and how long that took.
    async fn exchange(addr: SocketAddr, bytes: &[u8]) -> (String, Duration) {
        let mut stream = TcpStream::connect(addr).await.expect("a connection");
        stream.write_all(bytes).await.expect("a write");

        let started = tokio::time::Instant::now();
        let mut text = String::new();
        let read = stream.read_to_string(&mut text);
        let closed = tokio::time::timeout(2 * HEADER_READ_TIMEOUT, read).await;
        closed.expect("closed in time").expect("a clean close");
        (text, started.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_head_that_never_ends_loses_its_connection() {
        let (addr, _stop) = start().await;
        let (answer, took) = exchange(addr, b"GET /peer HTTP/1.1\r\nHost: x\r\nX-Slow: ").await;
        assert!(took >= HEADER_READ_TIMEOUT, "closed before the deadline");
        assert!(!answer.contains("200 OK"), "{answer}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_sends_nothing_is_closed() {
        let (addr, _stop) = start().await;
        let (answer, took) = exchange(addr, b"").await;
        assert!(took >= HEADER_READ_TIMEOUT, "closed before the deadline");
        assert_eq!(answer, "");
    }

    #[tokio::test(start_paused = true)]
    async fn a_whole_request_is_served_with_the_peer() {
        let (addr, _stop) = start().await;
        let request = b"GET /peer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        let (answer, _) = exchange(addr, request).await;
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(answer.ends_with("127.0.0.1"), "{answer}");
    }
}
