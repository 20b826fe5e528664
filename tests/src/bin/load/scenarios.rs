//! The two scenarios, each for a fixed period with memory sampled throughout.
//!
//! (a) Many agents against one broker: every agent daemon has one local client asking for a
//! token at a steady pace, so each daemon refreshes through the broker as its token ages, while
//! direct clients send `POST /v1/token` back to back over the grants signed in for them.
//! (b) Many local clients against one agent daemon, back to back.

use crate::broker::Counters;
use crate::clients::{agent_client, broker_client, Tally};
use crate::fleet::Fleet;
use crate::memory::{Memory, Sampler};
use crate::options::Options;
use crate::report::Row;
use std::future::Future;
use std::time::{Duration, Instant};

/// What a scenario produced: table rows and a sentence about the broker's side of it.
#[derive(Debug)]
pub struct Outcome {
    /// The rows.
    pub rows: Vec<Row>,
    /// What the broker counted meanwhile.
    pub note: String,
}

/// Scenario (a).
pub async fn agents_against_broker(fleet: &Fleet, options: &Options) -> anyhow::Result<Outcome> {
    let before = fleet.broker.counters().await?;
    let mut pids = vec![fleet.broker.pid()];
    pids.extend(fleet.agents.iter().map(|agent| agent.pid()));
    let sampler = Sampler::start(pids, Duration::from_millis(options.sample_ms));
    let deadline = Instant::now() + options.duration();

    let http = reqwest::Client::new();
    let url = format!("{}/v1/token", fleet.broker.url);
    let direct = (0..options.broker_clients)
        .map(|_| broker_client(http.clone(), url.clone(), fleet.authids.clone(), deadline));
    let pace = Duration::from_millis(options.agent_interval_ms);
    let local = fleet
        .agents
        .iter()
        .map(|agent| agent_client(agent.socket.clone(), Some(pace), deadline));
    let (direct, local) = tokio::join!(run_all(direct), run_all(local));

    let memory = sampler.finish().await;
    let after = fleet.broker.counters().await?;
    let direct_requests = direct.latencies.len() as u64 + direct.error_count();
    let note = format!(
        "(a) meanwhile the broker answered {} `POST /v1/token` from the agents and refreshed {} \
         times at the provider.",
        (after.token_requests - before.token_requests).saturating_sub(direct_requests),
        after.refreshes - before.refreshes,
    );
    let mut rows = Vec::new();
    if options.broker_clients > 0 {
        rows.push(Row {
            scenario: "(a) `POST /v1/token` on the broker".into(),
            duration: options.duration,
            concurrency: format!(
                "{} clients, {} grants",
                options.broker_clients, options.grants
            ),
            tally: direct,
            measured: "broker".into(),
            memory: memory[0],
        });
    }
    rows.push(Row {
        scenario: "(a) `GET /v1/tokens/{name}` on each agent".into(),
        duration: options.duration,
        concurrency: format!(
            "{} agents × 1 client every {} ms",
            options.agents, options.agent_interval_ms
        ),
        tally: local,
        measured: format!("worst of {} agents", options.agents),
        memory: Memory::worst(&memory[1..]),
    });
    Ok(Outcome { rows, note })
}

/// Scenario (b), on the first agent.
pub async fn clients_against_agent(fleet: &Fleet, options: &Options) -> anyhow::Result<Outcome> {
    let agent = &fleet.agents[0];
    let before = fleet.broker.counters().await?;
    let sampler = Sampler::start(vec![agent.pid()], Duration::from_millis(options.sample_ms));
    let deadline = Instant::now() + options.duration();
    let clients = (0..options.clients).map(|_| agent_client(agent.socket.clone(), None, deadline));
    let tally = run_all(clients).await;
    let memory = sampler.finish().await;
    let after = fleet.broker.counters().await?;

    let row = Row {
        scenario: "(b) `GET /v1/tokens/{name}` on one agent".into(),
        duration: options.duration,
        concurrency: format!("{} clients", options.clients),
        tally,
        measured: "agent".into(),
        memory: memory[0],
    };
    Ok(Outcome {
        rows: vec![row],
        note: note_b(before, after),
    })
}

fn note_b(before: Counters, after: Counters) -> String {
    format!(
        "(b) meanwhile the broker answered {} `POST /v1/token` (all agents, idle ones \
         refreshing in the background) and refreshed {} times at the provider.",
        after.token_requests - before.token_requests,
        after.refreshes - before.refreshes,
    )
}

/// Runs the clients as tasks of their own and merges their tallies.
async fn run_all<F>(clients: impl Iterator<Item = F>) -> Tally
where
    F: Future<Output = Tally> + Send + 'static,
{
    let tasks: Vec<_> = clients.map(tokio::spawn).collect();
    let mut total = Tally::default();
    for task in futures::future::join_all(tasks).await {
        match task {
            Ok(tally) => total.merge(tally),
            Err(panic) => total.merge(Tally::failure(format!("a client task failed: {panic}"))),
        }
    }
    total
}
