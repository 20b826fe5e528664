//! The system-wide agent: a socket whose group may use it (as the system units set it up),
//! served to a member of that group and refused to anyone else, and clients that never start
//! a daemon of their own.
#![cfg(unix)] // Unix sockets, uids and groups
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

mod support;

use nix::unistd::{chown, Gid};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::Output;
use support::activation::{activated, answered, listen, DaemonProcess};
use support::{skip, AgentEnv};

/// The client's user: nobody, whose only group is nogroup (65534).
const NOBODY: u32 = 65534;
/// The socket's group, standing in for oauth-agent-clients: any group nobody is not in.
const CLIENTS: u32 = 60_123;

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `oauth-agent --system token demo` as nobody with primary group `gid` (and no other group).
async fn token_as(gid: u32, socket: &Path) -> Output {
    let mut command = std::process::Command::new(support::BIN);
    command
        .args(["--system", "token", "demo"])
        .env_clear()
        .env("OAUTH_AGENT_SOCKET", socket)
        .uid(NOBODY)
        .gid(gid);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn system_socket_serves_its_group_and_refuses_others() {
    if !nix::unistd::getuid().is_root() {
        return skip(
            "system_socket_serves_its_group_and_refuses_others",
            "needs root to run clients as another uid and gid",
        );
    }
    let broker = oauth_e2e::TestBroker::start().await;
    let agent = AgentEnv::new();
    agent
        .add_account("demo", &broker.url, &broker.sign_in().await)
        .await;
    // As tmpfiles.d and the socket unit lay it out: /run/oauth-agent 0750 with the clients'
    // group, the socket 0660 with the clients' group.
    let listener = listen(&agent.socket);
    let run_dir = agent.socket.parent().unwrap();
    set_mode(agent.dir.path(), 0o755);
    chown(run_dir, None, Some(Gid::from_raw(CLIENTS))).unwrap();
    set_mode(run_dir, 0o750);
    chown(&agent.socket, None, Some(Gid::from_raw(CLIENTS))).unwrap();
    set_mode(&agent.socket, 0o660);
    let decoy = agent.dir.path().join("decoy/agent.sock");
    let command = activated(&agent, &listener, &decoy, &["--system", "daemon"]);
    let daemon = DaemonProcess::spawn(command);

    let member = answered(token_as(CLIENTS, &agent.socket)).await;
    assert!(member.status.success(), "{}", stderr(&member));
    let token = String::from_utf8_lossy(&member.stdout).trim().to_owned();
    assert!(broker.fake().is_access_token_valid(&token));

    let outsider = token_as(NOBODY, &agent.socket).await;
    assert_eq!(outsider.status.code(), Some(1), "{}", stderr(&outsider));
    assert!(
        stderr(&outsider).contains("oauth-agent-clients"),
        "{}",
        stderr(&outsider)
    );

    // With the file modes wide open, the daemon's own check still keeps the outsider out.
    set_mode(run_dir, 0o755);
    set_mode(&agent.socket, 0o666);
    let outsider = token_as(NOBODY, &agent.socket).await;
    assert!(!outsider.status.success());
    assert!(
        stderr(&outsider).contains("serves only its own user"),
        "{}",
        stderr(&outsider)
    );
    assert!(token_as(CLIENTS, &agent.socket).await.status.success());

    daemon.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(daemon.wait().await.success());
}

#[tokio::test]
async fn system_clients_never_start_a_daemon() {
    let agent = AgentEnv::new();
    let output = agent.run(&["--system", "token", "demo"]).await;
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("no oauth-agent daemon"),
        "{}",
        stderr(&output)
    );
    assert!(!agent.socket.exists(), "nothing was started on the socket");
    assert!(support::processes_mentioning(&agent.socket.display().to_string()).is_empty());
}
