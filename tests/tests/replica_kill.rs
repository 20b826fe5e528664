//! A replica killed (SIGKILL) while its refresh waits on the provider leaves no lock behind:
//! PostgreSQL ends the dead replica's transaction, and with it the grant's advisory lock, so
//! another replica serves the next request at once. Needs PostgreSQL (see `replicas.rs`).
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

use oauth_e2e::fake::Rotation;
use oauth_e2e::{postgres_or_skip, BrokerBuilder, ProcessReplica};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn killing_a_replica_mid_refresh_does_not_lock_the_grant() {
    if !postgres_or_skip("replica_kill").await {
        return;
    }
    // Without rotation, the refresh the dead replica started cannot spoil the grant: this test is
    // about the lock. The rotation window is described in docs/scaling.md.
    let broker = BrokerBuilder::new()
        .postgres()
        .fake(|fake| fake.rotation = Rotation::Never)
        .start()
        .await;
    let authid = broker.sign_in().await;
    broker.expire_cached_tokens();
    broker.fake().set_delay(Duration::from_secs(120));

    let binary = env!("CARGO_BIN_EXE_test-replica");
    let mut child =
        tokio::task::block_in_place(|| ProcessReplica::spawn(binary, &broker, 2 * 86_400));
    let child_url = child.url.clone();

    // The doomed replica takes the grant's lock and waits on the slow provider.
    let doomed = broker
        .http
        .post(format!("{child_url}/v1/token"))
        .bearer_auth(&authid)
        .send();
    let doomed = tokio::spawn(doomed);
    let deadline = Instant::now() + Duration::from_secs(20);
    while broker.fake().refresh_count() == 0 {
        assert!(
            Instant::now() < deadline,
            "the replica never reached the provider"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::task::block_in_place(|| child.kill());
    assert!(
        doomed.await.unwrap().is_err(),
        "the killed replica answered nothing"
    );

    broker.fake().set_delay(Duration::ZERO);
    let started = Instant::now();
    let request = broker
        .http
        .post(broker.url("/v1/token"))
        .bearer_auth(&authid)
        .send();
    let response = tokio::time::timeout(Duration::from_secs(15), request)
        .await
        .expect("the surviving replica must not wait for the dead one's lock")
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(broker.fake().refresh_count(), 2);
    eprintln!(
        "surviving replica answered {:?} after the kill",
        started.elapsed()
    );
    broker.stop().await;
}
