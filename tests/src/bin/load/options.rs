//! The load run's command line, checked once so that the scenarios never see a value that
//! makes no sense.

use clap::Parser;
use std::time::Duration;

/// Load suite, loopback only: (a) many agent daemons and direct clients against one broker,
/// (b) many local clients against one agent daemon. Each scenario runs for `--duration`
/// seconds; the run exits non-zero on any error or when resident memory grows.
#[derive(Debug, Clone, Parser)]
pub struct Options {
    /// Seconds each scenario runs.
    #[arg(long, default_value_t = 60)]
    pub duration: u64,
    /// Agent daemons (`oauth-agent daemon` processes), each signed in with a grant of its own.
    #[arg(long, default_value_t = 50)]
    pub agents: usize,
    /// Concurrent local clients on one agent daemon in scenario (b).
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Concurrent direct `POST /v1/token` clients on the broker in scenario (a).
    #[arg(long, default_value_t = 16)]
    pub broker_clients: usize,
    /// Grants the direct broker clients spread their requests over.
    #[arg(long, default_value_t = 100)]
    pub grants: usize,
    /// Milliseconds between token requests of each agent's one local client in scenario (a).
    #[arg(long, default_value_t = 100)]
    pub agent_interval_ms: u64,
    /// Lifetime of the provider's access tokens in seconds; short, so that the broker and the
    /// agents refresh during the run (the broker refreshes when half of it is left). At least
    /// 30: the broker takes shorter lifetimes for 30 s.
    #[arg(long, default_value_t = 30)]
    pub token_lifetime: u64,
    /// A fresh PostgreSQL database (`OAUTH_TEST_POSTGRES_URL`) instead of SQLite.
    #[arg(long)]
    pub postgres: bool,
    /// Milliseconds between resident memory samples.
    #[arg(long, default_value_t = 200)]
    pub sample_ms: u64,
    /// Resident memory growth tolerated (peak of the run's second half over the first half's),
    /// in MiB; the larger of this and `--max-growth-percent` applies.
    #[arg(long, default_value_t = 4)]
    pub max_growth_mib: u64,
    /// Resident memory growth tolerated, in percent of the first half's peak.
    #[arg(long, default_value_t = 20)]
    pub max_growth_percent: u64,
}

impl Options {
    /// The parsed command line; exits with a usage message when a value makes no sense.
    pub fn parse_checked() -> Self {
        let options = Self::parse();
        if let Err(problem) = options.check() {
            use clap::CommandFactory as _;
            Self::command()
                .error(clap::error::ErrorKind::ValueValidation, problem)
                .exit();
        }
        options
    }

    fn check(&self) -> Result<(), String> {
        if self.duration == 0 || self.sample_ms == 0 {
            return Err("--duration and --sample-ms must be at least 1".into());
        }
        if self.agents == 0 || self.clients == 0 {
            return Err("--agents and --clients must be at least 1".into());
        }
        if self.broker_clients > 0 && self.grants == 0 {
            return Err("--broker-clients needs --grants of at least 1".into());
        }
        if self.token_lifetime < 30 {
            return Err(
                "--token-lifetime must be at least 30: the broker takes shorter \
                        lifetimes for 30 s and would serve expired tokens"
                    .into(),
            );
        }
        Ok(())
    }

    /// How long each scenario runs.
    pub fn duration(&self) -> Duration {
        Duration::from_secs(self.duration)
    }
}
