//! `oauth-agent token NAME [--min-valid SECS] [--json]`.

use super::{ask, reply_failure, Context, Failure};
use oauth_protocol::AgentToken;
use url::form_urlencoded::byte_serialize;

/// Prints the access token (or the JSON reply) on standard output.
pub async fn run(
    ctx: &Context,
    name: &str,
    min_valid: Option<u64>,
    json: bool,
    autostart: bool,
) -> Result<(), Failure> {
    crate::config::check_account_name(name).map_err(Failure::general)?;
    let reply = ask(ctx, "GET", &token_path(name, min_valid), autostart).await?;
    if reply.status != 200 {
        return Err(reply_failure(&reply));
    }
    if json {
        println!("{}", String::from_utf8_lossy(&reply.body));
        return Ok(());
    }
    let token: AgentToken = serde_json::from_slice(&reply.body)
        .map_err(|_| Failure::general("the daemon sent a reply this agent does not understand"))?;
    println!("{}", token.access_token);
    Ok(())
}

/// `/v1/tokens/{name}[?min_valid_secs=N]`.
pub fn token_path(name: &str, min_valid: Option<u64>) -> String {
    let name: String = byte_serialize(name.as_bytes()).collect();
    match min_valid {
        Some(secs) => format!("/v1/tokens/{name}?min_valid_secs={secs}"),
        None => format!("/v1/tokens/{name}"),
    }
}
