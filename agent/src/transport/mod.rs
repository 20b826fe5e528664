//! The local transport: a Unix socket on Unix, a named pipe on Windows. The daemon serves
//! HTTP/1.1 on it, so `curl --unix-socket` and any HTTP client can ask for tokens.

#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;

#[cfg(unix)]
pub use unix::{allowed, bind, connect, serve, Listener, Peer};
#[cfg(windows)]
pub use windows::{allowed, bind, connect, serve, Peer, PipeListener as Listener};
