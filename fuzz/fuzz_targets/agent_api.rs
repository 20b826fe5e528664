//! The agent's local socket API, served in-process by the real router and daemon: any method,
//! path, query and body. The daemon knows one account, `work`, with no authid stored, so no
//! request leaves the process.
//!
//! Input layout: peer byte, method, NUL, path and query, NUL, body. Properties: a caller that is
//! not the agent's user is refused whatever it asks; no request gets a 5xx; every error is the
//! protocol's JSON error body; an account name `oauth-agent token` accepts reaches the daemon
//! unchanged.
#![no_main]

use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use libfuzzer_sys::fuzz_target;
use oauth_agent::clock::Clock;
use oauth_agent::commands::token::token_path;
use oauth_agent::config::check_account_name;
use oauth_agent::daemon::{router, Daemon, DaemonOptions};
use oauth_agent::store::{SecretStore, StoreKind};
use oauth_agent::transport::Peer;
use oauth_protocol::{ErrorBody, ErrorCode};
use std::os::unix::fs::MetadataExt as _;
use std::sync::LazyLock;
use tower::ServiceExt as _;

const CONFIG: &str = r#"
[accounts.work]
broker = "http://127.0.0.1:9"
provider = "demo"
git_hosts = ["git.example.com"]
"#;

struct Agent {
    runtime: tokio::runtime::Runtime,
    router: Router,
    uid: u32,
}

static AGENT: LazyLock<Agent> = LazyLock::new(|| {
    // Kept for the whole run: libFuzzer ends the process without running destructors.
    let dir = tempfile::Builder::new()
        .prefix("oauth-agent-fuzz")
        .tempdir()
        .expect("a temporary directory")
        .keep();
    let config = dir.join("agent.toml");
    std::fs::write(&config, CONFIG).expect("the config is written");
    let uid = std::fs::metadata(&dir).expect("the directory exists").uid();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let store = SecretStore::new(StoreKind::File, dir.join("data"));
    let daemon = runtime
        .block_on(async { Daemon::new(config, store, Clock::default(), DaemonOptions::default()) });
    Agent {
        runtime,
        router: router(daemon),
        uid,
    }
});

struct Reply {
    status: StatusCode,
    body: Vec<u8>,
}

fn send(peer: Peer, method: Method, uri: &str, body: &[u8]) -> Option<Reply> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .body(axum::body::Body::from(body.to_vec()))
        .ok()?;
    request.extensions_mut().insert(ConnectInfo(peer));
    let agent = &*AGENT;
    agent.runtime.block_on(async {
        let response = agent.router.clone().oneshot(request).await.ok()?;
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .ok()?;
        Some(Reply {
            status,
            body: body.to_vec(),
        })
    })
}

fn error_body(reply: &Reply) -> ErrorBody {
    serde_json::from_slice(&reply.body).unwrap_or_else(|_| {
        panic!(
            "status {} without the JSON error body: {:?}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        )
    })
}

/// `oauth-agent token NAME` for a name it accepts: the daemon looks up exactly that name.
fn check_name_round_trip(peer: Peer, name: &str) {
    if check_account_name(name).is_err() || name == "work" {
        return;
    }
    let reply = send(peer, Method::GET, &token_path(name, Some(60)), b"").expect("a reply");
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let body = error_body(&reply);
    assert_eq!(body.error, ErrorCode::UnknownAccount);
    assert!(body.error_description.contains(&format!("'{name}'")));
}

fuzz_target!(|data: &[u8]| {
    let Some((&who, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(3, |&b| b == 0);
    let method = Method::from_bytes(parts.next().unwrap_or_default()).unwrap_or(Method::GET);
    let uri = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let body = parts.next().unwrap_or_default();

    let uid = AGENT.uid;
    let (peer, allowed) = match who % 3 {
        0 => (
            Peer {
                uid: Some(uid),
                gid: None,
            },
            true,
        ),
        1 => (
            Peer {
                uid: Some(uid.wrapping_add(1)),
                gid: Some(uid.wrapping_add(1)),
            },
            false,
        ),
        _ => (
            Peer {
                uid: None,
                gid: None,
            },
            false,
        ),
    };
    let Some(reply) = send(peer, method, &uri, body) else {
        return;
    };
    assert!(!reply.status.is_server_error(), "status {}", reply.status);
    if !allowed {
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    if reply.status.is_client_error() {
        error_body(&reply);
    }
    if allowed {
        check_name_round_trip(peer, uri.trim_start_matches('/'));
    }
});
