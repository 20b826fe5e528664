//! The load itself: clients that ask for access tokens until a deadline and time each answer.
//! Broker clients `POST /v1/token` over kept-alive connections, as a program using the broker
//! directly would; agent clients open a connection per `GET /v1/tokens/{name}`, as
//! `oauth-agent token`, curl and git do.
//!
//! An answer counts as served only when it is a 200 with an access token in it. Error messages
//! carry the status and the protocol's error code, never a body that could hold a token.

use crate::agent::ACCOUNT;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use oauth_e2e::Latencies;
use rand::Rng as _;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A request that takes longer than this counts as an error (and the run goes on).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What one client (or, merged, a scenario's clients) saw.
#[derive(Debug, Default)]
pub struct Tally {
    /// Latencies of the answers served.
    pub latencies: Latencies,
    /// Requests that failed, by what went wrong.
    pub errors: BTreeMap<String, u64>,
}

impl Tally {
    /// A tally of one failure.
    pub fn failure(error: String) -> Self {
        let mut tally = Self::default();
        tally.errors.insert(error, 1);
        tally
    }

    fn record(&mut self, started: Instant, result: Result<(), String>) {
        match result {
            Ok(()) => self.latencies.push(started.elapsed()),
            Err(error) => *self.errors.entry(error).or_default() += 1,
        }
    }

    /// How many requests failed.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Adds another client's tally.
    pub fn merge(&mut self, other: Tally) {
        self.latencies.append(other.latencies);
        for (error, count) in other.errors {
            *self.errors.entry(error).or_default() += count;
        }
    }
}

/// `POST /v1/token` with a random one of `authids`, back to back until `deadline`.
pub async fn broker_client(
    http: reqwest::Client,
    url: String,
    authids: Arc<Vec<String>>,
    deadline: Instant,
) -> Tally {
    let mut tally = Tally::default();
    while Instant::now() < deadline {
        let authid = &authids[rand::thread_rng().gen_range(0..authids.len())];
        let started = Instant::now();
        let result = broker_request(&http, &url, authid).await;
        tally.record(started, result);
    }
    tally
}

async fn broker_request(http: &reqwest::Client, url: &str, authid: &str) -> Result<(), String> {
    let response = http
        .post(url)
        .bearer_auth(authid)
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await
        .map_err(|e| format!("broker: {}", chain(&e)))?;
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("broker: {}", chain(&e)))?;
    check_token("broker", status, &body)
}

/// An error with its causes ("error sending request: operation timed out").
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

/// `GET /v1/tokens/load` on the daemon at `socket` until `deadline`: back to back, or one
/// request per `pace` when given (a program that asks now and then).
pub async fn agent_client(socket: PathBuf, pace: Option<Duration>, deadline: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut ticks = pace.map(|pace| {
        let mut ticks = tokio::time::interval(pace);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks
    });
    while Instant::now() < deadline {
        if let Some(ticks) = ticks.as_mut() {
            ticks.tick().await;
        }
        let started = Instant::now();
        let result = agent_request(&socket).await;
        tally.record(started, result);
    }
    tally
}

/// One `GET /v1/tokens/load` on a connection of its own.
pub async fn agent_request(socket: &Path) -> Result<(), String> {
    match tokio::time::timeout(REQUEST_TIMEOUT, agent_exchange(socket)).await {
        Ok(Ok((status, body))) => check_token("agent", status, &body),
        Ok(Err(error)) => Err(format!("agent: {}", chain(error.as_ref()))),
        Err(_) => Err(format!("agent: no answer within {REQUEST_TIMEOUT:?}")),
    }
}

async fn agent_exchange(
    socket: &Path,
) -> Result<(u16, Bytes), Box<dyn std::error::Error + Send + Sync>> {
    let stream = tokio::net::UnixStream::connect(socket).await?;
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(connection);
    let request = hyper::Request::get(format!("/v1/tokens/{ACCOUNT}"))
        .header("host", "oauth-agent")
        .body(Empty::<Bytes>::new())?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

/// `Ok` for a 200 whose JSON body holds an access token.
fn check_token(from: &str, status: u16, body: &[u8]) -> Result<(), String> {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    if status != 200 {
        let code = json["error"].as_str().unwrap_or("(no error code)");
        return Err(format!("{from}: HTTP {status} {code}"));
    }
    match json["access_token"].as_str() {
        Some(token) if !token.is_empty() => Ok(()),
        _ => Err(format!("{from}: HTTP 200 without an access token")),
    }
}
