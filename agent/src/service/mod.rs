//! Installing the agent as a service the way each platform expects: systemd units on Linux
//! (per user, or system-wide with `--system`), a launchd agent on macOS, a logon start in the
//! user's `Run` registry key on Windows.
//!
//! Each platform module turns a [`Target`] into a [`Plan`]: files to write or remove and
//! programs to run (`systemctl`, `launchctl`, `reg`). [`execute`] carries a plan out. Plans are
//! plain data and every platform's is built on every platform, so all of them are tested on
//! Linux with a fake [`Runner`].

pub mod launchd;
pub mod systemd;
pub mod units;
pub mod windows;

use crate::paths::Scope;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A service installation problem.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A file could not be written or removed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// "write" or "remove".
        action: &'static str,
        /// The file.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// A path or argument cannot be written into a unit, plist or registry value.
    #[error("cannot put {0:?} into a service definition: use a path without quotes or control characters")]
    Unquotable(String),
    /// The installation cannot work as asked.
    #[error("{0}")]
    Refused(String),
}

/// What an installation needs to know about this machine and user.
#[derive(Debug, Clone)]
pub struct Target {
    /// The binary the service runs.
    pub exe: PathBuf,
    /// Options for the daemon (`--store`, `--broker`), placed before its subcommand.
    pub daemon_args: Vec<String>,
    /// The user's agent or the system-wide one.
    pub scope: Scope,
    /// The user's home directory.
    pub home: PathBuf,
    /// The user's config directory (`$XDG_CONFIG_HOME`, else `~/.config` on Linux).
    pub config_dir: PathBuf,
    /// The user's numeric id (launchd's `gui/UID` domain).
    pub uid: u32,
    /// `--root DIR`: write the system-wide files under DIR and run nothing (for packages and
    /// images); the programs to run are listed instead.
    pub root: Option<PathBuf>,
}

impl Target {
    /// `path` (absolute) under `--root`, or as it is.
    pub fn rooted(&self, path: &str) -> PathBuf {
        match &self.root {
            Some(root) => root.join(path.trim_start_matches('/')),
            None => PathBuf::from(path),
        }
    }
}

/// One program run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The program, looked up on `PATH`.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Whether the installation is incomplete when it fails (otherwise a warning).
    pub required: bool,
}

impl Run {
    /// A run whose failure leaves the installation incomplete.
    pub fn required(program: &str, args: &[&str]) -> Self {
        Self::new(program, args, true)
    }

    /// A run whose failure is only reported.
    pub fn optional(program: &str, args: &[&str]) -> Self {
        Self::new(program, args, false)
    }

    /// A run of `program` with `args`.
    pub fn new(program: &str, args: &[&str], required: bool) -> Self {
        Self {
            program: program.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            required,
        }
    }

    /// The command line, for people to read (and run themselves).
    pub fn display(&self) -> String {
        let mut words = vec![self.program.clone()];
        words.extend(self.args.iter().map(|a| shell_word(a)));
        words.join(" ")
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Write `contents` to `path` (mode 0644), creating its directory.
    Write {
        /// The file.
        path: PathBuf,
        /// Its contents.
        contents: String,
    },
    /// Remove `path` if it exists, then its parent directories that this left empty, up to
    /// but not including `keep`.
    Remove {
        /// The file.
        path: PathBuf,
        /// The directory where removing empty parents stops.
        keep: PathBuf,
    },
    /// Run a program.
    Run(Run),
}

/// What to do, and what to tell the user afterwards.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Sentences printed after a complete run.
    pub notes: Vec<String>,
}

/// Runs programs; tests substitute a fake.
pub trait Runner {
    /// Runs `program` with `args` to completion, capturing its output.
    fn run(&self, program: &str, args: &[String]) -> io::Result<Output>;
}

/// Runs real programs.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemRunner;

impl Runner for SystemRunner {
    fn run(&self, program: &str, args: &[String]) -> io::Result<Output> {
        std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
    }
}

/// How carrying out a plan went.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Optional runs that failed, with why.
    pub warnings: Vec<String>,
    /// Why the installation is unfinished: a required run failed, or nothing was run.
    pub unfinished: Option<String>,
    /// The runs left for the user to do, in order.
    pub left: Vec<Run>,
}

/// Carries out `plan`. Once a required run fails, later runs are not tried but listed in the
/// outcome; with `offline` (`--root`) no run is tried. File steps always happen.
pub fn execute(plan: &Plan, runner: &dyn Runner, offline: bool) -> Result<Outcome, ServiceError> {
    let mut outcome = Outcome::default();
    if offline {
        outcome.unfinished = Some("with --root nothing is run".to_owned());
    }
    for step in &plan.steps {
        match step {
            Step::Write { path, contents } => write_file(path, contents)?,
            Step::Remove { path, keep } => remove_file(path, keep)?,
            Step::Run(run) if outcome.unfinished.is_some() => outcome.left.push(run.clone()),
            Step::Run(run) => match run_one(runner, run) {
                Ok(()) => {}
                Err(why) if !run.required => {
                    outcome
                        .warnings
                        .push(format!("`{}` failed: {why}", run.display()));
                }
                Err(why) => {
                    outcome.unfinished = Some(format!("`{}` failed: {why}", run.display()));
                    outcome.left.push(run.clone());
                }
            },
        }
    }
    Ok(outcome)
}

/// Runs `run`; a failure is described by its exit status and first line of error output.
fn run_one(runner: &dyn Runner, run: &Run) -> Result<(), String> {
    tracing::debug!(program = %run.program, args = ?run.args, "running");
    let output = runner
        .run(&run.program, &run.args)
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first = stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message");
    Err(format!("{} ({first})", output.status))
}

fn write_file(path: &Path, contents: &str) -> Result<(), ServiceError> {
    let io = |source| ServiceError::Io {
        action: "write",
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, contents).map_err(io)?;
    set_readable(&temporary).map_err(io)?;
    std::fs::rename(&temporary, path).map_err(io)
}

#[cfg(unix)]
fn set_readable(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_readable(_path: &Path) -> io::Result<()> {
    Ok(())
}

fn remove_file(path: &Path, keep: &Path) -> Result<(), ServiceError> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(ServiceError::Io {
                action: "remove",
                path: path.display().to_string(),
                source,
            })
        }
    }
    let mut dir = path.parent();
    while let Some(current) = dir.filter(|d| d.starts_with(keep) && *d != keep) {
        // Fails, and so stops, at the first directory that still holds something.
        if std::fs::remove_dir(current).is_err() {
            break;
        }
        dir = current.parent();
    }
    Ok(())
}

/// A word as a POSIX shell reads it: quoted unless plainly safe.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=,@%".contains(c));
    if plain {
        return word.to_owned();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// One line of `service status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    /// What is described (a unit, the plist, the registry value).
    pub what: String,
    /// Its state, in words.
    pub state: String,
}

/// The first line a program printed, when it ran at all (whatever its exit status).
fn first_line(runner: &dyn Runner, program: &str, args: &[&str]) -> Option<String> {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let output = runner.run(program, &args).ok()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .next()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
}
