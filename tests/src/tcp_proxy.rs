//! A TCP proxy a test puts between the broker and its database, to cut the connection and
//! restore it: a database server that goes away and comes back.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A proxy on `127.0.0.1:0` to one upstream address. Dropping it stops it.
pub struct TcpProxy {
    /// Where the proxy listens.
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    accept: JoinHandle<()>,
}

/// Whether the proxy is cut, and the forwarding tasks of open connections.
#[derive(Default)]
struct Shared {
    cut: bool,
    connections: Vec<JoinHandle<()>>,
}

impl TcpProxy {
    /// Starts forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let accept = tokio::spawn(accept(listener, upstream, shared.clone()));
        Self {
            addr,
            shared,
            accept,
        }
    }

    /// Closes every open connection, and each new one as soon as it is accepted, until
    /// [`restore`](Self::restore).
    pub fn cut(&self) {
        let mut shared = self.shared.lock().unwrap();
        shared.cut = true;
        for connection in shared.connections.drain(..) {
            connection.abort();
        }
    }

    /// Forwards new connections again.
    pub fn restore(&self) {
        self.shared.lock().unwrap().cut = false;
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn accept(listener: TcpListener, upstream: SocketAddr, shared: Arc<Mutex<Shared>>) {
    while let Ok((client, _)) = listener.accept().await {
        let mut shared = shared.lock().unwrap();
        if shared.cut {
            continue; // dropping `client` closes it
        }
        shared
            .connections
            .retain(|connection| !connection.is_finished());
        shared
            .connections
            .push(tokio::spawn(forward(client, upstream)));
    }
}

async fn forward(mut client: TcpStream, upstream: SocketAddr) {
    if let Ok(mut server) = TcpStream::connect(upstream).await {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    }
}
