//! `oauth-agent completions SHELL` and the hidden `oauth-agent man --out DIR`: shell completion
//! scripts and man pages, both generated from the clap definitions so they cannot drift.

use clap_complete::Shell;
use std::io::Write;
use std::path::Path;

/// Writes the completion script for `shell` to `out`.
pub fn completions(mut command: clap::Command, shell: Shell, out: &mut dyn Write) {
    let name = command.get_name().to_owned();
    clap_complete::generate(shell, &mut command, name, out);
}

/// Writes `NAME.1` for the program and `NAME-SUB.1` for each visible subcommand into `dir`;
/// returns the files written.
pub fn man_pages(command: clap::Command, dir: &Path) -> std::io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut command = command;
    command.build();
    let name = command.get_name().to_owned();
    let mut written = vec![write_page(command.clone(), &name, dir)?];
    for sub in command
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        let page = format!("{name}-{}", sub.get_name());
        written.push(write_page(
            sub.clone().name(page.clone()).display_name(page.clone()),
            &page,
            dir,
        )?);
    }
    Ok(written)
}

fn write_page(command: clap::Command, page: &str, dir: &Path) -> std::io::Result<String> {
    let file = format!("{page}.1");
    let mut buffer = Vec::new();
    clap_mangen::Man::new(command).render(&mut buffer)?;
    std::fs::write(dir.join(&file), buffer)?;
    Ok(file)
}
