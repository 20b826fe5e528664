//! The background refresher: one task per account that looks at the clock every tick and
//! refreshes when the account's refresh is due. It holds only a weak reference, so it ends by
//! itself once the account is dropped (logout, reload).

use super::account::Account;
use super::Daemon;
use oauth_protocol::MAX_MIN_VALID_SECS;
use std::sync::Weak;

pub(super) fn spawn(daemon: Daemon, account: Weak<Account>) {
    tokio::spawn(async move {
        loop {
            let Some(strong) = account.upgrade() else {
                break;
            };
            if is_due(&strong, daemon.clock().now()) {
                refresh(&daemon, &strong).await;
            }
            drop(strong);
            tokio::time::sleep(daemon.options().tick).await;
        }
    });
}

/// Due: no token yet, or the planned refresh time has come, unless the account needs a sign-in
/// or is backing off.
fn is_due(account: &Account, now: i64) -> bool {
    let state = account.lock();
    if state.reauth_required || state.retry_at > now {
        return false;
    }
    state.cached.is_none() || state.refresh_at <= now
}

async fn refresh(daemon: &Daemon, account: &Account) {
    let _flight = account.refresh.lock().await;
    // An asker may have refreshed while we waited for the lock.
    if !is_due(account, daemon.clock().now()) {
        return;
    }
    // Failures are recorded in the account's state (and logged) by `call_broker`.
    let _ = daemon.call_broker(account, MAX_MIN_VALID_SECS).await;
}
