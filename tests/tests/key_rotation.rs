//! Master key rotation: records sealed under a previous key stay readable while that key is
//! listed in `previous_master_key_files`, are sealed again under the current key on their next
//! use, and a record whose key is not configured fails loudly without being touched.
#![allow(clippy::unwrap_used)]

use oauth_broker::crypto::master_key::MasterKey;
use oauth_broker::crypto::master_keys::MasterKeys;
use oauth_e2e::{Browser, Replica, TestBroker};
use serde_json::{json, Value};

async fn token_at(broker: &TestBroker, replica: &Replica, authid: &str) -> (u16, Value) {
    let response = broker
        .http
        .post(format!("{}/v1/token", replica.url))
        .bearer_auth(authid)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn grants_under(broker: &TestBroker, key: &MasterKey) -> i64 {
    let sql = format!(
        "SELECT count(*) FROM grants WHERE master_key_id = '{}'",
        key.id()
    );
    broker.scalar(&sql).await
}

fn rotated(new: &MasterKey, old: &MasterKey) -> MasterKeys {
    MasterKeys::new(new.clone(), vec![old.clone()]).unwrap()
}

#[tokio::test]
async fn old_grants_open_under_a_previous_key_and_are_sealed_again_on_use() {
    let broker = TestBroker::start().await;
    let authid = broker.sign_in().await;
    let before = broker.access_token(&authid).await;
    let (old, new) = (broker.master_key(), MasterKey::generate());
    assert_eq!(grants_under(&broker, &old).await, 1);

    let rotating = broker.start_replica_with_keys(rotated(&new, &old)).await;
    let (status, body) = token_at(&broker, &rotating, &authid).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["access_token"], before["access_token"],
        "a cache hit, no refresh"
    );
    assert_eq!(
        grants_under(&broker, &new).await,
        1,
        "sealed again under the new key"
    );
    assert_eq!(grants_under(&broker, &old).await, 0);

    let retired = broker.start_replica_with_keys(new.clone().into()).await;
    let (status, body) = token_at(&broker, &retired, &authid).await;
    assert_eq!(status, 200, "the old key is no longer needed: {body}");
    broker.expire_cached_tokens();
    let (status, refreshed) = token_at(&broker, &retired, &authid).await;
    assert_eq!(
        status, 200,
        "a refresh under the new key alone: {refreshed}"
    );
    assert_ne!(refreshed["access_token"], before["access_token"]);
    assert!(broker
        .fake()
        .is_access_token_valid(refreshed["access_token"].as_str().unwrap()));
    assert_eq!(grants_under(&broker, &new).await, 1);

    rotating.stop().await;
    retired.stop().await;
    broker.stop().await;
}

#[tokio::test]
async fn a_grant_under_an_unconfigured_key_fails_loudly_and_is_not_touched() {
    let broker = TestBroker::start().await;
    let authid = broker.sign_in().await;
    let (old, new) = (broker.master_key(), MasterKey::generate());
    let version = broker.scalar("SELECT version FROM grants").await;

    let forgot_old = broker.start_replica_with_keys(new.clone().into()).await;
    let (status, body) = token_at(&broker, &forgot_old, &authid).await;
    assert_eq!(
        status, 500,
        "an operator's mistake, not the client's: {body}"
    );
    assert_eq!(body["error"], "server_error");
    assert!(!body.to_string().contains(&authid));
    assert_eq!(broker.scalar("SELECT version FROM grants").await, version);
    assert_eq!(grants_under(&broker, &old).await, 1);

    let fixed = broker.start_replica_with_keys(rotated(&new, &old)).await;
    let (status, body) = token_at(&broker, &fixed, &authid).await;
    assert_eq!(
        status, 200,
        "adding the previous key back repairs it: {body}"
    );

    forgot_old.stop().await;
    fixed.stop().await;
    broker.stop().await;
}

#[tokio::test]
async fn sign_ins_in_flight_finish_after_the_rotation() {
    let broker = TestBroker::start().await;
    let (old, new) = (broker.master_key(), MasterKey::generate());

    // A browser sign-in whose PKCE verifier was sealed under the old key.
    let browser = Browser::new();
    let authorize = browser.start(&broker.url("/login/demo")).await;
    // A program sign-in whose poll box was made under the old key.
    let created = broker
        .http
        .post(broker.url("/v1/logins"))
        .json(&json!({"provider": "demo"}));
    let login: Value = created.send().await.unwrap().json().await.unwrap();

    let rotating = broker.start_replica_with_keys(rotated(&new, &old)).await;
    let callback = browser.consent(&authorize, "allow").await;
    let at_replica = callback.as_str().replace(&broker.url, &rotating.url);
    let page = browser.open(&at_replica).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let authid = page.authid().unwrap();
    assert_eq!(
        grants_under(&broker, &new).await,
        1,
        "a new grant is sealed under the new key"
    );

    let login_url = login["login_url"]
        .as_str()
        .unwrap()
        .replace(&broker.url, &rotating.url);
    let program = Browser::new();
    let authorize = program.start(&login_url).await;
    let callback = program.consent(&authorize, "allow").await;
    let page = program
        .open(&callback.as_str().replace(&broker.url, &rotating.url))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let poll_url = format!(
        "{}/v1/logins/{}/poll",
        rotating.url,
        login["login_id"].as_str().unwrap()
    );
    let secret = login["poll_secret"].as_str().unwrap();
    let poll = broker
        .http
        .post(&poll_url)
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(poll.status(), 200);
    let done: Value = poll.json().await.unwrap();
    let program_authid = done["authid"].as_str().unwrap();
    assert_ne!(program_authid, authid);
    let (status, body) = token_at(&broker, &rotating, program_authid).await;
    assert_eq!(status, 200, "{body}");

    rotating.stop().await;
    broker.stop().await;
}
