//! Fixtures for the agent's end-to-end tests: a real broker with the fake provider, an agent
//! environment in a temporary directory (config, file store, socket), the real `oauth-agent`
//! binary, an in-process daemon with an injectable clock, and a switchable proxy that plays
//! "the broker is down".
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

#[cfg(unix)]
pub mod activation;

use oauth_agent::clock::Clock;
use oauth_agent::config::{Account, AgentConfig};
use oauth_agent::daemon::{Daemon, DaemonOptions};
use oauth_agent::local;
use oauth_agent::store::{SecretStore, StoreKind};
use oauth_e2e::TestBroker;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

pub const BIN: &str = env!("CARGO_BIN_EXE_oauth-agent");

/// An agent's files in a temporary directory.
pub struct AgentEnv {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub data: PathBuf,
    pub socket: PathBuf,
}

impl AgentEnv {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config/agent.toml");
        let data = dir.path().join("data");
        let socket = dir.path().join("run/agent.sock");
        Self {
            dir,
            config,
            data,
            socket,
        }
    }

    /// The `oauth-agent` binary with this environment (file store, own config and socket).
    pub fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        command
            .env_remove("OAUTH_AGENT_BROKER")
            .env("OAUTH_AGENT_CONFIG", &self.config)
            .env("OAUTH_AGENT_DATA_DIR", &self.data)
            .env("OAUTH_AGENT_SOCKET", &self.socket)
            .env("OAUTH_AGENT_STORE", "file");
        command
    }

    /// Runs the binary with `args`, on a blocking thread.
    pub async fn run(&self, args: &[&str]) -> Output {
        let mut command = self.command();
        command.args(args);
        tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap()
    }

    pub fn store(&self) -> SecretStore {
        SecretStore::new(StoreKind::File, self.data.clone())
    }

    /// Registers `name` with `broker` and `authid` directly (what `login` leaves behind).
    pub async fn add_account(&self, name: &str, broker: &str, authid: &str) {
        let mut config = AgentConfig::load(&self.config).unwrap();
        let account = Account {
            broker: broker.to_owned(),
            provider: "demo".to_owned(),
            git_hosts: vec![],
            git_username: None,
        };
        config.accounts.insert(name.to_owned(), account);
        config.save(&self.config).unwrap();
        self.store().set(name, authid).await.unwrap();
    }

    /// Starts a daemon in-process with a fast tick and the given clock.
    pub async fn start_daemon(&self, clock: Clock) -> RunningDaemon {
        let options = DaemonOptions {
            tick: Duration::from_millis(20),
            max_backoff: Duration::from_secs(60),
            ..DaemonOptions::default()
        };
        let daemon = Daemon::new(self.config.clone(), self.store(), clock, options);
        let (stop, stopped) = oneshot::channel::<()>();
        let socket = self.socket.clone();
        let served = daemon.clone();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            oauth_agent::commands::daemon::serve(served, &socket, false, shutdown).await
        });
        let running = RunningDaemon {
            daemon,
            stop: Some(stop),
            task,
        };
        wait_until(Duration::from_secs(10), || async {
            local::request(&self.socket, "GET", "/v1/status")
                .await
                .is_ok()
        })
        .await;
        running
    }

    /// `GET path` on the daemon: status and JSON body.
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let reply = local::request(&self.socket, "GET", path).await.unwrap();
        let body = serde_json::from_slice(&reply.body).unwrap_or(serde_json::Value::Null);
        (reply.status, body)
    }
}

/// What a `login --no-browser` run left: the page the browser ended on, and the command's
/// standard error.
pub struct LoginRun {
    pub page: oauth_e2e::Page,
    pub stderr: Vec<u8>,
}

impl AgentEnv {
    /// Runs `oauth-agent login demo --provider demo --no-browser` against `broker`, plays the
    /// browser on the URL it prints, and waits for it to exit successfully.
    pub async fn login_without_browser(&self, broker: &TestBroker, log_filter: &str) -> LoginRun {
        use std::io::{BufRead as _, Read as _};
        let mut login = self.command();
        login.env("RUST_LOG", log_filter);
        login.args([
            "--broker",
            &broker.url,
            "login",
            "demo",
            "--provider",
            "demo",
            "--no-browser",
        ]);
        let stdio = std::process::Stdio::piped;
        let mut child = login.stdout(stdio()).stderr(stdio()).spawn().unwrap();

        let stdout = child.stdout.take().unwrap();
        let url = tokio::task::spawn_blocking(move || {
            std::io::BufReader::new(stdout)
                .lines()
                .next()
                .unwrap()
                .unwrap()
        })
        .await
        .unwrap();
        assert!(
            url.starts_with(&broker.url("/login/demo?login_id=")),
            "{url}"
        );
        let page = oauth_e2e::Browser::new().sign_in(&url).await;

        let mut stderr = child.stderr.take().unwrap();
        let stderr = tokio::task::spawn_blocking(move || {
            let mut text = Vec::new();
            stderr.read_to_end(&mut text).unwrap();
            assert!(
                child.wait().unwrap().success(),
                "{}",
                String::from_utf8_lossy(&text)
            );
            text
        })
        .await
        .unwrap();
        LoginRun { page, stderr }
    }
}

pub struct RunningDaemon {
    pub daemon: Daemon,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), oauth_agent::commands::Failure>>,
}

impl RunningDaemon {
    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        (&mut self.task).await.unwrap().unwrap();
    }
}

/// Moves the broker's, the provider's and the agent's clocks forward together.
pub fn advance(broker: &TestBroker, agent: &Clock, secs: u64) {
    broker.clock.advance(secs as i64);
    broker.fake().advance_clock(Duration::from_secs(secs));
    agent.advance(secs as i64);
}

/// Polls `ready` until it is true; panics after `deadline`.
pub async fn wait_until<F, Fut>(deadline: Duration, mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + deadline;
    while !ready().await {
        assert!(
            Instant::now() < end,
            "condition not met within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A TCP proxy in front of the broker that can refuse every connection, and cut the open
/// ones, as a broker that is down would.
pub struct Proxy {
    pub url: String,
    up: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    pub async fn start(target: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let target = target.trim_start_matches("http://").to_owned();
        let (up, watch) = tokio::sync::watch::channel(true);
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                if *watch.borrow() {
                    tokio::spawn(forward(inbound, target.clone(), watch.clone()));
                }
            }
        });
        Self { url, up }
    }

    pub fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }
}

async fn forward(
    mut inbound: tokio::net::TcpStream,
    target: String,
    mut up: tokio::sync::watch::Receiver<bool>,
) {
    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
        _ = up.wait_for(|up| !*up) => {}
    }
}

/// How many `/v1/token` requests the broker has answered, from its metrics.
pub async fn broker_token_requests(broker: &TestBroker) -> u64 {
    let metrics = broker
        .http
        .get(broker.url("/metrics"))
        .send()
        .await
        .unwrap();
    let text = metrics.text().await.unwrap();
    text.lines()
        .filter(|line| line.starts_with("oauth_broker_http_requests_total{route=\"/v1/token\""))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Processes whose command line mentions `needle`, with their command line and environment.
pub fn processes_mentioning(needle: &str) -> Vec<(i32, Vec<u8>, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if oauth_e2e::contains_bytes(&cmdline, needle.as_bytes()) {
            let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
            found.push((pid, cmdline, environ));
        }
    }
    found
}

/// Stops daemons that `oauth-agent` started by itself on `socket` (SIGTERM).
pub fn stop_background_daemons(socket: &Path) {
    let socket = socket.display().to_string();
    for (pid, cmdline, _) in processes_mentioning(&socket) {
        if oauth_e2e::contains_bytes(&cmdline, b"daemon") {
            let pid = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        }
    }
}

/// Whether tests must not skip for a missing service or privilege (set by `.ci/run`).
pub fn services_required() -> bool {
    std::env::var("OAUTH_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// Skips (one line on standard error) or, when services are required, fails.
pub fn skip(test: &str, why: &str) {
    assert!(
        !services_required(),
        "{test}: {why} (OAUTH_TEST_REQUIRE_SERVICES=1)"
    );
    // Straight to stderr: the test harness hides `eprintln!` of passing tests.
    let line = format!("SKIP {test}: {why}\n");
    std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes()).unwrap();
}
