//! Where the agent keeps things: its config file, its data directory and its socket.
//!
//! Platform directories come from the `directories` crate. Environment variables override
//! them (`OAUTH_AGENT_CONFIG`, `OAUTH_AGENT_DATA_DIR`, `OAUTH_AGENT_SOCKET`), which is what
//! service units and tests use.

use std::path::PathBuf;

/// Overrides the config file path.
pub const CONFIG_ENV: &str = "OAUTH_AGENT_CONFIG";
/// Overrides the data directory.
pub const DATA_DIR_ENV: &str = "OAUTH_AGENT_DATA_DIR";
/// Overrides the socket path.
pub const SOCKET_ENV: &str = "OAUTH_AGENT_SOCKET";

fn project() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "oauth-agent")
}

/// The agent's config file.
pub fn config_file() -> PathBuf {
    if let Some(path) = std::env::var_os(CONFIG_ENV) {
        return PathBuf::from(path);
    }
    match project() {
        Some(dirs) => dirs.config_dir().join("agent.toml"),
        None => PathBuf::from("oauth-agent.toml"),
    }
}

/// The agent's data directory (the file store lives here).
pub fn data_dir() -> PathBuf {
    if let Some(path) = std::env::var_os(DATA_DIR_ENV) {
        return PathBuf::from(path);
    }
    match project() {
        Some(dirs) => dirs.data_dir().to_owned(),
        None => PathBuf::from("oauth-agent-data"),
    }
}

/// The default socket path: `$XDG_RUNTIME_DIR/oauth-agent/agent.sock`, else a per-user
/// directory under the temporary directory (created and checked by the daemon), and on Windows
/// the named pipe `\\.\pipe\oauth-agent-<user>`.
pub fn default_socket() -> PathBuf {
    #[cfg(unix)]
    {
        if let Some(runtime) = std::env::var_os("XDG_RUNTIME_DIR") {
            return PathBuf::from(runtime)
                .join("oauth-agent")
                .join("agent.sock");
        }
        let uid = nix::unistd::getuid();
        std::env::temp_dir()
            .join(format!("oauth-agent-{uid}"))
            .join("agent.sock")
    }
    #[cfg(windows)]
    {
        let user = std::env::var("USERNAME").unwrap_or_else(|_| "user".to_owned());
        let user: String = user.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        PathBuf::from(format!(r"\\.\pipe\oauth-agent-{user}"))
    }
}
