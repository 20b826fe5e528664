//! `oauth-agent login NAME --provider PROVIDER [--no-browser]` and
//! `oauth-agent login NAME --authid-stdin`: sign in once, store the authid, remember the account.

use super::waiting::{self, Waiting};
use super::{reload_daemon, Context, Failure};
use crate::broker::{BrokerClient, BrokerError, Poll};
use crate::config::{check_account_name, Account, AgentConfig};
use oauth_protocol::{CreateLoginResponse, ErrorCode};
use std::io::BufRead as _;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// The broker used when neither `--broker` nor the account names one: the address
/// `oauth-broker dev` listens on by default.
pub const LOCAL_BROKER: &str = "http://127.0.0.1:8080";

/// The options of `login`.
#[derive(Debug, Clone, Default)]
pub struct LoginArgs {
    /// The account name.
    pub name: String,
    /// The provider at the broker.
    pub provider: Option<String>,
    /// Print the URL instead of opening a browser.
    pub no_browser: bool,
    /// Read an authid from standard input instead of signing in.
    pub authid_stdin: bool,
    /// Git hosts this account answers for.
    pub git_hosts: Vec<String>,
}

/// Signs in and stores the authid; succeeds only once it is stored.
pub async fn run(ctx: &Context, args: &LoginArgs) -> Result<(), Failure> {
    check_account_name(&args.name).map_err(Failure::general)?;
    let mut config = AgentConfig::load(&ctx.config_path)?;
    let known = config.accounts.get(&args.name).cloned();
    let broker = ctx
        .broker
        .clone()
        .or_else(|| known.as_ref().map(|a| a.broker.clone()))
        .unwrap_or_else(|| {
            eprintln!(
                "using the broker at {LOCAL_BROKER} (what `oauth-broker dev` serves); pass \
                 --broker URL for another"
            );
            LOCAL_BROKER.to_owned()
        });
    let client = BrokerClient::new(Duration::from_secs(30));

    let (authid, provider) = if args.authid_stdin {
        import(&client, &broker, args).await?
    } else {
        let provider = args
            .provider
            .clone()
            .or_else(|| known.as_ref().map(|a| a.provider.clone()));
        let provider = provider.ok_or_else(|| {
            Failure::general(format!(
                "which provider? run `oauth-agent login {} --provider NAME`",
                args.name
            ))
        })?;
        (
            sign_in(&client, &broker, &provider, args.no_browser).await?,
            provider,
        )
    };

    ctx.store.set(&args.name, &authid).await?;
    let mut git_hosts = known.map(|a| a.git_hosts).unwrap_or_default();
    git_hosts.extend(
        args.git_hosts
            .iter()
            .filter(|h| !git_hosts.contains(h))
            .cloned()
            .collect::<Vec<_>>(),
    );
    let git_username = config
        .accounts
        .get(&args.name)
        .and_then(|a| a.git_username.clone());
    config.accounts.insert(
        args.name.clone(),
        Account {
            broker,
            provider,
            git_hosts,
            git_username,
        },
    );
    config.save(&ctx.config_path)?;
    reload_daemon(ctx).await;
    eprintln!(
        "account '{}' is signed in; try `oauth-agent token {}`",
        args.name, args.name
    );
    Ok(())
}

/// Reads an authid from standard input, checks it at the broker, and learns its provider.
async fn import(
    client: &BrokerClient,
    broker: &str,
    args: &LoginArgs,
) -> Result<(Zeroizing<String>, String), Failure> {
    eprintln!("paste the AuthID and press Enter:");
    let mut line = Zeroizing::new(String::new());
    std::io::stdin().lock().read_line(&mut line)?;
    let authid = Zeroizing::new(line.trim().to_owned());
    let well_formed = authid.len() == 64
        && authid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(Failure::general(
            "that is not an AuthID: it has 64 letters, digits, '-' and '_'",
        ));
    }

    let token = client
        .token(broker, &authid, None)
        .await
        .map_err(|error| match error.code() {
            ErrorCode::InvalidAuthid => Failure::from_code(
                ErrorCode::InvalidAuthid,
                format!(
                    "the broker at {broker} does not know this AuthID; copy it again from its page"
                ),
            ),
            _ => Failure::from_code(error.code(), format!("cannot check the AuthID: {error}")),
        })?;
    if let Some(expected) = args.provider.as_deref().filter(|p| *p != token.provider) {
        return Err(Failure::general(format!(
            "this AuthID belongs to provider '{}', not '{expected}'",
            token.provider
        )));
    }
    Ok((authid, token.provider))
}

/// Starts a sign-in at the broker, shows it to the user, and polls until it finishes.
async fn sign_in(
    client: &BrokerClient,
    broker: &str,
    provider: &str,
    no_browser: bool,
) -> Result<Zeroizing<String>, Failure> {
    let login = client
        .start_login(broker, provider)
        .await
        .map_err(|e| Failure::from_code(e.code(), e.to_string()))?;
    let minutes = login.expires_in.div_ceil(60);
    if no_browser || webbrowser::open(&login.login_url).is_err() {
        eprintln!(
            "Open this URL in a browser and sign in to {provider} (within {minutes} minutes):"
        );
        println!("{}", login.login_url);
    } else {
        eprintln!(
            "A browser window is open to sign in to {provider}. If not, open:\n{}",
            login.login_url
        );
    }
    let expires = Instant::now() + Duration::from_secs(login.expires_in);
    eprintln!(
        "Waiting for the sign-in to finish ({} left)...",
        waiting::time_left(Duration::from_secs(login.expires_in))
    );
    let mut waiting = Waiting::new(expires);
    let outcome = poll_until_done(client, broker, &login, &mut waiting).await;
    waiting.finish();
    outcome
}

/// Polls the broker at its interval until the sign-in finishes, fails or expires.
async fn poll_until_done(
    client: &BrokerClient,
    broker: &str,
    login: &CreateLoginResponse,
    waiting: &mut Waiting,
) -> Result<Zeroizing<String>, Failure> {
    let interval = Duration::from_secs(login.interval.max(1));
    let deadline = Instant::now() + Duration::from_secs(login.expires_in + 30);
    loop {
        waiting.pause(interval).await;
        match client
            .poll(broker, &login.login_id, &login.poll_secret)
            .await
        {
            Ok(Poll::Done(authid)) => return Ok(authid),
            Ok(Poll::Pending) => {}
            Err(BrokerError::Api {
                code: ErrorCode::Expired,
                ..
            }) => {
                return Err(Failure::general(
                    "the sign-in expired before it was finished; run the same command again",
                ));
            }
            Err(error) if error.is_transient() && error.code() != ErrorCode::NotFound => {
                tracing::debug!(%error, "poll failed; trying again");
            }
            Err(error) => {
                return Err(Failure::from_code(
                    error.code(),
                    format!("the sign-in failed: {error}"),
                ))
            }
        }
        if Instant::now() > deadline {
            return Err(Failure::general(
                "the sign-in expired before it was finished; run the same command again",
            ));
        }
    }
}
