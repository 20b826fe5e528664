//! `oauth-agent service install|uninstall|status [--system]`: the agent as a service the way
//! this platform runs them (systemd units, a launchd agent, a Windows logon start). The work is
//! in [`crate::service`]; this is the command line's side of it.

use super::{Context, Failure};
use crate::paths::Scope;
use crate::service::{self, Plan, ServiceError, Step, SystemRunner, Target};
use std::path::PathBuf;

/// What to do with the service.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ServiceAction {
    /// Install the service and start it (on Linux: the systemd socket, which starts the daemon
    /// on the first request). Safe to repeat.
    Install {
        /// Write the system-wide files under DIR and run nothing (for packages and images).
        #[arg(long, value_name = "DIR", requires = "system")]
        root: Option<PathBuf>,
    },
    /// Stop the service and remove what `install` wrote. Safe to repeat.
    Uninstall {
        /// Remove the system-wide files under DIR and run nothing.
        #[arg(long, value_name = "DIR", requires = "system")]
        root: Option<PathBuf>,
    },
    /// Show whether the service is installed, enabled and running.
    Status,
}

/// The service managers this agent knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Platform {
    Systemd,
    Launchd,
    Windows,
}

const PLATFORM: Platform = if cfg!(windows) {
    Platform::Windows
} else if cfg!(target_os = "macos") {
    Platform::Launchd
} else {
    Platform::Systemd
};

/// Runs `action` for the user's agent, or the system-wide one with `--system`.
pub async fn run(ctx: &Context, action: ServiceAction) -> Result<(), Failure> {
    let scope = if ctx.system {
        Scope::System
    } else {
        Scope::User
    };
    if scope == Scope::System && PLATFORM != Platform::Systemd {
        return Err(Failure::general(
            "the system-wide agent (--system) needs systemd, on Linux",
        ));
    }
    match action {
        ServiceAction::Install { root } => {
            let target = target(ctx, scope, root)?;
            check_privileges(&target)?;
            warn_ignored_overrides(scope);
            let plan = install_plan(&target)?;
            carry_out(&plan, target.root.is_some())
        }
        ServiceAction::Uninstall { root } => {
            let target = target(ctx, scope, root)?;
            check_privileges(&target)?;
            carry_out(&uninstall_plan(&target)?, target.root.is_some())
        }
        ServiceAction::Status => {
            let target = target(ctx, scope, None)?;
            for line in status(&target) {
                println!("{}: {}", line.what, line.state);
            }
            Ok(())
        }
    }
}

fn install_plan(target: &Target) -> Result<Plan, ServiceError> {
    match PLATFORM {
        Platform::Systemd => service::systemd::install_plan(target),
        Platform::Launchd => service::launchd::install_plan(target),
        Platform::Windows => service::windows::install_plan(target),
    }
}

fn uninstall_plan(target: &Target) -> Result<Plan, ServiceError> {
    match PLATFORM {
        Platform::Systemd => service::systemd::uninstall_plan(target),
        Platform::Launchd => service::launchd::uninstall_plan(target),
        Platform::Windows => service::windows::uninstall_plan(target),
    }
}

fn status(target: &Target) -> Vec<service::StatusLine> {
    match PLATFORM {
        Platform::Systemd => service::systemd::status(target, &SystemRunner),
        Platform::Launchd => service::launchd::status(target, &SystemRunner),
        Platform::Windows => service::windows::status(target, &SystemRunner),
    }
}

/// This user, this binary and the options its daemon should run with.
fn target(ctx: &Context, scope: Scope, root: Option<PathBuf>) -> Result<Target, Failure> {
    let dirs = directories::BaseDirs::new()
        .ok_or_else(|| Failure::general("cannot find your home directory: set HOME"))?;
    let exe = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|e| Failure::general(format!("cannot find this program's path: {e}")))?;
    #[cfg(unix)]
    let uid = nix::unistd::getuid().as_raw();
    #[cfg(not(unix))]
    let uid = 0;
    Ok(Target {
        exe,
        daemon_args: ctx.daemon_args(),
        scope,
        home: dirs.home_dir().to_owned(),
        config_dir: dirs.config_dir().to_owned(),
        uid,
        root,
    })
}

/// The system-wide files need root, unless they go under `--root`.
fn check_privileges(target: &Target) -> Result<(), Failure> {
    #[cfg(unix)]
    if target.scope == Scope::System && target.root.is_none() && !nix::unistd::geteuid().is_root() {
        return Err(Failure::general(
            "the system-wide agent is installed by root: run this with sudo",
        ));
    }
    let _ = target;
    Ok(())
}

/// The units run the daemon with the default paths; say so when this shell overrides them.
fn warn_ignored_overrides(scope: Scope) {
    use crate::paths::{CONFIG_ENV, DATA_DIR_ENV, SOCKET_ENV};
    for name in [CONFIG_ENV, DATA_DIR_ENV, SOCKET_ENV] {
        if std::env::var_os(name).is_some() {
            let scope = if scope == Scope::System {
                "system-wide "
            } else {
                ""
            };
            eprintln!(
                "oauth-agent: note: the {scope}service does not see {name} from this shell; it \
                 uses the default path"
            );
        }
    }
}

/// Carries out `plan` and tells the user what happened and what is left to do.
fn carry_out(plan: &Plan, offline: bool) -> Result<(), Failure> {
    let outcome = service::execute(plan, &SystemRunner, offline)?;
    for step in &plan.steps {
        match step {
            Step::Write { path, .. } => println!("wrote {}", path.display()),
            Step::Remove { path, .. } => println!("removed {}", path.display()),
            Step::Run(_) => {}
        }
    }
    for warning in &outcome.warnings {
        eprintln!("oauth-agent: warning: {warning}");
    }
    let Some(why) = outcome.unfinished else {
        plan.notes.iter().for_each(|note| println!("{note}"));
        return Ok(());
    };
    let commands: Vec<String> = outcome
        .left
        .iter()
        .map(|r| format!("  {}", r.display()))
        .collect();
    let message = format!(
        "{why}.\nThe files are in place; to finish, run:\n{}",
        commands.join("\n")
    );
    if offline {
        println!("{message}");
        return Ok(());
    }
    Err(Failure::general(message))
}
