//! Serving the provider on a real socket: [`FakeProvider::spawn`] binds `127.0.0.1:0` and
//! returns a [`RunningProvider`] that stops the server when shut down or dropped.

use std::future::{Future, IntoFuture};
use std::io;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::ProviderConfig;
use crate::provider::FakeProvider;

/// A provider served on a loopback port. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningProvider {
    /// Where the provider listens, e.g. `http://127.0.0.1:40123`, without a trailing slash.
    pub base_url: String,
    /// The served provider, for test controls and observations.
    pub provider: FakeProvider,
    /// Closing it (by sending or by dropping) starts a graceful shutdown of the server task.
    shutdown: oneshot::Sender<()>,
    /// The server task; it ends once the shutdown is done.
    server: JoinHandle<io::Result<()>>,
}

impl RunningProvider {
    /// The absolute URL of `path` (which starts with `/`), e.g. `url("/token")`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Stops accepting connections, lets open requests finish, and waits for the server task.
    pub async fn shutdown(self) -> io::Result<()> {
        let _ = self.shutdown.send(());
        self.server
            .await
            .unwrap_or_else(|join| Err(io::Error::other(join)))
    }
}

impl FakeProvider {
    /// Serves a new provider on `127.0.0.1:0` in a background task.
    ///
    /// Panics if no loopback port can be bound, which leaves a test nothing to do; use
    /// [`FakeProvider::try_spawn`] to handle that case.
    pub async fn spawn(config: ProviderConfig) -> RunningProvider {
        Self::try_spawn(config)
            .await
            .expect("binding a port on 127.0.0.1 for the fake provider")
    }

    /// Like [`FakeProvider::spawn`], but returns the error if binding fails.
    pub async fn try_spawn(config: ProviderConfig) -> io::Result<RunningProvider> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let provider = FakeProvider::new(config);
        let (shutdown, closed) = oneshot::channel::<()>();
        let stopped = async move {
            let _ = closed.await;
        };
        let server = tokio::spawn(provider.serve(listener, stopped));
        Ok(RunningProvider {
            base_url,
            provider,
            shutdown,
            server,
        })
    }

    /// Serves the router on an already bound listener until `shutdown` completes, then waits
    /// for open connections to finish.
    pub fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = io::Result<()>> + Send + 'static {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .into_future()
    }
}
