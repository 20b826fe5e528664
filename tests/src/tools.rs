//! External programs that the installer tests run (`systemd-analyze`, `shellcheck`, `docker
//! compose`): found on `PATH`, or skipped with one visible line, or a failure when
//! `OAUTH_TEST_REQUIRE_SERVICES=1`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The workspace's root folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives inside the workspace")
        .to_owned()
}

/// `name` on `PATH`, if it is there.
pub fn program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// `name` on `PATH`; when missing, prints `SKIP test: ...` and returns `None`, or fails the
/// test when the environment requires every tool.
pub fn program_or_skip(test: &str, name: &str, package: &str) -> Option<PathBuf> {
    let found = program(name);
    if found.is_none() {
        let why = format!("{name} not found (Debian package {package})");
        let required = std::env::var("OAUTH_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "{test}: {why}; OAUTH_TEST_REQUIRE_SERVICES=1 requires it"
        );
        // Straight to stderr: the test harness captures `eprintln!` of passing tests.
        let line = format!("SKIP {test}: {why}\n");
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
    found
}
