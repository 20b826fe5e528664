//! Hostile input against every route of the broker: the table in `hostile_cases` is sent raw
//! over TCP, and every answer must be a clear refusal (a 4xx with the API's JSON error body or
//! an HTML error page; a closed connection only for malformed HTTP), or for routes that read no
//! such input their usual answer. Never a 5xx. No case changes a stored row beyond what it
//! names (a sign-in started or a `state` used up), no answer carries a secret or the injected
//! markup, no header carries injected content, and every redirect goes to the provider's
//! authorize URL with the broker's own callback or stays on the broker.
//!
//! Prints one line per endpoint, `HOSTILE <endpoint>: cases=N 5xx=0 ...`, for
//! docs/reliability.md. Runs on SQLite, and on PostgreSQL with `OAUTH_TEST_DATABASE=postgres`.
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

mod hostile_cases;

use hostile_cases::{Case, Effect, Expect, Fixture, SignIn, EVIL, MARK};
use oauth_e2e::raw_http::{exchange, Outcome, RawResponse};
use oauth_e2e::tally::Tally;
use oauth_e2e::{fake, BrokerBuilder, Browser, TestBroker};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;
use url::Url;

/// Browser sign-ins started before the sweep, for the callback cases.
const SIGNIN_POOL: usize = 24;
/// A request that is neither answered nor closed in this time is a hung broker.
const DEADLINE: Duration = Duration::from_secs(15);

#[tokio::test]
async fn every_route_refuses_hostile_input_without_5xx_changes_or_echoes() {
    let broker = BrokerBuilder::new()
        .config(|raw| {
            // The sweep sends many bad authids from one address; blocking is bad_input's topic.
            raw.limits.failed_lookups_per_minute = Some(1_000_000);
            raw.compat.types = Some([("demov2".to_owned(), "demo".to_owned())].into());
        })
        .start()
        .await;
    let mut fixture = fixture(&broker).await;
    let cases = hostile_cases::all(&mut fixture);
    let secrets = fixture.secrets();

    let mut tally = Tally::default();
    let mut failures = Vec::new();
    let reader = broker.database.row_reader().await;
    let mut rows = reader.rows().await;
    for case in &cases {
        let outcome = send(&broker, case).await;
        let after = reader.rows().await;
        let problems = check(&broker, case, &outcome, &secrets)
            .into_iter()
            .chain(check_effect(case, &outcome, &rows, &after));
        failures.extend(problems.map(|p| format!("{} / {}: {p}", case.endpoint, case.name)));
        tally.count(case.endpoint, &outcome);
        rows = after;
    }

    let database = match oauth_e2e::postgres_selected() {
        true => "postgres",
        false => "sqlite",
    };
    tally.print("", database);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(tally.server_errors(), 0, "no case may get a 5xx");
    still_works(&broker, &fixture).await;
    broker.stop().await;
}

async fn send(broker: &TestBroker, case: &Case) -> Outcome {
    let host = broker.url.trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(host).await.unwrap();
    exchange(stream, &case.request.to_bytes(host), DEADLINE).await
}

/// A grant, a pending program sign-in, a used code, and browser sign-ins waiting for their
/// callback.
async fn fixture(broker: &TestBroker) -> Fixture {
    let browser = Browser::new();
    let authorize = browser.start(&broker.url("/login/demo")).await;
    let callback = browser.consent(&authorize, "allow").await;
    let page = browser.open(callback.as_str()).await;
    let authid = page.authid().expect("the callback page shows an authid");
    let used_code = param(&callback, "code");
    let access_token = broker.access_token(&authid).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let login: Value = broker
        .http
        .post(broker.url("/v1/logins"))
        .json(&serde_json::json!({"provider": "demo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut signins = Vec::new();
    for _ in 0..SIGNIN_POOL {
        signins.push(start_signin(broker).await);
    }
    Fixture {
        authid,
        access_token,
        login_id: login["login_id"].as_str().unwrap().to_owned(),
        poll_secret: login["poll_secret"].as_str().unwrap().to_owned(),
        used_code,
        client_secret: fake::ProviderConfig::demo().client_secret.unwrap(),
        signins,
    }
}

/// `GET /login/demo` without a cookie: the `state` it sends to the provider, and the cookie.
async fn start_signin(broker: &TestBroker) -> SignIn {
    let response = broker.http.get(broker.url("/login/demo")).send().await;
    let response = response.unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap();
    let state = param(&Url::parse(location).unwrap(), "state");
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap();
    let cookie = cookie
        .strip_prefix("oauth_broker_browser=")
        .unwrap()
        .to_owned();
    SignIn { state, cookie }
}

fn param(url: &Url, name: &str) -> String {
    let found = url.query_pairs().find(|(key, _)| key == name);
    found.map(|(_, value)| value.into_owned()).unwrap()
}

/// Everything wrong with the answer to `case`.
fn check(broker: &TestBroker, case: &Case, outcome: &Outcome, secrets: &[String]) -> Vec<String> {
    let response = match outcome {
        Outcome::Closed if case.wire => return Vec::new(),
        Outcome::Closed => return vec!["closed without an answer".into()],
        Outcome::Hung => return vec![format!("no answer and no close within {DEADLINE:?}")],
        Outcome::Answered(response) => response,
    };
    let mut problems = Vec::new();
    let status = response.status;
    if status >= 500 || !status_expected(case, response) {
        let body: String = response.text().chars().take(300).collect();
        problems.push(format!(
            "status {status}, expected {:?}: {body}",
            case.expect
        ));
    }
    if (400..500).contains(&status) && !case.wire && !clear(response) {
        problems.push(format!("an unclear refusal: {:?}", response.text()));
    }
    problems.extend(leaks(case, response, secrets));
    problems.extend(header_problems(broker, case, response));
    problems
}

fn status_expected(case: &Case, response: &RawResponse) -> bool {
    let status = response.status;
    let refused = (400..500).contains(&status);
    match case.expect {
        Expect::Status(expected) => status == expected || (case.wire && refused),
        Expect::Refused => refused,
        Expect::IgnoredOrRefused => (200..300).contains(&status) || refused,
        Expect::RedirectOrRefused => status == 303 || refused,
        Expect::DuplicatiError => {
            let error = response.text().contains("\"error\":");
            status == 200 && error
        }
    }
}

/// A refusal says what went wrong: the protocol's JSON error body, Duplicati's `{"error":..}`,
/// or an HTML error page.
fn clear(response: &RawResponse) -> bool {
    let text = response.text();
    if text.starts_with("<!doctype html>") {
        return text.contains("<h1>");
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(body) => body["error"].is_string(),
        Err(_) => false,
    }
}

/// Secrets and injected values anywhere in the answer.
fn leaks(case: &Case, response: &RawResponse, secrets: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut places = vec![("body", response.body.as_slice())];
    places.extend(
        response
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice())),
    );
    for (place, bytes) in places {
        for secret in secrets {
            if oauth_e2e::contains_bytes(bytes, secret.as_bytes()) {
                problems.push(format!("a secret in the {place}"));
            }
        }
        for needle in &case.needles {
            if oauth_e2e::contains_bytes(bytes, needle) {
                let shown = String::from_utf8_lossy(&needle[..needle.len().min(40)]).into_owned();
                problems.push(format!("the {place} echoes {shown:?}"));
            }
        }
    }
    problems
}

fn header_problems(broker: &TestBroker, case: &Case, response: &RawResponse) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, value) in &response.headers {
        let value = String::from_utf8_lossy(value);
        let problem = match name.as_str() {
            "x-injected" => Some("an injected header".to_owned()),
            "location" => location_problem(broker, &value),
            "set-cookie" => cookie_problem(response.status, &value),
            "x-reason" => reason_problem(&value),
            _ if name.contains(MARK) || value.contains(MARK) => Some(format!("{name}: {value}")),
            _ => None,
        };
        problems.extend(problem);
    }
    // The handler's own refusals; 404 and 405 come from the router.
    let refused = matches!(response.status, 400 | 401 | 429);
    let reasonless = refused && !case.wire && response.header("x-reason").is_none();
    if case.endpoint.ends_with("/refresh") && reasonless {
        problems.push("a /refresh refusal without X-Reason".into());
    }
    if case.expect == Expect::Status(303) && response.header("location").is_none() {
        problems.push("a redirect without Location".into());
    }
    let html = response
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html"));
    let csp = response
        .header("content-security-policy")
        .unwrap_or_default();
    if html && !(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'")) {
        problems.push(format!(
            "a page without the Content-Security-Policy: {csp:?}"
        ));
    }
    problems
}

/// Redirects go to the broker's own pages, or to the provider's authorize URL carrying the
/// broker's own callback.
fn location_problem(broker: &TestBroker, location: &str) -> Option<String> {
    let own = Url::parse(&broker.url).unwrap();
    let problem = || Some(format!("redirect to {location:?}"));
    if location.starts_with('/') {
        let relative = location.starts_with("//") || location.starts_with("/\\");
        let Ok(target) = own.join(location) else {
            return problem();
        };
        return (relative || target.origin() != own.origin())
            .then(problem)
            .flatten();
    }
    let Ok(target) = Url::parse(location) else {
        return problem();
    };
    if target.origin() == own.origin() {
        return None;
    }
    let authorize = Url::parse(&broker.provider.url("/authorize")).unwrap();
    let callback = broker.url("/callback");
    let redirect_uris: Vec<String> = target
        .query_pairs()
        .filter(|(name, _)| name == "redirect_uri")
        .map(|(_, value)| value.into_owned())
        .collect();
    let to_provider = target.origin() == authorize.origin() && target.path() == authorize.path();
    let ok = to_provider && redirect_uris == [callback] && !location.contains(EVIL);
    (!ok).then(problem).flatten()
}

/// The only cookie is the browser binding, set with a fresh random value on a redirect.
fn cookie_problem(status: u16, value: &str) -> Option<String> {
    let cookie = value.split(';').next().unwrap_or_default();
    let fresh = cookie
        .strip_prefix("oauth_broker_browser=")
        .is_some_and(|v| {
            v.len() == 43
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    let attributes = value.contains("HttpOnly") && value.contains("SameSite=Lax");
    (!(status == 303 && fresh && attributes)).then(|| format!("Set-Cookie {value:?} on {status}"))
}

/// X-Reason is one of the broker's fixed sentences.
fn reason_problem(value: &str) -> Option<String> {
    let fixed = [
        "The AuthID is unknown or malformed; create a new AuthID",
        "the provider no longer accepts this sign-in; create a new AuthID",
        "Too many requests; retry",
        "The provider is unavailable; retry",
        "The OAuth broker hit an internal error; retry later",
        "The request was not understood",
    ];
    let known = fixed.iter().any(|sentence| value.starts_with(sentence));
    (!known || value.contains(MARK)).then(|| format!("X-Reason {value:?}"))
}

/// What the case changed in the database, against what it may change.
fn check_effect(
    case: &Case,
    outcome: &Outcome,
    before: &[String],
    after: &[String],
) -> Vec<String> {
    let before: BTreeSet<&String> = before.iter().collect();
    let after: BTreeSet<&String> = after.iter().collect();
    let added: Vec<&&String> = after.difference(&before).collect();
    let removed: Vec<&&String> = before.difference(&after).collect();
    let signin = |rows: &[&&String]| rows.len() == 1 && rows[0].starts_with("signins: ");
    let redirected = matches!(outcome, Outcome::Answered(r) if r.status == 303);
    let ok = match case.effect {
        Effect::None => added.is_empty() && removed.is_empty(),
        Effect::NewSigninIfRedirected if redirected => signin(&added) && removed.is_empty(),
        Effect::NewSigninIfRedirected => added.is_empty() && removed.is_empty(),
        Effect::ConsumesSignin => added.is_empty() && signin(&removed),
    };
    match ok {
        true => Vec::new(),
        false => vec![format!(
            "stored rows changed: {} added, {} removed (allowed: {:?})",
            added.len(),
            removed.len(),
            case.effect
        )],
    }
}

/// After the sweep: the grant still gives tokens, the pending sign-in still polls, and the
/// metrics carry none of the injected paths.
async fn still_works(broker: &TestBroker, fixture: &Fixture) {
    broker.access_token(&fixture.authid).await;
    let poll = broker
        .http
        .post(broker.url(&format!("/v1/logins/{}/poll", fixture.login_id)))
        .bearer_auth(&fixture.poll_secret)
        .send()
        .await
        .unwrap();
    assert_eq!(poll.status(), 202, "the pending sign-in is still open");
    let metrics = broker
        .http
        .get(broker.url("/metrics"))
        .send()
        .await
        .unwrap();
    let metrics = metrics.text().await.unwrap();
    for injected in [MARK, EVIL, "<script", "passwd"] {
        assert!(!metrics.contains(injected), "metrics carry {injected:?}");
    }
}
