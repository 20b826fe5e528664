//! The broker-side fault suite: a provider that is slow, fails, garbles or cuts off its replies
//! or sends odd token lifetimes; a database that goes away, locks up or fills up, also between
//! a refresh token rotation and its write; and clock jumps.
//!
//! Each test checks what the client sees (status, protocol error code, `Retry-After`, a
//! description that says what to do), that nothing stored is lost or corrupted (the grant
//! still works afterwards, and a forced refresh succeeds with the stored refresh token), and
//! that service resumes by itself once the fault ends. Each prints one line,
//! `FAULT name (database): injected=N answered=M lost=0`, the figures in docs/reliability.md;
//! a test that loses anything fails. The PostgreSQL test runs whenever PostgreSQL answers (skipping
//! with one line otherwise); the SQLite ones always use SQLite.
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

#[path = "faults/clock.rs"]
mod clock;
#[path = "faults/database.rs"]
mod database;
#[path = "faults/disk.rs"]
mod disk;
#[path = "faults/provider.rs"]
mod provider;
#[path = "faults/support.rs"]
mod support;
