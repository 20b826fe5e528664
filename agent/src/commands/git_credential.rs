//! `oauth-agent git-credential get|store|erase`: git's credential helper protocol.
//!
//! Configure with `git config credential.helper '!oauth-agent git-credential'`. For a host an
//! account lists in `git_hosts`, `get` answers `username`, `password` (the access token) and
//! `password_expiry_utc`; for any other host it prints nothing, so git asks the next helper.
//! `store` is ignored (the token is not git's to keep) and `erase` drops the cached token.

use super::{ask, reply_failure, token::token_path, Context, Failure};
use crate::config::AgentConfig;
use oauth_protocol::AgentToken;
use std::collections::BTreeMap;
use std::io::Read;

/// git sends a handful of short lines; anything larger is not git.
const MAX_INPUT: u64 = 64 * 1024;

/// The helper's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Action {
    /// Return a credential.
    Get,
    /// Save a credential (ignored).
    Store,
    /// Forget a credential (drops the cached token).
    Erase,
}

/// Reads git's attributes (`key=value` lines up to a blank line or the end).
pub fn parse_attributes(input: &str) -> BTreeMap<String, String> {
    input
        .lines()
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect()
}

/// Reads git's request from `input` (standard input): at most 64 KiB of UTF-8 text.
pub fn read_attributes(input: impl Read) -> Result<BTreeMap<String, String>, Failure> {
    let mut text = String::new();
    input
        .take(MAX_INPUT)
        .read_to_string(&mut text)
        .map_err(|_| Failure::general("git-credential: the input is not UTF-8 text"))?;
    Ok(parse_attributes(&text))
}

/// Runs the helper with standard input and output.
pub async fn run(ctx: &Context, action: Action) -> Result<(), Failure> {
    let attributes = read_attributes(std::io::stdin())?;
    if action == Action::Store {
        return Ok(());
    }
    let Some(host) = attributes.get("host") else {
        return Ok(());
    };
    let config = AgentConfig::load(&ctx.config_path)?;
    let Some((name, account)) = config.account_for_git_host(host) else {
        return Ok(());
    };

    if action == Action::Erase {
        let path = token_path(name, None);
        let _ = ask(ctx, "DELETE", &path, false).await;
        return Ok(());
    }
    let reply = ask(ctx, "GET", &token_path(name, None), true).await?;
    if reply.status != 200 {
        return Err(reply_failure(&reply));
    }
    let token: AgentToken = serde_json::from_slice(&reply.body)
        .map_err(|_| Failure::general("the daemon sent a reply this agent does not understand"))?;
    let expiry = time::OffsetDateTime::now_utc().unix_timestamp()
        + i64::try_from(token.expires_in).unwrap_or(0);
    let username = account.git_username.as_deref().unwrap_or("oauth2");
    print!(
        "username={username}\npassword={}\npassword_expiry_utc={expiry}\n",
        token.access_token
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_git_attributes() {
        let attributes =
            parse_attributes("protocol=https\nhost=git.example.com:8443\npath=a=b\n\nx=y\n");
        assert_eq!(attributes["host"], "git.example.com:8443");
        assert_eq!(attributes["path"], "a=b");
        assert!(!attributes.contains_key("x"));
        assert!(parse_attributes("garbage\n").is_empty());
    }

    #[test]
    fn reads_text_and_refuses_other_bytes() {
        let attributes = read_attributes(&b"host=example.com\r\n\r\n"[..]).unwrap();
        assert_eq!(attributes["host"], "example.com");
        assert!(read_attributes(&b"host=\xff\n"[..]).is_err());
    }
}
