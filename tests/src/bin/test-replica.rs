//! A broker replica in a process of its own, for tests that kill one (`tests/replica_kill.rs`).
//!
//! Configured entirely from the environment the test sets: `REPLICA_DATABASE_URL`,
//! `REPLICA_PUBLIC_URL`, `REPLICA_PROVIDER_URL` (the fake provider, client `demo-client`),
//! `REPLICA_MASTER_KEY` (base64) and `REPLICA_CLOCK_OFFSET` (seconds). Prints
//! `READY http://127.0.0.1:PORT` once it listens, then serves until killed or until its
//! standard input closes. A line `advance SECS` on standard input moves its clock forward (as
//! tests do with their in-process brokers) and is answered `ok`. A line `fsize BYTES` (or
//! `fsize unlimited`) sets its file-size limit (RLIMIT_FSIZE), so that writes past that size
//! fail as on a full disk, and is answered `ok`; SIGXFSZ is caught, so such a write fails
//! rather than killing the process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nix::sys::resource::{getrlimit, setrlimit, Resource, RLIM_INFINITY};
use nix::sys::signal::Signal;
use oauth_broker::config::{RawConfig, RawProvider};
use oauth_broker::crypto::master_key::MasterKey;
use oauth_broker::{Clock, Config};
use tokio::signal::unix::{signal, SignalKind};

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

    // Caught and ignored: a write past the file-size limit then fails with EFBIG instead.
    let _file_too_large = signal(SignalKind::from_raw(Signal::SIGXFSZ as i32)).unwrap();

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

/// Reads `advance SECS` and `fsize BYTES` lines until standard input closes.
fn obey(clock: &Clock) {
    use std::io::{BufRead as _, Write as _};
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
fn limit_file_size(bytes: &str) -> bool {
    let soft = match bytes {
        "unlimited" => RLIM_INFINITY,
        bytes => match bytes.parse() {
            Ok(bytes) => bytes,
            Err(_) => return false,
        },
    };
    let (_, hard) = getrlimit(Resource::RLIMIT_FSIZE).unwrap();
    setrlimit(Resource::RLIMIT_FSIZE, soft, hard).is_ok()
}
