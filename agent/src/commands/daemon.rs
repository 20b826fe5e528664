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
    let (_, gids) = daemon.access_lists();
    let private_dir = ctx.socket == crate::paths::default_socket();
    let listener = crate::transport::bind(&ctx.socket, private_dir, !gids.is_empty())
        .await
        .map_err(|e| Failure::general(format!("cannot listen on {}: {e}", ctx.socket.display())))?;
    tracing::info!(socket = %ctx.socket.display(), "oauth-agent daemon listening");

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
