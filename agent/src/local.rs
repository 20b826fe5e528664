//! The client side of the local socket: how `token`, `status`, `logout` and `git-credential`
//! talk to the daemon, starting it first when it is not running (as gpg-agent does).

use crate::transport;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// How long `token` waits for an autostarted daemon to accept connections.
const AUTOSTART_DEADLINE: Duration = Duration::from_secs(10);

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
    /// Body.
    pub body: Bytes,
}

/// Sends one request to the daemon on `socket`.
pub async fn request(socket: &Path, method: &str, path: &str) -> Result<Reply, LocalError> {
    let broken = |reason: String| LocalError::Broken {
        socket: socket.display().to_string(),
        reason,
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
            .map_err(|e| broken(e.to_string()))?;
    tokio::spawn(connection);

    let request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "oauth-agent")
        .body(Empty::<Bytes>::new())
        .map_err(|e| broken(e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| broken(e.to_string()))?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| broken(e.to_string()))?;
    Ok(Reply {
        status,
        body: body.to_bytes(),
    })
}

/// Like [`request`], but starts the daemon in the background first if none answers.
pub async fn request_or_start(
    socket: &Path,
    method: &str,
    path: &str,
    daemon_args: &[String],
) -> Result<Reply, LocalError> {
    match request(socket, method, path).await {
        Err(LocalError::NotRunning(_)) => {}
        other => return other,
    }
    start_daemon(socket, daemon_args)?;

    let deadline = Instant::now() + AUTOSTART_DEADLINE;
    loop {
        match request(socket, method, path).await {
            Err(LocalError::NotRunning(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => return other,
        }
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
