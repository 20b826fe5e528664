//! Measures what docs/scaling.md reports for a PostgreSQL replica: bytes per stored grant
//! (table and index), and cache-hit `POST /v1/token` throughput and latency of one replica.
//!
//! `cargo run --release -p oauth-e2e --bin bench-scaling -- [GRANTS] [SECONDS] [CONCURRENCY]`
//! (defaults 2000, 10, 32). It needs the PostgreSQL test server (`OAUTH_TEST_POSTGRES_URL`,
//! default `postgres://postgres@127.0.0.1:5432/test`), creates its own database and drops it.
//! The load generator runs in the same process as the broker, so on a 2-core machine both share
//! the cores: the figures are a floor, not the broker's ceiling (issue #7 measures with `wrk`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oauth_e2e::{millis, BrokerBuilder, Latencies};
use rand::Rng as _;
use std::time::{Duration, Instant};

fn arg(index: usize, default: u64) -> u64 {
    std::env::args()
        .nth(index)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let (grants, seconds, concurrency) = (arg(1, 2000), arg(2, 10), arg(3, 32));
    let broker = BrokerBuilder::new()
        .postgres()
        .config(|raw| raw.limits.failed_lookups_per_minute = Some(1_000_000))
        .start()
        .await;

    let started = Instant::now();
    let mut authids = Vec::with_capacity(grants as usize);
    for _ in 0..grants {
        authids.push(broker.sign_in().await);
    }
    let signed_in = started.elapsed();
    let total = broker
        .scalar("SELECT pg_total_relation_size('grants')")
        .await;
    let indexes = broker.scalar("SELECT pg_indexes_size('grants')").await;
    let rows = broker.scalar("SELECT count(*) FROM grants").await;

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let workers = (0..concurrency).map(|_| {
        let (http, url, authids) = (
            broker.http.clone(),
            broker.url("/v1/token"),
            authids.clone(),
        );
        tokio::spawn(async move {
            let mut latencies = Latencies::default();
            while Instant::now() < deadline {
                let authid = &authids[rand::thread_rng().gen_range(0..authids.len())];
                let start = Instant::now();
                let response = http.post(&url).bearer_auth(authid).send().await.unwrap();
                assert_eq!(response.status(), 200);
                response.bytes().await.unwrap();
                latencies.push(start.elapsed());
            }
            latencies
        })
    });
    let mut latencies = Latencies::default();
    for worker in futures::future::join_all(workers).await {
        latencies.append(worker.unwrap());
    }
    let latencies = latencies.percentiles();

    println!("| figure | value |");
    println!("| --- | --- |");
    println!(
        "| grants stored | {rows} (signed in at {:.0}/s) |",
        grants as f64 / signed_in.as_secs_f64()
    );
    println!(
        "| grants table + indexes | {} bytes per grant |",
        total / rows.max(1)
    );
    println!(
        "| of which indexes | {} bytes per grant |",
        indexes / rows.max(1)
    );
    println!(
        "| cache-hit requests | {} in {seconds} s, {concurrency} concurrent |",
        latencies.count
    );
    println!(
        "| cache-hit throughput | {:.0} requests/s |",
        latencies.count as f64 / seconds as f64
    );
    println!(
        "| latency p50 / p99 | {:.2} ms / {:.2} ms |",
        millis(latencies.p50),
        millis(latencies.p99)
    );
    broker.stop().await;
}
