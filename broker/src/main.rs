//! `oauth-broker`: the command line. Each subcommand is a thin call into the library.

use anyhow::Context as _;
use clap::{CommandFactory as _, Parser, Subcommand};
use oauth_broker::{config, dev, Clock, Config};
use std::net::SocketAddr;
use std::path::PathBuf;

/// OAuth token broker for unattended programs.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the broker with a configuration file.
    Serve {
        /// The configuration file.
        #[arg(long, env = config::CONFIG_ENV, default_value = "broker.toml")]
        config: PathBuf,
    },
    /// Run a self-contained demo with a built-in fake provider (loopback only).
    Dev {
        /// Address to listen on; must be a loopback address.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Where the demo keeps its database and master key.
        #[arg(long, default_value = "oauth-broker-dev")]
        data_dir: PathBuf,
    },
    /// Create or upgrade the database schema, then exit (`serve` also upgrades on start).
    Migrate {
        /// The configuration file.
        #[arg(long, env = config::CONFIG_ENV, default_value = "broker.toml")]
        config: PathBuf,
    },
    /// Print a fresh random master key (base64) for `master_key_file`.
    GenKey,
    /// Check a configuration file and exit non-zero on any mistake.
    CheckConfig {
        /// The configuration file.
        #[arg(long, env = config::CONFIG_ENV, default_value = "broker.toml")]
        config: PathBuf,
    },
    /// Exit 0 when a running broker answers on /healthz (for container health checks).
    Healthcheck {
        /// The URL to ask; default: /healthz at the configuration's `listen` address.
        #[arg(long)]
        url: Option<String>,
        /// The configuration file, read only when --url is not given.
        #[arg(long, env = config::CONFIG_ENV, default_value = "broker.toml")]
        config: PathBuf,
    },
    /// Write man pages for oauth-broker and its subcommands into DIR.
    #[command(hide = true)]
    Man {
        /// The folder to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    oauth_broker::logging::init();
    match cli.command {
        Command::Serve { config } => serve(config).await,
        Command::Dev { listen, data_dir } => {
            dev::run(
                dev::DevOptions { listen, data_dir },
                oauth_broker::shutdown_signal(),
            )
            .await
        }
        Command::GenKey => {
            println!(
                "{}",
                *oauth_broker::crypto::master_key::MasterKey::generate().to_base64()
            );
            Ok(())
        }
        Command::CheckConfig { config } => check_config(config),
        Command::Healthcheck { url, config } => {
            let url = oauth_broker::healthcheck::target(url, &config)?;
            Ok(oauth_broker::healthcheck::probe(&url).await?)
        }
        Command::Man { out } => {
            for page in oauth_broker::man::write_pages(Cli::command(), &out)? {
                println!("{}", out.join(page).display());
            }
            Ok(())
        }
        Command::Migrate { config } => {
            let config = Config::load(&config)?;
            oauth_broker::store::Store::connect(&config.database_url).await?;
            println!("the database schema is up to date");
            Ok(())
        }
    }
}

async fn serve(path: PathBuf) -> anyhow::Result<()> {
    let config = Config::load(&path)?;
    let master_keys = oauth_broker::load_master_keys(&config)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let broker = oauth_broker::open(config, master_keys, Clock::default()).await?;
    tracing::info!(addr = %listener.local_addr()?, "broker listening");
    oauth_broker::run(broker, None, listener, oauth_broker::shutdown_signal()).await?;
    Ok(())
}

fn check_config(path: PathBuf) -> anyhow::Result<()> {
    let config = Config::load(&path)?;
    oauth_broker::load_master_keys(&config)?;
    let providers: Vec<&str> = config.providers.keys().map(String::as_str).collect();
    println!(
        "{}: OK ({} provider(s): {}; redirect URI {})",
        path.display(),
        providers.len(),
        providers.join(", "),
        config.redirect_uri()
    );
    Ok(())
}
