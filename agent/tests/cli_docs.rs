//! Shell completions and man pages come from the clap definitions: every shell gets a script
//! naming every subcommand, and every subcommand gets a man page that renders.
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_oauth-agent");
const SHELLS: [&str; 5] = ["bash", "zsh", "fish", "powershell", "elvish"];

fn run(args: &[&str]) -> String {
    let output = Command::new(BIN).args(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// The visible subcommands, read from `--help` so a new one is covered without editing this.
fn subcommands() -> Vec<String> {
    let help = run(&["--help"]);
    let section = help.split("Commands:").nth(1).unwrap();
    let names: Vec<String> = section
        .lines()
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    assert!(names.len() >= 6, "{names:?}");
    names
}

#[test]
fn completions_name_every_subcommand_in_every_shell() {
    let subcommands = subcommands();
    for shell in SHELLS {
        let script = run(&["completions", shell]);
        assert!(script.len() > 200, "{shell}: {script}");
        for sub in &subcommands {
            assert!(script.contains(sub.as_str()), "{shell} lacks {sub}");
        }
    }
}

#[test]
fn an_unknown_shell_is_refused() {
    let output = Command::new(BIN)
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
}

#[test]
fn man_pages_render_for_the_program_and_each_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let listed = run(&["man", "--out", out.to_str().unwrap()]);

    // roff writes `-` as `\-`.
    let read = |page: &str| {
        std::fs::read_to_string(out.join(page))
            .unwrap()
            .replace("\\-", "-")
    };
    let main = read("oauth-agent.1");
    assert!(main.starts_with(".ie") || main.contains(".TH"), "{main}");
    for sub in subcommands() {
        assert!(main.contains(&sub), "oauth-agent.1 lacks {sub}");
        let page = read(&format!("oauth-agent-{sub}.1"));
        assert!(page.contains(".TH"), "{sub}: {page}");
        assert!(
            page.contains(&format!("oauth-agent-{sub}")),
            "{sub}: {page}"
        );
    }
    assert!(listed.contains("oauth-agent-login.1"), "{listed}");
    assert!(
        !out.join("oauth-agent-man.1").exists(),
        "the hidden command has no page"
    );
}
