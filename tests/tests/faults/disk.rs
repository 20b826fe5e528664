//! A full disk under SQLite, without root: a broker replica in a process of its own (the
//! `test-replica` binary) on the test broker's database file gets a file-size limit
//! (RLIMIT_FSIZE) of zero, so that every write to its database fails as on a full disk, then
//! the limit is lifted, as when space returns.

use crate::support::{token_request, Tally};
use oauth_e2e::{BrokerBuilder, ProcessReplica};
use tokio::task::block_in_place;

#[tokio::test(flavor = "multi_thread")]
async fn full_disk_keeps_the_rotated_refresh_token_until_space_returns() {
    let broker = BrokerBuilder::new().sqlite().start().await;
    let authid = broker.sign_in().await;
    let binary = env!("CARGO_BIN_EXE_test-replica");
    let mut replica = block_in_place(|| ProcessReplica::spawn(binary, &broker, 0));
    let replica_url = replica.url.clone();
    let token = || token_request(&broker, &replica_url, &authid);
    let mut tally = Tally::new("sqlite_disk_full", &broker);

    block_in_place(|| replica.limit_file_size(Some(0)));
    tally.inject();
    // Cached tokens need no write.
    tally.ok(token().await).await;
    // Starting a sign-in needs one.
    let login = broker
        .http
        .post(format!("{replica_url}/v1/logins"))
        .json(&serde_json::json!({ "provider": "demo" }))
        .send()
        .await
        .unwrap();
    tally.fault(login, 503, "server_error").await;
    // A refresh rotates the refresh token at the provider and cannot store it; the next
    // request does not refresh again with the rotated-away token.
    block_in_place(|| replica.advance(2 * 86_400));
    tally.fault(token().await, 503, "server_error").await;
    tally.fault(token().await, 503, "server_error").await;
    assert_eq!(broker.fake().refresh_count(), 1);

    block_in_place(|| replica.limit_file_size(None));
    tally.ok(token().await).await;
    assert_eq!(
        broker.fake().refresh_count(),
        1,
        "the kept record is written and its token served, without a second refresh"
    );
    // The rotated refresh token is in the database: this broker refreshes with it.
    tally.grant_works(&broker, &authid).await;
    tally.report();
    broker.stop().await;
}
