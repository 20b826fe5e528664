//! `oauth-broker dev`: a self-contained demo on one machine, offline.
//!
//! It runs the broker on embedded SQLite with a generated master key kept in the data
//! directory, and serves the fake OAuth provider from `tests/fake-provider` under `/demo` in the
//! same process, configured as provider `demo`. The demo provider is the very library the tests
//! use, so the demo and the tests cannot drift apart. It refuses non-loopback addresses: the
//! demo provider signs anyone in.

use crate::config::{
    ClientAuth, ClientSecret, Compat, Config, Limits, MasterKeySource, ProviderConfig,
};
use crate::crypto::master_key::MasterKey;
use anyhow::{bail, Context as _};
use fake_oauth_provider::FakeProvider;
use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// Options of `oauth-broker dev`.
#[derive(Debug, Clone)]
pub struct DevOptions {
    /// Loopback address to listen on.
    pub listen: SocketAddr,
    /// Where the database and master key live.
    pub data_dir: PathBuf,
}

/// Runs the demo until `shutdown` completes.
pub async fn run(
    options: DevOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    if !options.listen.ip().is_loopback() {
        bail!(
            "dev mode is a demo whose built-in provider signs anyone in, so it listens only on a \
             loopback address (like 127.0.0.1:8080), not {}; for real use run `oauth-broker serve`",
            options.listen
        );
    }
    let data_dir = prepare_data_dir(&options.data_dir)?;
    let master_key = load_or_create_key(&data_dir.join("master.key"))?;
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}; pick another address with --listen",
                options.listen
            )
        })?;
    let addr = listener.local_addr()?;

    let demo = fake_oauth_provider::ProviderConfig::demo();
    let config = demo_config(addr, &data_dir, &demo)?;
    let broker = crate::open(config, master_key, crate::Clock::default()).await?;
    let provider = FakeProvider::new(demo);
    let extra = axum::Router::new().nest("/demo", provider.router());

    print_banner(addr, &data_dir);
    crate::run(broker, Some(extra), listener, shutdown).await?;
    Ok(())
}

fn prepare_data_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create data directory {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(std::fs::canonicalize(dir)?)
}

fn load_or_create_key(path: &Path) -> anyhow::Result<MasterKey> {
    if path.exists() {
        return Ok(MasterKey::from_file(path)?);
    }
    let key = MasterKey::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    std::io::Write::write_all(&mut file, key.to_base64().as_bytes())?;
    Ok(key)
}

fn demo_config(
    addr: SocketAddr,
    data_dir: &Path,
    demo: &fake_oauth_provider::ProviderConfig,
) -> anyhow::Result<Config> {
    let public_url = Url::parse(&format!("http://{addr}"))?;
    let endpoint = |path: &str| public_url.join(path);
    let provider = ProviderConfig {
        name: "demo".to_owned(),
        display_name: "Demo provider (not a real account)".to_owned(),
        authorize_url: endpoint("/demo/authorize")?,
        token_url: endpoint("/demo/token")?,
        revocation_url: Some(endpoint("/demo/revoke")?),
        preset: None,
        client_id: demo.client_id.clone(),
        client_secret: demo.client_secret.clone().map(ClientSecret::new),
        scopes: vec!["files.read".to_owned(), "files.write".to_owned()],
        client_auth: ClientAuth::Basic,
        pkce: true,
        authorize_params: BTreeMap::new(),
    };

    Ok(Config {
        listen: addr,
        public_url,
        database_url: format!("sqlite://{}", data_dir.join("broker.db").display()),
        database_max_connections: 16,
        grant_cache_bytes: 8 << 20,
        master_key: MasterKeySource::File(data_dir.join("master.key")),
        previous_master_keys: Vec::new(),
        providers: BTreeMap::from([("demo".to_owned(), provider)]),
        reap_after: Duration::from_secs(365 * 86_400),
        provider_timeout: Duration::from_secs(20),
        trust_forwarded_for: false,
        limits: Limits {
            failed_lookups_per_minute: 10,
            refreshes_per_hour: 60,
        },
        compat: Compat {
            duplicati: true,
            types: BTreeMap::new(),
        },
    })
}

/// Prints where to go next. Write errors are ignored: a closed standard output must not stop
/// the server.
fn print_banner(addr: SocketAddr, data_dir: &Path) {
    let banner = format!(
        "oauth-broker dev: DEMO MODE with a built-in fake provider; not for real accounts.\n\
         Data (database and master key): {dir}\n\n\
         1. Sign in:     open http://{addr}/ in a browser and choose \"Demo provider\".\n\
         2. Get a token: curl -X POST -H \"Authorization: Bearer <authid>\" http://{addr}/v1/token\n\
         \x20  Or with the agent: oauth-agent --broker http://{addr} login demo --provider demo\n\n\
         Press Ctrl-C to stop.\n",
        dir = data_dir.display()
    );
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(banner.as_bytes());
    let _ = stdout.flush();
}
