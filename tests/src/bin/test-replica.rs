//! A broker replica in a process of its own, for tests that kill one (`tests/replica_kill.rs`).
//! Its configuration and its little stdin protocol are described at
//! [`oauth_e2e::serve_replica_from_env`].

#[tokio::main]
async fn main() {
    oauth_e2e::serve_replica_from_env().await;
}
