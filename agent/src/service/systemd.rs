//! systemd: the user's agent as units in `~/.config/systemd/user`, or the system-wide agent as
//! units in `/etc/systemd/system` with its user, group and directories (sysusers.d,
//! tmpfiles.d). Either way the socket unit is what is enabled; the daemon starts on the first
//! connection.

use super::{first_line, units, Plan, Run, ServiceError, StatusLine, Step, Target};
use crate::paths::{Scope, SYSTEM_CLIENT_GROUP, SYSTEM_USER};
use std::path::{Path, PathBuf};

/// The socket unit's name.
pub const SOCKET_UNIT: &str = "oauth-agent.socket";
/// The service unit's name.
pub const SERVICE_UNIT: &str = "oauth-agent.service";

const SYSUSERS_PATH: &str = "/etc/sysusers.d/oauth-agent.conf";
const TMPFILES_PATH: &str = "/etc/tmpfiles.d/oauth-agent.conf";

/// Where the units go.
pub fn unit_dir(target: &Target) -> PathBuf {
    match target.scope {
        Scope::User => target.config_dir.join("systemd").join("user"),
        Scope::System => target.rooted("/etc/systemd/system"),
    }
}

/// The files an installation consists of, with their contents.
fn files(target: &Target) -> Result<Vec<(PathBuf, String)>, ServiceError> {
    let dir = unit_dir(target);
    let (service, socket, args) = match target.scope {
        Scope::User => (
            units::USER_SERVICE,
            units::USER_SOCKET,
            &target.daemon_args[..],
        ),
        Scope::System => (units::SYSTEM_SERVICE, units::SYSTEM_SOCKET, &[][..]),
    };
    let mut files = vec![
        (
            dir.join(SERVICE_UNIT),
            units::systemd_unit(service, &target.exe, args)?,
        ),
        (dir.join(SOCKET_UNIT), socket.to_owned()),
    ];
    if target.scope == Scope::System {
        files.push((target.rooted(SYSUSERS_PATH), units::SYSUSERS.to_owned()));
        files.push((target.rooted(TMPFILES_PATH), units::TMPFILES.to_owned()));
    }
    Ok(files)
}

fn systemctl(target: &Target, args: &[&str], required: bool) -> Run {
    let mut all = Vec::new();
    if target.scope == Scope::User {
        all.push("--user");
    }
    all.extend_from_slice(args);
    Run::new("systemctl", &all, required)
}

/// Writes the units, reloads systemd, and enables and starts the socket.
pub fn install_plan(target: &Target) -> Result<Plan, ServiceError> {
    if target.scope == Scope::System {
        refuse_home_binary(&target.exe)?;
    }
    let mut steps: Vec<Step> = files(target)?
        .into_iter()
        .map(|(path, contents)| Step::Write { path, contents })
        .collect();
    if target.scope == Scope::System {
        steps.push(Step::Run(Run::required(
            "systemd-sysusers",
            &[SYSUSERS_PATH],
        )));
        let tmpfiles = ["--create", TMPFILES_PATH];
        steps.push(Step::Run(Run::required("systemd-tmpfiles", &tmpfiles)));
    }
    steps.push(Step::Run(systemctl(target, &["daemon-reload"], true)));
    let enable = ["enable", "--now", SOCKET_UNIT];
    steps.push(Step::Run(systemctl(target, &enable, true)));
    // A daemon of an earlier installation runs the old binary until restarted.
    steps.push(Step::Run(systemctl(
        target,
        &["try-restart", SERVICE_UNIT],
        false,
    )));
    Ok(Plan {
        steps,
        notes: install_notes(target.scope),
    })
}

fn install_notes(scope: Scope) -> Vec<String> {
    match scope {
        Scope::User => vec![
            format!("{SOCKET_UNIT} is enabled: the daemon starts on the first request."),
            "For jobs that run while you are logged out, and after a reboot before you log in, \
             also run `loginctl enable-linger`."
                .to_owned(),
        ],
        Scope::System => vec![
            format!(
                "The system-wide agent runs as '{SYSTEM_USER}'. Sign in to an account with \
                 `sudo -u {SYSTEM_USER} oauth-agent --system login NAME --provider PROVIDER \
                 --no-browser`."
            ),
            format!(
                "Let a user's jobs ask it for tokens with `usermod -aG {SYSTEM_CLIENT_GROUP} \
                 USER`; they run `oauth-agent --system token NAME`."
            ),
        ],
    }
}

/// The system service has `ProtectHome=yes`: it cannot run a binary in a home directory.
fn refuse_home_binary(exe: &Path) -> Result<(), ServiceError> {
    if exe.starts_with("/home") || exe.starts_with("/root") {
        return Err(ServiceError::Refused(format!(
            "the system-wide service cannot run {} (home directories are hidden from it): copy \
             the binary with `install -m 0755 {} /usr/local/bin/oauth-agent` and run that copy",
            exe.display(),
            exe.display()
        )));
    }
    Ok(())
}

/// Stops and disables the units, and removes every file the installation wrote. The system
/// agent's user, group, config and authids stay (see the notes).
pub fn uninstall_plan(target: &Target) -> Result<Plan, ServiceError> {
    let mut steps = vec![
        Step::Run(systemctl(target, &["disable", "--now", SOCKET_UNIT], false)),
        Step::Run(systemctl(target, &["stop", SERVICE_UNIT], false)),
    ];
    for (path, _) in files(target)? {
        let keep = match (target.scope, &target.root) {
            (Scope::User, _) => target.config_dir.clone(),
            (Scope::System, Some(root)) => root.clone(),
            (Scope::System, None) => path.parent().map(Path::to_owned).unwrap_or_default(),
        };
        steps.push(Step::Remove { path, keep });
    }
    steps.push(Step::Run(systemctl(target, &["daemon-reload"], false)));
    let notes = match target.scope {
        Scope::User => vec![],
        Scope::System => vec![format!(
            "Kept: the user '{SYSTEM_USER}', the group '{SYSTEM_CLIENT_GROUP}', \
             /etc/oauth-agent and the authids in /var/lib/oauth-agent. To forget them, first \
             `sudo -u {SYSTEM_USER} oauth-agent --system logout NAME` for each account, then \
             remove those."
        )],
    };
    Ok(Plan { steps, notes })
}

/// Each unit: whether its file is there, and what systemd says of it.
pub fn status(target: &Target, runner: &dyn super::Runner) -> Vec<StatusLine> {
    let dir = unit_dir(target);
    [SOCKET_UNIT, SERVICE_UNIT]
        .into_iter()
        .map(|unit| {
            let path = dir.join(unit);
            if !path.exists() {
                let state = "not installed; run `oauth-agent service install`".to_owned();
                return StatusLine {
                    what: unit.to_owned(),
                    state,
                };
            }
            let ask = |verb: &str| {
                let run = systemctl(target, &[verb, unit], false);
                let args: Vec<&str> = run.args.iter().map(String::as_str).collect();
                first_line(runner, "systemctl", &args).unwrap_or_else(|| "unknown".to_owned())
            };
            let (enabled, active) = (ask("is-enabled"), ask("is-active"));
            let state = format!("installed ({}), {enabled}, {active}", path.display());
            StatusLine {
                what: unit.to_owned(),
                state,
            }
        })
        .collect()
}
