//! Socket activation: the daemon serves the listening socket systemd passes it, leaves the
//! socket file alone, and a connection made while no daemon runs is served by the next one
//! (what `systemctl stop oauth-agent.service`, or a crash, followed by a request looks like).
#![cfg(unix)] // systemd's protocol passes Unix sockets
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

mod support;

use nix::sys::signal::Signal;
use std::os::unix::fs::MetadataExt as _;
use support::activation::{access_token, activated, answered, get_on, listen, DaemonProcess};
use support::{skip, AgentEnv};

#[tokio::test]
async fn passed_socket_serves_tokens_across_a_daemon_restart() {
    let broker = oauth_e2e::TestBroker::start().await;
    let agent = AgentEnv::new();
    agent
        .add_account("demo", &broker.url, &broker.sign_in().await)
        .await;
    let listener = listen(&agent.socket);
    let inode = std::fs::metadata(&agent.socket).unwrap().ino();
    let decoy = agent.dir.path().join("decoy/agent.sock");

    let daemon = DaemonProcess::spawn(activated(&agent, &listener, &decoy, &["daemon"]));
    let first = answered(agent.run(&["token", "demo", "--no-autostart"])).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let token = String::from_utf8_lossy(&first.stdout).trim().to_owned();
    assert!(broker.fake().is_access_token_valid(&token));

    // The daemon dies; the listening socket, held by "systemd", stays.
    daemon.signal(Signal::SIGKILL);
    daemon.wait().await;
    let waiting = tokio::net::UnixStream::connect(&agent.socket)
        .await
        .unwrap();
    let reply = tokio::spawn(get_on(waiting, "/v1/tokens/demo"));
    let daemon = DaemonProcess::spawn(activated(&agent, &listener, &decoy, &["daemon"]));
    let (status, body) = answered(reply).await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(broker.fake().is_access_token_valid(&access_token(&body)));

    daemon.signal(Signal::SIGTERM);
    assert!(daemon.wait().await.success(), "graceful shutdown exits 0");
    let after = std::fs::metadata(&agent.socket).unwrap();
    assert_eq!(
        after.ino(),
        inode,
        "the socket file is the socket unit's, untouched"
    );
    assert!(
        !decoy.exists() && !decoy.parent().unwrap().exists(),
        "the daemon bound nothing"
    );
}

#[tokio::test]
async fn daemon_refuses_a_passed_descriptor_that_is_not_a_unix_socket() {
    let agent = AgentEnv::new();
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(r#"LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@""#)
        .arg(support::BIN)
        .arg("daemon")
        .env("OAUTH_AGENT_CONFIG", &agent.config)
        .env("OAUTH_AGENT_DATA_DIR", &agent.data)
        .env("OAUTH_AGENT_SOCKET", &agent.socket)
        .env("LISTEN_FDS", "1");
    let fd: std::os::fd::OwnedFd = tcp.into();
    let mapping = command_fds::FdMapping {
        parent_fd: fd,
        child_fd: 3,
    };
    command_fds::CommandFdExt::fd_mappings(&mut command, vec![mapping]).unwrap();
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a listening Unix socket"), "{stderr}");
    assert!(!agent.socket.exists(), "no fallback to a socket of its own");
}

/// `systemd-socket-activate`, from Debian's systemd package, is systemd's own implementation of
/// the passing side: it binds, waits for the first connection, then execs the daemon.
#[tokio::test]
async fn systemd_socket_activate_starts_the_daemon_on_the_first_request() {
    let Some(activate) = [
        "/usr/bin/systemd-socket-activate",
        "/usr/lib/systemd/systemd-socket-activate",
    ]
    .into_iter()
    .map(std::path::PathBuf::from)
    .find(|p| p.exists()) else {
        return skip(
            "systemd_socket_activate_starts_the_daemon",
            "systemd-socket-activate is not installed (Debian package systemd)",
        );
    };
    let broker = oauth_e2e::TestBroker::start().await;
    let agent = AgentEnv::new();
    agent
        .add_account("demo", &broker.url, &broker.sign_in().await)
        .await;
    std::fs::create_dir_all(agent.socket.parent().unwrap()).unwrap();
    let decoy = agent.dir.path().join("decoy/agent.sock");
    let set = |name: &str, value: &std::path::Path| format!("--setenv={name}={}", value.display());
    let mut command = std::process::Command::new(activate);
    command
        .arg("--listen")
        .arg(&agent.socket)
        .arg("--fdname=oauth-agent.socket")
        .arg(set("OAUTH_AGENT_CONFIG", &agent.config))
        .arg(set("OAUTH_AGENT_DATA_DIR", &agent.data))
        .arg(set("OAUTH_AGENT_SOCKET", &decoy))
        .arg("--setenv=OAUTH_AGENT_STORE=file")
        .args([support::BIN, "daemon"])
        .stderr(std::process::Stdio::null());
    let daemon = DaemonProcess::spawn(command);
    support::wait_until(std::time::Duration::from_secs(10), || async {
        agent.socket.exists()
    })
    .await;

    let (status, body) = answered(agent.get("/v1/tokens/demo")).await;
    assert_eq!(status, 200, "{body}");
    assert!(broker
        .fake()
        .is_access_token_valid(body["access_token"].as_str().unwrap()));
    assert!(
        !decoy.exists(),
        "the daemon served the socket it was passed"
    );
    daemon.signal(Signal::SIGTERM);
    assert!(daemon.wait().await.success());
}
