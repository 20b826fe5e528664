//! A broker replica in a process of its own (the `test-replica` binary), on a test broker's
//! database, master key and provider: for tests where "another process" matters (locks held by
//! a process that dies, connections of its own).

use crate::TestBroker;
use std::io::{BufRead as _, BufReader, Lines, Write as _};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// The running replica. Dropping it kills the process.
pub struct ProcessReplica {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl ProcessReplica {
    /// Starts `binary` (pass `env!("CARGO_BIN_EXE_test-replica")`) with its clock `offset`
    /// seconds ahead, and waits until it listens.
    pub fn spawn(binary: &str, broker: &TestBroker, offset: i64) -> Self {
        let mut child = Command::new(binary)
            .env("REPLICA_DATABASE_URL", broker.database.url())
            .env("REPLICA_PUBLIC_URL", &broker.url)
            .env("REPLICA_PROVIDER_URL", &broker.provider.base_url)
            .env("REPLICA_MASTER_KEY", broker.master_key_base64())
            .env("REPLICA_CLOCK_OFFSET", offset.to_string())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = stdout.next().unwrap().unwrap();
        let url = ready.strip_prefix("READY ").expect("READY line").to_owned();
        Self {
            url,
            child,
            stdin,
            stdout,
        }
    }

    /// Moves the replica's clock forward and waits until it has.
    pub fn advance(&mut self, secs: i64) {
        writeln!(self.stdin, "advance {secs}").unwrap();
        self.stdin.flush().unwrap();
        assert_eq!(self.stdout.next().unwrap().unwrap(), "ok");
    }

    /// Limits the size of files the replica may write (`None`: no limit); a write past the
    /// limit fails, as on a full disk. Waits until the limit is in place.
    pub fn limit_file_size(&mut self, bytes: Option<u64>) {
        let limit = bytes.map_or_else(|| "unlimited".to_owned(), |bytes| bytes.to_string());
        writeln!(self.stdin, "fsize {limit}").unwrap();
        self.stdin.flush().unwrap();
        assert_eq!(self.stdout.next().unwrap().unwrap(), "ok");
    }

    /// SIGKILL, as a crash or an OOM kill would.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for ProcessReplica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
