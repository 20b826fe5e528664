//! The broker's in-process cache of grant rows (`broker/src/store/cache.rs`): repeated token
//! requests are answered from memory, and a change to a grant is seen at once, by the broker
//! that made it and, on PostgreSQL, by every other replica. The PostgreSQL tests need the
//! server (127.0.0.1:5432 or `OAUTH_TEST_POSTGRES_URL`); without it they print one SKIP line,
//! or fail when `OAUTH_TEST_REQUIRE_SERVICES=1`.
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

use oauth_broker::Broker;
use oauth_e2e::{postgres_or_skip, BrokerBuilder, TestBroker, TestDatabase};
use std::time::Duration;
use tokio::time::Instant;

/// Rows served from memory so far.
fn hits(broker: &Broker) -> u64 {
    broker.metrics().grant_cache().hits.get()
}

async fn token_at(broker: &TestBroker, base: &str, authid: &str) -> reqwest::Response {
    let url = format!("{base}/v1/token");
    broker
        .http
        .post(url)
        .bearer_auth(authid)
        .send()
        .await
        .unwrap()
}

/// Polls `base` until it refuses `authid` with 401, failing after `limit`.
async fn until_refused(broker: &TestBroker, base: &str, authid: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let status = token_at(broker, base, authid).await.status();
        if status == 401 {
            return;
        }
        assert_eq!(
            status, 200,
            "only the cached token or a refusal may come back"
        );
        assert!(Instant::now() < deadline, "still served after {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the broker's cache listens for other replicas' writes (PostgreSQL).
async fn until_cache_on(broker: &Broker) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !broker.store().grant_cache_enabled() {
        assert!(Instant::now() < deadline, "the grant cache never came on");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn repeated_token_requests_are_answered_from_memory() {
    let broker = BrokerBuilder::new().sqlite().start().await;
    let authid = broker.sign_in().await;

    let first = broker.access_token(&authid).await;
    let before = hits(&broker.broker);
    for _ in 0..5 {
        assert_eq!(
            broker.access_token(&authid).await["access_token"],
            first["access_token"]
        );
    }
    assert_eq!(hits(&broker.broker) - before, 5);
    assert_eq!(broker.fake().refresh_count(), 0);
    broker.stop().await;
}

#[tokio::test]
async fn a_revoked_grant_is_refused_at_once() {
    let broker = BrokerBuilder::new().sqlite().start().await;
    let authid = broker.sign_in().await;
    broker.access_token(&authid).await;
    broker.access_token(&authid).await;
    assert!(hits(&broker.broker) > 0, "the row is cached");

    let revoke = broker
        .http
        .post(broker.url("/v1/revoke"))
        .bearer_auth(&authid);
    assert_eq!(revoke.send().await.unwrap().status(), 204);
    assert_eq!(broker.token(&authid, None).await.status(), 401);
    broker.stop().await;
}

#[tokio::test]
async fn a_refreshed_token_replaces_the_cached_one_at_once() {
    let broker = BrokerBuilder::new().sqlite().start().await;
    let authid = broker.sign_in().await;
    let old = broker.access_token(&authid).await["access_token"].clone();
    broker.access_token(&authid).await;

    broker.expire_cached_tokens();
    let new = broker.access_token(&authid).await["access_token"].clone();
    assert_ne!(new, old);
    assert_eq!(broker.fake().refresh_count(), 1);
    let before = hits(&broker.broker);
    assert_eq!(broker.access_token(&authid).await["access_token"], new);
    assert_eq!(broker.access_token(&authid).await["access_token"], new);
    assert!(
        hits(&broker.broker) > before,
        "the refreshed row is cached in turn"
    );
    broker.stop().await;
}

#[tokio::test]
async fn grant_cache_mib_0_turns_the_cache_off() {
    let broker = BrokerBuilder::new()
        .sqlite()
        .config(|raw| raw.grant_cache_mib = Some(0))
        .start()
        .await;
    let authid = broker.sign_in().await;
    for _ in 0..3 {
        broker.access_token(&authid).await;
    }
    assert_eq!(hits(&broker.broker), 0);
    assert!(!broker.broker.store().grant_cache_enabled());
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_grant_revoked_on_one_replica_is_refused_by_the_other_at_once() {
    if !postgres_or_skip("grant_cache").await {
        return;
    }
    let broker = BrokerBuilder::new().postgres().start().await;
    let other = broker.start_replica().await;
    until_cache_on(&other.broker).await;
    let authid = broker.sign_in().await;
    for _ in 0..3 {
        assert_eq!(token_at(&broker, &other.url, &authid).await.status(), 200);
    }
    assert!(
        hits(&other.broker) > 0,
        "the other replica answers from memory"
    );

    let revoke = broker
        .http
        .post(broker.url("/v1/revoke"))
        .bearer_auth(&authid);
    assert_eq!(revoke.send().await.unwrap().status(), 204);
    // Well inside the cache's 60 s lifetime: the notification is what drops the row.
    until_refused(&broker, &other.url, &authid, Duration::from_secs(5)).await;
    other.stop().await;
    broker.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_grant_deleted_while_the_listener_reconnects_is_not_served() {
    if !postgres_or_skip("grant_cache").await {
        return;
    }
    let broker = BrokerBuilder::new().postgres().start().await;
    until_cache_on(&broker.broker).await;
    let authid = broker.sign_in().await;
    broker.access_token(&authid).await;
    broker.access_token(&authid).await;
    assert!(hits(&broker.broker) > 0);

    // Cuts every connection of the broker's, the listener's included, then deletes the row by
    // hand while the listener may still be reconnecting: its notification may be lost.
    let TestDatabase::Postgres { .. } = &broker.database else {
        unreachable!("the builder was asked for PostgreSQL")
    };
    broker
        .database
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await;
    broker.database.execute("DELETE FROM grants").await;

    until_refused(&broker, &broker.url, &authid, Duration::from_secs(10)).await;
    until_cache_on(&broker.broker).await;
    broker.stop().await;
}
