//! Test controls and observations: the fault queue, delays, the provider clock, revocation,
//! the whoami resource server, and serving on a real socket.

use std::time::Duration;

use axum::http::StatusCode;
use fake_oauth_provider::{FakeProvider, Fault, Gate, ProviderConfig};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use crate::support::{text, Client};

#[tokio::test(start_paused = true)]
async fn queued_faults_answer_one_token_request_each_in_order() {
    let client = Client::new(ProviderConfig::demo());
    let refresh_token = text(&client.tokens(&[]).await, "refresh_token");
    client.provider.inject(Fault::Status(503));
    client.provider.inject(Fault::InvalidGrant);
    client.provider.inject(Fault::MalformedJson);
    client.provider.inject(Fault::RateLimited {
        retry_after_secs: 7,
    });
    client
        .provider
        .inject(Fault::Delay(Duration::from_secs(30)));

    let unavailable = client.refresh(&refresh_token).await;
    assert_eq!(unavailable.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(unavailable.error(), "server_error");
    assert_eq!(
        client.refresh(&refresh_token).await.error(),
        "invalid_grant"
    );
    let malformed = client.refresh(&refresh_token).await;
    assert_eq!(
        (malformed.status, malformed.body.as_str()),
        (StatusCode::OK, "{\"access_token\": ")
    );
    let limited = client.refresh(&refresh_token).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers["retry-after"], "7");
    assert_eq!(limited.error(), "temporarily_unavailable");

    let start = Instant::now();
    let delayed = client.refresh(&refresh_token).await;
    assert_eq!(
        delayed.status,
        StatusCode::OK,
        "a delay fault then handles the request"
    );
    assert!(start.elapsed() >= Duration::from_secs(30));
    assert_eq!(client.provider.refresh_count(), 5);
}

#[tokio::test]
async fn reply_faults_cut_off_or_rewrite_the_normal_reply() {
    let client = Client::new(ProviderConfig::demo());
    let refresh_token = text(&client.tokens(&[]).await, "refresh_token");

    client.provider.inject(Fault::Disconnect);
    assert!(client.refresh(&refresh_token).await.cut_off);
    client.provider.inject(Fault::ExpiresIn(None));
    let reply = client.refresh(&refresh_token).await;
    assert_eq!(reply.status, StatusCode::OK, "a disconnect changes nothing");
    assert!(reply.json().get("expires_in").is_none());
    let refresh_token = text(&reply.json(), "refresh_token");

    client
        .provider
        .inject(Fault::ExpiresIn(Some(json!("3599"))));
    let reply = client.refresh(&refresh_token).await;
    assert_eq!(reply.json()["expires_in"], "3599");
    let refresh_token = text(&reply.json(), "refresh_token");

    client.provider.inject(Fault::LoseReply);
    assert!(client.refresh(&refresh_token).await.cut_off);
    assert_eq!(
        client.refresh(&refresh_token).await.error(),
        "invalid_grant",
        "the lost reply rotated the refresh token away"
    );
    assert_eq!(client.provider.refresh_count(), 5);
}

#[tokio::test(start_paused = true)]
async fn hold_waits_until_the_gate_opens() {
    let client = Client::new(ProviderConfig::demo());
    let refresh_token = text(&client.tokens(&[]).await, "refresh_token");
    let gate = Gate::new();
    client.provider.inject(Fault::Hold(gate.clone()));

    let held = client.refresh(&refresh_token);
    tokio::pin!(held);
    let waited = tokio::time::timeout(Duration::from_secs(3600), &mut held).await;
    assert!(waited.is_err(), "held while the gate is closed");
    assert_eq!(client.provider.refresh_count(), 1, "but recorded");
    gate.open();
    assert_eq!(held.await.status, StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn set_delay_slows_every_token_response() {
    let client = Client::new(ProviderConfig::demo());
    client.provider.set_delay(Duration::from_secs(2));
    let start = Instant::now();
    client.tokens(&[]).await;
    assert!(start.elapsed() >= Duration::from_secs(2));
}

#[tokio::test]
async fn whoami_accepts_an_access_token_until_it_expires_by_the_provider_clock() {
    let client = Client::new(ProviderConfig::demo());
    client
        .provider
        .set_access_token_lifetime(Duration::from_secs(60));
    let tokens = client.tokens(&[]).await;
    assert_eq!(tokens["expires_in"], 60);
    let access_token = text(&tokens, "access_token");

    let whoami = client.get("/api/whoami", Some(&access_token)).await;
    assert_eq!(whoami.status, StatusCode::OK);
    assert_eq!(whoami.json()["user"], "alice");
    assert_eq!(whoami.json()["scope"], "files.read files.write");

    client.provider.advance_clock(Duration::from_secs(60));
    let expired = client.get("/api/whoami", Some(&access_token)).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired.error(), "invalid_token");
    assert!(!client.provider.is_access_token_valid(&access_token));
    assert_eq!(
        client.get("/api/whoami", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn revoking_an_access_token_leaves_the_grant_and_a_refresh_token_takes_it_all() {
    let client = Client::new(ProviderConfig::demo());
    let tokens = client.tokens(&[]).await;
    let (access_token, refresh_token) = (
        text(&tokens, "access_token"),
        text(&tokens, "refresh_token"),
    );

    let form = [
        ("token", access_token.as_str()),
        ("token_type_hint", "access_token"),
    ];
    assert_eq!(
        client.post_as_client("/revoke", &form).await.status,
        StatusCode::OK
    );
    assert!(!client.provider.is_access_token_valid(&access_token));
    let renewed = text(&client.refresh(&refresh_token).await.json(), "access_token");

    let reply = client
        .post_as_client("/revoke", &[("token", refresh_token.as_str())])
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!client.provider.is_access_token_valid(&renewed));
    assert_eq!(client.provider.live_grants(), 0);

    let unknown = client
        .post_as_client("/revoke", &[("token", "unknown")])
        .await;
    assert_eq!(unknown.status, StatusCode::OK, "RFC 7009 section 2.2");
    let revocations = client.provider.revocations();
    assert_eq!(revocations.len(), 3);
    assert_eq!(revocations[0].token, access_token);
    assert_eq!(
        revocations[0].token_type_hint.as_deref(),
        Some("access_token")
    );
    assert_eq!(revocations[0].form["client_id"], "demo-client");
}

#[tokio::test]
async fn revoke_all_grants_makes_every_refresh_fail() {
    let client = Client::new(ProviderConfig::demo());
    let first = text(&client.tokens(&[]).await, "refresh_token");
    let second = text(&client.tokens(&[]).await, "refresh_token");
    assert_eq!(client.provider.live_grants(), 2);
    client.provider.revoke_all_grants();
    assert_eq!(client.provider.live_grants(), 0);
    for refresh_token in [first, second] {
        assert_eq!(
            client.refresh(&refresh_token).await.error(),
            "invalid_grant"
        );
    }
}

#[tokio::test]
async fn spawned_provider_serves_on_loopback_until_shut_down() {
    let running = FakeProvider::spawn(ProviderConfig::demo()).await;
    assert!(running.base_url.starts_with("http://127.0.0.1:"));
    assert!(!running.base_url.ends_with('/'));

    let address = running.base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = "GET /api/whoami HTTP/1.1\r\nHost: fake\r\nConnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");

    running.shutdown().await.unwrap();
}
