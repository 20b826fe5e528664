//! An agent under load: the real `oauth-agent` binary with a directory of its own (config,
//! file store, socket), signed in through `login --no-browser` with a scripted browser, then
//! running `oauth-agent daemon`.

use anyhow::{bail, Context as _};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt as _;
use tokio::process::{Child, Command};

/// The account every agent signs in as.
pub const ACCOUNT: &str = "load";

/// How long a daemon may take to answer on its socket after it starts.
const START_DEADLINE: Duration = Duration::from_secs(30);

/// One agent. Dropping it kills its daemon.
#[derive(Debug)]
pub struct AgentProcess {
    /// The daemon's socket.
    pub socket: PathBuf,
    binary: PathBuf,
    dir: PathBuf,
    daemon: Option<Child>,
}

impl AgentProcess {
    /// An agent keeping its files in `dir` (created).
    pub fn new(binary: &Path, dir: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir.join("run"))?;
        Ok(Self {
            socket: dir.join("run/agent.sock"),
            binary: binary.to_owned(),
            dir,
            daemon: None,
        })
    }

    /// `oauth-agent` with this agent's files and the file store.
    fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .env_remove("OAUTH_AGENT_BROKER")
            .env("OAUTH_AGENT_CONFIG", self.dir.join("config/agent.toml"))
            .env("OAUTH_AGENT_DATA_DIR", self.dir.join("data"))
            .env("OAUTH_AGENT_SOCKET", &self.socket)
            .env("OAUTH_AGENT_STORE", "file")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    /// `oauth-agent login load --provider demo --no-browser`, with the scripted browser
    /// signing in on the URL it prints.
    pub async fn login(&self, broker: &str) -> anyhow::Result<()> {
        let mut login = self.command();
        login
            .args(["--broker", broker, "login", ACCOUNT, "--provider", "demo"])
            .arg("--no-browser")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = login.spawn().context("cannot start oauth-agent login")?;
        let stdout = child.stdout.take().context("no standard output")?;
        let url = tokio::io::BufReader::new(stdout)
            .lines()
            .next_line()
            .await?
            .context("oauth-agent login printed no URL")?;
        let page = oauth_e2e::Browser::new().sign_in(&url).await;
        if page.status != 200 {
            bail!("the sign-in page answered {}", page.status);
        }
        let output = child.wait_with_output().await?;
        if !output.status.success() {
            bail!(
                "oauth-agent login failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    /// Starts `oauth-agent daemon` and waits until it serves a token.
    pub async fn start_daemon(&mut self) -> anyhow::Result<()> {
        let log = std::fs::File::create(self.log())?;
        let mut daemon = self.command();
        daemon.arg("daemon").stdout(Stdio::null()).stderr(log);
        self.daemon = Some(daemon.spawn().context("cannot start oauth-agent daemon")?);
        let end = Instant::now() + START_DEADLINE;
        loop {
            self.check_alive()?;
            if crate::clients::agent_request(&self.socket).await.is_ok() {
                return Ok(());
            }
            if Instant::now() > end {
                bail!("the daemon did not serve a token within {START_DEADLINE:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The daemon's process id, for memory samples.
    pub fn pid(&self) -> u32 {
        self.daemon.as_ref().and_then(Child::id).unwrap_or(0)
    }

    /// An error when the daemon has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        let tail = self.tail();
        let daemon = self
            .daemon
            .as_mut()
            .context("the daemon was never started")?;
        match daemon.try_wait()? {
            None => Ok(()),
            Some(status) => bail!("an agent daemon exited ({status}); {tail}"),
        }
    }

    fn log(&self) -> PathBuf {
        self.dir.join("daemon.log")
    }

    /// The last lines of the daemon's log.
    pub fn tail(&self) -> String {
        crate::report::tail("agent daemon", &self.log())
    }
}
