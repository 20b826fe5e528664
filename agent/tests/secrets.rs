//! No authid or token in any log line (daemon at trace level, every command's standard error,
//! the autostarted daemon's log file), and no authid in any child process's arguments or
//! environment. Its own test binary, so that its global log subscriber sees every line.
#![cfg(unix)] // runs the daemon on a Unix socket and uses /proc and signals; not yet on named pipes
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

mod support;

use oauth_agent::clock::Clock;
use oauth_e2e::{contains_bytes, LogCapture, TestBroker};
use support::{advance, processes_mentioning, AgentEnv};

#[tokio::test]
async fn authid_and_tokens_stay_out_of_logs_arguments_and_environments() {
    let capture = LogCapture::install();
    let broker = TestBroker::start().await;
    let agent = AgentEnv::new();
    let mut logs = Vec::new();

    let login = agent.login_without_browser(&broker, "trace").await;
    logs.extend(login.stderr);
    let authid = agent
        .store()
        .get("demo")
        .await
        .unwrap()
        .unwrap()
        .to_string();

    let clock = Clock::default();
    let daemon = agent.start_daemon(clock.clone()).await;
    agent.get("/v1/tokens/demo").await;
    advance(&broker, &clock, 400);
    agent.get("/v1/tokens/demo").await;
    daemon.stop().await;

    // A daemon the binary starts by itself, inspected while it runs.
    let mut token = agent.command();
    token.env("RUST_LOG", "trace").args(["token", "demo"]);
    let output = tokio::task::spawn_blocking(move || token.output().unwrap())
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    logs.extend(output.stderr);
    let children = processes_mentioning(&agent.socket.display().to_string());
    assert!(!children.is_empty(), "the autostarted daemon runs");
    for (_, cmdline, environ) in &children {
        assert!(
            !contains_bytes(cmdline, authid.as_bytes()),
            "authid in a process argument"
        );
        assert!(
            !contains_bytes(environ, authid.as_bytes()),
            "authid in a process environment"
        );
    }
    support::stop_background_daemons(&agent.socket);

    let logout = agent.run(&["logout", "demo"]).await;
    logs.extend(logout.stderr);
    logs.extend(std::fs::read(agent.data.join("daemon.log")).unwrap_or_default());
    logs.extend(capture.bytes());

    assert!(
        logs.len() > 10_000,
        "trace logging must have captured the run"
    );
    let mut secrets = broker.fake().issued_secrets();
    secrets.push(authid);
    for secret in &secrets {
        assert!(
            !contains_bytes(&logs, secret.as_bytes()),
            "a secret appears in a log"
        );
    }
}
