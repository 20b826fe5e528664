//! The keyring store against a real Secret Service, and what a user sees when there is none.
//!
//! The round trip needs a Secret Service on the session bus: `scripts/with-secret-service`
//! starts a throwaway gnome-keyring for it. Without one it prints a single SKIP line and
//! passes, unless `OAUTH_TEST_REQUIRE_SERVICES=1` (set by CI), which turns the skip into a
//! failure. The unreachable case runs everywhere: the agent binary gets a bus address that
//! points nowhere.
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

use oauth_agent::store::{SecretStore, StoreError, StoreKind};
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

const NO_SERVICE: &str =
    "no Secret Service on the session bus (run under scripts/with-secret-service)";

#[tokio::test(flavor = "multi_thread")]
async fn keyring_store_sets_gets_replaces_and_deletes_an_authid() {
    let dir = tempfile::tempdir().unwrap();
    let store = SecretStore::new(StoreKind::Keyring, dir.path().to_owned());
    let account = unique_account();
    if !secret_service_answers(&store, &account).await {
        return;
    }

    store.set(&account, &"a".repeat(64)).await.unwrap();
    store.set(&account, &"b".repeat(64)).await.unwrap();
    let stored = store.get(&account).await.unwrap();
    assert_eq!(
        stored.as_deref().map(String::as_str),
        Some("b".repeat(64).as_str())
    );

    store.delete(&account).await.unwrap();
    assert!(store.get(&account).await.unwrap().is_none());
    store.delete(&account).await.unwrap();
}

#[test]
fn unreachable_keyring_error_names_the_file_store() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = format!("unix:path={}", dir.path().join("no-bus").display());
    let output = Command::new(env!("CARGO_BIN_EXE_oauth-agent"))
        .args(["--store", "keyring", "logout", "x"])
        .env("DBUS_SESSION_BUS_ADDRESS", nowhere)
        .env("OAUTH_AGENT_CONFIG", dir.path().join("agent.toml"))
        .env("OAUTH_AGENT_DATA_DIR", dir.path().join("data"))
        .env("OAUTH_AGENT_SOCKET", dir.path().join("agent.sock"))
        .env_remove("OAUTH_AGENT_BROKER")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("OS keyring is not reachable"), "{stderr}");
    assert!(stderr.contains("--store file"), "{stderr}");
}

/// A name no other run uses, so parallel runs against one keyring do not collide.
fn unique_account() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("keyring-test-{}-{nanos}", std::process::id())
}

/// Looks `account` up (it must be missing); false, after the skip line, when no Secret
/// Service answers.
async fn secret_service_answers(store: &SecretStore, account: &str) -> bool {
    // Only the throwaway keyring of scripts/with-secret-service: never the user's own.
    if std::env::var_os("OAUTH_TEST_PRIVATE_SECRET_SERVICE").is_none() {
        skip("not running under scripts/with-secret-service");
        return false;
    }
    match store.get(account).await {
        Ok(found) => {
            assert!(found.is_none(), "a fresh account has no authid");
            true
        }
        Err(error @ StoreError::KeyringUnavailable(_)) => {
            skip(&error.to_string());
            false
        }
        Err(error) => panic!("keyring lookup failed: {error}"),
    }
}

/// Prints the skip line, or fails when the environment requires the service.
fn skip(why: &str) {
    if std::env::var("OAUTH_TEST_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("{NO_SERVICE}; OAUTH_TEST_REQUIRE_SERVICES=1 requires it ({why})");
    }
    // Straight to stderr: the test harness captures `eprintln!` of passing tests.
    let line = format!("SKIP keyring_store: {NO_SERVICE}\n");
    std::io::stderr().write_all(line.as_bytes()).unwrap();
}
