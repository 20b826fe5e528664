//! Starting the daemon the way systemd does: the listening socket at fd 3, `LISTEN_FDS=1`,
//! `LISTEN_FDNAMES`, and `LISTEN_PID` set to the daemon's own pid.
//!
//! The `command-fds` crate places the socket at fd 3 in the child (its `pre_exec` is the one
//! unsafe step, kept out of this workspace). The pid exists only after the fork, so a shell sets
//! `LISTEN_PID=$$` and then `exec`s the daemon, which keeps the shell's pid: what systemd does
//! between its fork and exec. `systemd-socket-activate` cannot stand in here, because it owns
//! the listening socket, and the tests need it to outlive a daemon.

use super::{AgentEnv, BIN};
use command_fds::{CommandFdExt as _, FdMapping};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::Command;

/// Binds and listens on `path`, creating its directory (0700), as a socket unit does.
pub fn listen(path: &Path) -> UnixListener {
    let dir = path.parent().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    UnixListener::bind(path).unwrap()
}

/// `oauth-agent ARGS` for `agent`, with `listener` passed as systemd passes it. The daemon's
/// own socket setting points at `decoy`, so a daemon that bound a socket itself would show.
pub fn activated(
    agent: &AgentEnv,
    listener: &UnixListener,
    decoy: &Path,
    args: &[&str],
) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(r#"LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@""#)
        .arg(BIN)
        .args(args)
        .env_remove("OAUTH_AGENT_BROKER")
        .env("OAUTH_AGENT_CONFIG", &agent.config)
        .env("OAUTH_AGENT_DATA_DIR", &agent.data)
        .env("OAUTH_AGENT_SOCKET", decoy)
        .env("OAUTH_AGENT_STORE", "file")
        .env("RUST_LOG", "error")
        .env("LISTEN_FDS", "1")
        .env("LISTEN_FDNAMES", "oauth-agent.socket");
    let socket: OwnedFd = listener.try_clone().unwrap().into();
    let mapping = FdMapping {
        parent_fd: socket,
        child_fd: 3,
    };
    command.fd_mappings(vec![mapping]).unwrap();
    command
}

/// One HTTP/1.1 `GET path` on an already connected stream: status and body.
pub async fn get_on(mut stream: tokio::net::UnixStream, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let request = format!("GET {path} HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    let status = reply
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = reply
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The access token in a `GET /v1/tokens/...` reply body.
pub fn access_token(body: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    json["access_token"].as_str().unwrap().to_owned()
}

/// A daemon process that is killed if the test ends before stopping it.
pub struct DaemonProcess(Option<std::process::Child>);

impl DaemonProcess {
    pub fn spawn(mut command: Command) -> Self {
        Self(Some(command.spawn().unwrap()))
    }

    /// Sends `signal` to the daemon.
    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let id = self.0.as_ref().unwrap().id();
        let pid = nix::unistd::Pid::from_raw(i32::try_from(id).unwrap());
        nix::sys::signal::kill(pid, signal).unwrap();
    }

    /// Waits for the daemon to exit.
    pub async fn wait(mut self) -> std::process::ExitStatus {
        let mut child = self.0.take().unwrap();
        tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap()
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `work`, or a panic once the daemon has not answered for a generous while: a daemon that
/// ignored the passed socket would leave the request queued forever.
pub async fn answered<T>(work: impl std::future::Future<Output = T>) -> T {
    let limit = std::time::Duration::from_secs(30);
    tokio::time::timeout(limit, work)
        .await
        .expect("the daemon did not answer on the passed socket")
}
