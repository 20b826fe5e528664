//! A small but real OAuth 2.0 provider (authorization code with PKCE, refresh tokens, revocation)
//! that keeps everything in memory.
//!
//! End-to-end tests start it with [`FakeProvider::spawn`] on `127.0.0.1:0` and drive it; the
//! broker's `dev` command nests [`FakeProvider::router`] under a prefix of its own app and labels
//! it a demo. Profiles such as [`ProviderConfig::google`] copy the quirks of real providers that a
//! broker must cope with: how the client authenticates, whether refresh tokens rotate, and when a
//! refresh token is issued at all.
//!
//! Test controls ([`FakeProvider::inject`], [`FakeProvider::advance_clock`], ...) change how the
//! provider behaves, and observations ([`FakeProvider::token_requests`], ...) report what it saw.

mod authorize;
mod client_auth;
mod config;
mod consent;
mod error;
mod exchange;
mod fault;
mod form;
mod provider;
mod records;
mod refresh;
mod revoke;
mod secret;
mod server;
mod store;
mod token;
mod whoami;

pub use config::{ClientAuth, ProviderConfig, Rotation};
pub use fault::{Fault, Gate};
pub use provider::FakeProvider;
pub use records::{RevocationRecord, TokenRequestRecord};
pub use server::RunningProvider;
