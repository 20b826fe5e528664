//! `oauth-agent daemon` as a process of its own, started the way a service manager starts it,
//! so that a test can SIGKILL it; and the daemons that `oauth-agent token` started by itself.

use super::support::{processes_mentioning, wait_until, AgentEnv};
use oauth_agent::local;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

pub struct DaemonProcess {
    child: Child,
}

impl DaemonProcess {
    /// Starts the daemon (its log in the agent's directory) and waits until it answers.
    pub async fn start(agent: &AgentEnv) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(agent.dir.path().join("daemon.log"))
            .unwrap();
        let child = agent
            .command()
            .arg("daemon")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        wait_until(Duration::from_secs(10), || async {
            local::request(&agent.socket, "GET", "/v1/status")
                .await
                .is_ok()
        })
        .await;
        Self { child }
    }

    /// SIGKILL, as a crash or an OOM kill would.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Stops, when dropped (also when a test fails), the daemons `oauth-agent token` started on a
/// socket.
pub struct Autostarted<'a>(pub &'a Path);

impl Drop for Autostarted<'_> {
    fn drop(&mut self) {
        super::support::stop_background_daemons(self.0);
    }
}

/// Live daemon processes serving `socket` (a killed one is gone, or a zombie without a
/// command line).
pub fn daemons(socket: &Path) -> Vec<i32> {
    processes_mentioning(&socket.display().to_string())
        .into_iter()
        .filter(|(_, cmdline, _)| oauth_e2e::contains_bytes(cmdline, b"daemon"))
        .map(|(pid, _, _)| pid)
        .collect()
}

/// SIGKILL to a daemon that `oauth-agent token` started.
pub fn kill(pid: i32) {
    use nix::sys::signal::{kill, Signal};
    kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL).unwrap();
}
