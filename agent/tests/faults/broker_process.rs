//! The broker as a process of its own, which a test kills with SIGKILL and starts again on the
//! same address, as a service manager would restart it. The agent crate's tests cannot name
//! another crate's binary, so the process is this test binary run again with
//! [`BODY_ENV`] set and only the test `broker_process_body` selected; that test's body is then
//! [`oauth_e2e::serve_replica_from_env`], on the test broker's database, key and provider.

use oauth_e2e::{ProcessReplica, TestBroker};
use std::process::Command;

/// Set in the broker process's environment; the body test does nothing without it.
pub const BODY_ENV: &str = "OAUTH_FAULTS_BROKER_PROCESS";

pub struct BrokerProcess<'a> {
    broker: &'a TestBroker,
    running: Option<ProcessReplica>,
    /// `http://127.0.0.1:PORT`, kept across restarts.
    pub url: String,
    /// Seconds the broker's clock is ahead; a restarted process starts with it.
    offset: i64,
}

impl<'a> BrokerProcess<'a> {
    /// Starts a broker process on `broker`'s database, on a free port.
    pub fn start(broker: &'a TestBroker) -> Self {
        let running = spawn(broker, 0, None);
        Self {
            broker,
            url: running.url.clone(),
            running: Some(running),
            offset: 0,
        }
    }

    /// SIGKILL, as a crash or an OOM kill would.
    pub fn kill(&mut self) {
        let mut running = self.running.take().expect("the broker process runs");
        running.kill();
    }

    /// Starts the broker again on the same address.
    pub fn restart(&mut self) {
        assert!(self.running.is_none(), "kill the broker process first");
        let addr = self.url.trim_start_matches("http://");
        let running = spawn(self.broker, self.offset, Some(addr));
        assert_eq!(running.url, self.url);
        self.running = Some(running);
    }

    /// Moves the broker's clock forward (now, or at its next start).
    pub fn advance(&mut self, secs: i64) {
        self.offset += secs;
        if let Some(running) = &mut self.running {
            running.advance(secs);
        }
    }
}

fn spawn(broker: &TestBroker, offset: i64, listen: Option<&str>) -> ProcessReplica {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["broker_process_body", "--exact", "--nocapture", "--quiet"])
        .args(["--test-threads", "1"])
        .env(BODY_ENV, "1");
    if let Some(addr) = listen {
        command.env("REPLICA_LISTEN", addr);
    }
    ProcessReplica::spawn_command(command, broker, offset)
}
