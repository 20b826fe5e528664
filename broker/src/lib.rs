//! The OAuth token broker: runs sign-ins, keeps each user's refresh token encrypted under a key
//! only their authid (with the master key) can rebuild, and hands out fresh access tokens.
//!
//! The binary (`main.rs`) parses the command line; everything else lives here so tests can run
//! a broker in-process: [`open`] assembles a [`Broker`] from a [`Config`], and [`run`] serves it
//! on an already-bound listener until a shutdown future completes.

pub mod clock;
pub mod config;
pub mod crypto;
pub mod dev;
#[doc(hidden)]
pub mod fuzzing;
pub mod healthcheck;
pub mod http;
pub mod logging;
pub mod man;
pub mod metrics;
pub mod provider;
pub mod service;
pub mod store;

pub use clock::Clock;
pub use config::Config;
pub use service::Broker;

use anyhow::Context as _;
use config::MasterKeySource;
use crypto::master_key::MasterKey;
use crypto::master_keys::MasterKeys;
use std::future::Future;
use tokio::net::TcpListener;

/// Loads the master key the configuration names, plus the previous keys of a rotation.
pub fn load_master_keys(config: &Config) -> anyhow::Result<MasterKeys> {
    let current = match &config.master_key {
        MasterKeySource::File(path) => MasterKey::from_file(path)?,
        MasterKeySource::Env => MasterKey::from_env(config::MASTER_KEY_ENV)?,
    };
    let previous = config
        .previous_master_keys
        .iter()
        .map(|path| MasterKey::from_file(path))
        .collect::<Result<Vec<_>, _>>()
        .context("in previous_master_key_files")?;
    Ok(MasterKeys::new(current, previous)?)
}

/// Opens the store (creating and migrating it as needed) and assembles the broker.
pub async fn open(
    config: Config,
    master_keys: impl Into<MasterKeys>,
    clock: Clock,
) -> anyhow::Result<Broker> {
    let store = store::Store::connect_with(&config.database_url, config.database_max_connections)
        .await
        .with_context(|| "cannot open the database named by database_url")?;
    Broker::new(config, store, master_keys.into(), clock)
}

/// Serves the broker, plus any `extra` routes, on `listener` until `shutdown` completes.
pub async fn run(
    broker: Broker,
    extra: Option<axum::Router>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut app = http::router(broker.clone());
    if let Some(extra) = extra {
        app = app.merge(extra);
    }
    let reaper = service::spawn_reaper(broker.clone());
    let limit_sync = service::spawn_limit_sync(broker.clone());
    let pending_flush = service::spawn_pending_flush(broker.clone());
    let served = http::serve(listener, http::harden(app), shutdown).await;
    reaper.abort();
    limit_sync.abort();
    pending_flush.abort();
    let unsaved = broker.flush_all_pending().await;
    if unsaved > 0 {
        tracing::error!(
            grants = unsaved,
            "stopping with refreshed grants the database never took; at providers that rotate \
             refresh tokens these grants need a new sign-in"
        );
    }
    served
}

/// Completes on Ctrl-C or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
