//! `installers/install.sh` in a sandbox: a temporary HOME and prefix, stand-in `oauth-agent` and
//! `oauth-broker` binaries passed with `--bin-dir`, and stand-in `systemctl`, `systemd-sysusers`
//! and `systemd-tmpfiles` first on `PATH`, each writing its command line to a log. Nothing
//! touches the real system. Installing twice changes nothing; uninstalling leaves the folder
//! tree exactly as it was before.
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

use oauth_e2e::tools::{program_or_skip, repo_root};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// An agent that logs its arguments; `service` works only when `with_service`.
fn fake_agent(with_service: bool) -> String {
    let service = if with_service {
        ""
    } else {
        "[ \"$1\" = service ] && exit 2\n"
    };
    format!("#!/bin/sh\n{service}echo \"oauth-agent $*\" >>\"$INSTALL_LOG\"\n")
}

const FAKE_BROKER: &str = "#!/bin/sh\necho \"oauth-broker $*\" >>\"$INSTALL_LOG\"\n\
    [ \"$1\" = gen-key ] && echo AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nexit 0\n";

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new(agent_has_service: bool) -> Self {
        let sandbox = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        for folder in ["home", "bins", "fake", "root"] {
            std::fs::create_dir(sandbox.path(folder)).unwrap();
        }
        sandbox.script("bins/oauth-agent", &fake_agent(agent_has_service));
        sandbox.script("bins/oauth-broker", FAKE_BROKER);
        for tool in ["systemctl", "systemd-sysusers", "systemd-tmpfiles"] {
            let body = format!("#!/bin/sh\necho \"{tool} $*\" >>\"$INSTALL_LOG\"\n");
            sandbox.script(&format!("fake/{tool}"), &body);
        }
        sandbox
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn script(&self, relative: &str, body: &str) {
        let path = self.path(relative);
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// Runs install.sh with `args`; panics with its output unless it exits as `success`.
    fn run(&self, args: &[&str], success: bool) -> String {
        let path = std::env::join_paths(std::iter::once(self.path("fake")).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))
        .unwrap();
        let output = Command::new(repo_root().join("installers/install.sh"))
            .args(args)
            .env("HOME", self.path("home"))
            .env("PATH", path)
            .env("INSTALL_LOG", self.path("log"))
            .output()
            .unwrap();
        let text = describe(&output);
        assert_eq!(
            output.status.success(),
            success,
            "install.sh {args:?}:\n{text}"
        );
        text
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.path("log")).unwrap_or_default()
    }

    fn bins(&self) -> String {
        self.path("bins").display().to_string()
    }
}

fn describe(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Every folder and file below `root`: its mode, and a file's content.
fn tree(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        let mode = std::fs::symlink_metadata(&path)
            .unwrap()
            .permissions()
            .mode();
        if path.is_dir() {
            found.insert(path.clone(), format!("folder {mode:o}"));
            found.extend(tree(&path));
        } else {
            let content = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            found.insert(path, format!("file {mode:o} {content}"));
        }
    }
    found
}

/// Fails with the entries that differ between `left` and `right`.
#[track_caller]
fn assert_same_tree(left: &BTreeMap<PathBuf, String>, right: &BTreeMap<PathBuf, String>) {
    let keys: std::collections::BTreeSet<&PathBuf> = left.keys().chain(right.keys()).collect();
    let differ: Vec<String> = keys
        .into_iter()
        .filter(|key| left.get(*key) != right.get(*key))
        .map(|key| {
            format!(
                "{}: {:?} != {:?}",
                key.display(),
                left.get(key),
                right.get(key)
            )
        })
        .collect();
    assert!(differ.is_empty(), "trees differ:\n{}", differ.join("\n"));
}

#[test]
fn agent_install_is_idempotent_and_uninstall_restores_the_home_folder() {
    let sandbox = Sandbox::new(true);
    let home = sandbox.path("home");
    std::fs::create_dir_all(home.join(".local/bin")).unwrap();
    std::fs::write(home.join(".local/bin/unrelated-tool"), "mine").unwrap();
    let before = tree(&home);

    sandbox.run(&["--bin-dir", &sandbox.bins()], true);
    let installed = home.join(".local/bin/oauth-agent");
    assert!(installed.is_file());
    assert!(sandbox.log().contains("oauth-agent service install\n"));
    let once = tree(&home);
    sandbox.run(&["--bin-dir", &sandbox.bins()], true);
    assert_same_tree(&tree(&home), &once);

    sandbox.run(&["--uninstall"], true);
    assert!(sandbox.log().ends_with("oauth-agent service uninstall\n"));
    assert_same_tree(&tree(&home), &before);
    let again = sandbox.run(&["--uninstall"], true);
    assert!(again.contains("nothing to remove"), "{again}");
}

#[test]
fn agent_without_a_service_command_installs_with_a_note() {
    let sandbox = Sandbox::new(false);
    let prefix = sandbox.path("root/opt");
    let prefix = prefix.to_str().unwrap();
    let before = tree(&sandbox.path("root"));

    let output = sandbox.run(&["--prefix", prefix, "--bin-dir", &sandbox.bins()], true);
    assert!(output.contains("no 'service' command"), "{output}");
    assert!(sandbox.path("root/opt/bin/oauth-agent").is_file());

    sandbox.run(&["--prefix", prefix, "--uninstall"], true);
    assert_same_tree(&tree(&sandbox.path("root")), &before);
}

/// `--broker` into the sandbox's `root/usr/local` and `root/etc`, then `extra`.
fn broker_args(sandbox: &Sandbox, extra: &[&str]) -> Vec<String> {
    let root = sandbox.path("root");
    let mut args = vec![
        "--broker".to_owned(),
        "--prefix".to_owned(),
        root.join("usr/local").display().to_string(),
        "--sysconfdir".to_owned(),
        root.join("etc").display().to_string(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

fn run_broker(sandbox: &Sandbox, extra: &[&str], success: bool) -> String {
    let args = broker_args(sandbox, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sandbox.run(&args, success)
}

#[test]
fn broker_install_places_unit_config_and_key_and_purge_removes_them() {
    let sandbox = Sandbox::new(true);
    let root = sandbox.path("root");
    let before = tree(&root);

    run_broker(&sandbox, &["--bin-dir", &sandbox.bins()], true);
    let unit = std::fs::read_to_string(root.join("etc/systemd/system/oauth-broker.service"));
    let unit = unit.unwrap();
    let binary = root.join("usr/local/bin/oauth-broker");
    assert!(unit.contains(&format!("ExecStart={} serve\n", binary.display())));
    let config = root.join("etc/oauth-broker/broker.toml");
    assert!(unit.contains(&format!("OAUTH_BROKER_CONFIG={}\n", config.display())));
    let example = repo_root().join("installers/broker.toml.example");
    assert_eq!(
        std::fs::read(&config).unwrap(),
        std::fs::read(example).unwrap()
    );
    let key = root.join("etc/oauth-broker/credentials/master-key");
    assert_eq!(mode(&key), 0o600);
    assert_eq!(mode(key.parent().unwrap()), 0o700);
    assert!(unit.contains(&format!("LoadCredential=master-key:{}\n", key.display())));
    let log = sandbox.log();
    assert!(log.contains("systemctl daemon-reload\nsystemctl enable oauth-broker.service\n"));

    let once = tree(&root);
    run_broker(&sandbox, &["--bin-dir", &sandbox.bins()], true);
    assert_same_tree(&tree(&root), &once);

    run_broker(&sandbox, &["--uninstall", "--purge"], true);
    assert!(sandbox
        .log()
        .contains("systemctl disable --now oauth-broker.service\n"));
    assert_same_tree(&tree(&root), &before);
}

#[test]
fn broker_uninstall_keeps_the_master_key_and_an_edited_config() {
    let sandbox = Sandbox::new(true);
    let root = sandbox.path("root");
    run_broker(&sandbox, &["--bin-dir", &sandbox.bins()], true);
    let config = root.join("etc/oauth-broker/broker.toml");
    std::fs::write(&config, "public_url = \"https://mine.example\"\n").unwrap();
    let key = root.join("etc/oauth-broker/credentials/master-key");
    let key_text = std::fs::read_to_string(&key).unwrap();

    let output = run_broker(&sandbox, &["--uninstall"], true);
    assert!(
        output.contains("kept") && output.contains("master key"),
        "{output}"
    );
    assert_eq!(std::fs::read_to_string(&key).unwrap(), key_text);
    assert!(config.is_file());
    assert!(!root.join("usr/local/bin/oauth-broker").exists());
    assert!(!root
        .join("etc/systemd/system/oauth-broker.service")
        .exists());
    assert!(!root.join("usr/local/share").exists());
}

#[test]
fn broker_unit_installed_elsewhere_still_verifies() {
    let test = "broker_unit_installed_elsewhere_still_verifies";
    let Some(analyze) = program_or_skip(test, "systemd-analyze", "systemd") else {
        return;
    };
    let sandbox = Sandbox::new(true);
    run_broker(&sandbox, &["--bin-dir", &sandbox.bins()], true);
    let unit = sandbox.path("root/etc/systemd/system/oauth-broker.service");
    let output = Command::new(analyze)
        .arg("verify")
        .arg(&unit)
        .output()
        .unwrap();
    let text = describe(&output);
    assert!(output.status.success() && text.trim().is_empty(), "{text}");
}

#[test]
fn system_wide_agent_installs_the_system_units_or_says_they_are_missing() {
    let sandbox = Sandbox::new(true);
    let root = sandbox.path("root");
    let before = tree(&root);
    let prefix = root.join("usr/local").display().to_string();
    let etc = root.join("etc").display().to_string();
    let args = ["--system", "--prefix", &prefix, "--sysconfdir", &etc];
    let bins = sandbox.bins();
    let with_bins = [&args[..], &["--bin-dir", &bins]].concat();

    let units = repo_root().join("installers/systemd/system");
    if !units.join("oauth-agent.service").exists() {
        let output = sandbox.run(&with_bins, false);
        assert!(
            output.contains("no system-wide oauth-agent units"),
            "{output}"
        );
        return;
    }
    sandbox.run(&with_bins, true);
    let unit = std::fs::read_to_string(root.join("etc/systemd/system/oauth-agent.service"));
    assert!(unit.unwrap().contains(&format!("{prefix}/bin/oauth-agent")));
    let log = sandbox.log();
    assert!(log.contains("systemctl daemon-reload\n"), "{log}");
    assert!(log.contains("systemctl enable --now oauth-agent."), "{log}");

    sandbox.run(&[&args[..], &["--uninstall"]].concat(), true);
    assert!(sandbox
        .log()
        .contains("systemctl disable --now oauth-agent."));
    assert_same_tree(&tree(&root), &before);
}

#[test]
fn install_script_passes_shellcheck() {
    let test = "install_script_passes_shellcheck";
    let Some(shellcheck) = program_or_skip(test, "shellcheck", "shellcheck") else {
        return;
    };
    let output = Command::new(shellcheck)
        .args(["--shell=sh", "--severity=style"])
        .arg(repo_root().join("installers/install.sh"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", describe(&output));
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}
