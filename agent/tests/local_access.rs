//! Who may use the daemon's socket, and what happens to an old one.
#![cfg(unix)] // runs the daemon on a Unix socket and uses /proc and signals; not yet on named pipes
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

mod support;

use oauth_agent::clock::Clock;
use oauth_agent::config::AgentConfig;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use support::{skip, AgentEnv};

const NOBODY: u32 = 65534;

fn open_up(path: &std::path::Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Runs `oauth-agent token demo` as `nobody` against the daemon's socket.
async fn token_as_nobody(agent: &AgentEnv) -> std::process::Output {
    let mut command = std::process::Command::new(support::BIN);
    command
        .args(["--socket"])
        .arg(&agent.socket)
        .args(["token", "demo", "--no-autostart"])
        .env_clear()
        .uid(NOBODY)
        .gid(NOBODY);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn socket_refuses_another_user_unless_configured() {
    if !nix::unistd::getuid().is_root() {
        return skip(
            "socket_refuses_another_user",
            "needs root to run a client as another uid",
        );
    }
    let broker = oauth_e2e::TestBroker::start().await;
    let agent = AgentEnv::new();
    agent
        .add_account("demo", &broker.url, &broker.sign_in().await)
        .await;
    let daemon = agent.start_daemon(Clock::default()).await;
    // Open the file modes wide so that only the daemon's own peer check stands in the way.
    open_up(agent.dir.path(), 0o755);
    open_up(agent.socket.parent().unwrap(), 0o755);
    open_up(&agent.socket, 0o777);

    let refused = token_as_nobody(&agent).await;
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("serves only its own user"), "{stderr}");
    daemon.stop().await;

    let mut config = AgentConfig::load(&agent.config).unwrap();
    config.allowed_uids = vec![NOBODY];
    config.save(&agent.config).unwrap();
    let daemon = agent.start_daemon(Clock::default()).await;
    open_up(&agent.socket, 0o777);
    let allowed = token_as_nobody(&agent).await;
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
    assert!(broker
        .fake()
        .is_access_token_valid(String::from_utf8_lossy(&allowed.stdout).trim()));
    daemon.stop().await;
}

#[tokio::test]
async fn stale_socket_is_replaced_and_a_live_one_is_not() {
    let agent = AgentEnv::new();
    std::fs::create_dir_all(agent.socket.parent().unwrap()).unwrap();
    drop(std::os::unix::net::UnixListener::bind(&agent.socket).unwrap());
    assert!(agent.socket.exists(), "a socket file left by a dead daemon");

    let daemon = agent.start_daemon(Clock::default()).await;
    assert_eq!(agent.get("/v1/status").await.0, 200);

    let second = agent.run(&["daemon"]).await;
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("already serving"), "{stderr}");
    assert_eq!(
        agent.get("/v1/status").await.0,
        200,
        "the first daemon keeps serving"
    );

    let mode = std::fs::metadata(&agent.socket)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    daemon.stop().await;
}

#[tokio::test]
async fn daemon_binary_shuts_down_on_sigterm() {
    let agent = AgentEnv::new();
    let mut child = agent.command().arg("daemon").spawn().unwrap();
    support::wait_until(std::time::Duration::from_secs(10), || async {
        oauth_agent::local::request(&agent.socket, "GET", "/v1/status")
            .await
            .is_ok()
    })
    .await;
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
}
