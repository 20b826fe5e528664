//! Socket activation: the listening socket a service manager hands the daemon.
//!
//! systemd (and `systemd-socket-activate`) start the daemon with the socket already bound and
//! listening at fd 3, and say so in `LISTEN_FDS`, `LISTEN_PID` and `LISTEN_FDNAMES`. The daemon
//! then serves that socket as it is: it does not create, chmod or remove the socket file, which
//! belongs to the socket unit. Connections that arrive while the daemon is down wait in the
//! socket's queue and are served when it is back.
//!
//! The `listenfd` crate reads the variables, checks `LISTEN_PID`, and checks that the
//! descriptor is a Unix stream socket before taking it, which keeps `unsafe` out of this crate.
//! The variables are then removed, so nothing the daemon starts believes the socket is its own;
//! that edits the environment, so [`Inherited::from_env`] must run before any thread starts.
//!
//! There is no idle exit: the daemon's memory is the only token cache, and a daemon that left
//! when idle would make the next asker wait for the broker.

#[cfg(unix)]
use std::os::unix::net::UnixListener;

/// The variables of the protocol (`sd_listen_fds(3)`).
const VARIABLES: [&str; 3] = ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"];

/// A listening socket passed by the service manager, if there was one.
#[derive(Debug, Default)]
pub struct Inherited {
    #[cfg(unix)]
    listener: Option<UnixListener>,
}

/// The passed descriptor is not something the daemon can serve on.
#[derive(Debug, thiserror::Error)]
#[error(
    "the service manager passed a file descriptor that is not a listening Unix socket ({0}); \
     check ListenStream= in oauth-agent.socket"
)]
pub struct ActivationError(std::io::Error);

impl Inherited {
    /// Takes the socket the service manager passed, and removes the protocol's variables.
    /// Call before any thread starts.
    #[cfg(unix)]
    pub fn from_env() -> Result<Self, ActivationError> {
        let mut fds = listenfd::ListenFd::from_env();
        for name in VARIABLES {
            std::env::remove_var(name);
        }
        if fds.len() > 1 {
            tracing::warn!(
                count = fds.len(),
                "serving only the first of the passed sockets"
            );
        }
        let listener = fds.take_unix_listener(0).map_err(ActivationError)?;
        Ok(Self { listener })
    }

    /// No socket activation on this platform; the variables are removed all the same.
    #[cfg(not(unix))]
    pub fn from_env() -> Result<Self, ActivationError> {
        for name in VARIABLES {
            std::env::remove_var(name);
        }
        Ok(Self {})
    }

    /// The passed listener, if any.
    #[cfg(unix)]
    pub fn into_listener(self) -> Option<UnixListener> {
        self.listener
    }
}

/// The group the socket file admits: its group, when the socket unit gave that group read and
/// write (`SocketGroup=` with `SocketMode=0660`, as the system-wide unit does). The daemon then
/// admits members of that group as if `allowed_gids` listed it, so the unit file is the one
/// place that says who may connect.
#[cfg(unix)]
pub fn socket_group(listener: &UnixListener) -> Option<u32> {
    use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _};
    let address = listener.local_addr().ok()?;
    let meta = std::fs::metadata(address.as_pathname()?).ok()?;
    let group_rw = meta.mode() & 0o060 == 0o060;
    (meta.file_type().is_socket() && group_rw).then(|| meta.gid())
}
