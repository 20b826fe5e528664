//! The OAuth agent: signs in once per account through a broker, keeps the authid in the OS
//! keyring (or a private file), and serves fresh access tokens to local programs over a Unix
//! socket or named pipe, refreshing them before they expire. Programs never see the authid.
//!
//! `main.rs` parses the command line; the commands live in [`commands`], the daemon in
//! [`daemon`], and tests run a daemon in-process with [`daemon::run`]'s pieces.

pub mod activation;
pub mod broker;
pub mod clock;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod local;
pub mod paths;
pub mod service;
pub mod store;
pub mod transport;
