//! The example configuration the installers ship (`installers/broker.toml.example`, for the
//! systemd unit) passes `oauth-broker check-config` given its secrets as systemd credentials:
//! `${CREDENTIALS_DIRECTORY}` in a path is the folder systemd names in that variable.
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_oauth-broker");

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../installers/broker.toml.example")
}

fn check_config(credentials: Option<&Path>) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(["check-config", "--config"])
        .arg(example())
        .env_remove("CREDENTIALS_DIRECTORY")
        .env_remove("OAUTH_BROKER_MASTER_KEY");
    if let Some(dir) = credentials {
        command.env("CREDENTIALS_DIRECTORY", dir);
    }
    command.output().unwrap()
}

#[test]
fn example_config_reads_its_secrets_from_the_credentials_directory() {
    let credentials = tempfile::tempdir().unwrap();
    let key = Command::new(BIN).arg("gen-key").output().unwrap().stdout;
    std::fs::write(credentials.path().join("master-key"), key).unwrap();
    std::fs::write(credentials.path().join("onedrive-client-secret"), "s\n").unwrap();

    let ok = check_config(Some(credentials.path()));
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(stdout.contains("onedrive"), "{stdout}");

    std::fs::remove_file(credentials.path().join("onedrive-client-secret")).unwrap();
    let missing_secret = check_config(Some(credentials.path()));
    let stderr = String::from_utf8_lossy(&missing_secret.stderr);
    assert!(!missing_secret.status.success());
    assert!(
        stderr.contains("providers.onedrive.client_secret_file"),
        "{stderr}"
    );
}

#[test]
fn example_config_outside_systemd_says_what_is_missing() {
    let output = check_config(None);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("CREDENTIALS_DIRECTORY"), "{stderr}");
    assert!(stderr.contains("LoadCredential"), "{stderr}");
}
