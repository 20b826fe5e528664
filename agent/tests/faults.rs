//! Process faults, each with what the clients saw and a one-line summary on standard error:
//!
//! - the broker killed with SIGKILL and started again on the same address while a stream of
//!   clients asks the agent for tokens: once while the agent's cached token is still valid (and
//!   then expires during the outage), once while the agent's refresh is in flight at the broker;
//! - the agent daemon killed while clients wait for it, then started again by its service
//!   manager, or by the next `oauth-agent token` (autostart);
//! - a daemon that accepts but never answers.
//!
//! "Lost" counts requests that got neither a token nor one of the clear errors docs/agent.md
//! promises (or hung): it must be zero.
#![cfg(unix)] // SIGKILL, /proc and Unix sockets
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

mod support;

#[path = "faults/broker_process.rs"]
mod broker_process;
#[path = "faults/daemon_process.rs"]
mod daemon_process;
#[path = "faults/gate.rs"]
mod gate;
#[path = "faults/stream.rs"]
mod stream;

use broker_process::BrokerProcess;
use daemon_process::{daemons, Autostarted, DaemonProcess};
use gate::Gate;
use oauth_agent::clock::Clock;
use oauth_agent::local::{self, LocalError};
use oauth_e2e::TestBroker;
use std::collections::HashSet;
use std::time::Duration;
use stream::{connections, Autostart, Record, Seen, Stream};
use support::{wait_until, AgentEnv, RunningDaemon};
use tokio::task::block_in_place;

/// Requests each client makes in a phase before the test moves on.
const PER_CLIENT: usize = 3;

/// Not a test of its own: the body of the broker process that [`BrokerProcess`] starts (this
/// binary, run again). Without its environment variable it returns at once.
#[test]
fn broker_process_body() {
    if std::env::var_os(broker_process::BODY_ENV).is_none() {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(oauth_e2e::serve_replica_from_env());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn broker_killed_and_restarted_during_a_stream_of_requests() {
    let broker = TestBroker::start().await; // 300 s tokens, a SQLite file
    let authid = broker.sign_in().await;
    let process = block_in_place(|| BrokerProcess::start(&broker));
    let agent = AgentEnv::new();
    agent.add_account("demo", &process.url, &authid).await;
    let clock = Clock::default();
    let daemon = agent.start_daemon(clock.clone()).await;
    let stream = Stream::start(&agent, 4, 1, Autostart::No, "up");
    let mut scene = Scene {
        broker: &broker,
        process,
        clock,
        daemon: &daemon,
        stream,
    };
    scene.stream.wait_for("up", PER_CLIENT).await;
    let first = scene.killed_while_the_token_is_valid().await;
    let second = scene.killed_while_a_refresh_waits().await;
    let clients = scene.stream.clients;
    let records = scene.stream.stop().await;

    let tokens = |phase| tokens_within(&records, phase);
    assert_eq!(tokens("up").len(), 1, "one token while nothing changes");
    assert_eq!(tokens("down, token valid"), tokens("up"), "the cached one");
    let outage = Seen::is_temporarily_unavailable;
    assert_only(&records, "down, token expired", outage);
    assert_only(&records, "killed mid-refresh", outage);
    let at_kill: Vec<&Record> = records.iter().filter(|r| r.kills_waited > 0).collect();
    assert!(
        at_kill.len() >= clients,
        "every client waits at the second kill"
    );
    let cached = |r: &Record| r.sent_in == "up" && matches!(r.seen, Seen::Token(_));
    assert!(at_kill.iter().all(|r| outage(&r.seen) || cached(r)));
    assert!(first.is_disjoint(&tokens("up")) && second.is_disjoint(&first));
    assert_eq!(
        lost(&records),
        Vec::<&Record>::new(),
        "every request answered"
    );
    assert_grant_kept(&agent, &daemon, &broker, &authid).await;
    let extra = format!("kills=2 waiting_at_kill={}", at_kill.len());
    summary("broker_sigkill", &records, &extra);
    daemon.stop().await;
}

/// The broker process, the clocks, the agent's in-process daemon and the stream of clients.
struct Scene<'a> {
    broker: &'a TestBroker,
    process: BrokerProcess<'a>,
    clock: Clock,
    daemon: &'a RunningDaemon,
    stream: Stream,
}

impl Scene<'_> {
    /// Killed while the agent's token is valid, which then expires during the outage; returns
    /// the tokens served once the broker is back.
    async fn killed_while_the_token_is_valid(&mut self) -> HashSet<String> {
        self.kill();
        self.stream.enter("down, token valid");
        self.stream.wait_for("down, token valid", PER_CLIENT).await;
        self.advance(400);
        self.stream.enter("down, token expired");
        self.stream
            .wait_for("down, token expired", PER_CLIENT)
            .await;
        block_in_place(|| self.process.restart());
        self.stream.enter("restarted");
        self.stream.wait_for("restarted", 1).await;
        self.advance(61); // past the daemon's longest back-off (60 s in tests)
        self.recover("recovered").await
    }

    /// Killed while the agent's refresh waits at the broker (on a slow provider) and every
    /// client waits for it; returns the tokens served once the broker is back.
    async fn killed_while_a_refresh_waits(&mut self) -> HashSet<String> {
        let fake = self.broker.fake();
        fake.set_delay(Duration::from_secs(600));
        let refreshes = fake.refresh_count();
        self.stream.enter("refresh held");
        self.advance(400);
        wait_until(stream::DEADLINE, || async {
            fake.refresh_count() > refreshes && self.stream.in_flight() == self.stream.clients
        })
        .await;
        self.kill();
        self.stream.enter("killed mid-refresh");
        self.stream.wait_for("killed mid-refresh", PER_CLIENT).await;
        fake.set_delay(Duration::ZERO);
        block_in_place(|| self.process.restart());
        self.stream.enter("restarted again");
        self.advance(61);
        self.recover("recovered again").await
    }

    fn kill(&mut self) {
        self.stream.killed();
        block_in_place(|| self.process.kill());
    }

    /// Moves every clock forward: the broker's, the provider's and the agent's.
    fn advance(&mut self, secs: u64) {
        support::advance(self.broker, &self.clock, secs);
        block_in_place(|| self.process.advance(secs as i64));
    }

    /// Waits (without restarting anything) until the daemon holds a fresh token again, then
    /// collects a phase of requests that must all be served, with working tokens.
    async fn recover(&self, phase: &'static str) -> HashSet<String> {
        wait_until(stream::DEADLINE, || async {
            let status = &self.daemon.daemon.status()[0];
            status.last_error.is_none() && status.expires_at.is_some()
        })
        .await;
        self.stream.enter(phase);
        self.stream.wait_for(phase, PER_CLIENT).await;
        let tokens = tokens_within(&self.stream.records(), phase);
        assert_working(self.broker, &tokens);
        tokens
    }
}

/// The distinct tokens of requests sent and answered in `phase`, which must all be tokens.
fn tokens_within(records: &[Record], phase: &str) -> HashSet<String> {
    let within = records.iter().filter(|r| r.within(phase));
    within
        .map(|r| match &r.seen {
            Seen::Token(token) => token.clone(),
            other => panic!("{phase}: {other:?}"),
        })
        .collect()
}

/// The provider accepts every one of `tokens`.
fn assert_working(broker: &TestBroker, tokens: &HashSet<String>) {
    for token in tokens {
        assert!(
            broker.fake().is_access_token_valid(token),
            "a working token"
        );
    }
}

/// Every request sent and answered in `phase` (at least one) saw what `expected` accepts.
fn assert_only(records: &[Record], phase: &str, expected: fn(&Seen) -> bool) {
    let within: Vec<&Record> = records.iter().filter(|r| r.within(phase)).collect();
    assert!(!within.is_empty(), "{phase}: no requests");
    let other: Vec<&&Record> = within.iter().filter(|r| !expected(&r.seen)).collect();
    assert!(other.is_empty(), "{phase}: {other:#?}");
}

/// Requests that got neither a token nor a clear error.
fn lost(records: &[Record]) -> Vec<&Record> {
    let clear = |seen: &Seen| {
        matches!(seen, Seen::Token(_)) || seen.is_temporarily_unavailable() || seen.is_daemon_gone()
    };
    records.iter().filter(|r| !clear(&r.seen)).collect()
}

/// The account, its authid and its grant survived: no new sign-in needed.
async fn assert_grant_kept(
    agent: &AgentEnv,
    daemon: &RunningDaemon,
    broker: &TestBroker,
    authid: &str,
) {
    let status = daemon.daemon.status();
    assert_eq!(status.len(), 1);
    assert!(!status[0].reauth_required, "{:?}", status[0].last_error);
    assert_stored(agent, authid).await;
    let grants = "SELECT COUNT(*) FROM grants WHERE reauth_required_at IS NULL";
    assert_eq!(broker.scalar(grants).await, 1);
    let damage = "SELECT COUNT(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'";
    assert_eq!(
        broker.scalar(damage).await,
        0,
        "the broker's database is intact"
    );
}

async fn assert_stored(agent: &AgentEnv, authid: &str) {
    let stored = agent.store().get("demo").await.unwrap();
    assert_eq!(stored.as_deref().map(String::as_str), Some(authid));
    let config = oauth_agent::config::AgentConfig::load(&agent.config).unwrap();
    assert!(config.accounts.contains_key("demo"));
}

/// `FAULT name: requests=N answered=N lost=0 errors_during_outage=M ...` on standard error
/// (written directly: the harness hides `eprintln!` of passing tests).
fn summary(name: &str, records: &[Record], extra: &str) {
    let tokens = records
        .iter()
        .filter(|r| matches!(r.seen, Seen::Token(_)))
        .count();
    let lost = lost(records).len();
    let line = format!(
        "FAULT {name}: requests={} answered={} lost={lost} errors_during_outage={} {extra}\n",
        records.len(),
        records.len() - lost,
        records.len() - lost - tokens,
    );
    std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn daemon_killed_while_clients_wait_serves_them_again_once_its_service_restarts_it() {
    let broker = TestBroker::start().await;
    let gate = Gate::start(&broker.url, false).await;
    let agent = AgentEnv::new();
    let authid = broker.sign_in().await;
    agent.add_account("demo", &gate.url, &authid).await;
    let mut daemon = DaemonProcess::start(&agent).await;
    // Its first token fetch waits at the gate; so does every client.
    let stream = Stream::start(&agent, 4, 2, Autostart::No, "waiting");
    let clients = stream.clients;
    wait_until(stream::DEADLINE, || async {
        gate.held() > 0 && connections(&agent.socket) >= clients && stream.in_flight() == clients
    })
    .await;

    stream.killed();
    daemon.kill();
    stream.enter("down");
    assert!(agent.socket.exists(), "SIGKILL leaves the socket behind");
    stream.wait_for("down", PER_CLIENT).await;
    gate.open();
    stream.enter("restarting");
    let daemon = DaemonProcess::start(&agent).await; // as its service manager would
    stream.enter("restarted");
    stream.wait_for("restarted", PER_CLIENT).await;
    let records = stream.stop().await;

    let at_kill: Vec<&Record> = records.iter().filter(|r| r.kills_waited > 0).collect();
    assert_eq!(
        at_kill.len(),
        clients,
        "every client was waiting: {at_kill:?}"
    );
    let gone = |r: &&Record| r.seen.is_daemon_gone();
    assert!(at_kill.iter().all(gone), "{at_kill:?}");
    assert_only(&records, "down", Seen::is_daemon_gone);
    assert_working(&broker, &tokens_within(&records, "restarted"));
    let served = records.iter().filter(|r| r.within("restarted"));
    let served: HashSet<usize> = served.map(|r| r.client).collect();
    assert_eq!(served.len(), clients, "every client is served again");
    assert_eq!(lost(&records), Vec::<&Record>::new());
    assert_stored(&agent, &authid).await;
    let extra = format!("clients={clients} waiting_at_kill={}", at_kill.len());
    summary("daemon_sigkill_restart", &records, &extra);
    drop(daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn daemon_killed_while_clients_wait_is_started_again_by_their_token_commands() {
    let broker = TestBroker::start().await;
    let gate = Gate::start(&broker.url, false).await;
    let agent = AgentEnv::new();
    let authid = broker.sign_in().await;
    agent.add_account("demo", &gate.url, &authid).await;
    let _autostarted = Autostarted(&agent.socket);
    // Four `oauth-agent token demo` at once start one daemon between them, and wait on it.
    let stream = Stream::start(&agent, 0, 4, Autostart::Yes, "first daemon");
    wait_until(stream::DEADLINE, || async {
        gate.held() > 0
            && connections(&agent.socket) >= stream.clients
            && daemons(&agent.socket).len() == 1
    })
    .await;

    stream.killed();
    daemon_process::kill(daemons(&agent.socket)[0]);
    stream.enter("after the kill");
    gate.open();
    stream.wait_for("after the kill", PER_CLIENT).await;
    let records = stream.stop().await;

    let at_kill = records.iter().filter(|r| r.kills_waited > 0).count();
    assert_eq!(at_kill, 4, "every client was waiting");
    let unserved: Vec<&Record> = records
        .iter()
        .filter(|r| !matches!(r.seen, Seen::Token(_)))
        .collect();
    assert_eq!(unserved, Vec::<&Record>::new(), "every command got a token");
    assert_working(&broker, &tokens_within(&records, "after the kill"));
    // Daemons started at once after the kill leave exactly one, listening on the socket.
    wait_until(Duration::from_secs(10), || async {
        daemons(&agent.socket).len() == 1
    })
    .await;
    assert_stored(&agent, &authid).await;
    summary(
        "daemon_sigkill_autostart",
        &records,
        &format!("clients=4 waiting_at_kill={at_kill} daemons_after=1"),
    );
}

#[tokio::test]
async fn a_daemon_that_never_answers_is_a_clear_error_at_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("agent.sock");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    let stuck = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = listener.accept().await {
            held.push(connection);
        }
    });

    let asked = local::request_within(&socket, "GET", "/v1/status", Duration::from_millis(300));
    let outcome = tokio::time::timeout(Duration::from_secs(20), asked)
        .await
        .expect("the request gives up by itself");
    let error = outcome.unwrap_err();
    assert!(matches!(error, LocalError::TimedOut { .. }), "{error:?}");
    assert!(error.to_string().contains("did not answer within"));
    stuck.abort();
}
