//! The fake provider driven in-process through its router, as the broker would drive it over
//! HTTP: sign-in, code exchange, refresh, revocation, client authentication and test controls.
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

mod client_auth;
mod code_flow;
mod controls;
mod refresh;
mod support;
