//! Several broker replicas on one PostgreSQL database: they share sign-ins and grants, and never
//! refresh one grant twice, even at a provider that revokes the whole grant when a refresh token
//! is used again. Needs PostgreSQL (127.0.0.1:5432 or `OAUTH_TEST_POSTGRES_URL`); without it
//! these tests print one SKIP line, or fail when `OAUTH_TEST_REQUIRE_SERVICES=1`.
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

use oauth_e2e::fake::Rotation;
use oauth_e2e::{postgres_or_skip, BrokerBuilder, Browser, ProcessReplica};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn two_replica_processes_refresh_a_rotating_grant_once_per_round() {
    if !postgres_or_skip("replicas").await {
        return;
    }
    let broker = BrokerBuilder::new()
        .postgres()
        .fake(|fake| fake.rotation = Rotation::AlwaysRevokeOnReuse)
        .start()
        .await;
    let binary = env!("CARGO_BIN_EXE_test-replica");
    let mut other = tokio::task::block_in_place(|| ProcessReplica::spawn(binary, &broker, 0));
    let authid = broker.sign_in().await;
    broker.fake().set_delay(Duration::from_millis(100));

    for round in 1..=5 {
        broker.expire_cached_tokens();
        tokio::task::block_in_place(|| other.advance(2 * 86_400));
        let requests = (0..100).map(|i| {
            let base = if i % 2 == 0 {
                broker.url.clone()
            } else {
                other.url.clone()
            };
            let request = broker
                .http
                .post(format!("{base}/v1/token"))
                .bearer_auth(&authid);
            async move { request.send().await.unwrap() }
        });
        let responses = futures::future::join_all(requests).await;
        for response in responses {
            let status = response.status();
            assert_eq!(
                status,
                200,
                "round {round}: {}",
                response.text().await.unwrap()
            );
        }
        assert_eq!(
            broker.fake().refresh_count(),
            round,
            "one refresh per round"
        );
    }
    assert_eq!(
        broker.fake().live_grants(),
        1,
        "no refresh token was ever used twice"
    );
    drop(other);
    broker.stop().await;
}

#[tokio::test]
async fn sign_in_started_on_one_replica_finishes_on_the_other() {
    if !postgres_or_skip("replicas").await {
        return;
    }
    let broker = BrokerBuilder::new().postgres().start().await;
    let other = broker.start_replica().await;
    let browser = Browser::new();

    let authorize = browser.start(&broker.url("/login/demo")).await;
    let callback = browser.consent(&authorize, "allow").await;
    let on_other = callback.as_str().replacen(&broker.url, &other.url, 1);
    assert_ne!(on_other, callback.as_str());
    let page = browser.open(&on_other).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let authid = page.authid().unwrap();

    let token = broker
        .http
        .post(format!("{}/v1/token", other.url))
        .bearer_auth(&authid);
    assert_eq!(token.send().await.unwrap().status(), 200);
    broker.access_token(&authid).await;
    other.stop().await;
    broker.stop().await;
}

#[tokio::test]
async fn a_replica_that_refreshed_and_went_quiet_holds_no_lock() {
    if !postgres_or_skip("replicas").await {
        return;
    }
    let broker = BrokerBuilder::new().postgres().start().await;
    let other = broker.start_replica().await;
    let authid = broker.sign_in().await;

    broker.expire_cached_tokens();
    broker.access_token(&authid).await; // refreshed on the first replica, which then idles
    broker.expire_cached_tokens();
    let request = broker
        .http
        .post(format!("{}/v1/token", other.url))
        .bearer_auth(&authid);
    let response = tokio::time::timeout(Duration::from_secs(10), request.send())
        .await
        .expect("the second replica must not wait for the idle one")
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(broker.fake().refresh_count(), 2);
    other.stop().await;
    broker.stop().await;
}

#[tokio::test]
async fn rate_limits_are_shared_by_the_replicas() {
    if !postgres_or_skip("replicas").await {
        return;
    }
    let broker = BrokerBuilder::new()
        .postgres()
        .config(|raw| {
            raw.limits.refreshes_per_hour = Some(2);
            raw.limits.failed_lookups_per_minute = Some(3);
        })
        .start()
        .await;
    let other = broker.start_replica().await;
    let authid = broker.sign_in().await;
    let token_at = |base: &str, authid: &str| {
        let request = broker
            .http
            .post(format!("{base}/v1/token"))
            .bearer_auth(authid);
        async move { request.send().await.unwrap().status().as_u16() }
    };

    // Refreshes: one on each replica uses up the grant's quota of two.
    broker.expire_cached_tokens();
    assert_eq!(token_at(&broker.url, &authid).await, 200);
    broker.expire_cached_tokens();
    assert_eq!(token_at(&other.url, &authid).await, 200);
    broker.expire_cached_tokens();
    assert_eq!(token_at(&broker.url, &authid).await, 429);

    // Failed look-ups on one replica block the address on the other, which saw none itself.
    let garbage = "A".repeat(64);
    for _ in 0..4 {
        token_at(&broker.url, &garbage).await;
    }
    assert_eq!(token_at(&broker.url, &garbage).await, 429);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    // A valid, cached authid: the other replica answers it until it learns of the block.
    let fresh = broker.sign_in().await;
    while token_at(&other.url, &fresh).await != 429 {
        assert!(
            std::time::Instant::now() < deadline,
            "the other replica never learned the block"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    other.stop().await;
    broker.stop().await;
}

/// A refresh on PostgreSQL holds a connection for its advisory lock and needs a second one for
/// its reads and writes. With as many grants refreshing at once as the pool has connections,
/// each used to hold one and wait for another until the pool timed out (found by the load
/// suite, docs/load.md); the broker now lets refreshes hold at most half the pool.
#[tokio::test(flavor = "multi_thread")]
async fn many_grants_refreshing_at_once_do_not_exhaust_a_small_pool() {
    if !postgres_or_skip("replicas").await {
        return;
    }
    let broker = BrokerBuilder::new()
        .postgres()
        .config(|raw| raw.database_max_connections = Some(2))
        .start()
        .await;
    let mut authids = Vec::new();
    for _ in 0..6 {
        authids.push(broker.sign_in().await);
    }
    broker.fake().set_delay(Duration::from_millis(200));
    broker.expire_cached_tokens();

    let requests = authids.iter().map(|authid| broker.token(authid, None));
    let statuses: Vec<u16> = futures::future::join_all(requests)
        .await
        .iter()
        .map(|response| response.status().as_u16())
        .collect();

    assert_eq!(statuses, vec![200; 6]);
    assert_eq!(broker.fake().refresh_count(), 6);
}
