//! The hidden `oauth-broker man --out DIR`: man pages generated from the clap definitions, one
//! for the program and one per visible subcommand, so they cannot drift from `--help`.

use std::path::Path;

/// Writes `NAME.1` and `NAME-SUB.1` for each visible subcommand into `dir`; returns the file
/// names written.
pub fn write_pages(command: clap::Command, dir: &Path) -> std::io::Result<Vec<String>> {
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
