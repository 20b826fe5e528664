//! What every fault test shares: the tally of faults injected and answers checked, the checks
//! themselves, and polling with a deadline.

use oauth_e2e::{TestBroker, TestDatabase};
use serde_json::Value;
use std::io::Write as _;
use std::time::{Duration, Instant};

/// Far enough to expire any cached token: lifetimes are clamped to at most 366 days.
const BEYOND_ANY_LIFETIME_SECS: i64 = 400 * 86_400;

/// One test's figures: faults injected, requests answered during and after them, and requests
/// lost (no answer, or not the answer the fault calls for; a grant or refresh token that
/// stopped working counts too). Printed as one `FAULT` line; a test with anything lost fails.
pub struct Tally {
    name: &'static str,
    database: &'static str,
    injected: usize,
    answered: usize,
    lost: Vec<String>,
}

impl Tally {
    /// The tally of test `name` on `broker`'s database.
    pub fn new(name: &'static str, broker: &TestBroker) -> Self {
        let database = match broker.database {
            TestDatabase::Sqlite(_) => "sqlite",
            TestDatabase::Postgres { .. } => "postgres",
        };
        Self {
            name,
            database,
            injected: 0,
            answered: 0,
            lost: Vec::new(),
        }
    }

    /// Counts one injected fault.
    pub fn inject(&mut self) {
        self.injected += 1;
    }

    /// Checks an answer given during a fault: `status`, the protocol error `code`, a
    /// `Retry-After` of at least one second, and a description that says to retry without
    /// echoing the provider's raw reply. Returns the body.
    pub async fn fault(&mut self, response: reqwest::Response, status: u16, code: &str) -> Value {
        let got = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
        let body: Value = response.json().await.unwrap_or_default();
        let description = body["error_description"].as_str().unwrap_or_default();
        self.answered += 1;
        let clear = got == status
            && body["error"] == code
            && retry_after.is_some_and(|secs| secs >= 1)
            && description.contains("retry")
            && !description.contains("injected");
        self.count(clear, || {
            format!("wanted {status} {code} with Retry-After, got {got} {retry_after:?} {body}")
        });
        body
    }

    /// Checks an answer that must be a token (200). Returns the body.
    pub async fn ok(&mut self, response: reqwest::Response) -> Value {
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or_default();
        self.answered += 1;
        let fine = status == 200 && body["access_token"].is_string();
        self.count(fine, || format!("wanted a token, got {status} {body}"));
        body
    }

    /// Checks that the grant still works after the faults: the cached token is served, and a
    /// forced refresh at the provider succeeds with the stored refresh token.
    pub async fn grant_works(&mut self, broker: &TestBroker, authid: &str) {
        let cached = self.ok(broker.token(authid, None).await).await;
        let refreshes = broker.fake().refresh_count();
        broker.clock.advance(BEYOND_ANY_LIFETIME_SECS);
        let fresh = self.ok(broker.token(authid, None).await).await;
        let refreshed = broker.fake().refresh_count() == refreshes + 1;
        self.count(refreshed, || {
            "the forced refresh did not reach the provider".into()
        });
        for body in [cached, fresh] {
            let token = body["access_token"].as_str().unwrap_or_default();
            let valid = broker.fake().is_access_token_valid(token);
            self.count(valid, || "a token the provider does not accept".into());
        }
    }

    /// Writes the `FAULT` line, then fails the test if anything was lost.
    pub fn report(self) {
        let line = format!(
            "FAULT {} ({}): injected={} answered={} lost={}\n",
            self.name,
            self.database,
            self.injected,
            self.answered,
            self.lost.len()
        );
        // Straight to stderr: the test harness hides `eprintln!` of passing tests.
        std::io::stderr().write_all(line.as_bytes()).unwrap();
        assert!(self.lost.is_empty(), "{}: {:#?}", self.name, self.lost);
    }

    fn count(&mut self, fine: bool, why: impl FnOnce() -> String) {
        if !fine {
            self.lost.push(why());
        }
    }
}

/// Polls `done` every 10 ms until it holds; fails after 20 seconds.
pub async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `POST {base}/v1/token` as a future that owns everything, for `tokio::spawn`.
pub fn token_request(
    broker: &TestBroker,
    base: &str,
    authid: &str,
) -> impl std::future::Future<Output = reqwest::Response> + Send + 'static {
    let request = broker
        .http
        .post(format!("{base}/v1/token"))
        .bearer_auth(authid)
        .send();
    async move { request.await.unwrap() }
}

/// The grant row's write counter (tests here hold one grant).
pub async fn row_version(broker: &TestBroker) -> i64 {
    broker.scalar("SELECT version FROM grants").await
}
