//! The subcommands. Each returns `Result<(), Failure>`; a failure carries the message for the
//! person at the terminal (naming the account and the next step) and the exit code.
//!
//! Exit codes: 0 success, 1 other failure, 2 wrong usage, 3 the account needs a sign-in (or is
//! unknown), 4 temporarily unavailable (broker, provider or daemon; retry later).

pub mod daemon;
pub mod docs;
pub mod git_credential;
pub mod login;
pub mod logout;
pub mod service;
pub mod status;
pub mod status_table;
pub mod token;
pub mod waiting;

use crate::local::{self, Reply};
use crate::paths::{self, Scope};
use crate::store::{SecretStore, StoreKind};
use oauth_protocol::{ErrorBody, ErrorCode};
use std::path::PathBuf;

/// What every command gets from the global options.
#[derive(Debug, Clone)]
pub struct Context {
    /// `--broker`, if given.
    pub broker: Option<String>,
    /// The daemon's socket.
    pub socket: PathBuf,
    /// The secret store.
    pub store: SecretStore,
    /// The config file.
    pub config_path: PathBuf,
    /// The system-wide agent (`--system`): the service manager starts its daemon, so commands
    /// never start one themselves.
    pub system: bool,
}

impl Context {
    /// The context the global options describe: `--system` picks the system-wide agent's
    /// socket, config, data directory and (unless `store` says otherwise) the file store.
    pub fn new(
        broker: Option<String>,
        socket: Option<PathBuf>,
        store: Option<StoreKind>,
        system: bool,
    ) -> Self {
        let (scope, default_store) = match system {
            true => (Scope::System, StoreKind::File),
            false => (Scope::User, StoreKind::Keyring),
        };
        Self {
            broker,
            socket: socket.unwrap_or_else(|| paths::default_socket_in(scope)),
            store: SecretStore::new(store.unwrap_or(default_store), paths::data_dir_in(scope)),
            config_path: paths::config_file_in(scope),
            system,
        }
    }

    /// Arguments that give an autostarted daemon the same store and broker.
    pub fn daemon_args(&self) -> Vec<String> {
        let mut args = vec!["--store".to_owned()];
        args.push(match self.store.kind() {
            StoreKind::Keyring => "keyring".to_owned(),
            StoreKind::File => "file".to_owned(),
        });
        if let Some(broker) = &self.broker {
            args.extend(["--broker".to_owned(), broker.clone()]);
        }
        args
    }
}

/// A failed command: what to tell the user, and the exit code.
#[derive(Debug)]
pub struct Failure {
    /// Exit code.
    pub code: i32,
    /// Message, printed on standard error.
    pub message: String,
}

impl Failure {
    /// Exit code 1.
    pub fn general(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }

    /// The exit code that fits a protocol error code.
    pub fn from_code(code: ErrorCode, message: impl Into<String>) -> Self {
        let exit = match code {
            ErrorCode::ReauthRequired | ErrorCode::UnknownAccount | ErrorCode::InvalidAuthid => 3,
            ErrorCode::ProviderUnavailable | ErrorCode::RateLimited | ErrorCode::ServerError => 4,
            _ => 1,
        };
        Self {
            code: exit,
            message: message.into(),
        }
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(error: E) -> Self {
        Self::general(error.to_string())
    }
}

/// A daemon reply that is not a success, as a failure.
pub fn reply_failure(reply: &Reply) -> Failure {
    match serde_json::from_slice::<ErrorBody>(&reply.body) {
        Ok(body) => Failure::from_code(body.error, body.error_description),
        Err(_) => Failure::general(format!("the daemon answered with status {}", reply.status)),
    }
}

/// Asks the daemon (starting it unless `autostart` is false).
pub async fn ask(
    ctx: &Context,
    method: &str,
    path: &str,
    autostart: bool,
) -> Result<Reply, Failure> {
    let reply = if autostart && !ctx.system {
        local::request_or_start(&ctx.socket, method, path, &ctx.daemon_args()).await
    } else {
        local::request(&ctx.socket, method, path).await
    };
    reply.map_err(|e| match e {
        local::LocalError::Denied(_) => Failure::general(e.to_string()),
        _ => Failure {
            code: 4,
            message: e.to_string(),
        },
    })
}

/// Tells a running daemon to re-read the config and forget cached state; no daemon is fine.
pub async fn reload_daemon(ctx: &Context) {
    if let Ok(reply) = local::request(&ctx.socket, "POST", "/v1/reload").await {
        if reply.status != 204 {
            tracing::warn!(status = reply.status, "the daemon did not reload");
        }
    }
}
