//! `oauth-agent daemon`: the local token service in the foreground, for a service manager.

use super::{Context, Failure};
use crate::clock::Clock;
use crate::daemon::{router, Daemon, DaemonOptions};
use std::future::Future;

/// Binds the socket and serves until `shutdown` completes.
pub async fn run(
    ctx: &Context,
    options: DaemonOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Failure> {
    let daemon = Daemon::new(
        ctx.config_path.clone(),
        ctx.store.clone(),
        Clock::default(),
        options,
    );
    let private_dir = ctx.socket == crate::paths::default_socket();
    serve(daemon, &ctx.socket, private_dir, shutdown).await
}

/// Binds `socket` and serves `daemon` on it until `shutdown` completes. `private_dir` demands
/// that the socket's directory be owned by this user with mode 0700 (the default location).
pub async fn serve(
    daemon: Daemon,
    socket: &std::path::Path,
    private_dir: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Failure> {
    let (_, gids) = daemon.access_lists();
    let listener = crate::transport::bind(socket, private_dir, !gids.is_empty())
        .await
        .map_err(|e| Failure::general(format!("cannot listen on {}: {e}", socket.display())))?;
    tracing::info!(socket = %socket.display(), "oauth-agent daemon listening");

    daemon.warm_up();
    crate::transport::serve(listener, router(daemon), shutdown).await?;
    tracing::info!("oauth-agent daemon stopped");
    Ok(())
}

/// Completes on SIGINT or SIGTERM (Ctrl-C on Windows).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
