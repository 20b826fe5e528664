//! A broker replica in a process of its own, on a test broker's database, master key and
//! provider: for tests where "another process" matters (locks held by a process that dies,
//! connections of its own, a broker killed with SIGKILL and started again).
//!
//! Both ends live here: [`ProcessReplica`] starts and drives the process; [`serve_from_env`] is
//! the process's body (the `test-replica` binary, or a test binary that runs itself again).

use crate::TestBroker;
use oauth_broker::config::{RawConfig, RawProvider};
use oauth_broker::crypto::master_key::MasterKey;
use oauth_broker::{Clock, Config};
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
        Self::spawn_command(Command::new(binary), broker, offset)
    }

    /// Starts `command`, a program whose body is [`serve_from_env`], with its clock `offset`
    /// seconds ahead, and waits until it listens. Set `REPLICA_LISTEN` on `command` to choose
    /// the address (a restarted broker keeps its predecessor's).
    pub fn spawn_command(mut command: Command, broker: &TestBroker, offset: i64) -> Self {
        let mut child = command
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
        // A test harness running the body may print its own lines first.
        let url = loop {
            let line = stdout
                .next()
                .expect("the replica exited before READY")
                .unwrap();
            if let Some((_, url)) = line.split_once("READY ") {
                break url.to_owned();
            }
        };
        Self {
            url,
            child,
            stdin,
            stdout,
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
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

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set"))
}

/// The replica process's body, configured entirely from the environment [`ProcessReplica`]
/// sets: `REPLICA_DATABASE_URL`, `REPLICA_PUBLIC_URL`, `REPLICA_PROVIDER_URL` (the fake
/// provider, client `demo-client`), `REPLICA_MASTER_KEY` (base64), `REPLICA_CLOCK_OFFSET`
/// (seconds) and optionally `REPLICA_LISTEN` (default `127.0.0.1:0`). Prints
/// `READY http://ADDR` once it listens, then serves until killed or until its standard input
/// closes. A line `advance SECS` on standard input moves its clock forward and is answered `ok`.
/// A line `fsize BYTES` (or `fsize unlimited`) sets its file-size limit (RLIMIT_FSIZE), so that
/// writes past that size fail as on a full disk, and is answered `ok`; SIGXFSZ is caught, so
/// such a write fails with EFBIG rather than killing the process.
pub async fn serve_from_env() {
    let provider = env("REPLICA_PROVIDER_URL");
    let table = RawProvider {
        authorize_url: Some(format!("{provider}/authorize")),
        token_url: Some(format!("{provider}/token")),
        revocation_url: Some(format!("{provider}/revoke")),
        client_id: Some("demo-client".into()),
        client_secret: Some("demo-secret".into()),
        ..RawProvider::default()
    };
    let mut raw = RawConfig {
        public_url: Some(env("REPLICA_PUBLIC_URL")),
        database_url: Some(env("REPLICA_DATABASE_URL")),
        ..RawConfig::default()
    };
    raw.providers.insert("demo".into(), table);
    let config = Config::from_raw(raw).unwrap();
    let key = MasterKey::from_base64(&env("REPLICA_MASTER_KEY")).unwrap();
    let clock = Clock::default();
    clock.advance(env("REPLICA_CLOCK_OFFSET").parse().unwrap());

    // Caught and ignored: a write past the file-size limit then fails with EFBIG instead.
    #[cfg(unix)]
    let _file_too_large = {
        use tokio::signal::unix::{signal, SignalKind};
        signal(SignalKind::from_raw(
            nix::sys::signal::Signal::SIGXFSZ as i32,
        ))
        .unwrap()
    };

    let broker = oauth_broker::open(config, key, clock.clone())
        .await
        .unwrap();
    let listen = std::env::var("REPLICA_LISTEN").unwrap_or_else(|_| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(listen).await.unwrap();
    println!("READY http://{}", listener.local_addr().unwrap());
    let commands = tokio::task::spawn_blocking(move || obey(&clock));
    let stdin_closed = async move {
        let _ = commands.await;
    };
    oauth_broker::run(broker, None, listener, stdin_closed)
        .await
        .unwrap();
}

/// Reads `advance SECS` and `fsize BYTES` lines until standard input closes.
fn obey(clock: &Clock) {
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let done = if let Some(secs) = line.strip_prefix("advance ") {
            secs.trim().parse().map(|secs| clock.advance(secs)).is_ok()
        } else if let Some(bytes) = line.strip_prefix("fsize ") {
            limit_file_size(bytes.trim())
        } else {
            false
        };
        if done {
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "ok");
            let _ = stdout.flush();
        }
    }
}

/// Sets the soft RLIMIT_FSIZE to `bytes` (or `unlimited`), keeping the hard limit.
#[cfg(unix)]
fn limit_file_size(bytes: &str) -> bool {
    use nix::sys::resource::{getrlimit, setrlimit, Resource, RLIM_INFINITY};
    let soft = match bytes {
        "unlimited" => RLIM_INFINITY,
        bytes => match bytes.parse() {
            Ok(bytes) => bytes,
            Err(_) => return false,
        },
    };
    let Ok((_, hard)) = getrlimit(Resource::RLIMIT_FSIZE) else {
        return false;
    };
    setrlimit(Resource::RLIMIT_FSIZE, soft, hard).is_ok()
}

/// No file-size limit outside Unix.
#[cfg(not(unix))]
fn limit_file_size(_bytes: &str) -> bool {
    false
}
