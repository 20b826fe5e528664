//! `oauth-agent status [--json]`: each account, its provider and broker, token expiry, last
//! refresh, last error, and whether the daemon runs.

use super::{Context, Failure};
use crate::config::AgentConfig;
use crate::local;
use oauth_protocol::{AccountStatus, AgentStatus};
use serde::Serialize;

#[derive(Serialize)]
struct Report {
    daemon_running: bool,
    accounts: Vec<AccountStatus>,
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
    println!(
        "daemon: {}",
        if report.daemon_running {
            "running"
        } else {
            "not running"
        }
    );
    if report.accounts.is_empty() {
        println!("no accounts; add one with `oauth-agent login NAME --provider PROVIDER`");
        return Ok(());
    }
    println!(
        "{:<16} {:<12} {:<22} {:<22} STATE",
        "ACCOUNT", "PROVIDER", "EXPIRES", "LAST REFRESH"
    );
    for account in &report.accounts {
        println!(
            "{:<16} {:<12} {:<22} {:<22} {}",
            account.name,
            account.provider,
            account.expires_at.as_deref().unwrap_or("-"),
            account.last_refresh.as_deref().unwrap_or("-"),
            state(account)
        );
    }
    Ok(())
}

fn state(account: &AccountStatus) -> String {
    if account.reauth_required {
        return format!(
            "needs sign-in: oauth-agent login {} --provider {}",
            account.name, account.provider
        );
    }
    match &account.last_error {
        Some(error) => format!("error: {error}"),
        None => "ok".to_owned(),
    }
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
