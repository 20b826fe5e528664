//! Everything the scenarios run against: the fake provider issuing short-lived tokens, the
//! broker's database and process, grants for the direct broker clients, and the agents,
//! signed in and running their daemons.

use crate::agent::AgentProcess;
use crate::binaries::Binaries;
use crate::broker::BrokerProcess;
use crate::options::Options;
use anyhow::Context as _;
use futures::{StreamExt as _, TryStreamExt as _};
use oauth_e2e::fake::{FakeProvider, ProviderConfig, RunningProvider};
use oauth_e2e::{Browser, TestDatabase};
use std::sync::Arc;
use std::time::Duration;

/// Sign-ins run at most this many at a time.
const SIGN_INS_AT_ONCE: usize = 16;

/// The running system. Dropping it kills every process and drops a PostgreSQL database.
pub struct Fleet {
    /// The broker.
    pub broker: BrokerProcess,
    /// The agents, each with its daemon running.
    pub agents: Vec<AgentProcess>,
    /// Authids for the direct broker clients.
    pub authids: Arc<Vec<String>>,
    /// "SQLite" or "PostgreSQL".
    pub database_kind: &'static str,
    database: TestDatabase,
    _provider: RunningProvider,
    _dir: tempfile::TempDir,
}

impl Fleet {
    /// Starts the provider, the broker and the agents, and signs everyone in.
    pub async fn start(options: &Options, binaries: &Binaries) -> anyhow::Result<Self> {
        let mut fake = ProviderConfig::demo();
        fake.access_token_lifetime = Duration::from_secs(options.token_lifetime);
        let provider = FakeProvider::spawn(fake).await;
        let dir = tempfile::tempdir()?;
        let database = TestDatabase::create(dir.path(), options.postgres).await;
        let database_kind = match database {
            TestDatabase::Sqlite(_) => "SQLite",
            TestDatabase::Postgres { .. } => "PostgreSQL",
        };
        let broker = BrokerProcess::start(
            &binaries.broker,
            dir.path(),
            &provider.base_url,
            &database.url(),
        )
        .await?;

        let grants = if options.broker_clients == 0 {
            0
        } else {
            options.grants
        };
        let authids = Arc::new(sign_in(&broker.url, grants).await?);
        let agents = start_agents(binaries, dir.path(), &broker.url, options.agents).await?;
        Ok(Self {
            broker,
            agents,
            authids,
            database_kind,
            database,
            _provider: provider,
            _dir: dir,
        })
    }

    /// An error when any process has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        self.broker.check_alive()?;
        self.agents
            .iter_mut()
            .try_for_each(AgentProcess::check_alive)
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.database.drop_blocking();
    }
}

/// `count` browser sign-ins at the broker; their authids.
async fn sign_in(broker: &str, count: usize) -> anyhow::Result<Vec<String>> {
    let start = format!("{broker}/login/demo");
    futures::stream::iter(0..count)
        .map(|_| async {
            let page = Browser::new().sign_in(&start).await;
            page.authid().context("the sign-in page shows no authid")
        })
        .buffer_unordered(SIGN_INS_AT_ONCE)
        .try_collect()
        .await
}

/// `count` agents in directories of their own under `dir`, signed in, daemons running.
async fn start_agents(
    binaries: &Binaries,
    dir: &std::path::Path,
    broker: &str,
    count: usize,
) -> anyhow::Result<Vec<AgentProcess>> {
    let agents: Vec<AgentProcess> = (0..count)
        .map(|i| AgentProcess::new(&binaries.agent, dir.join(format!("agents/{i:03}"))))
        .collect::<anyhow::Result<_>>()?;
    futures::stream::iter(&agents)
        .map(|agent| agent.login(broker))
        .buffer_unordered(SIGN_INS_AT_ONCE)
        .try_collect::<Vec<()>>()
        .await?;
    let mut agents = agents;
    futures::future::try_join_all(agents.iter_mut().map(AgentProcess::start_daemon)).await?;
    Ok(agents)
}
