//! Fixtures for end-to-end tests: a real broker on `127.0.0.1:0` in front of the fake OAuth
//! provider, a scripted browser that signs in the way a person would, and a real headless
//! Chromium for the pages' own behaviour.
//!
//! Everything here may panic: it is test scaffolding, and a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_debug_implementations
)]

mod browser;
mod chrome;
mod logs;

pub use browser::Browser;
pub use chrome::Chrome;
pub use fake_oauth_provider as fake;
pub use logs::LogCapture;

use fake::{FakeProvider, RunningProvider};
use oauth_broker::config::{RawConfig, RawProvider};
use oauth_broker::crypto::master_key::MasterKey;
use oauth_broker::{Broker, Clock, Config};
use std::path::PathBuf;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A change to the broker's configuration, applied before it starts.
type ConfigChange = Box<dyn FnOnce(&mut RawConfig) + Send>;

/// How to build a [`TestBroker`].
pub struct BrokerBuilder {
    fake: fake::ProviderConfig,
    provider_name: String,
    provider: RawProvider,
    configure: Vec<ConfigChange>,
}

impl BrokerBuilder {
    /// A broker with one provider `demo` backed by the fake provider's demo profile.
    pub fn new() -> Self {
        Self::with_fake("demo", fake::ProviderConfig::demo(), RawProvider::default())
    }

    /// A broker whose provider `name` is `raw` (for example a preset) with its endpoints
    /// pointed at a fake provider configured as `fake`.
    pub fn with_fake(name: &str, fake: fake::ProviderConfig, raw: RawProvider) -> Self {
        Self {
            fake,
            provider_name: name.to_owned(),
            provider: raw,
            configure: Vec::new(),
        }
    }

    /// Changes the fake provider's configuration.
    pub fn fake(mut self, change: impl FnOnce(&mut fake::ProviderConfig)) -> Self {
        change(&mut self.fake);
        self
    }

    /// Changes the broker's configuration before it starts.
    pub fn config(mut self, change: impl FnOnce(&mut RawConfig) + Send + 'static) -> Self {
        self.configure.push(Box::new(change));
        self
    }

    /// Starts the fake provider and the broker.
    pub async fn start(self) -> TestBroker {
        let provider = FakeProvider::spawn(self.fake.clone()).await;
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("broker.db");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();

        let mut raw = RawConfig {
            listen: Some(addr.to_string()),
            public_url: Some(format!("http://{addr}")),
            database_url: Some(format!("sqlite://{}", db_path.display())),
            ..RawConfig::default()
        };
        let mut table = self.provider;
        table.authorize_url = Some(provider.url("/authorize"));
        table.token_url = Some(provider.url("/token"));
        table.revocation_url = Some(provider.url("/revoke"));
        table.client_id = Some(self.fake.client_id.clone());
        table.client_secret = self.fake.client_secret.clone();
        raw.providers.insert(self.provider_name.clone(), table);
        for change in self.configure {
            change(&mut raw);
        }

        let config = Config::from_raw(raw).unwrap();
        let master_key = MasterKey::generate();
        let clock = Clock::default();
        let broker = oauth_broker::open(config, master_key, clock.clone())
            .await
            .unwrap();
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(oauth_broker::run(
            broker.clone(),
            None,
            listener,
            async move {
                let _ = stopped.await;
            },
        ));

        TestBroker {
            url: format!("http://{addr}"),
            provider_name: self.provider_name,
            broker,
            clock,
            provider,
            db_path,
            _dir: dir,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            shutdown: Some(shutdown),
            task,
        }
    }
}

impl Default for BrokerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// A running broker and its fake provider.
pub struct TestBroker {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The configured provider's name.
    pub provider_name: String,
    /// The broker itself, for in-process checks.
    pub broker: Broker,
    /// The broker's clock; `advance` makes cached tokens expire without waiting.
    pub clock: Clock,
    /// The fake provider.
    pub provider: RunningProvider,
    /// The SQLite file.
    pub db_path: PathBuf,
    _dir: tempfile::TempDir,
    /// A plain HTTP client that does not follow redirects.
    pub http: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl TestBroker {
    /// A broker with the demo provider.
    pub async fn start() -> Self {
        BrokerBuilder::new().start().await
    }

    /// The fake provider's controls.
    pub fn fake(&self) -> &FakeProvider {
        &self.provider.provider
    }

    /// `url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// A browser-started sign-in, played end to end; returns the authid shown on the page.
    pub async fn sign_in(&self) -> String {
        let browser = Browser::new();
        let page = browser
            .sign_in(&self.url(&format!("/login/{}", self.provider_name)))
            .await;
        assert_eq!(page.status, 200, "callback page: {}", page.body);
        page.authid().expect("the callback page shows an authid")
    }

    /// `POST /v1/token` with `authid` and an optional JSON body.
    pub async fn token(&self, authid: &str, body: Option<serde_json::Value>) -> reqwest::Response {
        let mut request = self.http.post(self.url("/v1/token")).bearer_auth(authid);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// `POST /v1/token` that must succeed; returns the JSON body.
    pub async fn access_token(&self, authid: &str) -> serde_json::Value {
        let response = self.token(authid, None).await;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(status, 200, "token request failed: {body}");
        body
    }

    /// Makes every cached access token look expired to the broker.
    pub fn expire_cached_tokens(&self) {
        self.clock.advance(2 * 86_400);
    }

    /// The bytes of the database file and its WAL, for scanning.
    pub fn database_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let path = PathBuf::from(format!("{}{suffix}", self.db_path.display()));
            if let Ok(content) = std::fs::read(&path) {
                bytes.extend(content);
            }
        }
        bytes
    }

    /// Stops the broker and waits for it.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        (&mut self.task).await.unwrap().unwrap();
    }
}

/// Whether `haystack` contains `needle` anywhere.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}
