//! A broker replica in a process of its own, for tests that kill one (`tests/replica_kill.rs`).
//!
//! Configured entirely from the environment the test sets: `REPLICA_DATABASE_URL`,
//! `REPLICA_PUBLIC_URL`, `REPLICA_PROVIDER_URL` (the fake provider, client `demo-client`),
//! `REPLICA_MASTER_KEY` (base64) and `REPLICA_CLOCK_OFFSET` (seconds). Prints
//! `READY http://127.0.0.1:PORT` once it listens, then serves until killed or until its
//! standard input closes. A line `advance SECS` on standard input moves its clock forward (as
//! tests do with their in-process brokers) and is answered `ok`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oauth_broker::config::{RawConfig, RawProvider};
use oauth_broker::crypto::master_key::MasterKey;
use oauth_broker::{Clock, Config};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set"))
}

#[tokio::main]
async fn main() {
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

    let broker = oauth_broker::open(config, key, clock.clone())
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("READY http://{}", listener.local_addr().unwrap());
    let commands = tokio::task::spawn_blocking(move || obey(&clock));
    let stdin_closed = async move {
        let _ = commands.await;
    };
    oauth_broker::run(broker, None, listener, stdin_closed)
        .await
        .unwrap();
}

/// Reads `advance SECS` lines until standard input closes.
fn obey(clock: &Clock) {
    use std::io::{BufRead as _, Write as _};
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        if let Some(secs) = line
            .strip_prefix("advance ")
            .and_then(|s| s.trim().parse().ok())
        {
            clock.advance(secs);
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "ok");
            let _ = stdout.flush();
        }
    }
}
