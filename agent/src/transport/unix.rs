//! Unix sockets: binding safely, replacing a stale socket, and telling who is calling.
//!
//! A daemon holds an exclusive lock on `<socket>.lock` for as long as it lives; the kernel drops
//! it when the process dies, however it dies. Only the lock's holder may replace a socket file:
//! a live daemon is never taken for a dead one because one connection attempt failed, and
//! daemons started at once after a crash (several `oauth-agent token` autostarting) cannot both
//! remove the file and bind, which would leave one listening on a path that no longer exists.
//!
//! The default socket directory is created 0700 and must be owned by the agent's user; a
//! socket path given explicitly (`--socket`) keeps its directory as the administrator set it up
//! (the system-wide mode shares it with a group). The socket itself is 0600, or 0660 when
//! `allowed_gids` names groups. Whatever the file modes, every connection's peer credentials
//! (SO_PEERCRED) are checked by the daemon.

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use std::fs::File;
use std::future::Future;
use std::io;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;
use tokio::net::{UnixListener, UnixStream};

/// Who is on the other end of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// The peer's user id.
    pub uid: Option<u32>,
    /// The peer's primary group id.
    pub gid: Option<u32>,
}

impl Peer {
    /// The peer credentials (SO_PEERCRED) of a connection; unknown when the kernel has none.
    pub fn of(stream: &UnixStream) -> Self {
        let cred = stream.peer_cred().ok();
        Self {
            uid: cred.as_ref().map(|c| c.uid()),
            gid: cred.as_ref().map(|c| c.gid()),
        }
    }
}

/// Connects to a daemon's socket.
pub async fn connect(path: &Path) -> io::Result<UnixStream> {
    UnixStream::connect(path).await
}

/// A bound socket and the lock that says its daemon is alive; both last until it is dropped.
/// A socket passed by a service manager has no lock: the manager owns the socket file.
#[derive(Debug)]
pub struct Listener {
    socket: UnixListener,
    _lock: Option<Flock<File>>,
}

impl Listener {
    /// A listening socket the daemon did not bind itself (socket activation).
    pub fn inherited(socket: UnixListener) -> Self {
        Self {
            socket,
            _lock: None,
        }
    }
}

/// Binds the socket at `path`. A socket left by a dead daemon is replaced; a live one means
/// another daemon already serves it, which is an error.
pub async fn bind(path: &Path, private_dir: bool, group_access: bool) -> io::Result<Listener> {
    if let Some(dir) = path.parent() {
        prepare_dir(dir, private_dir)?;
    }
    let lock = lock(path)?;
    if path.exists() {
        // A daemon that predates the lock file may still answer.
        if UnixStream::connect(path).await.is_ok() {
            return Err(in_use(path));
        }
        tracing::info!(path = %path.display(), "replacing a stale socket");
        std::fs::remove_file(path)?;
    }
    let socket = UnixListener::bind(path)?;
    let mode = if group_access { 0o660 } else { 0o600 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(Listener {
        socket,
        _lock: Some(lock),
    })
}

/// Takes `<path>.lock` without waiting: held by someone else means a live daemon.
fn lock(path: &Path) -> io::Result<Flock<File>> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(name)?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(lock),
        Err((_, Errno::EWOULDBLOCK)) => Err(in_use(path)),
        Err((_, errno)) => Err(errno.into()),
    }
}

fn in_use(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::AddrInUse,
        format!(
            "another oauth-agent daemon is already serving {}",
            path.display()
        ),
    )
}

fn prepare_dir(dir: &Path, private: bool) -> io::Result<()> {
    if !dir.exists() {
        let mut builder = std::fs::DirBuilder::new();
        std::os::unix::fs::DirBuilderExt::mode(builder.recursive(true), 0o700);
        builder.create(dir)?;
    }
    if !private {
        return Ok(());
    }
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::metadata(dir)?;
    let me = nix::unistd::getuid().as_raw();
    if meta.uid() != me || meta.mode() & 0o077 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "the socket directory {} must belong to you and have mode 0700 (it has owner {} \
                 and mode {:o}); remove it and start the daemon again",
                dir.display(),
                meta.uid(),
                meta.mode() & 0o777
            ),
        ));
    }
    Ok(())
}

/// Serves `app` on `listener`, with each request carrying the caller's [`Peer`]; the socket's
/// lock is held until this returns.
pub async fn serve(
    listener: Listener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let Listener { socket, _lock } = listener;
    oauth_serve::serve(socket, app, |io, _| Peer::of(io), shutdown).await;
    Ok(())
}

/// Whether user `uid` is allowed: the daemon's own user, a listed uid, or a member of a listed
/// group (primary or supplementary).
pub fn allowed(peer: Peer, allowed_uids: &[u32], allowed_gids: &[u32]) -> bool {
    let Some(uid) = peer.uid else { return false };
    if uid == nix::unistd::getuid().as_raw() || allowed_uids.contains(&uid) {
        return true;
    }
    if allowed_gids.is_empty() {
        return false;
    }
    if peer.gid.is_some_and(|gid| allowed_gids.contains(&gid)) {
        return true;
    }
    member_of_any(uid, allowed_gids)
}

fn member_of_any(uid: u32, gids: &[u32]) -> bool {
    let Ok(Some(user)) = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) else {
        return false;
    };
    let Ok(name) = std::ffi::CString::new(user.name) else {
        return false;
    };
    let groups = nix::unistd::getgrouplist(&name, user.gid).unwrap_or_default();
    groups.iter().any(|g| gids.contains(&g.as_raw()))
}
