//! The periodic clean-up: unused grants, expired sign-ins, idle rate-limit state.

use super::Broker;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often the reaper runs.
const EVERY: Duration = Duration::from_secs(600);

/// Program sign-ins are kept this long after expiry, so that a late poll gets 410, not 404.
const LOGIN_GRACE_SECS: i64 = 3600;

impl Broker {
    /// One reaper pass.
    pub async fn reap_once(&self) -> Result<crate::store::Reaped, crate::store::StoreError> {
        let now = self.inner.clock.now();
        let unused_since =
            now - i64::try_from(self.inner.config.reap_after.as_secs()).unwrap_or(i64::MAX);
        let reaped = self
            .inner
            .store
            .reap(unused_since, now, now - LOGIN_GRACE_SECS)
            .await?;
        self.inner.limits.sweep();
        if reaped.grants > 0 {
            tracing::info!(grants = reaped.grants, "deleted grants unused for too long");
        }
        Ok(reaped)
    }
}

/// Runs [`Broker::reap_once`] now and then every ten minutes, until the handle is aborted.
pub fn spawn_reaper(broker: Broker) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(EVERY);
        loop {
            interval.tick().await;
            if let Err(error) = broker.reap_once().await {
                tracing::error!(%error, "reaper pass failed");
            }
        }
    })
}
