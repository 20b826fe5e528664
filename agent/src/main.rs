//! `oauth-agent`: the command line. Each subcommand is a thin call into the library.

use clap::{CommandFactory as _, Parser, Subcommand};
use oauth_agent::activation::Inherited;
use oauth_agent::commands::service::ServiceAction;
use oauth_agent::commands::{self, git_credential::Action, login::LoginArgs, Context, Failure};
use oauth_agent::config::AgentConfig;
use oauth_agent::daemon::DaemonOptions;
use oauth_agent::paths;
use oauth_agent::store::StoreKind;
use std::path::PathBuf;
use std::process::ExitCode;

/// Per-machine OAuth agent: sign in once, then hand fresh access tokens to local programs.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// The broker's URL (otherwise the one remembered for the account).
    #[arg(long, global = true, env = "OAUTH_AGENT_BROKER")]
    broker: Option<String>,
    /// The daemon's socket (Unix) or pipe (Windows).
    #[arg(long, global = true, env = paths::SOCKET_ENV)]
    socket: Option<PathBuf>,
    /// Where authids are kept [default: keyring; file with --system].
    #[arg(long, global = true, env = "OAUTH_AGENT_STORE", value_enum)]
    store: Option<StoreKind>,
    /// Use the machine's system-wide agent (socket /run/oauth-agent/agent.sock, config in
    /// /etc/oauth-agent, authids in /var/lib/oauth-agent) instead of your own.
    #[arg(long, global = true, env = paths::SYSTEM_ENV)]
    system: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign in once and store the authid under NAME.
    Login {
        /// The account name.
        name: String,
        /// The provider at the broker.
        #[arg(long, required_unless_present = "authid_stdin")]
        provider: Option<String>,
        /// Print the sign-in URL instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
        /// Import an AuthID copied from the broker's page, read from standard input.
        #[arg(long)]
        authid_stdin: bool,
        /// A git host this account answers credentials for (repeatable).
        #[arg(long = "git-host")]
        git_hosts: Vec<String>,
    },
    /// Run the local token service in the foreground (on the socket systemd passes, if any).
    Daemon {
        /// Start it detached in the background instead, unless one already answers.
        #[arg(long)]
        background: bool,
    },
    /// Print an access token for NAME.
    Token {
        /// The account name.
        name: String,
        /// Seconds the token must still be valid for.
        #[arg(long)]
        min_valid: Option<u64>,
        /// Print the whole JSON reply.
        #[arg(long)]
        json: bool,
        /// Fail instead of starting a daemon when none runs.
        #[arg(long)]
        no_autostart: bool,
    },
    /// Show accounts, token expiry, errors, and whether the daemon runs.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke NAME at the broker and forget it here.
    Logout {
        /// The account name.
        name: String,
    },
    /// git credential helper: `credential.helper = "!oauth-agent git-credential"`.
    GitCredential {
        /// get, store or erase.
        #[arg(value_enum)]
        action: Action,
    },
    /// Install, remove or inspect the agent as a service (systemd, launchd, Windows logon).
    Service {
        #[command(subcommand)]
        action: ServiceAction,
    },
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write man pages for oauth-agent and its subcommands into DIR.
    #[command(hide = true)]
    Man {
        /// The folder to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let ctx = Context::new(cli.broker, cli.socket, cli.store, cli.system);
    // Before the runtime's threads exist: taking the passed socket edits the environment.
    let inherited = match &cli.command {
        Command::Daemon { background: false } => Inherited::from_env().map_err(Failure::from),
        _ => Ok(Inherited::default()),
    };
    let runtime = runtime_for(&cli.command)
        .map_err(|e| Failure::general(format!("cannot start the async runtime: {e}")));
    let result = match (inherited, runtime) {
        (Ok(inherited), Ok(runtime)) => runtime.block_on(dispatch(&ctx, cli.command, inherited)),
        (Err(failure), _) | (_, Err(failure)) => Err(failure),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { code, message }) => {
            eprintln!("oauth-agent: {message}");
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
    }
}

/// The daemon serves many clients at once on every core; every other command is a short
/// exchange, which one thread starts faster for (`oauth-agent token` runs once per backup job).
fn runtime_for(command: &Command) -> std::io::Result<tokio::runtime::Runtime> {
    match command {
        Command::Daemon { background: false } => tokio::runtime::Runtime::new(),
        _ => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
    }
}

async fn dispatch(ctx: &Context, command: Command, inherited: Inherited) -> Result<(), Failure> {
    match command {
        Command::Login {
            name,
            provider,
            no_browser,
            authid_stdin,
            git_hosts,
        } => {
            let args = LoginArgs {
                name,
                provider,
                no_browser,
                authid_stdin,
                git_hosts,
            };
            commands::login::run(ctx, &args).await
        }
        Command::Daemon { background: true } => commands::daemon::start_background(ctx).await,
        Command::Daemon { background: false } => {
            let _ = AgentConfig::load(&ctx.config_path)?;
            let options = DaemonOptions {
                broker_override: ctx.broker.clone(),
                ..DaemonOptions::default()
            };
            let shutdown = commands::daemon::shutdown_signal();
            commands::daemon::run(ctx, options, inherited, shutdown).await
        }
        Command::Token {
            name,
            min_valid,
            json,
            no_autostart,
        } => commands::token::run(ctx, &name, min_valid, json, !no_autostart).await,
        Command::Status { json } => commands::status::run(ctx, json).await,
        Command::Logout { name } => commands::logout::run(ctx, &name).await,
        Command::GitCredential { action } => commands::git_credential::run(ctx, action).await,
        Command::Service { action } => commands::service::run(ctx, action).await,
        Command::Completions { shell } => {
            commands::docs::completions(Cli::command(), shell, &mut std::io::stdout());
            Ok(())
        }
        Command::Man { out } => {
            for page in commands::docs::man_pages(Cli::command(), &out)? {
                println!("{}", out.join(page).display());
            }
            Ok(())
        }
    }
}

/// Logs to standard error; filter from `RUST_LOG` (default `warn` for commands; the daemon's
/// service unit sets `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
