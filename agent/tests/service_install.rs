//! `oauth-agent service install|uninstall|status`: on Linux the real binary writes the units
//! from `installers/` and drives a fake `systemctl` that records its arguments; the launchd
//! and Windows plans are checked through the library with a fake runner.
#![cfg(target_os = "linux")] // fake tools are shell scripts; every platform's plan is checked here
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

use oauth_agent::paths::Scope;
use oauth_agent::service::{self, launchd, windows, Run, Runner, Step, Target};
use std::path::{Path, PathBuf};
use std::process::Output;

const USER_SERVICE: &str = include_str!("../../installers/systemd/user/oauth-agent.service");
const USER_SOCKET: &str = include_str!("../../installers/systemd/user/oauth-agent.socket");
const SYSTEM_SERVICE: &str = include_str!("../../installers/systemd/system/oauth-agent.service");
const SYSTEM_SOCKET: &str = include_str!("../../installers/systemd/system/oauth-agent.socket");

/// A home, an XDG config directory, and a `bin` with fake service tools.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    /// `systemctl` (and the other tools) print `answer` for queries and exit with `exit`.
    fn new(exit: u8) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let script = format!(
            "#!/bin/sh\necho \"$(basename \"$0\") $*\" >> '{}'\n\
             case \"$*\" in *is-enabled*) echo enabled;; *is-active*) echo active;; esac\n\
             [ {exit} = 0 ] || echo 'Failed to connect to bus: No medium found' >&2\nexit {exit}\n",
            dir.path().join("calls").display()
        );
        for tool in ["systemctl", "systemd-sysusers", "systemd-tmpfiles"] {
            write_executable(&bin.join(tool), &script);
        }
        Self { dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    /// Runs `oauth-agent ARGS` with only this home in its environment.
    fn run(&self, args: &[&str]) -> Output {
        let path = format!("{}:/usr/bin:/bin", self.dir.path().join("bin").display());
        std::process::Command::new(env!("CARGO_BIN_EXE_oauth-agent"))
            .args(args)
            .env_clear()
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.config())
            .env("OAUTH_AGENT_STORE", "file")
            .env("PATH", path)
            .output()
            .unwrap()
    }

    /// The commands the fake tools were called with, one per line.
    fn calls(&self) -> Vec<String> {
        let calls = std::fs::read_to_string(self.dir.path().join("calls")).unwrap_or_default();
        calls.lines().map(str::to_owned).collect()
    }

    /// Forgets the calls so far.
    fn clear_calls(&self) {
        let _ = std::fs::remove_file(self.dir.path().join("calls"));
    }
}

fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The shipped unit with its `ExecStart=` line running the test's binary with `args`.
fn expected_unit(template: &str, args: &str) -> String {
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_oauth-agent")).unwrap();
    let lines = template
        .lines()
        .map(|line| match line.starts_with("ExecStart=") {
            true => format!("ExecStart={} {args}\n", exe.display()),
            false => format!("{line}\n"),
        });
    lines.collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
            found.push(path);
        } else {
            found.push(path);
        }
    }
    found
}

fn text(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    format!("{stdout}{}", String::from_utf8_lossy(&output.stderr))
}

#[test]
fn user_service_installs_enables_reports_and_uninstalls_without_a_trace() {
    let home = Home::new(0);
    for _ in 0..2 {
        let install = home.run(&["service", "install"]);
        assert!(install.status.success(), "{}", text(&install));
    }
    let units = home.config().join("systemd/user");
    let service = expected_unit(USER_SERVICE, "--store file daemon");
    assert_eq!(read(&units.join("oauth-agent.service")), service);
    assert_eq!(read(&units.join("oauth-agent.socket")), USER_SOCKET);
    let install = [
        "systemctl --user daemon-reload",
        "systemctl --user enable --now oauth-agent.socket",
        "systemctl --user try-restart oauth-agent.service",
    ];
    assert_eq!(
        home.calls(),
        [install, install].concat(),
        "installing twice is safe"
    );

    let status = home.run(&["service", "status"]);
    let report = text(&status);
    assert!(status.status.success(), "{report}");
    assert!(
        report.contains("oauth-agent.socket: installed (") && report.contains("enabled, active"),
        "{report}"
    );

    home.clear_calls();
    let uninstall = home.run(&["service", "uninstall"]);
    assert!(uninstall.status.success(), "{}", text(&uninstall));
    assert_eq!(
        home.calls(),
        [
            "systemctl --user disable --now oauth-agent.socket",
            "systemctl --user stop oauth-agent.service",
            "systemctl --user daemon-reload",
        ]
    );
    assert_eq!(files_under(&home.config()), Vec::<PathBuf>::new());
    let status = text(&home.run(&["service", "status"]));
    assert!(
        status.contains("oauth-agent.socket: not installed"),
        "{status}"
    );
}

#[test]
fn without_a_user_manager_the_units_are_written_and_the_commands_named() {
    let home = Home::new(1);
    let install = home.run(&["service", "install"]);
    let report = text(&install);
    assert_eq!(install.status.code(), Some(1), "{report}");
    assert!(report.contains("Failed to connect to bus"), "{report}");
    assert!(
        report.contains(
            "to finish, run:\n  systemctl --user daemon-reload\n  \
             systemctl --user enable --now oauth-agent.socket\n"
        ),
        "{report}"
    );
    assert_eq!(home.calls(), ["systemctl --user daemon-reload"]);
    let units = home.config().join("systemd/user");
    assert_eq!(read(&units.join("oauth-agent.socket")), USER_SOCKET);

    let uninstall = home.run(&["service", "uninstall"]);
    assert!(uninstall.status.success(), "{}", text(&uninstall));
    assert!(text(&uninstall).contains("warning"), "{}", text(&uninstall));
    assert_eq!(files_under(&home.config()), Vec::<PathBuf>::new());
}

#[test]
fn system_service_installs_under_a_root_without_running_anything() {
    let home = Home::new(0);
    let root = home.dir.path().join("image");
    let install = home.run(&[
        "service",
        "install",
        "--system",
        "--root",
        root.to_str().unwrap(),
    ]);
    let report = text(&install);
    assert!(install.status.success(), "{report}");
    let units = root.join("etc/systemd/system");
    let service = expected_unit(SYSTEM_SERVICE, "--system daemon");
    assert_eq!(read(&units.join("oauth-agent.service")), service);
    assert_eq!(read(&units.join("oauth-agent.socket")), SYSTEM_SOCKET);
    let sysusers = read(&root.join("etc/sysusers.d/oauth-agent.conf"));
    assert!(sysusers.contains("g oauth-agent-clients"));
    assert!(read(&root.join("etc/tmpfiles.d/oauth-agent.conf")).contains("/run/oauth-agent 0750"));
    assert!(
        report.contains("  systemctl enable --now oauth-agent.socket"),
        "{report}"
    );
    assert!(home.calls().is_empty(), "nothing runs with --root");

    let uninstall = home.run(&[
        "service",
        "uninstall",
        "--system",
        "--root",
        root.to_str().unwrap(),
    ]);
    assert!(uninstall.status.success(), "{}", text(&uninstall));
    assert_eq!(files_under(&root), Vec::<PathBuf>::new());
    assert!(home.calls().is_empty());
}

/// Records runs, and answers each with success and `stdout`.
struct FakeRunner {
    calls: std::cell::RefCell<Vec<String>>,
    stdout: &'static str,
}

impl Runner for FakeRunner {
    fn run(&self, program: &str, args: &[String]) -> std::io::Result<Output> {
        use std::os::unix::process::ExitStatusExt as _;
        self.calls
            .borrow_mut()
            .push(format!("{program} {}", args.join(" ")));
        Ok(Output {
            status: std::process::ExitStatus::from_raw(0),
            stdout: self.stdout.as_bytes().to_vec(),
            stderr: vec![],
        })
    }
}

fn target(home: &Path) -> Target {
    Target {
        exe: PathBuf::from("/Applications/oauth agent/oauth-agent"),
        daemon_args: vec!["--store".into(), "keyring".into()],
        scope: Scope::User,
        home: home.to_owned(),
        config_dir: home.join("Library/Application Support"),
        uid: 501,
        root: None,
    }
}

#[test]
fn launchd_agent_is_written_loaded_and_removed() {
    let home = tempfile::tempdir().unwrap();
    let target = target(home.path());
    let runner = FakeRunner {
        calls: Default::default(),
        stdout: "gui/501/local.oauth-agent = {\n\tstate = running\n",
    };
    let plan = launchd::install_plan(&target).unwrap();
    let outcome = service::execute(&plan, &runner, false).unwrap();
    assert!(outcome.unfinished.is_none());
    let plist = home
        .path()
        .join("Library/LaunchAgents/local.oauth-agent.plist");
    let written = read(&plist);
    assert!(written.contains(
        "<string>/Applications/oauth agent/oauth-agent</string>\n        <string>--store</string>"
    ));
    let path = plist.display();
    assert_eq!(
        *runner.calls.borrow(),
        [
            "launchctl bootout gui/501/local.oauth-agent".to_owned(),
            format!("launchctl bootstrap gui/501 {path}"),
        ]
    );
    let status = launchd::status(&target, &runner);
    assert!(status[0].state.ends_with("loaded, running"), "{status:?}");

    service::execute(&launchd::uninstall_plan(&target).unwrap(), &runner, false).unwrap();
    assert_eq!(files_under(home.path()), Vec::<PathBuf>::new());
}

#[test]
fn windows_logon_start_is_registered_and_removed() {
    let mut target = target(Path::new("C:/Users/al"));
    target.exe = PathBuf::from(r"C:\Program Files\oauth-agent\oauth-agent.exe");
    let command = windows::logon_command(&target).unwrap();
    assert_eq!(
        command,
        r#""C:\Program Files\oauth-agent\oauth-agent.exe" --store keyring daemon --background"#
    );
    let plan = windows::install_plan(&target).unwrap();
    let runs: Vec<&Run> = plan
        .steps
        .iter()
        .map(|step| match step {
            Step::Run(run) => run,
            other => panic!("Windows writes no files: {other:?}"),
        })
        .collect();
    assert_eq!(runs[0].program, "reg");
    assert_eq!(
        runs[0].args,
        [
            "add",
            windows::RUN_KEY,
            "/v",
            "oauth-agent",
            "/t",
            "REG_SZ",
            "/d",
            &command,
            "/f"
        ]
    );
    assert_eq!(runs[1].program, target.exe.display().to_string());
    assert_eq!(
        runs[1].args,
        ["--store", "keyring", "daemon", "--background"]
    );
    let uninstall = windows::uninstall_plan(&target).unwrap();
    let Step::Run(delete) = &uninstall.steps[0] else {
        panic!()
    };
    assert_eq!(
        delete.args,
        ["delete", windows::RUN_KEY, "/v", "oauth-agent", "/f"]
    );
}
