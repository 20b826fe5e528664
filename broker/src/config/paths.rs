//! Paths of secret files in the configuration, and the one placeholder they may start with:
//! `${CREDENTIALS_DIRECTORY}`, the folder where systemd puts a unit's `LoadCredential=` files.
//!
//! A config written for the systemd unit says `master_key_file =
//! "${CREDENTIALS_DIRECTORY}/master-key"`; outside systemd, setting the variable to the folder
//! that holds the same files makes the same config work (`oauth-broker check-config`).

use super::ConfigError;
use std::ffi::OsString;
use std::path::PathBuf;

/// The environment variable systemd sets for a unit with `LoadCredential=`.
pub const CREDENTIALS_DIRECTORY_ENV: &str = "CREDENTIALS_DIRECTORY";

const PLACEHOLDER: &str = "${CREDENTIALS_DIRECTORY}";

/// `path` (the value of config key `key`) with a leading `${CREDENTIALS_DIRECTORY}` replaced by
/// the variable's value.
pub(super) fn secret_path(key: &str, path: PathBuf) -> Result<PathBuf, ConfigError> {
    expand(key, path, std::env::var_os(CREDENTIALS_DIRECTORY_ENV))
}

fn expand(key: &str, path: PathBuf, directory: Option<OsString>) -> Result<PathBuf, ConfigError> {
    let Some(text) = path.to_str() else {
        return Ok(path);
    };
    let Some(rest) = text.strip_prefix(PLACEHOLDER) else {
        if text.contains("${") {
            return Err(ConfigError::invalid(
                key,
                "only a leading ${CREDENTIALS_DIRECTORY} is expanded in paths",
            ));
        }
        return Ok(path);
    };
    let directory = directory.filter(|d| !d.is_empty()).ok_or_else(|| {
        ConfigError::invalid(
            key,
            "uses ${CREDENTIALS_DIRECTORY}, which is not set: systemd sets it for a unit with \
             LoadCredential=; elsewhere set it to the folder holding the secret files",
        )
    })?;
    Ok(PathBuf::from(directory).join(rest.trim_start_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(path: &str) -> Option<OsString> {
        Some(OsString::from(path))
    }

    #[test]
    fn leading_placeholder_becomes_the_credentials_directory() {
        let path = PathBuf::from("${CREDENTIALS_DIRECTORY}/master-key");
        let expanded = expand("master_key_file", path, dir("/run/credentials/b.service"));
        assert_eq!(
            expanded.unwrap(),
            PathBuf::from("/run/credentials/b.service/master-key")
        );
    }

    #[test]
    fn plain_paths_are_left_alone() {
        let path = PathBuf::from("/etc/oauth-broker/master.key");
        let expanded = expand("master_key_file", path.clone(), None).unwrap();
        assert_eq!(expanded, path);
    }

    #[test]
    fn unset_variable_and_other_placeholders_name_the_key() {
        let unset = expand("master_key_file", "${CREDENTIALS_DIRECTORY}/k".into(), None);
        let unset = unset.unwrap_err().to_string();
        assert!(unset.contains("master_key_file") && unset.contains("LoadCredential"));

        let empty = expand("x", "${CREDENTIALS_DIRECTORY}/k".into(), dir(""));
        assert!(empty.is_err());

        let other = expand(
            "providers.a.client_secret_file",
            "${HOME}/s".into(),
            dir("/c"),
        );
        let other = other.unwrap_err().to_string();
        assert!(other.contains("providers.a.client_secret_file"), "{other}");
    }
}
