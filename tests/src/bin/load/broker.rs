//! The broker under load: the real `oauth-broker serve` in a process of its own, configured
//! with files as an installation is, on SQLite or PostgreSQL, in front of the fake provider.

use anyhow::{bail, Context as _};
use oauth_broker::crypto::master_key::MasterKey;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// How long the broker may take to answer `/readyz` after it starts.
const START_DEADLINE: Duration = Duration::from_secs(30);

/// The running broker. Dropping it kills the process.
#[derive(Debug)]
pub struct BrokerProcess {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    child: Child,
    log: PathBuf,
    http: reqwest::Client,
}

/// Counters from the broker's `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counters {
    /// `POST /v1/token` requests answered, whatever the status.
    pub token_requests: u64,
    /// Successful refreshes at the provider.
    pub refreshes: u64,
}

impl BrokerProcess {
    /// Writes the configuration into `dir`, starts `binary serve`, and waits until it is ready.
    pub async fn start(
        binary: &Path,
        dir: &Path,
        provider: &str,
        database_url: &str,
    ) -> anyhow::Result<Self> {
        let port = free_port()?;
        let config = write_config(dir, port, provider, database_url)?;
        let log = dir.join("broker.log");
        let child = Command::new(binary)
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "warn")
            .env_remove("OAUTH_BROKER_MASTER_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log)?)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut broker = Self {
            url: format!("http://127.0.0.1:{port}"),
            child,
            log,
            http: reqwest::Client::new(),
        };
        broker.wait_ready().await?;
        Ok(broker)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let end = Instant::now() + START_DEADLINE;
        let readyz = format!("{}/readyz", self.url);
        loop {
            self.check_alive()?;
            if let Ok(response) = self.http.get(&readyz).send().await {
                if response.status() == 200 {
                    return Ok(());
                }
            }
            if Instant::now() > end {
                bail!(
                    "the broker was not ready within {START_DEADLINE:?}; see {}",
                    self.tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The process id, for memory samples.
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// An error when the process has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        match self.child.try_wait()? {
            None => Ok(()),
            Some(status) => bail!("the broker exited ({status}); {}", self.tail()),
        }
    }

    /// The last lines of the broker's log.
    pub fn tail(&self) -> String {
        crate::report::tail("broker", &self.log)
    }

    /// The counters the load report needs, from `/metrics`.
    pub async fn counters(&self) -> anyhow::Result<Counters> {
        let url = format!("{}/metrics", self.url);
        let text = self.http.get(url).send().await?.text().await?;
        Ok(Counters {
            token_requests: sum(
                &text,
                "oauth_broker_http_requests_total{route=\"/v1/token\"",
            ),
            refreshes: sum(
                &text,
                "oauth_broker_refreshes_total{provider=\"demo\",outcome=\"ok\"",
            ),
        })
    }
}

/// The sum of the counters on lines that start with `prefix`.
fn sum(metrics: &str, prefix: &str) -> u64 {
    metrics
        .lines()
        .filter(|line| line.starts_with(prefix))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// A loopback port nobody listens on now (the broker binds it a moment later).
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// `broker.toml` with its master key and client secret files; the refresh quota is lifted,
/// since short-lived tokens refresh far more often than a real provider's.
fn write_config(
    dir: &Path,
    port: u16,
    provider: &str,
    database_url: &str,
) -> anyhow::Result<PathBuf> {
    let key = dir.join("master.key");
    write_private(&key, MasterKey::generate().to_base64().as_bytes())?;
    let secret = dir.join("demo.secret");
    write_private(&secret, b"demo-secret")?;
    let config = format!(
        r#"listen = "127.0.0.1:{port}"
public_url = "http://127.0.0.1:{port}"
database_url = {database_url:?}
master_key_file = {key:?}

[limits]
refreshes_per_hour = 1000000

[providers.demo]
display_name = "Demo provider"
authorize_url = "{provider}/authorize"
token_url = "{provider}/token"
revocation_url = "{provider}/revoke"
client_id = "demo-client"
client_secret_file = {secret:?}
"#
    );
    let path = dir.join("broker.toml");
    std::fs::write(&path, config)?;
    Ok(path)
}

fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)?;
    Ok(())
}
