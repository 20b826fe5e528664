//! End-to-end behaviour of the broker's sign-in, token and revocation flows against the fake
//! provider: what a user and a program see, and what the provider is asked.
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

use oauth_e2e::fake::{Fault, ProviderConfig, Rotation};
use oauth_e2e::{BrokerBuilder, Browser, TestBroker};
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn browser_sign_in_with_pkce_yields_a_working_authid() {
    let broker = TestBroker::start().await;
    let authid = broker.sign_in().await;
    assert_eq!(authid.len(), 64);

    let authorize = &broker.fake().authorize_requests()[0];
    assert_eq!(authorize["code_challenge_method"], "S256");
    assert_eq!(authorize["redirect_uri"], broker.url("/callback"));
    let exchange = &broker.fake().token_requests()[0];
    assert_eq!(exchange.grant_type, "authorization_code");
    assert_eq!(exchange.form["code_verifier"].len(), 43);

    let token = broker.access_token(&authid).await;
    assert_eq!(token["provider"], "demo");
    assert_eq!(token["token_type"], "Bearer");
    let access = token["access_token"].as_str().unwrap();
    assert!(broker.fake().is_access_token_valid(access));
    broker.stop().await;
}

#[tokio::test]
async fn program_sign_in_is_handed_out_once_through_the_poll() {
    let broker = TestBroker::start().await;
    let created = broker
        .http
        .post(broker.url("/v1/logins"))
        .json(&json!({"provider": "demo"}));
    let created = created.send().await.unwrap();
    assert_eq!(created.status(), 201);
    let login: Value = created.json().await.unwrap();
    let poll_url = broker.url(&format!(
        "/v1/logins/{}/poll",
        login["login_id"].as_str().unwrap()
    ));
    let secret = login["poll_secret"].as_str().unwrap();
    let poll = || broker.http.post(&poll_url).bearer_auth(secret).send();

    let pending = poll().await.unwrap();
    assert_eq!(pending.status(), 202);
    assert_eq!(
        pending.json::<Value>().await.unwrap(),
        json!({"status": "pending"})
    );
    let wrong = broker
        .http
        .post(&poll_url)
        .bearer_auth("not-the-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404);

    let page = Browser::new()
        .sign_in(login["login_url"].as_str().unwrap())
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.authid().is_none(),
        "a program-started sign-in must not show the authid"
    );
    assert!(page.body.contains("close this window"));

    let done = poll().await.unwrap();
    assert_eq!(done.status(), 200);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["provider"], "demo");
    let authid = done["authid"].as_str().unwrap();
    broker.access_token(authid).await;

    assert_eq!(
        poll().await.unwrap().status(),
        404,
        "the authid is handed out exactly once"
    );
    broker.stop().await;
}

#[tokio::test]
async fn cached_token_is_served_without_calling_the_provider() {
    let broker = TestBroker::start().await;
    let authid = broker.sign_in().await;
    let first = broker.access_token(&authid).await;
    let second = broker.access_token(&authid).await;

    assert_eq!(first["access_token"], second["access_token"]);
    assert_eq!(broker.fake().refresh_count(), 0);
    assert_eq!(broker.fake().code_exchange_count(), 1);
    let metrics = broker
        .http
        .get(broker.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("oauth_broker_token_cache_hits_total{provider=\"demo\"} 2"),
        "{metrics}"
    );
    broker.stop().await;
}

#[tokio::test]
async fn rotated_refresh_token_is_stored_and_used_next_time() {
    let broker = TestBroker::start().await;
    let authid = broker.sign_in().await;
    let before = broker.access_token(&authid).await;

    for round in 1..=3 {
        broker.expire_cached_tokens();
        let token = broker.access_token(&authid).await;
        assert_ne!(token["access_token"], before["access_token"]);
        assert_eq!(broker.fake().refresh_count(), round);
    }
    // The demo provider invalidates each rotated-away refresh token: three successful rounds
    // mean each new refresh token was stored before the next round.
    let refreshes: Vec<_> = broker.fake().token_requests().into_iter().skip(1).collect();
    assert_ne!(
        refreshes[0].form["refresh_token"],
        refreshes[1].form["refresh_token"]
    );
    broker.stop().await;
}

#[tokio::test]
async fn refresh_without_rotation_keeps_the_old_refresh_token() {
    let broker = BrokerBuilder::new()
        .fake(|fake| {
            fake.rotation = Rotation::Never;
            fake.refresh_returns_refresh_token = false;
        })
        .start()
        .await;
    let authid = broker.sign_in().await;

    for _ in 0..2 {
        broker.expire_cached_tokens();
        broker.access_token(&authid).await;
    }
    let refreshes: Vec<_> = broker.fake().token_requests().into_iter().skip(1).collect();
    assert_eq!(refreshes.len(), 2);
    assert_eq!(
        refreshes[0].form["refresh_token"],
        refreshes[1].form["refresh_token"]
    );
    broker.stop().await;
}

#[tokio::test]
async fn fifty_concurrent_requests_on_an_expired_grant_refresh_once() {
    let broker = TestBroker::start().await;
    let authid = broker.sign_in().await;
    broker.expire_cached_tokens();
    broker.fake().set_delay(Duration::from_millis(200));

    let requests = (0..50).map(|_| broker.access_token(&authid));
    let tokens = futures::future::join_all(requests).await;

    assert_eq!(broker.fake().refresh_count(), 1);
    let first = &tokens[0]["access_token"];
    assert!(tokens.iter().all(|t| &t["access_token"] == first));
    broker.stop().await;
}

#[tokio::test]
async fn min_valid_is_capped_at_half_the_lifetime() {
    let broker = TestBroker::start().await; // demo tokens live 300 s
    let authid = broker.sign_in().await;
    let ask = |secs: u64| broker.token(&authid, Some(json!({ "min_valid_secs": secs })));

    assert_eq!(ask(3000).await.status(), 200);
    assert_eq!(
        broker.fake().refresh_count(),
        0,
        "3000 s is capped at 150 s for a 300 s token"
    );

    broker.clock.advance(160);
    let token: Value = ask(3000).await.json().await.unwrap();
    assert_eq!(broker.fake().refresh_count(), 1);
    assert!(token["expires_in"].as_u64().unwrap() > 150);

    let cached: Value = ask(10).await.json().await.unwrap();
    assert_eq!(cached["access_token"], token["access_token"]);
    broker.stop().await;
}

#[tokio::test]
async fn refused_refresh_token_means_reauth_required_without_hammering_the_provider() {
    let broker = TestBroker::start().await;
    let authid = broker.sign_in().await;
    broker.fake().revoke_all_grants();
    broker.expire_cached_tokens();

    for _ in 0..3 {
        let response = broker.token(&authid, None).await;
        assert_eq!(response.status(), 401);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "reauth_required");
        assert!(body["error_description"]
            .as_str()
            .unwrap()
            .contains("sign in again"));
    }
    assert_eq!(broker.fake().refresh_count(), 1);
    broker.stop().await;
}

#[tokio::test]
async fn provider_server_error_is_provider_unavailable_and_recovers() {
    let broker = TestBroker::start().await;
    let authid = broker.sign_in().await;
    broker.expire_cached_tokens();
    broker.fake().inject(Fault::Status(500));

    let failed = broker.token(&authid, None).await;
    assert_eq!(failed.status(), 502);
    assert!(failed.headers().contains_key("retry-after"));
    let body: Value = failed.json().await.unwrap();
    assert_eq!(body["error"], "provider_unavailable");
    assert!(
        !body.to_string().contains("injected"),
        "the provider's raw body must not leak"
    );

    broker.access_token(&authid).await;
    broker.stop().await;
}

#[tokio::test]
async fn provider_rate_limit_passes_its_retry_after_on() {
    let broker = TestBroker::start().await;
    let authid = broker.sign_in().await;
    broker.expire_cached_tokens();
    broker.fake().inject(Fault::RateLimited {
        retry_after_secs: 42,
    });

    let failed = broker.token(&authid, None).await;
    assert_eq!(failed.status(), 503);
    assert_eq!(failed.headers()["retry-after"], "42");
    broker.stop().await;
}

#[tokio::test]
async fn provider_timeout_is_provider_unavailable() {
    let broker = BrokerBuilder::new()
        .config(|raw| raw.provider_timeout_secs = Some(1))
        .start()
        .await;
    let authid = broker.sign_in().await;
    broker.expire_cached_tokens();
    broker.fake().inject(Fault::Delay(Duration::from_secs(5)));

    let failed = broker.token(&authid, None).await;
    assert_eq!(failed.status(), 503);
    let body: Value = failed.json().await.unwrap();
    assert_eq!(body["error"], "provider_unavailable");
    broker.stop().await;
}

#[tokio::test]
async fn malformed_provider_reply_is_provider_unavailable() {
    let broker = TestBroker::start().await;
    let authid = broker.sign_in().await;
    broker.expire_cached_tokens();
    broker.fake().inject(Fault::MalformedJson);

    let failed = broker.token(&authid, None).await;
    assert_eq!(failed.status(), 502);
    broker.access_token(&authid).await;
    broker.stop().await;
}

#[tokio::test]
async fn revoke_deletes_the_grant_and_revokes_at_the_provider() {
    let broker = TestBroker::start().await;
    let authid = broker.sign_in().await;
    let revoke = || {
        broker
            .http
            .post(broker.url("/v1/revoke"))
            .bearer_auth(&authid)
            .send()
    };

    assert_eq!(revoke().await.unwrap().status(), 204);
    let revocations = broker.fake().revocations();
    assert_eq!(revocations.len(), 1);
    assert_eq!(
        revocations[0].token_type_hint.as_deref(),
        Some("refresh_token")
    );
    assert_eq!(broker.fake().live_grants(), 0);

    let after = broker.token(&authid, None).await;
    assert_eq!(after.status(), 401);
    assert_eq!(
        after.json::<Value>().await.unwrap()["error"],
        "invalid_authid"
    );
    assert_eq!(
        revoke().await.unwrap().status(),
        204,
        "revoking twice is fine"
    );
    assert_eq!(broker.fake().revocations().len(), 1);
    broker.stop().await;
}

#[tokio::test]
async fn refreshes_per_grant_are_rate_limited_but_cache_hits_are_not() {
    let broker = BrokerBuilder::new()
        .config(|raw| raw.limits.refreshes_per_hour = Some(2))
        .start()
        .await;
    let authid = broker.sign_in().await;
    for _ in 0..2 {
        broker.expire_cached_tokens();
        broker.access_token(&authid).await;
    }
    for _ in 0..20 {
        broker.access_token(&authid).await;
    }

    broker.expire_cached_tokens();
    let limited = broker.token(&authid, None).await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(
        limited.json::<Value>().await.unwrap()["error"],
        "rate_limited"
    );
    assert_eq!(broker.fake().refresh_count(), 2);
    broker.stop().await;
}

#[tokio::test]
async fn unused_grants_are_reaped() {
    let broker = BrokerBuilder::new()
        .config(|raw| raw.reap_after_days = Some(30))
        .start()
        .await;
    let authid = broker.sign_in().await;
    let kept = broker.sign_in().await;
    broker.clock.advance(20 * 86_400);
    broker.expire_cached_tokens();
    broker.access_token(&kept).await;

    broker.clock.advance(15 * 86_400);
    let reaped = broker.broker.reap_once().await.unwrap();
    assert_eq!(reaped.grants, 1);
    assert_eq!(broker.token(&authid, None).await.status(), 401);
    broker.access_token(&kept).await;
    broker.stop().await;
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let broker = TestBroker::start().await;
    let get = |path: &str| broker.http.get(broker.url(path)).send();
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    assert_eq!(get("/readyz").await.unwrap().status(), 200);

    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("oauth_broker_http_requests_total{route=\"/readyz\",status=\"200\"} 1")
    );
    assert!(metrics.ends_with("# EOF\n"));
    broker.stop().await;
}

#[tokio::test]
async fn provider_profile_with_reuse_detection_survives_many_rounds() {
    let broker = BrokerBuilder::new()
        .fake(|fake| {
            *fake = ProviderConfig {
                rotation: Rotation::AlwaysRevokeOnReuse,
                ..fake.clone()
            }
        })
        .start()
        .await;
    let authid = broker.sign_in().await;
    for _ in 0..5 {
        broker.expire_cached_tokens();
        broker.access_token(&authid).await;
    }
    assert_eq!(broker.fake().live_grants(), 1);
    broker.stop().await;
}

#[tokio::test]
async fn pages_are_served_with_protective_headers() {
    let broker = TestBroker::start().await;
    let index = broker.http.get(broker.url("/")).send().await.unwrap();
    assert_eq!(index.status(), 200);
    let csp = index.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(index.headers()["cache-control"], "no-store");
    let html = index.text().await.unwrap();
    assert!(html.contains("href=\"/login/demo\"") && html.contains("lang=\"en\""));

    let script = broker
        .http
        .get(broker.url("/static/copy.js"))
        .send()
        .await
        .unwrap();
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(script.text().await.unwrap().contains("clipboard"));

    let page = Browser::new().sign_in(&broker.url("/login/demo")).await;
    assert!(page.body.contains("id=\"copy\"") && page.body.contains("/static/copy.js"));
    broker.stop().await;
}

#[tokio::test]
async fn a_schema_migrated_by_a_newer_broker_is_refused() {
    let broker = TestBroker::start().await;
    let checksum = if oauth_e2e::postgres_selected() {
        "'\\x00'::bytea"
    } else {
        "x'00'"
    };
    broker
        .database
        .execute(&format!(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
             execution_time) VALUES (9999, 'from the future', true, {checksum}, 0)"
        ))
        .await;

    let error = oauth_broker::store::Store::connect(&broker.database.url())
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("newer than this broker knows") && message.contains("9999"),
        "{message}"
    );
    broker.stop().await;
}
