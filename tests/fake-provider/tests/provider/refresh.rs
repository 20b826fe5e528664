//! Refresh with each rotation mode, reuse detection, and the Google and Dropbox quirks about
//! when a refresh token is issued and what a refresh request may carry.

use axum::http::StatusCode;
use fake_oauth_provider::ProviderConfig;
use serde_json::Value;

use crate::support::{text, Client, REDIRECT_URI};

async fn refreshed(client: &Client, refresh_token: &str) -> Value {
    let reply = client.refresh(refresh_token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.headers["cache-control"], "no-store");
    reply.json()
}

#[tokio::test]
async fn rotation_always_invalidates_the_old_refresh_token_but_keeps_the_grant() {
    let client = Client::new(ProviderConfig::demo());
    let old = text(&client.tokens(&[]).await, "refresh_token");
    let new = text(&refreshed(&client, &old).await, "refresh_token");
    assert_ne!(old, new);

    assert_eq!(client.refresh(&old).await.error(), "invalid_grant");
    assert_eq!(client.provider.live_grants(), 1);
    refreshed(&client, &new).await;
    assert_eq!(
        client.provider.refresh_count(),
        3,
        "failed refreshes count too"
    );
}

#[tokio::test]
async fn microsoft_keeps_rotated_away_refresh_tokens_working() {
    let client = Client::new(ProviderConfig::microsoft());
    let old = text(&client.tokens(&[]).await, "refresh_token");
    let new = text(&refreshed(&client, &old).await, "refresh_token");
    assert_ne!(old, new);
    refreshed(&client, &old).await;
    refreshed(&client, &new).await;
}

#[tokio::test]
async fn reuse_of_a_rotated_away_refresh_token_revokes_the_whole_grant() {
    let client = Client::new(ProviderConfig::box_com());
    let tokens = client.tokens(&[]).await;
    let old = text(&tokens, "refresh_token");
    let current = refreshed(&client, &old).await;

    assert_eq!(client.refresh(&old).await.error(), "invalid_grant");
    assert_eq!(
        client
            .refresh(&text(&current, "refresh_token"))
            .await
            .error(),
        "invalid_grant"
    );
    assert!(!client
        .provider
        .is_access_token_valid(&text(&current, "access_token")));
    assert_eq!(client.provider.live_grants(), 0);
}

#[tokio::test]
async fn google_issues_a_refresh_token_only_for_offline_access_and_never_rotates_it() {
    let client = Client::new(ProviderConfig::google());
    let online = client.tokens(&[]).await;
    assert!(online.get("refresh_token").is_none(), "{online}");

    let offline = client.tokens(&[("access_type", "offline")]).await;
    let refresh_token = text(&offline, "refresh_token");
    for _ in 0..2 {
        let reply = refreshed(&client, &refresh_token).await;
        assert!(reply.get("refresh_token").is_none(), "{reply}");
    }
}

#[tokio::test]
async fn dropbox_refuses_redirect_uri_on_refresh() {
    let client = Client::new(ProviderConfig::dropbox());
    assert!(client.tokens(&[]).await.get("refresh_token").is_none());
    let tokens = client.tokens(&[("token_access_type", "offline")]).await;
    let refresh_token = text(&tokens, "refresh_token");
    assert_eq!(tokens["expires_in"], 14_400);

    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.as_str()),
        ("redirect_uri", REDIRECT_URI),
    ];
    let reply = client.post_as_client("/token", &form).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error(), "invalid_request");
    assert_eq!(
        reply.json()["error_description"],
        "redirect_uri is not allowed on refresh"
    );
    refreshed(&client, &refresh_token).await;
}

#[tokio::test]
async fn refresh_may_narrow_but_not_widen_the_scope() {
    let client = Client::new(ProviderConfig::demo());
    let refresh_token = text(&client.tokens(&[]).await, "refresh_token");
    let refresh_token = refresh_token.as_str();
    let form = |scope| {
        [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("scope", scope),
        ]
    };

    let wider = client
        .post_as_client("/token", &form("files.read admin"))
        .await;
    assert_eq!(wider.error(), "invalid_scope");
    let narrower = client.post_as_client("/token", &form("files.read")).await;
    assert_eq!(narrower.json()["scope"], "files.read");
}
