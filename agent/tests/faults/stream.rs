//! A stream of clients asking the agent for `demo`'s token over and over, as backup jobs do:
//! some over the socket (`oauth_agent::local`, what every local client uses), some running
//! `oauth-agent token demo --json`. Each request is recorded with the phase of the test it was
//! sent and answered in, how many kills it waited through, and what the client saw.

use super::support::AgentEnv;
use oauth_agent::local::{self, LocalError, Reply};
use oauth_protocol::{AgentToken, ErrorBody};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

/// A request with no outcome after this long is lost: it hung.
pub const DEADLINE: Duration = Duration::from_secs(45);

/// How often each socket client asks.
const PACE: Duration = Duration::from_millis(5);

/// What a client saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// 200 (exit 0) with this access token.
    Token(String),
    /// An error answer: the HTTP status (or exit code), the protocol code and description (or
    /// the command's standard error), and `Retry-After`.
    Error {
        status: i32,
        text: String,
        retry_after: Option<u64>,
    },
    /// The socket client could not get an answer from a daemon (`LocalError`).
    NoAnswer(String),
    /// Nothing within [`DEADLINE`].
    Lost,
}

impl Seen {
    /// The clear temporary error of docs/agent.md: `provider_unavailable` with `Retry-After`
    /// over the socket, exit 4 from `token`, both naming the account and saying it retries.
    pub fn is_temporarily_unavailable(&self) -> bool {
        let Self::Error {
            status,
            text,
            retry_after,
        } = self
        else {
            return false;
        };
        let explains = text.contains("account 'demo'") && text.contains("retries by itself");
        let socket = *status == 503
            && text.starts_with("provider_unavailable")
            && retry_after.is_some_and(|secs| secs >= 1);
        explains && (socket || *status == 4)
    }

    /// The clear error of a client whose daemon is gone: over the socket, "stopped before it
    /// answered" or "not running"; from `token`, exit 4 with either message.
    pub fn is_daemon_gone(&self) -> bool {
        let gone = |text: &str| {
            text.contains("stopped before it answered")
                || text.contains("no oauth-agent daemon is running")
        };
        match self {
            Self::NoAnswer(text) => gone(text),
            Self::Error { status, text, .. } => *status == 4 && gone(text),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Which client: sockets first, then commands.
    pub client: usize,
    pub sent_in: &'static str,
    pub answered_in: &'static str,
    /// Kills between sending and the answer.
    pub kills_waited: u32,
    pub seen: Seen,
}

impl Record {
    /// Sent and answered in `phase`.
    pub fn within(&self, phase: &str) -> bool {
        self.sent_in == phase && self.answered_in == phase
    }
}

#[derive(Default)]
struct Shared {
    phase: Mutex<&'static str>,
    kills: AtomicU32,
    stop: AtomicBool,
    in_flight: AtomicUsize,
    records: Mutex<Vec<Record>>,
}

impl Shared {
    fn now(&self) -> (&'static str, u32) {
        (
            *self.phase.lock().unwrap(),
            self.kills.load(Ordering::SeqCst),
        )
    }

    /// Runs one request and records it.
    async fn ask<F: std::future::Future<Output = Seen>>(&self, client: usize, request: F) {
        let (sent_in, kills) = self.now();
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let seen = tokio::time::timeout(DEADLINE, request)
            .await
            .unwrap_or(Seen::Lost);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let (answered_in, kills_after) = self.now();
        self.records.lock().unwrap().push(Record {
            client,
            sent_in,
            answered_in,
            kills_waited: kills_after - kills,
            seen,
        });
    }
}

pub struct Stream {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
    /// Every client, sockets and commands.
    pub clients: usize,
}

/// How the stream's `oauth-agent token` clients run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Autostart {
    Yes,
    No,
}

impl Stream {
    /// Starts `sockets` socket clients and `commands` command clients, in `phase`.
    pub fn start(
        agent: &AgentEnv,
        sockets: usize,
        commands: usize,
        autostart: Autostart,
        phase: &'static str,
    ) -> Self {
        let shared = Arc::new(Shared::default());
        *shared.phase.lock().unwrap() = phase;
        let mut tasks = Vec::new();
        for client in 0..sockets {
            let socket = agent.socket.clone();
            tasks.push(tokio::spawn(socket_client(shared.clone(), client, socket)));
        }
        for client in sockets..sockets + commands {
            let mut command = agent.command();
            command.args(["token", "demo", "--json"]);
            if autostart == Autostart::No {
                command.arg("--no-autostart");
            }
            tasks.push(tokio::spawn(command_client(
                shared.clone(),
                client,
                command,
            )));
        }
        Self {
            shared,
            tasks,
            clients: sockets + commands,
        }
    }

    pub fn enter(&self, phase: &'static str) {
        *self.shared.phase.lock().unwrap() = phase;
    }

    /// Counts a kill about to be sent: requests in flight now wait through it.
    pub fn killed(&self) {
        self.shared.kills.fetch_add(1, Ordering::SeqCst);
    }

    /// Requests sent but not answered yet.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    /// Waits until every client has had `per_client` requests sent and answered in `phase`.
    pub async fn wait_for(&self, phase: &'static str, per_client: usize) {
        let clients = self.clients;
        super::support::wait_until(2 * DEADLINE, || async {
            let records = self.shared.records.lock().unwrap();
            (0..clients).all(|client| {
                let mine = records
                    .iter()
                    .filter(|r| r.client == client && r.within(phase));
                mine.count() >= per_client
            })
        })
        .await;
    }

    /// The records so far.
    pub fn records(&self) -> Vec<Record> {
        self.shared.records.lock().unwrap().clone()
    }

    /// Stops the clients after their current request; returns every record.
    pub async fn stop(self) -> Vec<Record> {
        self.shared.stop.store(true, Ordering::SeqCst);
        for task in self.tasks {
            task.await.unwrap();
        }
        let records = self.shared.records.lock().unwrap();
        records.clone()
    }
}

async fn socket_client(shared: Arc<Shared>, client: usize, socket: PathBuf) {
    let mut pace = tokio::time::interval(PACE);
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !shared.stop.load(Ordering::SeqCst) {
        pace.tick().await;
        shared.ask(client, ask_socket(&socket)).await;
    }
}

async fn ask_socket(socket: &Path) -> Seen {
    match local::request(socket, "GET", "/v1/tokens/demo").await {
        Ok(reply) => from_reply(&reply),
        Err(error) => no_answer(&error),
    }
}

fn from_reply(reply: &Reply) -> Seen {
    if reply.status == 200 {
        return token(&reply.body);
    }
    let text = match serde_json::from_slice::<ErrorBody>(&reply.body) {
        Ok(body) => format!("{} {}", body.error, body.error_description),
        Err(_) => String::from_utf8_lossy(&reply.body).into_owned(),
    };
    let retry_after = reply
        .headers
        .get("retry-after")
        .and_then(|value| value.to_str().ok()?.parse().ok());
    Seen::Error {
        status: i32::from(reply.status),
        text,
        retry_after,
    }
}

fn no_answer(error: &LocalError) -> Seen {
    Seen::NoAnswer(error.to_string())
}

fn token(body: &[u8]) -> Seen {
    match serde_json::from_slice::<AgentToken>(body) {
        Ok(token) => Seen::Token(token.access_token),
        Err(_) => Seen::Error {
            status: 200,
            text: String::from_utf8_lossy(body).into_owned(),
            retry_after: None,
        },
    }
}

async fn command_client(shared: Arc<Shared>, client: usize, command: std::process::Command) {
    let mut command = tokio::process::Command::from(command);
    command.kill_on_drop(true);
    while !shared.stop.load(Ordering::SeqCst) {
        shared.ask(client, run_command(&mut command)).await;
    }
}

async fn run_command(command: &mut tokio::process::Command) -> Seen {
    let output = command.output().await.unwrap();
    match output.status.code() {
        Some(0) => token(&output.stdout),
        code => Seen::Error {
            status: code.unwrap_or(-1),
            text: String::from_utf8_lossy(&output.stderr).into_owned(),
            retry_after: None,
        },
    }
}

/// Clients connected to the daemon listening on `socket` (accepted, or waiting to be), from
/// the kernel's table of Unix sockets.
pub fn connections(socket: &Path) -> usize {
    let path = socket.display().to_string();
    let table = std::fs::read_to_string("/proc/net/unix").unwrap();
    table
        .lines()
        .filter(|line| line.ends_with(&format!(" {path}")))
        .filter(|line| {
            let state = line.split_whitespace().nth(5);
            matches!(state, Some("02" | "03"))
        })
        .count()
}
