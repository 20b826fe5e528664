//! Secrets never leak: a whole run at trace level leaves no authid, token, code, poll secret,
//! verifier, state or client secret in any log line or panic message, and none of them (nor the
//! provider's user id) in the SQLite file.
//!
//! This file is its own test binary so that its global log subscriber sees every line the
//! broker, the HTTP stack and the database driver write.
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

use oauth_e2e::{contains_bytes, Browser, LogCapture, TestBroker};
use serde_json::{json, Value};

const PANIC_MARKER: &str = "deliberate panic: panic messages reach the scanned logs";

#[tokio::test]
async fn no_secret_reaches_logs_or_the_database() {
    let capture = LogCapture::install();
    let broker = TestBroker::start().await;
    let mut secrets = vec!["demo-secret".to_owned()];

    let authid = broker.sign_in().await;
    let token = broker.access_token(&authid).await;
    broker.expire_cached_tokens();
    broker.access_token(&authid).await;
    broker.fake().inject(oauth_e2e::fake::Fault::Status(503));
    broker.expire_cached_tokens();
    assert_eq!(broker.token(&authid, None).await.status(), 502);
    secrets.push(authid.clone());
    secrets.push(token["access_token"].as_str().unwrap().to_owned());

    let (program_authid, poll_secret) = program_sign_in(&broker).await;
    broker.access_token(&program_authid).await;
    let mut wrong = program_authid.clone();
    wrong.replace_range(60.., "AAAA");
    assert_eq!(broker.token(&wrong, None).await.status(), 401);
    let revoked = broker
        .http
        .post(broker.url("/v1/revoke"))
        .bearer_auth(&program_authid);
    assert_eq!(revoked.send().await.unwrap().status(), 204);
    secrets.extend([program_authid, poll_secret]);

    secrets.extend(broker.fake().issued_secrets());
    for request in broker.fake().authorize_requests() {
        secrets.push(request["state"].clone());
    }
    for request in broker.fake().token_requests() {
        secrets.extend(request.form.get("code_verifier").cloned());
    }

    // Panics are logged too (LogCapture routes them through the broker's panic hook): one
    // deliberate panic shows that any panic message of the run is in the scanned lines.
    let panicked = std::thread::spawn(|| panic!("{PANIC_MARKER}")).join();
    assert!(panicked.is_err());

    let logs = capture.bytes();
    assert!(
        logs.len() > 10_000,
        "trace logging must have captured the run"
    );
    assert!(
        contains_bytes(&logs, PANIC_MARKER.as_bytes()),
        "panic messages must reach the logs"
    );
    let database = broker.database_bytes().await;
    assert!(!database.is_empty());
    for secret in &secrets {
        assert!(
            !contains_bytes(&logs, secret.as_bytes()),
            "a secret appears in the logs"
        );
        assert!(
            !contains_bytes(&database, secret.as_bytes()),
            "a secret appears in the database"
        );
    }
    broker.stop().await;
}

async fn program_sign_in(broker: &TestBroker) -> (String, String) {
    let created = broker
        .http
        .post(broker.url("/v1/logins"))
        .json(&json!({"provider": "demo"}));
    let login: Value = created.send().await.unwrap().json().await.unwrap();
    Browser::new()
        .sign_in(login["login_url"].as_str().unwrap())
        .await;

    let poll_secret = login["poll_secret"].as_str().unwrap().to_owned();
    let poll_url = broker.url(&format!(
        "/v1/logins/{}/poll",
        login["login_id"].as_str().unwrap()
    ));
    let done = broker
        .http
        .post(&poll_url)
        .bearer_auth(&poll_secret)
        .send()
        .await
        .unwrap();
    let done: Value = done.json().await.unwrap();
    (done["authid"].as_str().unwrap().to_owned(), poll_secret)
}
