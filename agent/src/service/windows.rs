//! Windows: a logon start in the user's `Run` registry key, which runs
//! `oauth-agent daemon --background` at every logon; that starts the daemon detached, with no
//! console window, on the user's named pipe (whose ACL admits only the user).
//!
//! The `Run` key rather than Task Scheduler: it needs no administrator rights (`schtasks /sc
//! onlogon` does), and it stops nothing after a time limit (scheduled tasks stop after 72 hours
//! unless told otherwise). The price is a console window flashing at logon while the starter
//! hands over to the detached daemon.

use super::{units, Plan, Run, ServiceError, StatusLine, Step, Target};

/// The registry key of per-user logon starts.
pub const RUN_KEY: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run";
/// The value's name.
pub const VALUE: &str = "oauth-agent";

/// The command the logon start runs.
pub fn logon_command(target: &Target) -> Result<String, ServiceError> {
    let mut args: Vec<&str> = target.daemon_args.iter().map(String::as_str).collect();
    args.extend(["daemon", "--background"]);
    units::windows_command_line(&target.exe, &args)
}

/// Registers the logon start and starts the daemon now.
pub fn install_plan(target: &Target) -> Result<Plan, ServiceError> {
    let command = logon_command(target)?;
    let exe = target.exe.display().to_string();
    let mut now: Vec<&str> = target.daemon_args.iter().map(String::as_str).collect();
    now.extend(["daemon", "--background"]);
    let add = [
        "add", RUN_KEY, "/v", VALUE, "/t", "REG_SZ", "/d", &command, "/f",
    ];
    let steps = vec![
        Step::Run(Run::required("reg", &add)),
        Step::Run(Run::required(&exe, &now)),
    ];
    let notes = vec!["The daemon runs now and starts at every logon.".to_owned()];
    Ok(Plan { steps, notes })
}

/// Removes the logon start. A running daemon keeps running until logoff.
pub fn uninstall_plan(_target: &Target) -> Result<Plan, ServiceError> {
    let delete = ["delete", RUN_KEY, "/v", VALUE, "/f"];
    let steps = vec![Step::Run(Run::optional("reg", &delete))];
    let notes = vec!["A daemon that runs now keeps running until you log off.".to_owned()];
    Ok(Plan { steps, notes })
}

/// Whether the logon start is registered.
pub fn status(_target: &Target, runner: &dyn super::Runner) -> Vec<StatusLine> {
    let query = ["query", RUN_KEY, "/v", VALUE].map(str::to_owned);
    let state = match runner.run("reg", &query) {
        Ok(output) if output.status.success() => format!(r"installed ({RUN_KEY}\{VALUE})"),
        Ok(_) => "not installed; run `oauth-agent service install`".to_owned(),
        Err(error) => format!("unknown (reg: {error})"),
    };
    vec![StatusLine {
        what: "logon start".to_owned(),
        state,
    }]
}
