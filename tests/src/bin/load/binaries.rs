//! Where the `oauth-broker` and `oauth-agent` executables are: next to this one. When cargo
//! runs this binary it builds them first, with the same profile and target directory, so the
//! load never runs against stale components.

use anyhow::{bail, Context as _};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace this binary was built from.
const WORKSPACE_MANIFEST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");

/// The components' executables.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// `oauth-broker`.
    pub broker: PathBuf,
    /// `oauth-agent`.
    pub agent: PathBuf,
}

impl Binaries {
    /// Builds the components when run by cargo (`$CARGO` is set), then finds them.
    pub fn locate() -> anyhow::Result<Self> {
        let me = std::env::current_exe().context("cannot tell where this executable is")?;
        let dir = me
            .parent()
            .context("this executable has no directory")?
            .to_owned();
        if let Some(cargo) = std::env::var_os("CARGO") {
            build(Path::new(&cargo), &dir)?;
        }
        let binaries = Self {
            broker: dir.join("oauth-broker"),
            agent: dir.join("oauth-agent"),
        };
        for binary in [&binaries.broker, &binaries.agent] {
            if !binary.is_file() {
                bail!(
                    "{} is missing: run this through `cargo run -p oauth-e2e --bin load`, or \
                     `cargo build -p oauth-broker -p oauth-agent` first",
                    binary.display()
                );
            }
        }
        Ok(binaries)
    }
}

/// `cargo build` of both components into `dir` (`<target>/<profile>`).
fn build(cargo: &Path, dir: &Path) -> anyhow::Result<()> {
    let profile = dir.file_name().and_then(|p| p.to_str()).unwrap_or("debug");
    let target = dir.parent().context("the build directory has no parent")?;
    let mut command = Command::new(cargo);
    // What `cargo run` set for this binary would look like a changed environment to build
    // scripts that watch it (ring watches CARGO_MANIFEST_DIR), and rebuild half the tree.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || [
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
            ]
            .contains(&name.as_ref())
        {
            command.env_remove(name.as_ref());
        }
    }
    command
        .args([
            "build",
            "--quiet",
            "--bins",
            "-p",
            "oauth-broker",
            "-p",
            "oauth-agent",
        ])
        .arg("--manifest-path")
        .arg(WORKSPACE_MANIFEST)
        .arg("--target-dir")
        .arg(target);
    match profile {
        "debug" => {}
        "release" => {
            command.arg("--release");
        }
        other => {
            command.args(["--profile", other]);
        }
    }
    eprintln!("building oauth-broker and oauth-agent ({profile})");
    let status = command.status().context("cannot run cargo")?;
    if !status.success() {
        bail!("building oauth-broker and oauth-agent failed ({status})");
    }
    Ok(())
}
