//! Accepting connections and serving the router on them, with graceful shutdown.
//!
//! `axum::serve` would do, but it sets no timer on hyper, so a client that connects and sends
//! its request head a byte at a time, or nothing at all, holds its connection for as long as it
//! likes: the request timeout starts only once the head is read. This loop gives hyper a timer
//! and a deadline for the head of every request ([`HEADER_READ_TIMEOUT`]), which also closes
//! keep-alive connections idle that long, and otherwise serves as `axum::serve` does: the peer
//! address as `ConnectInfo`, in-flight requests finished on shutdown.
//!
//! HTTP/1.1 only. `axum::serve` also takes cleartext HTTP/2 with prior knowledge, but sniffing
//! for it waits for the first bytes without any deadline, and the broker's clients (agents,
//! Duplicati, browsers through a TLS proxy) speak HTTP/1.1 to it.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1::Builder;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt as _;

/// How long a client has to send a request's head (request line and headers), counted from
/// the connection's start or the end of the previous response.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long shutdown waits for in-flight requests (the request timeout bounds them anyway).
const DRAIN_TIMEOUT: Duration = Duration::from_secs(65);

/// Serves `app` on `listener` until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();

    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        match accepted {
            Ok((stream, peer)) => serve_connection(&builder, &graceful, &app, stream, peer),
            Err(error) => pause_after_accept_error(error).await,
        }
    }

    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after the shutdown grace period; stopping anyway");
    }
    Ok(())
}

/// Serves one connection in a task of its own, watched for graceful shutdown.
fn serve_connection(
    builder: &Builder,
    graceful: &GracefulShutdown,
    app: &Router,
    stream: TcpStream,
    peer: SocketAddr,
) {
    let service = app
        .clone()
        .map_request(move |request: http::Request<Incoming>| {
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        });
    let connection =
        builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    let connection = graceful.watch(connection);
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::trace!(error = %error, "connection ended with an error");
        }
    });
}

/// Accept errors are the process's (out of file descriptors) or the kernel's, not a client's:
/// log, give the system a moment, and go on accepting.
async fn pause_after_accept_error(error: std::io::Error) {
    tracing::error!(%error, "cannot accept a connection");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    async fn start() -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let addr = listener.local_addr().expect("an address");
        let app = Router::new().route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel();
        tokio::spawn(serve(listener, app, async move {
            let _ = stopped.await;
        }));
        (addr, stop)
    }

    /// Everything the server sends until it closes the connection, which it must do well
    /// within twice the deadline (on the paused clock, so the test never waits that long).
    async fn read_to_close(stream: &mut TcpStream) -> String {
        let mut text = String::new();
        let read = stream.read_to_string(&mut text);
        let closed = tokio::time::timeout(2 * HEADER_READ_TIMEOUT, read).await;
        closed.expect("closed in time").expect("a clean close");
        text
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_head_that_never_ends_loses_its_connection() {
        let (addr, _stop) = start().await;
        let mut stream = TcpStream::connect(addr).await.expect("a connection");
        stream
            .write_all(b"GET /peer HTTP/1.1\r\nHost: broker\r\nX-Slow: ")
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
    async fn a_connection_that_sends_nothing_is_closed() {
        let (addr, _stop) = start().await;
        let mut stream = TcpStream::connect(addr).await.expect("a connection");

        let started = tokio::time::Instant::now();
        assert_eq!(read_to_close(&mut stream).await, "");
        assert!(
            started.elapsed() >= HEADER_READ_TIMEOUT,
            "closed before the deadline"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_whole_request_is_served_with_the_peer_address() {
        let (addr, _stop) = start().await;
        let mut stream = TcpStream::connect(addr).await.expect("a connection");
        stream
            .write_all(b"GET /peer HTTP/1.1\r\nHost: broker\r\nConnection: close\r\n\r\n")
            .await
            .expect("a write");

        let answer = read_to_close(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(answer.ends_with("127.0.0.1"), "{answer}");
    }
}
