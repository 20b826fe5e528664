//! `oauth-agent daemon`: the local token service in the foreground, for a service manager,
//! on the socket it passes (socket activation) or on one the daemon binds itself; and
//! `daemon --background`, which starts one detached and returns once it answers.

use super::{Context, Failure};
use crate::activation::Inherited;
use crate::clock::Clock;
use crate::daemon::{router, Daemon, DaemonOptions};
use std::future::Future;

/// Serves until `shutdown` completes: on the socket the service manager passed, if it passed
/// one, else on `ctx.socket`, bound here.
pub async fn run(
    ctx: &Context,
    options: DaemonOptions,
    inherited: Inherited,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Failure> {
    #[cfg(unix)]
    if let Some(listener) = inherited.into_listener() {
        return serve_inherited(ctx, options, listener, shutdown).await;
    }
    #[cfg(not(unix))]
    drop(inherited);
    let daemon = new_daemon(ctx, options);
    let private_dir = ctx.socket == crate::paths::default_socket();
    serve(daemon, &ctx.socket, private_dir, shutdown).await
}

fn new_daemon(ctx: &Context, options: DaemonOptions) -> Daemon {
    Daemon::new(
        ctx.config_path.clone(),
        ctx.store.clone(),
        Clock::default(),
        options,
    )
}

/// Serves on the socket the service manager passed. The socket file is the socket unit's: the
/// daemon neither creates nor removes it, and admits the group the file admits.
#[cfg(unix)]
async fn serve_inherited(
    ctx: &Context,
    mut options: DaemonOptions,
    listener: std::os::unix::net::UnixListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Failure> {
    options.socket_group = crate::activation::socket_group(&listener);
    let path = listener.local_addr().ok();
    let path = path.as_ref().and_then(|a| a.as_pathname());
    let socket = path.map(|p| p.display().to_string()).unwrap_or_default();
    tracing::info!(
        %socket,
        group = ?options.socket_group,
        "oauth-agent daemon serving the socket passed by the service manager"
    );
    let listener = listener
        .set_nonblocking(true)
        .and_then(|()| tokio::net::UnixListener::from_std(listener))
        .map_err(|e| Failure::general(format!("cannot serve the passed socket {socket}: {e}")))?;
    let listener = crate::transport::Listener::inherited(listener);
    serve_on(new_daemon(ctx, options), listener, shutdown).await
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
    serve_on(daemon, listener, shutdown).await
}

async fn serve_on(
    daemon: Daemon,
    listener: crate::transport::Listener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Failure> {
    daemon.warm_up();
    crate::transport::serve(listener, router(daemon), shutdown).await?;
    tracing::info!("oauth-agent daemon stopped");
    Ok(())
}

/// `daemon --background`: starts a daemon detached from this terminal unless one answers, and
/// returns once it does (the Windows logon start runs this).
pub async fn start_background(ctx: &Context) -> Result<(), Failure> {
    let reply = super::ask(ctx, "GET", "/v1/status", true).await?;
    if reply.status != 200 {
        return Err(super::reply_failure(&reply));
    }
    println!("the oauth-agent daemon answers on {}", ctx.socket.display());
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
