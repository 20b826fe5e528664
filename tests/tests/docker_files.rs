//! The broker's container files in `installers/docker`, checked without a Docker daemon: the
//! Dockerfile read instruction by instruction (multi-stage, the pinned toolchain, a distroless
//! non-root final stage, no secret in the image's environment, a health check), the compose
//! file through `docker compose config` or `docker-compose config`, and the compose setup's
//! broker.toml loaded by the broker's own configuration code.
//!
//! Building and running the image needs a Docker daemon and the registries' base images, which
//! CI does not have; docs/installing.md says what was verified where.
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

use oauth_e2e::tools::{program, program_or_skip, repo_root};
use std::path::PathBuf;
use std::process::Command;

/// One Dockerfile instruction: the keyword in capitals and the rest of the (joined) line.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(start) => current.push_str(start),
            None => {
                current.push_str(line);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    joined
        .into_iter()
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (keyword, rest) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
            (keyword.to_uppercase(), rest.trim().to_owned())
        })
        .collect()
}

fn docker_dir() -> PathBuf {
    repo_root().join("installers/docker")
}

fn toolchain_channel() -> String {
    let text = std::fs::read_to_string(repo_root().join("rust-toolchain.toml")).unwrap();
    let line = text.lines().find(|l| l.starts_with("channel")).unwrap();
    line.split('"').nth(1).unwrap().to_owned()
}

#[test]
fn dockerfile_builds_with_the_pinned_toolchain_and_runs_distroless_as_non_root() {
    let text = std::fs::read_to_string(docker_dir().join("Dockerfile")).unwrap();
    let all = instructions(&text);
    let stages: Vec<usize> = (0..all.len()).filter(|&i| all[i].0 == "FROM").collect();
    assert!(stages.len() >= 2, "not a multi-stage build");

    let builder = &all[stages[0]].1;
    let channel = toolchain_channel();
    assert!(
        builder.contains(&format!("rust:{channel}")),
        "builder `{builder}` is not rust-toolchain.toml's {channel}"
    );
    let build = all[..stages[1]]
        .iter()
        .find(|(k, rest)| k == "RUN" && rest.contains("cargo build"))
        .expect("a RUN with cargo build");
    for flag in ["--release", "--locked", "-p oauth-broker"] {
        assert!(build.1.contains(flag), "cargo build without {flag}");
    }

    let last = *stages.last().unwrap();
    let image = &all[last].1;
    assert!(
        image.starts_with("gcr.io/distroless/") || image == "scratch",
        "final image {image}"
    );
    let final_stage = &all[last..];
    let user = final_stage.iter().rev().find(|(k, _)| k == "USER");
    let user = &user.expect("the final stage sets USER").1;
    let uid = user.split(':').next().unwrap();
    assert!(!["root", "0"].contains(&uid), "runs as {user}");
    let health = final_stage.iter().find(|(k, _)| k == "HEALTHCHECK");
    assert!(health.is_some_and(|(_, rest)| rest.contains("\"healthcheck\"")));
}

#[test]
fn dockerfile_bakes_no_secret_into_the_image() {
    let text = std::fs::read_to_string(docker_dir().join("Dockerfile")).unwrap();
    for (keyword, rest) in instructions(&text) {
        let upper = rest.to_uppercase();
        if keyword == "ENV" || keyword == "ARG" {
            for word in ["SECRET", "PASSWORD", "TOKEN", "KEY", "AUTHID"] {
                assert!(!upper.contains(word), "{keyword} {rest}");
            }
        }
        if keyword == "COPY" || keyword == "ADD" {
            assert!(!rest.contains("secrets"), "{keyword} {rest}");
        }
    }
    let ignore = std::fs::read_to_string(docker_dir().join("Dockerfile.dockerignore")).unwrap();
    for excluded in ["target", "installers/docker/secrets"] {
        assert!(
            ignore.lines().any(|l| l == excluded),
            "{excluded} in the build context"
        );
    }
}

/// `docker compose` (the plugin) or `docker-compose`, whichever works here.
fn compose_command() -> Option<Command> {
    if let Some(docker) = program("docker") {
        let plugin = Command::new(&docker).args(["compose", "version"]).output();
        if plugin.is_ok_and(|o| o.status.success()) {
            let mut command = Command::new(docker);
            command.arg("compose");
            return Some(command);
        }
    }
    let test = "compose_file_is_valid_and_passes_secrets_as_files";
    program_or_skip(test, "docker-compose", "docker-compose").map(Command::new)
}

#[test]
fn compose_file_is_valid_and_passes_secrets_as_files() {
    let Some(mut compose) = compose_command() else {
        return;
    };
    let output = compose
        .args(["--file", "compose.yml", "config"])
        .current_dir(docker_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "compose config:\n{stderr}");
    for expected in [
        "installers/docker/Dockerfile",
        "source: master-key",
        "PGPASSFILE: /run/secrets/broker-pgpass",
        "POSTGRES_PASSWORD_FILE: /run/secrets/postgres-password",
    ] {
        assert!(stdout.contains(expected), "no `{expected}` in:\n{stdout}");
    }
    assert!(!stdout.contains("OAUTH_BROKER_MASTER_KEY"), "{stdout}");
}

#[test]
fn compose_broker_config_loads_with_its_secret_files() {
    let secrets = tempfile::tempdir().unwrap();
    let key = oauth_broker::crypto::master_key::MasterKey::generate();
    std::fs::write(secrets.path().join("master-key"), &*key.to_base64()).unwrap();
    std::fs::write(secrets.path().join("onedrive-client-secret"), "s3cret").unwrap();
    let text = std::fs::read_to_string(docker_dir().join("broker.toml")).unwrap();
    let text = text.replace("/run/secrets/", &format!("{}/", secrets.path().display()));
    let config = secrets.path().join("broker.toml");
    std::fs::write(&config, text).unwrap();

    let config = oauth_broker::Config::load(&config).unwrap();
    oauth_broker::load_master_keys(&config).unwrap();
    assert_eq!(config.listen.to_string(), "0.0.0.0:8080");
    assert!(oauth_broker::store::is_postgres(&config.database_url));
    let secret = config.providers["onedrive"].client_secret.as_ref().unwrap();
    assert_eq!(secret.expose(), "s3cret");
}
