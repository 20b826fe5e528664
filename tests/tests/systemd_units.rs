//! Every systemd unit under `installers/systemd` passes `systemd-analyze verify` (units in a
//! folder named `user` as user units), and the broker's unit keeps its hardening according to
//! `systemd-analyze security`.
//!
//! `verify` insists that each `Exec*=` program exists; the units name installed paths
//! (`/usr/local/bin/...`), so each is checked as a copy whose programs are stubs in a temporary
//! folder.
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

use oauth_e2e::tools::{program_or_skip, repo_root};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const UNIT_SUFFIXES: &[&str] = &["service", "socket", "timer", "path", "target", "mount"];

/// Folders under `root` (itself included) holding unit files, with those files.
fn unit_folders(root: &Path) -> Vec<(PathBuf, Vec<PathBuf>)> {
    let mut found = Vec::new();
    let mut units = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            found.extend(unit_folders(&path));
        } else if path
            .extension()
            .is_some_and(|ext| UNIT_SUFFIXES.iter().any(|s| ext == *s))
        {
            units.push(path);
        }
    }
    if !units.is_empty() {
        found.push((root.to_owned(), units));
    }
    found
}

/// `line` with the program of an `Exec*=` setting replaced by an executable stub in `stubs`.
fn stub_program(line: &str, stubs: &Path) -> String {
    let Some((key, value)) = line.split_once('=') else {
        return line.to_owned();
    };
    if !key.trim_start().starts_with("Exec") {
        return line.to_owned();
    }
    // Prefixes such as `-` (ignore failure) or `+` (full privileges) come before the path.
    let flags = value.len()
        - value
            .trim_start_matches(['@', '-', ':', '+', '!', '|'])
            .len();
    let (flags, command) = value.split_at(flags);
    let (program, args) = command.split_once(' ').unwrap_or((command, ""));
    let name = Path::new(program).file_name().unwrap();
    let stub = stubs.join(name);
    std::fs::write(&stub, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!("{key}={flags}{} {args}", stub.display())
}

/// Copies `units` into `into` with their programs stubbed; returns the copies.
fn stubbed_copies(units: &[PathBuf], into: &Path, stubs: &Path) -> Vec<PathBuf> {
    std::fs::create_dir_all(into).unwrap();
    units
        .iter()
        .map(|unit| {
            let text = std::fs::read_to_string(unit).unwrap();
            let copy = into.join(unit.file_name().unwrap());
            let lines: Vec<String> = text.lines().map(|l| stub_program(l, stubs)).collect();
            std::fs::write(&copy, lines.join("\n") + "\n").unwrap();
            copy
        })
        .collect()
}

/// Runs `systemd-analyze [--user] verify` on `units` and fails the test on any finding.
fn verify(analyze: &Path, units: &[PathBuf], user: bool, scratch: &Path) {
    let runtime = scratch.join("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    let mut command = Command::new(analyze);
    if user {
        command.arg("--user");
    }
    let output = command
        .arg("verify")
        .args(units)
        // A user manager needs a runtime folder; none exists for root in CI.
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Unknown keys and bad values are only warnings: any output at all is a finding.
    assert!(
        output.status.success() && stderr.trim().is_empty(),
        "systemd-analyze verify {units:?}:\n{stderr}"
    );
}

#[test]
fn every_unit_file_passes_systemd_analyze_verify() {
    let test = "every_unit_file_passes_systemd_analyze_verify";
    let Some(analyze) = program_or_skip(test, "systemd-analyze", "systemd") else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let stubs = scratch.path().join("bin");
    std::fs::create_dir_all(&stubs).unwrap();

    let mut checked = Vec::new();
    for (n, (folder, units)) in unit_folders(&repo_root().join("installers/systemd"))
        .into_iter()
        .enumerate()
    {
        let copies = stubbed_copies(&units, &scratch.path().join(n.to_string()), &stubs);
        let user = folder.file_name().is_some_and(|name| name == "user");
        verify(&analyze, &copies, user, scratch.path());
        checked.extend(units);
    }
    let broker = repo_root().join("installers/systemd/system/oauth-broker.service");
    assert!(checked.contains(&broker), "checked only {checked:?}");
}

#[test]
fn broker_unit_exposure_stays_low() {
    let test = "broker_unit_exposure_stays_low";
    let Some(analyze) = program_or_skip(test, "systemd-analyze", "systemd") else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let unit = repo_root().join("installers/systemd/system/oauth-broker.service");
    let copies = stubbed_copies(&[unit], &scratch.path().join("units"), scratch.path());
    let output = Command::new(analyze)
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(&copies[0])
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let exposure: f64 = stdout
        .lines()
        .find_map(|line| line.split("oauth-broker.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no overall exposure level in:\n{stdout}"));
    // 0 is fully locked down, 10 is unprotected; what is left is a network server's due:
    // Internet sockets, the host's network, the host's root directory.
    assert!(exposure <= 1.5, "exposure {exposure}:\n{stdout}");
}
