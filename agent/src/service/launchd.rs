//! macOS: a launchd agent in `~/Library/LaunchAgents`, loaded into the user's GUI domain, that
//! starts the daemon at login and again if it fails. The daemon binds its own socket.

use super::{units, Plan, Run, ServiceError, StatusLine, Step, Target};
use std::path::PathBuf;

/// The launchd label.
pub const LABEL: &str = "local.oauth-agent";

/// `~/Library/LaunchAgents/local.oauth-agent.plist`.
pub fn plist_path(target: &Target) -> PathBuf {
    target
        .home
        .join("Library/LaunchAgents")
        .join(format!("{LABEL}.plist"))
}

fn domain(target: &Target) -> String {
    format!("gui/{}", target.uid)
}

fn service(target: &Target) -> String {
    format!("gui/{}/{LABEL}", target.uid)
}

/// Writes the plist and loads it (unloading an earlier one first).
pub fn install_plan(target: &Target) -> Result<Plan, ServiceError> {
    let plist = plist_path(target);
    let contents = units::launchd_plist(&target.exe, &target.daemon_args, &target.home)?;
    let path = plist.display().to_string();
    let steps = vec![
        Step::Write {
            path: plist,
            contents,
        },
        Step::Run(Run::optional("launchctl", &["bootout", &service(target)])),
        Step::Run(Run::required(
            "launchctl",
            &["bootstrap", &domain(target), &path],
        )),
    ];
    let notes = vec![format!(
        "{LABEL} is loaded: the daemon runs now and at every login; its log is \
         ~/Library/Logs/oauth-agent.log."
    )];
    Ok(Plan { steps, notes })
}

/// Unloads the agent (which stops the daemon) and removes the plist.
pub fn uninstall_plan(target: &Target) -> Result<Plan, ServiceError> {
    let keep = target.home.clone();
    let steps = vec![
        Step::Run(Run::optional("launchctl", &["bootout", &service(target)])),
        Step::Remove {
            path: plist_path(target),
            keep,
        },
    ];
    Ok(Plan {
        steps,
        notes: vec![],
    })
}

/// Whether the plist is there, and whether launchd has it loaded and running.
pub fn status(target: &Target, runner: &dyn super::Runner) -> Vec<StatusLine> {
    let plist = plist_path(target);
    let state = if !plist.exists() {
        "not installed; run `oauth-agent service install`".to_owned()
    } else {
        let loaded = loaded_state(target, runner);
        format!("installed ({}), {loaded}", plist.display())
    };
    vec![StatusLine {
        what: LABEL.to_owned(),
        state,
    }]
}

fn loaded_state(target: &Target, runner: &dyn super::Runner) -> String {
    let args = ["print".to_owned(), service(target)];
    let Ok(output) = runner.run("launchctl", &args) else {
        return "launchctl is not available".to_owned();
    };
    if !output.status.success() {
        return "not loaded".to_owned();
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let state = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("state = "))
        .unwrap_or("unknown");
    format!("loaded, {state}")
}
