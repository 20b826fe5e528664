//! Where the agent keeps things: its config file, its data directory and its socket, for the
//! user's own agent and for the machine's system-wide one (`--system`).
//!
//! Platform directories come from the `directories` crate. Environment variables override
//! them (`OAUTH_AGENT_CONFIG`, `OAUTH_AGENT_DATA_DIR`, `OAUTH_AGENT_SOCKET`) in either scope,
//! which is what service units and tests use.

use std::path::PathBuf;

/// Overrides the config file path.
pub const CONFIG_ENV: &str = "OAUTH_AGENT_CONFIG";
/// Overrides the data directory.
pub const DATA_DIR_ENV: &str = "OAUTH_AGENT_DATA_DIR";
/// Overrides the socket path.
pub const SOCKET_ENV: &str = "OAUTH_AGENT_SOCKET";
/// Selects the system-wide agent (`--system`).
pub const SYSTEM_ENV: &str = "OAUTH_AGENT_SYSTEM";

/// The system-wide agent's socket (`installers/systemd/system/oauth-agent.socket`).
pub const SYSTEM_SOCKET: &str = "/run/oauth-agent/agent.sock";
/// The system-wide agent's config file.
pub const SYSTEM_CONFIG: &str = "/etc/oauth-agent/agent.toml";
/// The system-wide agent's data directory (its file store).
pub const SYSTEM_DATA_DIR: &str = "/var/lib/oauth-agent";
/// The user the system-wide agent runs as.
pub const SYSTEM_USER: &str = "oauth-agent";
/// The group whose members may use the system-wide agent.
pub const SYSTEM_CLIENT_GROUP: &str = "oauth-agent-clients";

/// Whose agent: the user's own, or the machine's shared one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scope {
    /// The user's agent: per-user directories, the keyring, autostart.
    #[default]
    User,
    /// The system-wide agent run by the service manager as `oauth-agent` (Linux).
    System,
}

fn project() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "oauth-agent")
}

/// The user agent's config file.
pub fn config_file() -> PathBuf {
    config_file_in(Scope::User)
}

/// The config file of the agent in `scope`.
pub fn config_file_in(scope: Scope) -> PathBuf {
    if let Some(path) = std::env::var_os(CONFIG_ENV) {
        return PathBuf::from(path);
    }
    match (scope, project()) {
        (Scope::System, _) => PathBuf::from(SYSTEM_CONFIG),
        (Scope::User, Some(dirs)) => dirs.config_dir().join("agent.toml"),
        (Scope::User, None) => PathBuf::from("oauth-agent.toml"),
    }
}

/// The user agent's data directory (the file store lives here).
pub fn data_dir() -> PathBuf {
    data_dir_in(Scope::User)
}

/// The data directory of the agent in `scope`.
pub fn data_dir_in(scope: Scope) -> PathBuf {
    if let Some(path) = std::env::var_os(DATA_DIR_ENV) {
        return PathBuf::from(path);
    }
    match (scope, project()) {
        (Scope::System, _) => PathBuf::from(SYSTEM_DATA_DIR),
        (Scope::User, Some(dirs)) => dirs.data_dir().to_owned(),
        (Scope::User, None) => PathBuf::from("oauth-agent-data"),
    }
}

/// The socket of the agent in `scope`, unless `OAUTH_AGENT_SOCKET` or `--socket` says
/// otherwise (the caller applies those).
pub fn default_socket_in(scope: Scope) -> PathBuf {
    match scope {
        Scope::System => PathBuf::from(SYSTEM_SOCKET),
        Scope::User => default_socket(),
    }
}

/// The user agent's default socket: `$XDG_RUNTIME_DIR/oauth-agent/agent.sock`, the path the
/// systemd user unit listens on (`%t/oauth-agent/agent.sock`). Without `XDG_RUNTIME_DIR` (cron,
/// `su`), the same place under `/run/user/<uid>` if that is the user's own directory, so jobs
/// still find the socket systemd listens on; else a per-user directory under the temporary
/// directory (created and checked by the daemon). On Windows the named pipe
/// `\\.\pipe\oauth-agent-<user>`.
pub fn default_socket() -> PathBuf {
    #[cfg(unix)]
    {
        let runtime = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .or_else(systemd_runtime_dir);
        if let Some(runtime) = runtime {
            return runtime.join("oauth-agent").join("agent.sock");
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

/// `/run/user/<uid>` when it exists and belongs to this user (systemd-logind makes it).
#[cfg(unix)]
fn systemd_runtime_dir() -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt as _;
    let uid = nix::unistd::getuid().as_raw();
    let dir = PathBuf::from(format!("/run/user/{uid}"));
    let meta = std::fs::metadata(&dir).ok()?;
    (meta.is_dir() && meta.uid() == uid).then_some(dir)
}
