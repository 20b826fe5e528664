//! `load`: the load suite of issue #6, bounded in time and on loopback only.
//!
//! Starts the real `oauth-broker serve` (SQLite, or PostgreSQL with `--postgres`) in front of
//! the fake provider issuing short-lived tokens, and `--agents` real `oauth-agent daemon`
//! processes, each signed in through `login --no-browser`. Then, for `--duration` seconds
//! each: (a) every agent's local client asks its daemon for a token at a steady pace while
//! direct clients hammer `POST /v1/token`; (b) `--clients` local clients hammer one daemon.
//! Prints a markdown table (requests, errors, p50/p99/max latency, peak resident memory and its
//! growth from the first half of the run to the second) and exits non-zero on any error, any
//! process that died, or memory growth beyond `--max-growth-mib`/`--max-growth-percent`.
//!
//! `cargo run --release -p oauth-e2e --bin load -- --duration 60 --agents 50 --clients 64`
//! (see docs/load.md). The load generator shares the machine's cores with the processes it
//! measures, so the latencies are an upper bound for the components on their own.

mod agent;
mod binaries;
mod broker;
mod clients;
mod fleet;
mod memory;
mod options;
mod report;
mod scenarios;

use memory::GrowthLimit;
use options::Options;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let options = Options::parse_checked();
    match run(&options).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("load: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Both scenarios; `Ok(false)` when the table shows a failure.
async fn run(options: &Options) -> anyhow::Result<bool> {
    let binaries = binaries::Binaries::locate()?;
    eprintln!(
        "starting the broker and {} agents, signing in {} grants",
        options.agents, options.grants
    );
    let mut fleet = fleet::Fleet::start(options, &binaries).await?;
    let load_average = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    eprintln!("scenario (a) for {} s", options.duration);
    let mut a = scenarios::agents_against_broker(&fleet, options).await?;
    eprintln!("scenario (b) for {} s", options.duration);
    let b = scenarios::clients_against_agent(&fleet, options).await?;
    fleet.check_alive()?;

    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    println!("load {}", arguments.join(" "));
    println!(
        "{} broker, access tokens live {} s, {cores} cores shared by the load generator and \
         every process, load average before the run: {}",
        fleet.database_kind,
        options.token_lifetime,
        load_average
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    );
    println!();
    a.rows.extend(b.rows);
    let limit = GrowthLimit {
        kib: options.max_growth_mib * 1024,
        percent: options.max_growth_percent,
    };
    let failed = report::print(a.rows, limit);
    println!();
    println!("{}", a.note);
    println!("{}", b.note);
    if failed {
        eprintln!("{}", fleet.broker.tail());
    }
    Ok(!failed)
}
