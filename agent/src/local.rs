//! The client side of the local socket: how `token`, `status`, `logout` and `git-credential`
//! talk to the daemon, starting it first when it is not running (as gpg-agent does).
//!
//! Every request has a deadline, so a stuck daemon is an error rather than a job that hangs.
//! A daemon that dies while answering (a crash, an OOM kill) is told apart from one that
//! answers badly: with autostart a new daemon is started and asked, which is safe because every
//! request of the local API is idempotent.

use crate::transport;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// How long `token` waits for an autostarted daemon to accept connections.
const AUTOSTART_DEADLINE: Duration = Duration::from_secs(10);

/// How often `token` looks for an autostarted daemon.
const AUTOSTART_POLL: Duration = Duration::from_millis(50);

/// When nothing listens this long after a start, another daemon is started.
const AUTOSTART_RETRY: Duration = Duration::from_secs(2);

/// How many daemons may die under one request before it gives up (one that crashes on every
/// request is not started forever).
const MAX_STOPS: u32 = 3;

/// How long a request waits for the daemon's answer. A healthy daemon answers within its
/// broker timeout (30 s) even when the broker hangs; beyond twice that it is stuck.
pub const REPLY_DEADLINE: Duration = Duration::from_secs(60);

/// A local request failure.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// No daemon listens on the socket.
    #[error("no oauth-agent daemon is running on {0}; start one with `oauth-agent daemon`")]
    NotRunning(String),
    /// The socket's permissions keep this user out.
    #[error(
        "you may not use the oauth-agent daemon on {0}; for the system-wide agent, ask an \
         administrator to add you to the group oauth-agent-clients (then log in again)"
    )]
    Denied(String),
    /// The daemon could not be started.
    #[error("could not start the oauth-agent daemon: {0}")]
    Autostart(String),
    /// The daemon closed the connection without answering: it stopped or crashed.
    #[error(
        "the oauth-agent daemon on {0} stopped before it answered; try again (if it keeps \
         stopping, its log says why)"
    )]
    Stopped(String),
    /// The daemon accepted the request but did not answer in time.
    #[error(
        "the oauth-agent daemon on {socket} did not answer within {secs} s; it seems stuck: \
         restart it (or its service)"
    )]
    TimedOut {
        /// The socket.
        socket: String,
        /// The deadline, in seconds.
        secs: u64,
    },
    /// The conversation failed half-way.
    #[error("the oauth-agent daemon on {socket} did not answer properly: {reason}")]
    Broken {
        /// The socket.
        socket: String,
        /// What failed.
        reason: String,
    },
}

/// An answer from the daemon.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers (`Retry-After` comes with `provider_unavailable`).
    pub headers: hyper::HeaderMap,
    /// Body.
    pub body: Bytes,
}

/// Sends one request to the daemon on `socket`, waiting at most [`REPLY_DEADLINE`].
pub async fn request(socket: &Path, method: &str, path: &str) -> Result<Reply, LocalError> {
    request_within(socket, method, path, REPLY_DEADLINE).await
}

/// Sends one request to the daemon on `socket`, waiting at most `deadline` for the answer.
pub async fn request_within(
    socket: &Path,
    method: &str,
    path: &str,
    deadline: Duration,
) -> Result<Reply, LocalError> {
    let exchange = exchange(socket, method, path);
    tokio::time::timeout(deadline, exchange)
        .await
        .unwrap_or_else(|_| {
            Err(LocalError::TimedOut {
                socket: socket.display().to_string(),
                secs: deadline.as_secs(),
            })
        })
}

async fn exchange(socket: &Path, method: &str, path: &str) -> Result<Reply, LocalError> {
    let failed = |error: hyper::Error| {
        let socket = socket.display().to_string();
        if stopped(&error) {
            return LocalError::Stopped(socket);
        }
        LocalError::Broken {
            socket,
            reason: error.to_string(),
        }
    };
    let io = transport::connect(socket).await.map_err(|e| {
        let socket = socket.display().to_string();
        match e.kind() {
            std::io::ErrorKind::PermissionDenied => LocalError::Denied(socket),
            _ => LocalError::NotRunning(socket),
        }
    })?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
            .await
            .map_err(failed)?;
    tokio::spawn(connection);

    let request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "oauth-agent")
        .body(Empty::<Bytes>::new())
        .map_err(|e| LocalError::Broken {
            socket: socket.display().to_string(),
            reason: e.to_string(),
        })?;
    let response = sender.send_request(request).await.map_err(failed)?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.map_err(failed)?;
    Ok(Reply {
        status,
        headers,
        body: body.to_bytes(),
    })
}

/// Whether the connection ended under the request: the daemon went away.
fn stopped(error: &hyper::Error) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    if error.is_incomplete_message() || error.is_canceled() {
        return true;
    }
    std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        .is_some_and(|io| {
            matches!(
                io.kind(),
                BrokenPipe | ConnectionAborted | ConnectionReset | UnexpectedEof
            )
        })
}

/// Like [`request`], but when no daemon answers (none runs, or the one that did died under the
/// request), starts one in the background and asks it, until [`AUTOSTART_DEADLINE`].
pub async fn request_or_start(
    socket: &Path,
    method: &str,
    path: &str,
    daemon_args: &[String],
) -> Result<Reply, LocalError> {
    let deadline = Instant::now() + AUTOSTART_DEADLINE;
    let (mut started, mut stops) = (None::<Instant>, 0);
    loop {
        let result = request(socket, method, path).await;
        let start = match &result {
            Err(LocalError::Stopped(_)) if stops < MAX_STOPS => {
                stops += 1;
                true
            }
            // Not while the daemon started last may still be coming up; one that is not up
            // after AUTOSTART_RETRY failed (it found the lock of a daemon still dying, say).
            Err(LocalError::NotRunning(_)) => {
                started.is_none_or(|at| at.elapsed() >= AUTOSTART_RETRY)
            }
            _ => return result,
        };
        if Instant::now() >= deadline {
            return result;
        }
        if start {
            tracing::debug!(socket = %socket.display(), "starting a daemon");
            start_daemon(socket, daemon_args)?;
            started = Some(Instant::now());
        }
        tokio::time::sleep(AUTOSTART_POLL).await;
    }
}

/// Starts `oauth-agent daemon` detached from this process, its log in the data directory.
fn start_daemon(socket: &Path, daemon_args: &[String]) -> Result<(), LocalError> {
    let exe = std::env::current_exe().map_err(|e| LocalError::Autostart(e.to_string()))?;
    let log = daemon_log_file();
    let stderr = log
        .parent()
        .map(std::fs::create_dir_all)
        .and_then(|_| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
                .ok()
        })
        .map_or_else(Stdio::null, Stdio::from);

    let mut command = std::process::Command::new(exe);
    command
        .args(daemon_args)
        .arg("--socket")
        .arg(socket)
        .arg("daemon")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    #[cfg(windows)]
    std::os::windows::process::CommandExt::creation_flags(&mut command, DETACHED_FLAGS);
    command
        .spawn()
        .map(drop)
        .map_err(|e| LocalError::Autostart(e.to_string()))
}

/// Windows process creation flags for a daemon with no console window of its own, outside the
/// starter's Ctrl-C group: `CREATE_NO_WINDOW | CREATE_NEW_PROCESS_GROUP`.
#[cfg(windows)]
const DETACHED_FLAGS: u32 = 0x0800_0000 | 0x0000_0200;

/// Where an autostarted daemon writes its log.
pub fn daemon_log_file() -> PathBuf {
    crate::paths::data_dir().join("daemon.log")
}
