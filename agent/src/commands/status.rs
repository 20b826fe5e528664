//! `oauth-agent status [--json]`: each account, its provider and broker, token expiry, last
//! refresh, last error, and whether the daemon runs.

use super::{status_table, Context, Failure};
use crate::config::AgentConfig;
use crate::local;
use oauth_protocol::{AccountStatus, AgentStatus};
use serde::Serialize;

/// What `status --json` prints. Stable: fields are only ever added, never renamed or removed.
/// `{"daemon_running": bool, "accounts": [AccountStatus]}`, each account as the daemon's
/// `GET /v1/status` gives it (`name`, `provider`, `broker`, `expires_at`, `last_refresh`,
/// `last_error`, `reauth_required`); without a daemon the token fields are null.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Whether a daemon answered on the socket.
    pub daemon_running: bool,
    /// Every configured account.
    pub accounts: Vec<AccountStatus>,
}

/// Prints the status as a table, or JSON with `--json`.
pub async fn run(ctx: &Context, json: bool) -> Result<(), Failure> {
    let report = gather(ctx).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
        return Ok(());
    }
    let daemon = if report.daemon_running {
        "running"
    } else {
        "not running (token state unknown)"
    };
    println!("daemon: {daemon}");
    if report.accounts.is_empty() {
        println!("no accounts; add one with `oauth-agent login NAME --provider PROVIDER`");
        return Ok(());
    }
    let now = time::OffsetDateTime::now_utc();
    print!(
        "{}",
        status_table::render(&report.accounts, report.daemon_running, now)
    );
    for account in report.accounts.iter().filter(|a| a.reauth_required) {
        println!(
            "sign in again: oauth-agent login {} --provider {}",
            account.name, account.provider
        );
    }
    Ok(())
}

async fn gather(ctx: &Context) -> Result<Report, Failure> {
    if let Ok(reply) = local::request(&ctx.socket, "GET", "/v1/status").await {
        if reply.status == 200 {
            if let Ok(status) = serde_json::from_slice::<AgentStatus>(&reply.body) {
                return Ok(Report {
                    daemon_running: true,
                    accounts: status.accounts,
                });
            }
        }
        return Err(super::reply_failure(&reply));
    }
    let config = AgentConfig::load(&ctx.config_path)?;
    let accounts = config
        .accounts
        .into_iter()
        .map(|(name, account)| AccountStatus {
            name,
            provider: account.provider,
            broker: account.broker,
            expires_at: None,
            last_refresh: None,
            last_error: None,
            reauth_required: false,
        })
        .collect();
    Ok(Report {
        daemon_running: false,
        accounts,
    })
}
