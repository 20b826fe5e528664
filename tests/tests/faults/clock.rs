//! The broker's clock jumps: forward (the cached token looks expired) and back (the cached
//! token looks younger than it is, or issued in the future).

use crate::support::Tally;
use oauth_e2e::TestBroker;
use serde_json::Value;

/// The demo provider's access token lifetime.
const LIFETIME: u64 = 300;

#[tokio::test]
async fn clock_jump_forward_refreshes_once() {
    let broker = TestBroker::start().await;
    let authid = broker.sign_in().await;
    let mut tally = Tally::new("clock_jumps_forward", &broker);

    broker.clock.advance(2 * 86_400);
    tally.inject();
    let requests = (0..10).map(|_| broker.token(&authid, None));
    let answers = futures::future::join_all(requests).await;
    let mut tokens = Vec::new();
    for answer in answers {
        let body = tally.ok(answer).await;
        assert_sane_lifetime(&body);
        tokens.push(body["access_token"].clone());
    }
    assert_eq!(broker.fake().refresh_count(), 1);
    assert!(tokens.windows(2).all(|pair| pair[0] == pair[1]));

    tally.grant_works(&broker, &authid).await;
    tally.report();
    broker.stop().await;
}

#[tokio::test]
async fn clock_jump_back_serves_the_cache_without_a_refresh_storm() {
    let broker = TestBroker::start().await;
    let authid = broker.sign_in().await;
    let mut tally = Tally::new("clock_jumps_back", &broker);
    let signed_in = tally.ok(broker.token(&authid, None).await).await;

    // A small step back: the cached token is still served, and promised no longer than it lives.
    broker.clock.advance(-30);
    tally.inject();
    let body = tally.ok(broker.token(&authid, None).await).await;
    assert_eq!(body["access_token"], signed_in["access_token"]);
    assert_sane_lifetime(&body);
    assert_eq!(broker.fake().refresh_count(), 0);

    // The clock ran two days ahead while a token was cached, then was set right: that token's
    // expiry was computed by the wrong clock, so it is refreshed once, and then served again.
    broker.clock.advance(2 * 86_400);
    let ahead = tally.ok(broker.token(&authid, None).await).await;
    broker.clock.advance(-2 * 86_400);
    tally.inject();
    for _ in 0..20 {
        let body = tally.ok(broker.token(&authid, None).await).await;
        assert_sane_lifetime(&body);
        assert_ne!(body["access_token"], ahead["access_token"]);
    }
    assert_eq!(broker.fake().refresh_count(), 2, "one refresh per jump");

    tally.grant_works(&broker, &authid).await;
    tally.report();
    broker.stop().await;
}

/// `expires_in` is within the token's lifetime, and `expires_at` is a time.
fn assert_sane_lifetime(body: &Value) {
    let expires_in = body["expires_in"].as_u64().unwrap();
    assert!(
        (1..=LIFETIME).contains(&expires_in),
        "expires_in {expires_in} must be within the lifetime {LIFETIME}"
    );
    let expires_at = body["expires_at"].as_str().unwrap();
    assert!(
        expires_at.ends_with('Z') && expires_at.len() == 20,
        "{expires_at}"
    );
}
