//! Windows named pipes: creating a pipe only its owner can open, accepting clients on it, and
//! connecting to a daemon's pipe.
//!
//! The default pipe is `\\.\pipe\oauth-agent-<user>`. Every instance is created with a protected
//! DACL that admits the pipe's owner alone, and remote clients are rejected, so the pipe's ACL
//! is the access check: unlike a Unix socket, a connection carries no uid for the daemon to
//! look at. `allowed_uids` and `allowed_gids` are Unix ideas and have no effect here.

use axum::serve::Listener;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::windows::named_pipe::{
    ClientOptions, NamedPipeClient, NamedPipeServer, ServerOptions,
};
use windows_sys::Win32::Foundation::{ERROR_ACCESS_DENIED, ERROR_PIPE_BUSY};

/// How long a client keeps retrying a pipe whose instances are all busy.
const BUSY_DEADLINE: Duration = Duration::from_secs(2);

/// The prefix every local named pipe path has.
const PIPE_PREFIX: &str = r"\\.\pipe\";

/// The pipe's security descriptor: a protected DACL (`D:P`, so nothing is inherited) whose one
/// ACE grants GENERIC_ALL to Owner Rights (`OW`), i.e. to whoever owns the pipe. The system
/// refuses everyone else before a connection exists, where the default pipe DACL would let
/// Everyone and anonymous logons read.
///
/// The owner is the daemon's user. For a daemon run elevated, Windows makes the Administrators
/// group the owner, which also admits elevated administrator processes; those could read the
/// daemon's memory anyway.
const PIPE_SDDL: &str = "D:P(A;;GA;;;OW)";

/// Who is on the other end of a connection. A named pipe tells the daemon nothing worth
/// checking: its DACL already admitted only the daemon's user (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer;

impl Peer {
    /// The peer of a pipe connection: nothing to learn.
    pub fn of(_pipe: &NamedPipeServer) -> Self {
        Self
    }
}

/// A bound pipe: always one instance waiting for the next client.
#[derive(Debug)]
pub struct PipeListener {
    /// The pipe's path, `\\.\pipe\...`.
    path: PathBuf,
    /// The instance clients connect to next; replaced by a fresh one on every accept.
    next: NamedPipeServer,
}

impl Listener for PipeListener {
    type Io = NamedPipeServer;
    type Addr = PathBuf;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let connected = self.next.connect().await;
            // The next instance exists before this one is handed over, so a client arriving
            // meanwhile finds one to connect to rather than ERROR_PIPE_BUSY.
            let fresh = match create_instance(&self.path, false) {
                Ok(fresh) => fresh,
                Err(error) => {
                    tracing::error!(%error, "cannot create another pipe instance; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let pipe = std::mem::replace(&mut self.next, fresh);
            match connected {
                Ok(()) => return (pipe, self.path.clone()),
                Err(error) => tracing::debug!(%error, "a pipe client left before it was served"),
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.path.clone())
    }
}

/// Connects to a daemon's pipe, retrying briefly while all its instances are busy.
pub async fn connect(path: &Path) -> io::Result<NamedPipeClient> {
    let deadline = tokio::time::Instant::now() + BUSY_DEADLINE;
    loop {
        match ClientOptions::new().open(path) {
            Err(error) if is_busy(&error) && tokio::time::Instant::now() < deadline => {}
            other => return other,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn is_busy(error: &io::Error) -> bool {
    error.raw_os_error() == Some(ERROR_PIPE_BUSY as i32)
}

/// Creates the pipe at `path`. Its first instance must be new: a pipe of that name that
/// already exists means another daemon serves it, which is an error. `private_dir` has no
/// meaning for a pipe, and `group_access` none either: the pipe admits only its owner.
pub async fn bind(path: &Path, _private_dir: bool, group_access: bool) -> io::Result<PipeListener> {
    if !path.to_string_lossy().starts_with(PIPE_PREFIX) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} is not a named pipe; on Windows give --socket as {PIPE_PREFIX}NAME",
                path.display()
            ),
        ));
    }
    if group_access {
        tracing::warn!("allowed_gids has no effect on Windows: the pipe admits only its owner");
    }
    let first = create_instance(path, true).map_err(|error| in_use(path, error))?;
    Ok(PipeListener {
        path: path.to_owned(),
        next: first,
    })
}

/// A first instance is refused with ERROR_ACCESS_DENIED when the pipe already exists.
fn in_use(path: &Path, error: io::Error) -> io::Error {
    if error.raw_os_error() != Some(ERROR_ACCESS_DENIED as i32) {
        return error;
    }
    io::Error::new(
        io::ErrorKind::AddrInUse,
        format!(
            "another oauth-agent daemon is already serving {} (or another program holds that \
             pipe name); stop it, or pick another pipe with --socket",
            path.display()
        ),
    )
}

/// Serves `app` on `listener`, with each request carrying a [`Peer`], until `shutdown`
/// completes; then waits for the open connections to finish.
pub async fn serve(
    listener: PipeListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    oauth_serve::serve(listener, app, |pipe, _| Peer::of(pipe), shutdown).await;
    Ok(())
}

/// Always true: the pipe's DACL admitted only the daemon's user and remote clients are
/// rejected, so whoever got a connection is allowed. The uid and gid lists are Unix-only.
pub fn allowed(_peer: Peer, _allowed_uids: &[u32], _allowed_gids: &[u32]) -> bool {
    true
}

fn create_instance(path: &Path, first: bool) -> io::Result<NamedPipeServer> {
    let mut options = ServerOptions::new();
    options
        .first_pipe_instance(first)
        .reject_remote_clients(true);
    create_owner_only(&options, path)
}

/// Creates one instance of the pipe at `path` with [`PIPE_SDDL`] as its security descriptor.
///
/// All of the transport's `unsafe` is here: the system converts the SDDL into a descriptor in
/// memory it allocates, tokio hands that to `CreateNamedPipeW`, and it is freed again.
#[allow(unsafe_code)]
fn create_owner_only(options: &ServerOptions, path: &Path) -> io::Result<NamedPipeServer> {
    use windows_sys::Win32::Foundation::LocalFree;
    use windows_sys::Win32::Security::Authorization::{
        ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1,
    };
    use windows_sys::Win32::Security::{PSECURITY_DESCRIPTOR, SECURITY_ATTRIBUTES};

    let sddl: Vec<u16> = PIPE_SDDL.encode_utf16().chain([0]).collect();
    let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
    // SAFETY: `sddl` is NUL-terminated UTF-16 and `descriptor` a valid place for the result;
    // the size output is optional.
    let converted = unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(
            sddl.as_ptr(),
            SDDL_REVISION_1,
            &mut descriptor,
            std::ptr::null_mut(),
        )
    };
    if converted == 0 {
        return Err(io::Error::last_os_error());
    }

    let mut attributes = SECURITY_ATTRIBUTES {
        nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
        lpSecurityDescriptor: descriptor,
        bInheritHandle: 0,
    };
    // SAFETY: `attributes` is a valid SECURITY_ATTRIBUTES whose descriptor lives until the
    // LocalFree below, after the call returns.
    let created = unsafe {
        options
            .create_with_security_attributes_raw(path, std::ptr::from_mut(&mut attributes).cast())
    };
    // SAFETY: the system allocated `descriptor` with LocalAlloc above, and nothing uses it now.
    unsafe { LocalFree(descriptor) };
    created
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::ConnectInfo;
    use axum::routing::get;

    fn pipe(test: &str) -> PathBuf {
        PathBuf::from(format!(
            r"{PIPE_PREFIX}oauth-agent-test-{}-{test}",
            std::process::id()
        ))
    }

    #[tokio::test]
    async fn a_second_daemon_on_the_same_pipe_is_refused() {
        let path = pipe("second");
        let _first = bind(&path, true, false).await.unwrap();

        let error = bind(&path, true, false).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
        assert!(error.to_string().contains("already serving"), "{error}");
    }

    #[tokio::test]
    async fn a_path_that_is_not_a_pipe_is_refused() {
        let error = bind(Path::new(r"C:\agent.sock"), true, false)
            .await
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    }

    #[tokio::test]
    async fn requests_over_the_pipe_carry_a_peer_and_shutdown_ends_serving() {
        let path = pipe("serve");
        let listener = bind(&path, true, false).await.unwrap();
        let app = axum::Router::new().route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<Peer>| async move { format!("{peer:?}") }),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, app, async move {
            let _ = stopped.await;
        }));

        for _ in 0..3 {
            let reply = crate::local::request(&path, "GET", "/peer").await.unwrap();
            assert_eq!((reply.status, &reply.body[..]), (200, &b"Peer"[..]));
        }
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
    }
}
