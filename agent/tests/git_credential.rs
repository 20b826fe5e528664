//! The git credential helper with a real `git`: `git credential fill` and `reject` go through
//! `oauth-agent git-credential` to the daemon.
#![cfg(unix)] // runs the daemon on a Unix socket and uses /proc and signals; not yet on named pipes
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

mod support;

use oauth_agent::clock::Clock;
use oauth_agent::config::AgentConfig;
use std::io::Write as _;
use std::process::{Output, Stdio};
use support::{broker_token_requests, skip, AgentEnv};

/// Runs `git credential <action>` with only our helper configured.
async fn git_credential(agent: &AgentEnv, action: &str, input: String) -> Output {
    let helper = format!("!{} git-credential", support::BIN);
    // The helper inherits git's environment: the agent's config, store and socket.
    let agent_env = agent.command();
    let mut git = std::process::Command::new("git");
    git.env_clear();
    for (key, value) in agent_env.get_envs() {
        if let Some(value) = value {
            git.env(key, value);
        }
    }
    git.env("HOME", agent.dir.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .args([
            "-c",
            "credential.helper=",
            "-c",
            &format!("credential.helper={helper}"),
        ])
        .args(["credential", action])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    tokio::task::spawn_blocking(move || {
        let mut child = git.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

fn attribute<'a>(output: &'a str, key: &str) -> Option<&'a str> {
    output
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key}=")))
}

#[tokio::test]
async fn git_gets_the_access_token_for_a_configured_host_only() {
    if std::process::Command::new("git")
        .arg("--version")
        .output()
        .is_err()
    {
        return skip("git_credential", "git is not installed");
    }
    let broker = oauth_e2e::TestBroker::start().await;
    let agent = AgentEnv::new();
    agent
        .add_account("demo", &broker.url, &broker.sign_in().await)
        .await;
    let mut config = AgentConfig::load(&agent.config).unwrap();
    config.accounts.get_mut("demo").unwrap().git_hosts = vec!["git.example.com".into()];
    config.save(&agent.config).unwrap();
    let daemon = agent.start_daemon(Clock::default()).await;

    let fill = git_credential(
        &agent,
        "fill",
        "protocol=https\nhost=git.example.com\n\n".into(),
    )
    .await;
    assert!(
        fill.status.success(),
        "{}",
        String::from_utf8_lossy(&fill.stderr)
    );
    let out = String::from_utf8(fill.stdout).unwrap();
    assert_eq!(attribute(&out, "username"), Some("oauth2"));
    let password = attribute(&out, "password").unwrap();
    assert!(broker.fake().is_access_token_valid(password));
    let expiry: i64 = attribute(&out, "password_expiry_utc")
        .unwrap()
        .parse()
        .unwrap();
    assert!(expiry > time::OffsetDateTime::now_utc().unix_timestamp() + 250);

    let other = git_credential(&agent, "fill", "protocol=https\nhost=github.com\n\n".into()).await;
    assert!(
        !other.status.success(),
        "an unknown host falls through to git's own prompt"
    );
    assert!(!String::from_utf8_lossy(&other.stdout).contains(password));

    let before = broker_token_requests(&broker).await;
    let reject =
        format!("protocol=https\nhost=git.example.com\nusername=oauth2\npassword={password}\n\n");
    let erased = git_credential(&agent, "reject", reject).await;
    assert!(
        erased.status.success(),
        "{}",
        String::from_utf8_lossy(&erased.stderr)
    );
    let again = git_credential(
        &agent,
        "fill",
        "protocol=https\nhost=git.example.com\n\n".into(),
    )
    .await;
    assert!(again.status.success());
    assert!(
        broker_token_requests(&broker).await > before,
        "erase dropped the cached token"
    );
    daemon.stop().await;
}
