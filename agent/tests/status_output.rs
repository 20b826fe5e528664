//! `oauth-agent status` as people and scripts read it (a table, or stable JSON with `--json`),
//! and `login` off a terminal writing plain lines with no spinner control characters.
#![cfg(unix)] // runs the daemon on a Unix socket; not yet on named pipes
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

mod support;

use oauth_agent::clock::Clock;
use oauth_e2e::TestBroker;
use std::time::Duration;
use support::{wait_until, AgentEnv};

fn stdout(output: &std::process::Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[tokio::test]
async fn status_without_a_daemon_lists_accounts_with_unknown_tokens() {
    let agent = AgentEnv::new();
    agent.add_account("home", "http://127.0.0.1:9", "x").await;

    let table = stdout(&agent.run(&["status"]).await);
    assert!(table.starts_with("daemon: not running"), "{table}");
    let row = table.lines().find(|l| l.starts_with("home")).unwrap();
    assert!(row.contains("demo") && row.contains("unknown"), "{table}");

    let json: serde_json::Value =
        serde_json::from_str(&stdout(&agent.run(&["status", "--json"]).await)).unwrap();
    assert_eq!(json["daemon_running"], false);
    assert_eq!(json["accounts"][0]["name"], "home");
    assert_eq!(json["accounts"][0]["expires_at"], serde_json::Value::Null);
}

#[tokio::test]
async fn status_with_a_daemon_shows_the_valid_token_in_table_and_json() {
    let broker = TestBroker::start().await;
    let agent = AgentEnv::new();
    let login = agent.login_without_browser(&broker, "warn").await;
    let stderr = String::from_utf8(login.stderr).unwrap();
    assert!(stderr.contains("left)..."), "{stderr}");
    assert!(
        !stderr.contains(['\r', '\x1b']),
        "no spinner off a terminal: {stderr:?}"
    );

    let daemon = agent.start_daemon(Clock::default()).await;
    let _ = agent.get("/v1/tokens/demo").await;
    wait_until(Duration::from_secs(10), || async {
        daemon.daemon.status()[0].expires_at.is_some()
    })
    .await;

    let table = stdout(&agent.run(&["status"]).await);
    assert!(table.starts_with("daemon: running"), "{table}");
    let header = table.lines().nth(1).unwrap();
    for column in [
        "ACCOUNT",
        "PROVIDER",
        "BROKER",
        "TOKEN",
        "EXPIRES IN",
        "LAST ERROR",
    ] {
        assert!(header.contains(column), "{table}");
    }
    let row = table.lines().find(|l| l.starts_with("demo")).unwrap();
    assert!(
        row.contains(&broker.url) && row.contains("valid"),
        "{table}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&stdout(&agent.run(&["status", "--json"]).await)).unwrap();
    assert_eq!(json["daemon_running"], true);
    let account = &json["accounts"][0];
    assert_eq!(account["name"], "demo");
    assert_eq!(account["broker"], broker.url.as_str());
    assert!(account["expires_at"].is_string(), "{json}");
    assert_eq!(account["reauth_required"], false);
    daemon.stop().await;
}
