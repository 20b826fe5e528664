//! The service definitions under `installers/`, built into the binary, and how installing
//! fills them in: the path of the installed binary and the daemon's options.
//!
//! The systemd units name `/usr/local/bin/oauth-agent` so that they are complete as shipped
//! (`systemd-analyze verify` checks them as they are); installing replaces that path in the
//! `ExecStart=` line. The launchd plist has placeholders, since launchd knows no `~`.

use super::ServiceError;
use std::path::Path;

/// The per-user socket unit.
pub const USER_SOCKET: &str = include_str!("../../../installers/systemd/user/oauth-agent.socket");
/// The per-user service unit.
pub const USER_SERVICE: &str = include_str!("../../../installers/systemd/user/oauth-agent.service");
/// The system-wide socket unit.
pub const SYSTEM_SOCKET: &str =
    include_str!("../../../installers/systemd/system/oauth-agent.socket");
/// The system-wide service unit.
pub const SYSTEM_SERVICE: &str =
    include_str!("../../../installers/systemd/system/oauth-agent.service");
/// The system-wide agent's user and group (sysusers.d).
pub const SYSUSERS: &str = include_str!("../../../installers/systemd/sysusers.d/oauth-agent.conf");
/// The system-wide agent's directories (tmpfiles.d).
pub const TMPFILES: &str = include_str!("../../../installers/systemd/tmpfiles.d/oauth-agent.conf");
/// The macOS launchd agent.
pub const LAUNCHD_PLIST: &str = include_str!("../../../installers/launchd/oauth-agent.plist");

/// The binary the shipped units name.
pub const SHIPPED_PROGRAM: &str = "/usr/local/bin/oauth-agent";

/// `template` with its `ExecStart=` running `exe` with `args` before the shipped arguments.
pub fn systemd_unit(template: &str, exe: &Path, args: &[String]) -> Result<String, ServiceError> {
    let prefix = format!("ExecStart={SHIPPED_PROGRAM}");
    let mut words = vec![systemd_word(path_text(exe)?)?];
    for arg in args {
        words.push(systemd_word(arg)?);
    }
    let lines = template
        .lines()
        .map(|line| match line.strip_prefix(&prefix) {
            Some(rest) => format!("ExecStart={}{rest}", words.join(" ")),
            None => line.to_owned(),
        });
    Ok(lines.map(|l| l + "\n").collect())
}

/// One word of a systemd command line: `%` and `$` escaped (specifiers and variables), quoted
/// unless plainly safe.
fn systemd_word(word: &str) -> Result<String, ServiceError> {
    if word.chars().any(char::is_control) {
        return Err(ServiceError::Unquotable(word.to_owned()));
    }
    let escaped = word.replace('%', "%%").replace('$', "$$");
    let plain = !escaped.is_empty()
        && escaped
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=,@%$".contains(c));
    if plain {
        return Ok(escaped);
    }
    let quoted = escaped.replace('\\', r"\\").replace('"', "\\\"");
    Ok(format!("\"{quoted}\""))
}

/// The launchd plist running `exe` with `args` and then `daemon`, logging under `home`.
pub fn launchd_plist(exe: &Path, args: &[String], home: &Path) -> Result<String, ServiceError> {
    let mut words = vec![xml_text(path_text(exe)?)?];
    for arg in args.iter().map(String::as_str).chain(["daemon"]) {
        words.push(xml_text(arg)?);
    }
    let arguments: Vec<String> = words
        .iter()
        .map(|w| format!("<string>{w}</string>"))
        .collect();
    Ok(LAUNCHD_PLIST
        .replace("@PROGRAM_ARGUMENTS@", &arguments.join("\n        "))
        .replace("@HOME@", &xml_text(path_text(home)?)?))
}

fn xml_text(text: &str) -> Result<String, ServiceError> {
    if text.chars().any(char::is_control) {
        return Err(ServiceError::Unquotable(text.to_owned()));
    }
    Ok(text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;"))
}

/// A Windows command line running `exe` with `args`: each word quoted where it has a space.
pub fn windows_command_line(exe: &Path, args: &[&str]) -> Result<String, ServiceError> {
    let mut words = vec![format!("\"{}\"", windows_word(path_text(exe)?)?)];
    for arg in args {
        let word = windows_word(arg)?;
        let quote = word.is_empty() || word.contains([' ', '\t']);
        words.push(if quote {
            format!("\"{word}\"")
        } else {
            word.to_owned()
        });
    }
    Ok(words.join(" "))
}

fn windows_word(word: &str) -> Result<&str, ServiceError> {
    // A quote, or a backslash before the closing quote, would need escaping that programs
    // disagree about; no path or option the agent writes has one.
    if word.contains('"') || word.ends_with('\\') || word.chars().any(char::is_control) {
        return Err(ServiceError::Unquotable(word.to_owned()));
    }
    Ok(word)
}

fn path_text(path: &Path) -> Result<&str, ServiceError> {
    path.to_str()
        .ok_or_else(|| ServiceError::Unquotable(path.display().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_start_names_the_binary_and_options() {
        let exe = Path::new("/home/a b/.cargo/bin/oauth-agent");
        let args = ["--store".to_owned(), "file".to_owned()];
        let unit = systemd_unit(USER_SERVICE, exe, &args).unwrap();
        assert!(
            unit.contains("\nExecStart=\"/home/a b/.cargo/bin/oauth-agent\" --store file daemon\n"),
            "{unit}"
        );
        let unchanged: Vec<&str> = USER_SERVICE
            .lines()
            .filter(|l| !l.starts_with("ExecStart="))
            .collect();
        let rendered: Vec<&str> = unit
            .lines()
            .filter(|l| !l.starts_with("ExecStart="))
            .collect();
        assert_eq!(unchanged, rendered);
    }

    #[test]
    fn systemd_words_escape_specifiers_and_quotes() {
        assert_eq!(systemd_word("http://b:8080/x").unwrap(), "http://b:8080/x");
        assert_eq!(systemd_word("a%b$c").unwrap(), "a%%b$$c");
        assert_eq!(systemd_word(r#"a"b\c"#).unwrap(), r#""a\"b\\c""#);
        assert!(systemd_word("a\nExecStartPre=/bin/sh").is_err());
    }

    #[test]
    fn plist_lists_the_arguments_and_the_log() {
        let args = ["--store".to_owned(), "keyring".to_owned()];
        let plist = launchd_plist(
            Path::new("/opt/o&a/oauth-agent"),
            &args,
            Path::new("/Users/al"),
        )
        .unwrap();
        assert!(plist.contains(
            "<string>/opt/o&amp;a/oauth-agent</string>\n        <string>--store</string>\n        \
             <string>keyring</string>\n        <string>daemon</string>\n"
        ), "{plist}");
        assert!(plist.contains("<string>/Users/al/Library/Logs/oauth-agent.log</string>"));
        assert!(!plist.contains('@'), "every placeholder is filled: {plist}");
    }

    #[test]
    fn windows_command_lines_quote_spaces_and_refuse_quotes() {
        let exe = Path::new(r"C:\Program Files\oauth-agent\oauth-agent.exe");
        let line = windows_command_line(exe, &["--store", "keyring", "daemon", "--background"]);
        assert_eq!(
            line.unwrap(),
            r#""C:\Program Files\oauth-agent\oauth-agent.exe" --store keyring daemon --background"#
        );
        assert!(windows_command_line(exe, &["a\"b"]).is_err());
    }
}
