//! `oauth-agent logout NAME`: revoke at the broker, delete the authid, forget the account.
//! Running it again, or for an account that is already gone, succeeds.

use super::{reload_daemon, Context, Failure};
use crate::broker::{BrokerClient, BrokerError};
use crate::config::AgentConfig;
use oauth_protocol::ErrorCode;
use std::time::Duration;

/// Logs `name` out.
pub async fn run(ctx: &Context, name: &str) -> Result<(), Failure> {
    crate::config::check_account_name(name).map_err(Failure::general)?;
    let mut config = AgentConfig::load(&ctx.config_path)?;
    let broker = ctx
        .broker
        .clone()
        .or_else(|| config.accounts.get(name).map(|a| a.broker.clone()));

    if let (Some(authid), Some(broker)) = (ctx.store.get(name).await?, broker) {
        let revoked = BrokerClient::new(Duration::from_secs(30))
            .revoke(&broker, &authid)
            .await;
        match revoked {
            Ok(()) => {}
            Err(BrokerError::Api { code: ErrorCode::InvalidAuthid, .. }) => {}
            Err(error) => {
                return Err(Failure::from_code(
                    error.code(),
                    format!(
                        "account '{name}': could not revoke at the broker ({error}); nothing was \
                         deleted. Run `oauth-agent logout {name}` again when the broker is reachable"
                    ),
                ))
            }
        }
    }

    ctx.store.delete(name).await?;
    if config.accounts.remove(name).is_some() {
        config.save(&ctx.config_path)?;
    }
    reload_daemon(ctx).await;
    eprintln!("account '{name}' is logged out");
    Ok(())
}
