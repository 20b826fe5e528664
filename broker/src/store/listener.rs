//! Hears of grant rows changed by other processes on PostgreSQL, for the grant cache.
//!
//! The `grants_changed` trigger (migration 0003) sends the hex id of every updated or deleted
//! grant, and `*` on TRUNCATE, on the `oauth_broker_grants` channel when the writing transaction
//! commits. This task listens on its own connection (outside the pool, so it takes no slot from
//! requests) and drops the named rows from the cache.
//!
//! Notifications sent while the connection is down are lost, so the cache is suspended (empty,
//! serving nothing) from the moment the connection fails until a new LISTEN is in place, and
//! emptied again then.

use super::cache::GrantCache;
use crate::crypto::authid::GrantId;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// The channel the trigger notifies.
pub(super) const CHANNEL: &str = "oauth_broker_grants";

/// The longest pause between attempts to listen again.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Starts listening for `cache`, connecting with `options`; the task ends with the cache.
pub(super) fn spawn(options: PgConnectOptions, cache: &Arc<GrantCache>) {
    let weak = Arc::downgrade(cache);
    let task = tokio::spawn(run(options, weak));
    cache.set_listener(task.abort_handle());
}

async fn run(options: PgConnectOptions, cache: Weak<GrantCache>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match subscribe(&options).await {
            Ok(listener) => {
                let Some(strong) = cache.upgrade() else {
                    return;
                };
                strong.resume();
                drop(strong);
                backoff = Duration::from_millis(100);
                tracing::debug!("listening for grant changes; grant cache on");

                let error = listen(listener, &cache).await;
                let Some(strong) = cache.upgrade() else {
                    return;
                };
                strong.suspend();
                tracing::warn!(
                    error = %error,
                    "lost the PostgreSQL channel that announces grant changes; the grant cache \
                     is off until it is back"
                );
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for grant changes; retrying");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// A listener on its own one-connection pool, subscribed to [`CHANNEL`].
async fn subscribe(options: &PgConnectOptions) -> Result<PgListener, sqlx::Error> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_lazy_with(options.clone());
    let mut listener = PgListener::connect_with(&pool).await?;
    // Report a lost connection rather than reconnect silently: notifications may be lost.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Applies notifications until the connection fails; returns why.
async fn listen(mut listener: PgListener, cache: &Weak<GrantCache>) -> String {
    loop {
        let notification = match listener.try_recv().await {
            Ok(Some(notification)) => notification,
            Ok(None) => return "connection closed".to_owned(),
            Err(error) => return error.to_string(),
        };
        let Some(cache) = cache.upgrade() else {
            return "broker shutting down".to_owned();
        };
        match parse_id(notification.payload()) {
            Some(id) => cache.invalidate(&id),
            None => cache.clear(),
        }
    }
}

/// The grant a notification names; `None` for `*` or anything unexpected, which clears all.
fn parse_id(payload: &str) -> Option<GrantId> {
    let bytes = payload.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut id = [0u8; 32];
    for (out, pair) in id.iter_mut().zip(bytes.chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *out = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(GrantId(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_names_a_grant_by_its_hex_id() {
        let hex = "00ff".repeat(16);
        let id = parse_id(&hex).expect("an id");
        assert_eq!(&id.0[..4], &[0x00, 0xff, 0x00, 0xff]);

        assert!(parse_id("*").is_none());
        assert!(parse_id(&"0".repeat(63)).is_none());
        assert!(parse_id(&"zz".repeat(32)).is_none());
        assert!(parse_id(&"é".repeat(32)).is_none());
    }
}
