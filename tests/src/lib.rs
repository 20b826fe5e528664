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
mod database;
mod latency;
mod logs;
pub mod payloads;
mod process_replica;
pub mod raw_http;
pub mod tally;
mod tcp_proxy;
pub mod tools;

pub use browser::{Browser, Page};
pub use chrome::Chrome;
pub use database::{
    postgres_or_skip, postgres_reachable, postgres_selected, postgres_server, RowReader,
    TestDatabase,
};
pub use fake_oauth_provider as fake;
pub use latency::{millis, Latencies, Percentiles};
pub use logs::LogCapture;
pub use process_replica::{serve_from_env as serve_replica_from_env, ProcessReplica};
pub use tcp_proxy::TcpProxy;

use fake::{FakeProvider, RunningProvider};
use oauth_broker::config::{RawConfig, RawProvider};
use oauth_broker::crypto::master_key::MasterKey;
use oauth_broker::crypto::master_keys::MasterKeys;
use oauth_broker::{Broker, Clock, Config};
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
    postgres: bool,
    sqlite: bool,
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
            postgres: false,
            sqlite: false,
        }
    }

    /// Changes the fake provider's configuration.
    pub fn fake(mut self, change: impl FnOnce(&mut fake::ProviderConfig)) -> Self {
        change(&mut self.fake);
        self
    }

    /// Uses a fresh PostgreSQL database whatever `OAUTH_TEST_DATABASE` says.
    pub fn postgres(mut self) -> Self {
        self.postgres = true;
        self
    }

    /// Uses a SQLite file whatever `OAUTH_TEST_DATABASE` says.
    pub fn sqlite(mut self) -> Self {
        self.sqlite = true;
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
        let database = if self.sqlite {
            TestDatabase::sqlite(dir.path())
        } else {
            TestDatabase::create(dir.path(), self.postgres).await
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();

        let mut raw = RawConfig {
            listen: Some(addr.to_string()),
            public_url: Some(format!("http://{addr}")),
            database_url: Some(database.url()),
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
        let replica =
            Replica::start(config.clone(), master_key.clone(), clock.clone(), listener).await;

        TestBroker {
            url: format!("http://{addr}"),
            provider_name: self.provider_name,
            broker: replica.broker,
            config,
            master_key,
            clock,
            provider,
            database,
            _dir: dir,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            shutdown: Some(replica.shutdown),
            task: replica.task,
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
    config: Config,
    master_key: MasterKey,
    /// The fake provider.
    pub provider: RunningProvider,
    /// The broker's database.
    pub database: TestDatabase,
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

    /// Every stored byte, for scanning (the SQLite file and its WAL, or every PostgreSQL row).
    pub async fn database_bytes(&self) -> Vec<u8> {
        self.database.bytes().await
    }

    /// One number from `sql` run on the broker's database.
    pub async fn scalar(&self, sql: &str) -> i64 {
        self.database.scalar(sql).await
    }

    /// Stops the broker and waits for it.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        (&mut self.task).await.unwrap().unwrap();
    }
}

/// A second broker process's worth of state on the same database, master key and provider
/// (another replica behind the same load balancer), with its own locks, limits and caches.
pub struct Replica {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The replica.
    pub broker: Broker,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Replica {
    async fn start(
        config: Config,
        master_keys: impl Into<MasterKeys>,
        clock: Clock,
        listener: tokio::net::TcpListener,
    ) -> Self {
        let url = format!("http://{}", listener.local_addr().unwrap());
        let broker = oauth_broker::open(config, master_keys, clock)
            .await
            .unwrap();
        let (shutdown, stopped) = oneshot::channel::<()>();
        let stopped = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(oauth_broker::run(broker.clone(), None, listener, stopped));
        Self {
            url,
            broker,
            shutdown,
            task,
        }
    }

    /// Stops the replica and waits for it.
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        self.task.await.unwrap().unwrap();
    }
}

impl TestBroker {
    /// The master key (a copy).
    pub fn master_key(&self) -> MasterKey {
        self.master_key.clone()
    }

    /// The master key in base64, for a replica in another process.
    pub fn master_key_base64(&self) -> String {
        self.master_key.to_base64().to_string()
    }

    /// Starts another replica on this broker's database (same configuration, master key and
    /// clock; its own port, locks and rate limits).
    pub async fn start_replica(&self) -> Replica {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (config, key, clock) = (
            self.config.clone(),
            self.master_key.clone(),
            self.clock.clone(),
        );
        Replica::start(config, key, clock, listener).await
    }

    /// Starts another replica on this broker's database with other master keys, as after a
    /// key rotation.
    pub async fn start_replica_with_keys(&self, keys: MasterKeys) -> Replica {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Replica::start(self.config.clone(), keys, self.clock.clone(), listener).await
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        self.database.drop_blocking();
    }
}

/// Whether `haystack` contains `needle` anywhere.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}
