//! Client authentication at `/token`: each profile accepts exactly the methods it names, and
//! the request records show what the client sent.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use fake_oauth_provider::ProviderConfig;

use crate::support::{Client, Reply};

/// A refresh with an unknown token: `invalid_grant` proves the client passed authentication.
const REFRESH: [(&str, &str); 2] = [("grant_type", "refresh_token"), ("refresh_token", "nope")];

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    REFRESH.iter().chain(extra).copied().collect()
}

fn assert_refused(reply: &Reply, basic_challenge: bool) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    assert_eq!(reply.error(), "invalid_client");
    let challenge = reply.headers.get(header::WWW_AUTHENTICATE);
    assert_eq!(challenge.is_some(), basic_challenge, "{:?}", reply.headers);
    if let Some(challenge) = challenge {
        assert_eq!(challenge, "Basic realm=\"fake\"");
    }
}

#[tokio::test]
async fn basic_only_provider_refuses_the_secret_in_the_body_and_a_wrong_basic_secret() {
    let client = Client::new(ProviderConfig::dropbox());
    let body = with(&[
        ("client_id", "dropbox-client"),
        ("client_secret", "dropbox-secret"),
    ]);
    assert_refused(&client.post("/token", &body, None).await, false);
    let wrong = Some(("dropbox-client", "wrong"));
    assert_refused(&client.post("/token", &REFRESH, wrong).await, true);

    let right = Some(("dropbox-client", "dropbox-secret"));
    assert_eq!(
        client.post("/token", &REFRESH, right).await.error(),
        "invalid_grant"
    );
    let record = client.provider.token_requests().pop().unwrap();
    assert_eq!(
        record.basic_auth,
        Some(("dropbox-client".into(), "dropbox-secret".into()))
    );
    assert_eq!(record.grant_type, "refresh_token");
    assert_eq!(
        record.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
}

#[tokio::test]
async fn post_only_provider_refuses_basic_and_a_missing_secret() {
    let client = Client::new(ProviderConfig::box_com());
    let basic = Some(("box-client", "box-secret"));
    assert_refused(&client.post("/token", &REFRESH, basic).await, true);
    let no_secret = with(&[("client_id", "box-client")]);
    assert_refused(&client.post("/token", &no_secret, None).await, false);

    let body = with(&[("client_id", "box-client"), ("client_secret", "box-secret")]);
    assert_eq!(
        client.post("/token", &body, None).await.error(),
        "invalid_grant"
    );
}

#[tokio::test]
async fn any_provider_takes_either_method_but_not_both() {
    let client = Client::new(ProviderConfig::demo());
    let basic = Some(("demo-client", "demo-secret"));
    let body = with(&[
        ("client_id", "demo-client"),
        ("client_secret", "demo-secret"),
    ]);
    assert_eq!(
        client.post("/token", &REFRESH, basic).await.error(),
        "invalid_grant"
    );
    assert_eq!(
        client.post("/token", &body, None).await.error(),
        "invalid_grant"
    );
    assert_refused(&client.post("/token", &body, basic).await, true);
}

#[tokio::test]
async fn public_client_sends_its_id_and_no_secret() {
    let client = Client::new(ProviderConfig::jottacloud());
    let public = with(&[("client_id", "jottacloud-client")]);
    assert_eq!(
        client.post("/token", &public, None).await.error(),
        "invalid_grant"
    );
    let secret = with(&[("client_id", "jottacloud-client"), ("client_secret", "x")]);
    assert_refused(&client.post("/token", &secret, None).await, false);
    assert_refused(&client.post("/token", &REFRESH, None).await, false);
}

#[tokio::test]
async fn token_requests_must_be_form_encoded() {
    let client = Client::new(ProviderConfig::demo());
    let request = Request::post("/token")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"grant_type":"refresh_token"}"#))
        .unwrap();
    let reply = client.send(request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error(), "invalid_request");
    assert_eq!(
        client.provider.token_requests().len(),
        1,
        "recorded all the same"
    );
}
