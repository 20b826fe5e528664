//! The agent's config file: the accounts (broker URL, provider, git hosts) and who may use the
//! socket. It holds no secret; the authid lives in the secret store.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A config file problem.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Reading or writing failed.
    #[error("cannot access the agent config {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("the agent config {path} is not valid: {message}; fix or delete it")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's explanation.
        message: String,
    },
}

/// One account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// The broker's base URL.
    pub broker: String,
    /// The provider name at the broker.
    pub provider: String,
    /// Git hosts (as git names them, e.g. `example.com` or `example.com:8443`) this account
    /// answers `git credential` for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub git_hosts: Vec<String>,
    /// The user name given to git with the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_username: Option<String>,
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// Other user ids allowed to ask the daemon for tokens (besides its own).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_uids: Vec<u32>,
    /// Group ids whose members may ask the daemon for tokens.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_gids: Vec<u32>,
    /// Accounts by name.
    #[serde(default)]
    pub accounts: BTreeMap<String, Account>,
}

impl AgentConfig {
    /// Reads the file; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(ConfigError::Io {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// Writes the file atomically (temporary file, then rename), creating its directory.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let io = |source| ConfigError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let text = toml::to_string_pretty(self).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let temporary = path.with_extension("toml.tmp");
        std::fs::write(&temporary, text).map_err(io)?;
        std::fs::rename(&temporary, path).map_err(io)
    }

    /// The account whose `git_hosts` names `host`.
    pub fn account_for_git_host(&self, host: &str) -> Option<(&str, &Account)> {
        self.accounts
            .iter()
            .find(|(_, account)| {
                account
                    .git_hosts
                    .iter()
                    .any(|h| h.eq_ignore_ascii_case(host))
            })
            .map(|(name, account)| (name.as_str(), account))
    }
}

/// Account names appear in URLs, file names and keyring entries: a small safe alphabet.
pub fn check_account_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && !name.starts_with('.');
    if ok {
        return Ok(());
    }
    Err(format!(
        "'{}' is not a valid account name: use letters, digits, '-', '_' and '.' \
         (at most 64, not starting with '.')",
        name.escape_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_maps_git_hosts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/agent.toml");
        let mut config = AgentConfig::default();
        config.accounts.insert(
            "work".into(),
            Account {
                broker: "http://b".into(),
                provider: "demo".into(),
                git_hosts: vec!["git.example.com".into()],
                git_username: None,
            },
        );
        config.save(&path).unwrap();
        let loaded = AgentConfig::load(&path).unwrap();
        assert_eq!(loaded, config);
        assert_eq!(
            loaded.account_for_git_host("GIT.example.com").unwrap().0,
            "work"
        );
        assert!(loaded.account_for_git_host("other").is_none());
        assert_eq!(
            AgentConfig::load(&dir.path().join("none")).unwrap(),
            AgentConfig::default()
        );
    }

    #[test]
    fn account_names_are_checked() {
        assert!(check_account_name("work-1.backup_x").is_ok());
        for bad in ["", "../x", "a/b", ".hidden", "a b", "é", &"x".repeat(65)] {
            assert!(check_account_name(bad).is_err(), "{bad}");
        }
    }
}
