//! The agent end to end: the real `oauth-agent` binary and an in-process daemon against a real
//! broker and the fake provider.
#![cfg(unix)] // runs the daemon on a Unix socket and uses /proc and signals; not yet on named pipes
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

mod support;

use oauth_agent::clock::Clock;
use oauth_e2e::{BrokerBuilder, TestBroker};
use std::process::Stdio;
use std::time::Duration;
use support::{advance, broker_token_requests, wait_until, AgentEnv, Proxy};

#[tokio::test]
async fn login_without_browser_stores_the_authid_and_token_prints_a_working_token() {
    let broker = TestBroker::start().await;
    let agent = AgentEnv::new();
    let login = agent.login_without_browser(&broker, "warn").await;
    assert!(login.page.body.contains("close this window"));

    let stored = agent
        .store()
        .get("demo")
        .await
        .unwrap()
        .expect("the authid is stored");
    assert_eq!(stored.len(), 64);
    let config = std::fs::read_to_string(&agent.config).unwrap();
    assert!(config.contains(&broker.url) && config.contains("provider = \"demo\""));
    assert!(
        !config.contains(stored.as_str()),
        "the config file never holds the authid"
    );

    let daemon = agent.start_daemon(Clock::default()).await;
    let output = agent.run(&["token", "demo", "--no-autostart"]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).unwrap();
    assert!(broker.fake().is_access_token_valid(token.trim()));

    let json = agent
        .run(&["token", "demo", "--json", "--no-autostart"])
        .await;
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["access_token"], token.trim());
    assert!(json["expires_in"].as_u64().unwrap() > 250);
    daemon.stop().await;
}

#[tokio::test]
async fn imported_authid_is_checked_at_the_broker() {
    let broker = TestBroker::start().await;
    let agent = AgentEnv::new();
    let authid = broker.sign_in().await;
    let import = |input: String| {
        let mut command = agent.command();
        command.args(["--broker", &broker.url, "login", "work", "--authid-stdin"]);
        async move {
            tokio::task::spawn_blocking(move || {
                let mut child = command
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes())
                    .unwrap();
                child.wait_with_output().unwrap()
            })
            .await
            .unwrap()
        }
    };

    let garbage = import("not-an-authid\n".into()).await;
    assert!(!garbage.status.success());
    let mut wrong = authid.clone();
    wrong.replace_range(60.., "AAAA");
    let unknown = import(format!("{wrong}\n")).await;
    assert_eq!(unknown.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("does not know this AuthID"));
    assert!(agent.store().get("work").await.unwrap().is_none());

    let good = import(format!("{authid}\n")).await;
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert_eq!(
        agent.store().get("work").await.unwrap().unwrap().as_str(),
        authid
    );
}

#[tokio::test]
async fn steady_state_askers_are_served_from_the_cache_over_many_lifetimes() {
    let broker = BrokerBuilder::new()
        .fake(|fake| fake.access_token_lifetime = Duration::from_secs(60))
        .start()
        .await;
    let agent = AgentEnv::new();
    agent
        .add_account("demo", &broker.url, &broker.sign_in().await)
        .await;
    let clock = Clock::default();
    let daemon = agent.start_daemon(clock.clone()).await;
    let (status, _) = agent.get("/v1/tokens/demo").await;
    assert_eq!(status, 200);

    let mut seen = std::collections::HashSet::new();
    for _ in 0..40 {
        advance(&broker, &clock, 5);
        // Let the background refresher act on the new time, then ask as a job would.
        wait_until(Duration::from_secs(10), || async {
            daemon.daemon.status()[0].expires_at.is_some() && fresh_enough(&daemon, &clock)
        })
        .await;
        let calls_before = broker_token_requests(&broker).await;
        let (status, token) = agent.get("/v1/tokens/demo").await;
        assert_eq!(status, 200);
        let left = token["expires_in"].as_u64().unwrap();
        assert!(
            left > 30,
            "a token with {left} s left; min_valid is 30 s for 60 s tokens"
        );
        assert_eq!(
            broker_token_requests(&broker).await,
            calls_before,
            "the asker waited"
        );
        seen.insert(token["access_token"].as_str().unwrap().to_owned());
    }
    assert!(
        seen.len() >= 4,
        "200 s of 60 s tokens must have rotated the token: {}",
        seen.len()
    );
    daemon.stop().await;
}

/// The cached token has more than half its lifetime's worth of margin (30 s of 60 s).
fn fresh_enough(daemon: &support::RunningDaemon, clock: &Clock) -> bool {
    let status = &daemon.daemon.status()[0];
    let Some(expires_at) = &status.expires_at else {
        return false;
    };
    let at =
        time::OffsetDateTime::parse(expires_at, &time::format_description::well_known::Rfc3339)
            .unwrap()
            .unix_timestamp();
    at - clock.now() > 30
}

#[tokio::test]
async fn two_hundred_concurrent_askers_share_one_broker_call() {
    let broker = TestBroker::start().await;
    let agent = AgentEnv::new();
    agent
        .add_account("demo", &broker.url, &broker.sign_in().await)
        .await;
    broker.fake().set_delay(Duration::from_millis(300));
    let daemon = agent.start_daemon(Clock::default()).await;
    // The daemon fetches on start; wait for it, then make the cache stale for everyone.
    wait_until(Duration::from_secs(10), || async {
        daemon.daemon.status()[0].expires_at.is_some()
    })
    .await;
    daemon.daemon.forget_token("demo").unwrap();
    let before = broker_token_requests(&broker).await;

    let askers = (0..200).map(|_| agent.get("/v1/tokens/demo"));
    let replies = futures::future::join_all(askers).await;

    assert!(replies.iter().all(|(status, _)| *status == 200));
    let first = &replies[0].1["access_token"];
    assert!(replies
        .iter()
        .all(|(_, body)| &body["access_token"] == first));
    assert_eq!(broker_token_requests(&broker).await - before, 1);
    daemon.stop().await;
}

#[tokio::test]
async fn valid_token_is_served_while_the_broker_is_down_and_refresh_resumes_after() {
    let broker = TestBroker::start().await; // 300 s tokens
    let proxy = Proxy::start(&broker.url).await;
    let agent = AgentEnv::new();
    agent
        .add_account("demo", &proxy.url, &broker.sign_in().await)
        .await;
    let clock = Clock::default();
    let daemon = agent.start_daemon(clock.clone()).await;
    let (_, first) = agent.get("/v1/tokens/demo").await;

    proxy.set_up(false);
    advance(&broker, &clock, 220); // past the refresh point (about 200 s), before expiry
    wait_until(Duration::from_secs(10), || async {
        daemon.daemon.status()[0].last_error.is_some()
    })
    .await;
    let (status, during) = agent.get("/v1/tokens/demo").await;
    assert_eq!(status, 200, "{during}");
    assert_eq!(during["access_token"], first["access_token"]);
    assert!(during["expires_in"].as_u64().unwrap() > 0);

    proxy.set_up(true);
    advance(&broker, &clock, 60); // past any back-off
    wait_until(Duration::from_secs(10), || async {
        daemon.daemon.status()[0].last_error.is_none()
    })
    .await;
    let (status, after) = agent.get("/v1/tokens/demo").await;
    assert_eq!(status, 200);
    assert_ne!(after["access_token"], first["access_token"]);
    assert!(after["expires_in"].as_u64().unwrap() > 250);
    daemon.stop().await;
}

#[tokio::test]
async fn expired_token_and_broker_down_is_a_clear_temporary_error() {
    let broker = TestBroker::start().await;
    let proxy = Proxy::start(&broker.url).await;
    let agent = AgentEnv::new();
    agent
        .add_account("demo", &proxy.url, &broker.sign_in().await)
        .await;
    let clock = Clock::default();
    let daemon = agent.start_daemon(clock.clone()).await;
    agent.get("/v1/tokens/demo").await;

    proxy.set_up(false);
    advance(&broker, &clock, 400);
    let output = agent.run(&["token", "demo", "--no-autostart"]).await;
    assert_eq!(output.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("account 'demo'") && stderr.contains("retries"),
        "{stderr}"
    );
    daemon.stop().await;
}

#[tokio::test]
async fn reauth_required_reaches_every_asker_and_status() {
    let broker = TestBroker::start().await;
    let agent = AgentEnv::new();
    agent
        .add_account("demo", &broker.url, &broker.sign_in().await)
        .await;
    let clock = Clock::default();
    let daemon = agent.start_daemon(clock.clone()).await;
    agent.get("/v1/tokens/demo").await;

    broker.fake().revoke_all_grants();
    advance(&broker, &clock, 400);
    let (status, body) = agent.get("/v1/tokens/demo").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "reauth_required");

    let output = agent.run(&["token", "demo", "--no-autostart"]).await;
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("run `oauth-agent login demo --provider demo`"),
        "{stderr}"
    );

    let status = agent.run(&["status", "--json"]).await;
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["daemon_running"], true);
    assert_eq!(status["accounts"][0]["reauth_required"], true);
    let refreshes = broker.fake().refresh_count();
    advance(&broker, &clock, 400);
    agent.get("/v1/tokens/demo").await;
    assert_eq!(
        broker.fake().refresh_count(),
        refreshes,
        "no retries after reauth_required"
    );
    daemon.stop().await;
}

#[tokio::test]
async fn logout_revokes_at_the_broker_and_forgets_the_account() {
    let broker = TestBroker::start().await;
    let agent = AgentEnv::new();
    agent
        .add_account("demo", &broker.url, &broker.sign_in().await)
        .await;
    let daemon = agent.start_daemon(Clock::default()).await;
    assert_eq!(agent.get("/v1/tokens/demo").await.0, 200);

    let output = agent.run(&["logout", "demo"]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(broker.fake().revocations().len(), 1);
    assert!(agent.store().get("demo").await.unwrap().is_none());
    let (status, body) = agent.get("/v1/tokens/demo").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("unknown_account"))
    );

    let again = agent.run(&["logout", "demo"]).await;
    assert!(again.status.success(), "logout is idempotent");
    daemon.stop().await;
}

#[tokio::test]
async fn token_autostarts_a_daemon_when_none_runs() {
    let broker = TestBroker::start().await;
    let agent = AgentEnv::new();
    agent
        .add_account("demo", &broker.url, &broker.sign_in().await)
        .await;

    let output = agent.run(&["token", "demo"]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(broker
        .fake()
        .is_access_token_valid(String::from_utf8(output.stdout).unwrap().trim()));

    let status = agent.run(&["status", "--json"]).await;
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["daemon_running"], true);
    support::stop_background_daemons(&agent.socket);
}

#[tokio::test]
async fn unknown_account_names_the_next_step() {
    let agent = AgentEnv::new();
    let clock = Clock::default();
    let daemon = agent.start_daemon(clock).await;
    let output = agent.run(&["token", "nobody", "--no-autostart"]).await;
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("oauth-agent login nobody --provider"),
        "{stderr}"
    );

    let bad = agent.run(&["token", "../etc", "--no-autostart"]).await;
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a valid account name"));
    daemon.stop().await;
}

#[tokio::test]
async fn no_daemon_and_no_autostart_says_how_to_start_one() {
    let agent = AgentEnv::new();
    let output = agent.run(&["token", "demo", "--no-autostart"]).await;
    assert_eq!(output.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&output.stderr).contains("oauth-agent daemon"));
}
