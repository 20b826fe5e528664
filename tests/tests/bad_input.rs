//! Bad input from programs and browsers: every mistake gets a clear 4xx (on the `/v1` API the
//! protocol's JSON error body with its stable code, in the browser an HTML error page), stores
//! nothing, and no error body echoes the authid or poll secret it was sent.
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

use oauth_e2e::{BrokerBuilder, Browser, TestBroker};
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::Response;
use serde_json::{json, Value};
use url::Url;

#[tokio::test]
async fn malformed_login_requests_get_bad_request_and_store_nothing() {
    let broker = TestBroker::start().await;
    let before = stored(&broker).await;
    // Valid but for its size, so only the limit can refuse it.
    let oversized = format!(r#"{{"provider":"demo"{}}}"#, " ".repeat(17 * 1024));
    let bodies = [
        ("no body", String::new()),
        ("form instead of JSON", "provider=demo".to_owned()),
        ("truncated JSON", r#"{"provider":"demo""#.to_owned()),
        ("number for provider", r#"{"provider":5}"#.to_owned()),
        ("list for provider", r#"{"provider":["demo"]}"#.to_owned()),
        (
            "unknown field",
            r#"{"provider":"demo","scope":"all"}"#.to_owned(),
        ),
        ("missing provider", "{}".to_owned()),
        ("array instead of an object", r#"["demo"]"#.to_owned()),
        ("null", "null".to_owned()),
        ("body over 16 KiB", oversized),
    ];

    for (case, body) in bodies {
        let response = post_json(&broker, "/v1/logins", None, body).await;
        api_error(response, 400, "bad_request", case).await;
    }

    assert_eq!(
        stored(&broker).await,
        before,
        "a refused login stores nothing"
    );
    let response = post_json(&broker, "/v1/logins", None, r#"{"provider":"demo"}"#).await;
    assert_eq!(
        response.status(),
        201,
        "the same endpoint accepts a well-formed request"
    );
    assert_eq!(stored(&broker).await.logins, before.logins + 1);
    broker.stop().await;
}

#[tokio::test]
async fn malformed_token_bodies_get_bad_request_and_leave_the_grant_untouched() {
    let broker = TestBroker::start().await;
    let authid = broker.sign_in().await;
    let cached = broker.access_token(&authid).await["access_token"].clone();
    let before = stored(&broker).await;
    // Valid but for its size, so only the limit can refuse it.
    let oversized = format!(r#"{{"min_valid_secs":600{}}}"#, " ".repeat(17 * 1024));
    let bodies = [
        ("truncated JSON", "{".to_owned()),
        ("form instead of JSON", "min_valid_secs=600".to_owned()),
        (
            "string for number",
            r#"{"min_valid_secs":"600"}"#.to_owned(),
        ),
        ("negative number", r#"{"min_valid_secs":-1}"#.to_owned()),
        ("fraction", r#"{"min_valid_secs":1.5}"#.to_owned()),
        (
            "unknown field",
            r#"{"min_valid_secs":600,"scope":"all"}"#.to_owned(),
        ),
        ("empty array instead of an object", "[]".to_owned()),
        ("array instead of an object", "[600]".to_owned()),
        ("bare number", "600".to_owned()),
        ("body over 16 KiB", oversized),
    ];

    for (case, body) in bodies {
        let response = post_json(&broker, "/v1/token", Some(bearer(&authid)), body).await;
        let text = api_error(response, 400, "bad_request", case).await;
        assert_not_echoed(&text, &authid, case);
    }

    assert_eq!(
        stored(&broker).await,
        before,
        "a refused token request writes nothing"
    );
    assert_eq!(broker.fake().refresh_count(), 0);
    assert_eq!(broker.access_token(&authid).await["access_token"], cached);
    broker.stop().await;
}

#[tokio::test]
async fn missing_or_malformed_authids_get_invalid_authid_without_being_echoed() {
    // A high quota: this test is about the answer to each bad authid, not about blocking.
    let broker = BrokerBuilder::new()
        .config(|raw| raw.limits.failed_lookups_per_minute = Some(1000))
        .start()
        .await;
    let authid = broker.sign_in().await;
    let before = stored(&broker).await;
    let cases = malformed_authids(&authid);

    for path in ["/v1/token", "/v1/revoke"] {
        for (case, header, sent) in &cases {
            let response = post_json(&broker, path, header.clone(), "").await;
            let text = api_error(response, 401, "invalid_authid", &format!("{path}: {case}")).await;
            assert_not_echoed(&text, sent, case);
            assert_not_echoed(&text, &authid, case);
        }
    }

    assert_eq!(
        stored(&broker).await,
        before,
        "no bad authid changed a grant"
    );
    assert!(
        broker.fake().revocations().is_empty(),
        "nothing was revoked at the provider"
    );
    broker.access_token(&authid).await;
    broker.stop().await;
}

/// Bad `Authorization` headers: the case, the header (if any), and the credential it carries.
fn malformed_authids(authid: &str) -> Vec<(&'static str, Option<HeaderValue>, String)> {
    let header = |value: String| Some(HeaderValue::from_str(&value).unwrap());
    let too_long = "A".repeat(10 * 1024);
    let non_ascii = "é".repeat(32);
    let non_ascii_header = HeaderValue::from_bytes(format!("Bearer {non_ascii}").as_bytes());
    vec![
        ("no Authorization header", None, String::new()),
        (
            "Basic scheme",
            header(format!("Basic {authid}")),
            authid.to_owned(),
        ),
        (
            "Token scheme",
            header(format!("Token {authid}")),
            authid.to_owned(),
        ),
        ("scheme only", header("Bearer".to_owned()), String::new()),
        (
            "garbage",
            header("Bearer not-an-authid".to_owned()),
            "not-an-authid".to_owned(),
        ),
        (
            "10 KB authid",
            header(format!("Bearer {too_long}")),
            too_long,
        ),
        (
            "non-ASCII authid",
            Some(non_ascii_header.unwrap()),
            non_ascii,
        ),
        (
            "63 characters",
            header(format!("Bearer {}", &authid[..63])),
            authid[..63].to_owned(),
        ),
        (
            "65 characters",
            header(format!("Bearer {authid}A")),
            format!("{authid}A"),
        ),
        (
            "outside base64url",
            header(format!("Bearer {}", "!".repeat(64))),
            "!".repeat(64),
        ),
    ]
}

#[tokio::test]
async fn authid_with_a_wrong_secret_part_is_refused_and_the_grant_still_works() {
    let broker = TestBroker::start().await;
    let authid = broker.sign_in().await;
    let wrong_secret = flip_last(&authid);
    let unknown_lookup = flip_first(&authid);
    let before = stored(&broker).await;

    let wrong = api_error(
        broker.token(&wrong_secret, None).await,
        401,
        "invalid_authid",
        "token",
    )
    .await;
    let unknown = broker.token(&unknown_lookup, None).await;
    let unknown = api_error(unknown, 401, "invalid_authid", "unknown lookup part").await;
    assert_eq!(
        wrong, unknown,
        "a wrong secret part looks exactly like an unknown authid"
    );
    assert_not_echoed(&wrong, &wrong_secret, "wrong secret part");
    let revoke = revoke(&broker, &wrong_secret).await;
    let text = api_error(
        revoke,
        401,
        "invalid_authid",
        "revoke with a wrong secret part",
    )
    .await;
    assert_not_echoed(&text, &wrong_secret, "revoke");

    assert_eq!(
        stored(&broker).await,
        before,
        "the grant is neither changed nor deleted"
    );
    assert!(
        broker.fake().revocations().is_empty(),
        "nothing was revoked at the provider"
    );
    assert_eq!(broker.fake().live_grants(), 1);
    broker.access_token(&authid).await;
    broker.stop().await;
}

#[tokio::test]
async fn poll_with_a_wrong_secret_or_an_unknown_login_is_not_found() {
    let broker = TestBroker::start().await;
    let login = create_login(&broker).await;
    let (login_id, secret) = (&login["login_id"], &login["poll_secret"]);
    let (login_id, secret) = (login_id.as_str().unwrap(), secret.as_str().unwrap());
    let wrong_secret = flip_last(secret);
    let before = stored(&broker).await;
    let cases = [
        (
            "wrong poll secret",
            login_id.to_owned(),
            Some(wrong_secret.as_str()),
        ),
        ("no poll secret", login_id.to_owned(), None),
        ("unknown login id", flip_last(login_id), Some(secret)),
        ("made-up login id", "no-such-login".to_owned(), Some(secret)),
    ];

    for (case, id, poll_secret) in cases {
        let text = api_error(
            poll(&broker, &id, poll_secret).await,
            404,
            "not_found",
            case,
        )
        .await;
        assert_not_echoed(&text, secret, case);
        assert_not_echoed(&text, &wrong_secret, case);
    }

    assert_eq!(
        stored(&broker).await,
        before,
        "the pending login is untouched"
    );
    let pending = poll(&broker, login_id, Some(secret)).await;
    assert_eq!(pending.status(), 202, "the right secret still polls");
    assert_eq!(
        pending.json::<Value>().await.unwrap(),
        json!({"status": "pending"})
    );
    broker.stop().await;
}

#[tokio::test]
async fn program_sign_in_polled_after_eleven_minutes_is_expired() {
    let broker = TestBroker::start().await;
    let login = create_login(&broker).await;
    let login_id = login["login_id"].as_str().unwrap();
    let secret = login["poll_secret"].as_str().unwrap();
    assert_eq!(poll(&broker, login_id, Some(secret)).await.status(), 202);

    broker.clock.advance(11 * 60);

    let text = api_error(
        poll(&broker, login_id, Some(secret)).await,
        410,
        "expired",
        "poll",
    )
    .await;
    assert_not_echoed(&text, secret, "expired poll");
    let link = login["login_url"].as_str().unwrap();
    let page = Browser::new().open(link).await;
    assert_error_page(page.status, &page.body, 410, "expired sign-in link");
    assert_eq!(
        stored(&broker).await.signins,
        0,
        "an expired link starts no browser sign-in"
    );
    broker.stop().await;
}

#[tokio::test]
async fn callback_without_a_known_state_is_refused_and_keeps_the_real_sign_in_open() {
    let broker = TestBroker::start().await;
    let browser = Browser::new();
    let authorize = browser.start(&broker.url("/login/demo")).await;
    let callback = browser.consent(&authorize, "allow").await;
    let (code, state) = (param(&callback, "code"), param(&callback, "state"));
    let forged = flip_last(&state);
    let unknown = "A".repeat(state.len());
    let cases = [
        ("no query", broker.url("/callback")),
        ("no state", callback_url(&broker, &[("code", &code)])),
        (
            "empty state",
            callback_url(&broker, &[("code", &code), ("state", "")]),
        ),
        (
            "unknown state",
            callback_url(&broker, &[("code", &code), ("state", &unknown)]),
        ),
        (
            "forged state",
            callback_url(&broker, &[("code", &code), ("state", &forged)]),
        ),
    ];

    for (case, url) in cases {
        let page = browser.open(&url).await;
        assert_error_page(page.status, &page.body, 400, case);
    }

    let after = stored(&broker).await;
    assert_eq!(
        (after.grants, after.signins),
        (0, 1),
        "no grant, and the real state is unused"
    );
    assert_eq!(
        broker.fake().code_exchange_count(),
        0,
        "no code went to the provider"
    );
    let page = browser.open(callback.as_str()).await;
    assert_eq!(
        page.status, 200,
        "the genuine callback still finishes: {}",
        page.body
    );
    assert_eq!(stored(&broker).await.grants, 1);
    broker.stop().await;
}

#[tokio::test]
async fn callback_replayed_after_success_is_refused_without_a_second_exchange() {
    let broker = TestBroker::start().await;
    let browser = Browser::new();
    let authorize = browser.start(&broker.url("/login/demo")).await;
    let callback = browser.consent(&authorize, "allow").await;
    let first = browser.open(callback.as_str()).await;
    let authid = first.authid().expect("the first callback shows an authid");

    let replay = browser.open(callback.as_str()).await;

    assert_error_page(replay.status, &replay.body, 400, "replayed callback");
    assert_eq!(
        stored(&broker).await.grants,
        1,
        "the replay created no grant"
    );
    assert_eq!(
        broker.fake().code_exchange_count(),
        1,
        "the code was exchanged once"
    );
    broker.access_token(&authid).await;
    broker.stop().await;
}

#[tokio::test]
async fn callback_in_another_browser_is_refused_and_the_starting_browser_can_finish() {
    let broker = TestBroker::start().await;
    let browser = Browser::new();
    let authorize = browser.start(&broker.url("/login/demo")).await;
    let callback = browser.consent(&authorize, "allow").await;

    let elsewhere = Browser::new().open(callback.as_str()).await;

    assert_error_page(elsewhere.status, &elsewhere.body, 400, "another browser");
    assert!(
        elsewhere.body.contains("Different browser"),
        "{}",
        elsewhere.body
    );
    assert_eq!(stored(&broker).await.grants, 0);
    assert_eq!(
        broker.fake().code_exchange_count(),
        0,
        "no code went to the provider"
    );
    let page = browser.open(callback.as_str()).await;
    assert_eq!(
        page.status, 200,
        "the starting browser still finishes: {}",
        page.body
    );
    assert_eq!(stored(&broker).await.grants, 1);
    broker.stop().await;
}

#[tokio::test]
async fn provider_error_description_is_shown_html_escaped() {
    let broker = TestBroker::start().await;
    let browser = Browser::new();
    let authorize = browser.start(&broker.url("/login/demo")).await;
    let state = param(&authorize, "state");
    let script = "<script>alert(1)</script>";
    let pairs = [
        ("error", "access_denied"),
        ("error_description", script),
        ("state", &state),
    ];

    let page = browser.open(&callback_url(&broker, &pairs)).await;

    assert_error_page(page.status, &page.body, 400, "access denied");
    assert!(
        !page.body.contains("<script"),
        "the description is escaped: {}",
        page.body
    );
    assert!(
        page.body.contains("alert(1)"),
        "the description is shown: {}",
        page.body
    );
    assert_eq!(stored(&broker).await.grants, 0);
    assert_eq!(broker.fake().code_exchange_count(), 0);
    broker.stop().await;
}

#[tokio::test]
async fn unknown_provider_or_login_link_is_refused_by_the_api_and_the_login_page() {
    let broker = TestBroker::start().await;
    let before = stored(&broker).await;

    let response = post_json(&broker, "/v1/logins", None, r#"{"provider":"nope"}"#).await;
    api_error(response, 400, "bad_request", "unknown provider").await;
    for (case, path, status) in [
        ("unknown provider", "/login/nope", 404),
        (
            "unknown login link",
            "/login/demo?login_id=no-such-login",
            404,
        ),
    ] {
        let response = broker.http.get(broker.url(path)).send().await.unwrap();
        let status_sent = response.status().as_u16();
        let cookie = response.headers().get("set-cookie").cloned();
        let body = response.text().await.unwrap();
        assert_error_page(status_sent, &body, status, case);
        assert_eq!(
            cookie, None,
            "{case}: no browser cookie for a refused sign-in"
        );
    }

    assert_eq!(
        stored(&broker).await,
        before,
        "no login and no browser sign-in stored"
    );
    broker.stop().await;
}

#[tokio::test]
async fn unknown_routes_get_json_not_found() {
    let broker = TestBroker::start().await;
    for (method, path) in [
        (reqwest::Method::GET, "/nope"),
        (reqwest::Method::GET, "/v1"),
        (reqwest::Method::POST, "/v1/tokens"),
        (reqwest::Method::POST, "/v2/token"),
        (reqwest::Method::POST, "/v1/logins/some-id/poll/extra"),
    ] {
        let response = broker
            .http
            .request(method.clone(), broker.url(path))
            .send()
            .await
            .unwrap();
        api_error(response, 404, "not_found", &format!("{method} {path}")).await;
    }
    broker.stop().await;
}

#[tokio::test]
async fn repeated_failed_lookups_from_one_address_are_rate_limited_with_retry_after() {
    let broker = BrokerBuilder::new()
        .config(|raw| raw.limits.failed_lookups_per_minute = Some(3))
        .start()
        .await;
    let authid = broker.sign_in().await;
    let guess = flip_first(&authid);

    let mut failures = 0;
    let limited = loop {
        let response = broker.token(&guess, None).await;
        if response.status() == 429 {
            break response;
        }
        api_error(response, 401, "invalid_authid", "guess within quota").await;
        failures += 1;
        assert!(
            failures < 10,
            "ten failed look-ups and still not rate limited"
        );
    };

    assert_eq!(
        failures, 4,
        "three failures fit the quota; the fourth blocks the address"
    );
    let retry_after = limited
        .headers()
        .get(RETRY_AFTER)
        .expect("a Retry-After header");
    let retry_after: u64 = retry_after.to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    let text = api_error(limited, 429, "rate_limited", "blocked guess").await;
    assert_not_echoed(&text, &guess, "rate limited");
    // Blocked means blocked: even the right authid gains nothing, and revoking deletes nothing.
    api_error(
        broker.token(&authid, None).await,
        429,
        "rate_limited",
        "right authid",
    )
    .await;
    api_error(
        revoke(&broker, &authid).await,
        429,
        "rate_limited",
        "revoke",
    )
    .await;
    assert_eq!(stored(&broker).await.grants, 1);
    broker.stop().await;
}

/// Rows per table, and the sum of grant versions, which every write to a grant bumps.
#[derive(Debug, PartialEq, Eq)]
struct Stored {
    grants: i64,
    logins: i64,
    signins: i64,
    grant_versions: i64,
}

/// What the database holds, read through a connection of its own.
async fn stored(broker: &TestBroker) -> Stored {
    Stored {
        grants: broker.scalar("SELECT count(*) FROM grants").await,
        logins: broker.scalar("SELECT count(*) FROM logins").await,
        signins: broker.scalar("SELECT count(*) FROM signins").await,
        grant_versions: broker
            .scalar("SELECT CAST(coalesce(sum(version), 0) AS BIGINT) FROM grants")
            .await,
    }
}

/// Checks an API error response and returns its body: the status, a JSON content type, and
/// a body of exactly `error` (= `code`) and a non-empty `error_description`.
async fn api_error(response: Response, status: u16, code: &str, case: &str) -> String {
    let actual = response.status().as_u16();
    let content_type = response.headers().get(CONTENT_TYPE).cloned();
    let text = response.text().await.unwrap();
    assert_eq!(actual, status, "{case}: {text}");
    let content_type = content_type.map(|value| value.to_str().unwrap().to_owned());
    let is_json = content_type
        .as_deref()
        .is_some_and(|t| t.starts_with("application/json"));
    assert!(is_json, "{case}: content type {content_type:?}");

    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{case}: {text}"));
    let keys: Vec<&String> = body.as_object().expect("a JSON object").keys().collect();
    assert_eq!(keys, ["error", "error_description"], "{case}: {text}");
    assert_eq!(body["error"], code, "{case}: {text}");
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(!description.is_empty(), "{case}: a description");
    text
}

/// Checks a browser error page: the status and an HTML page that shows no authid.
fn assert_error_page(status: u16, body: &str, expected: u16, case: &str) {
    assert_eq!(status, expected, "{case}: {body}");
    assert!(
        body.starts_with("<!doctype html>"),
        "{case}: an HTML page: {body}"
    );
    assert!(
        !body.contains("id=\"authid\""),
        "{case}: no authid on an error page"
    );
}

fn assert_not_echoed(body: &str, sent: &str, case: &str) {
    assert!(
        sent.is_empty() || !body.contains(sent),
        "{case}: the error echoes its input"
    );
}

async fn post_json(
    broker: &TestBroker,
    path: &str,
    authorization: Option<HeaderValue>,
    body: impl Into<reqwest::Body>,
) -> Response {
    let mut request = broker
        .http
        .post(broker.url(path))
        .header(CONTENT_TYPE, "application/json");
    if let Some(value) = authorization {
        request = request.header(AUTHORIZATION, value);
    }
    request.body(body).send().await.unwrap()
}

fn bearer(credential: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("Bearer {credential}")).unwrap()
}

async fn revoke(broker: &TestBroker, authid: &str) -> Response {
    post_json(broker, "/v1/revoke", Some(bearer(authid)), "").await
}

async fn create_login(broker: &TestBroker) -> Value {
    let response = post_json(broker, "/v1/logins", None, r#"{"provider":"demo"}"#).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn poll(broker: &TestBroker, login_id: &str, poll_secret: Option<&str>) -> Response {
    let path = format!("/v1/logins/{login_id}/poll");
    post_json(broker, &path, poll_secret.map(bearer), "").await
}

/// `/callback` with `pairs` as its query.
fn callback_url(broker: &TestBroker, pairs: &[(&str, &str)]) -> String {
    let mut url = Url::parse(&broker.url("/callback")).unwrap();
    url.query_pairs_mut().extend_pairs(pairs);
    url.into()
}

fn param(url: &Url, name: &str) -> String {
    let found = url.query_pairs().find(|(key, _)| key == name);
    found
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

/// `text` with its last character swapped for another base64url character.
fn flip_last(text: &str) -> String {
    let (head, last) = text.split_at(text.len() - 1);
    format!("{head}{}", if last == "A" { "B" } else { "A" })
}

/// `text` with its first character swapped for another base64url character.
fn flip_first(text: &str) -> String {
    let (first, tail) = text.split_at(1);
    format!("{}{tail}", if first == "A" { "B" } else { "A" })
}

#[tokio::test]
async fn wrong_method_on_a_known_route_gets_a_json_405() {
    let broker = TestBroker::start().await;
    let response = broker
        .http
        .get(broker.url("/v1/token"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "bad_request");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("method"));
    broker.stop().await;
}
