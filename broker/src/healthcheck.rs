//! `oauth-broker healthcheck`: asks a running broker's `/healthz`, so that a container image
//! without a shell or curl (the distroless one in `installers/docker`) can still have a
//! `HEALTHCHECK`.

use crate::Config;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// How long the whole probe may take before the broker counts as unhealthy.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the broker did not answer as healthy.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// No answer: refused, timed out, or not HTTP.
    #[error("no answer from {url}: {source}")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// Why.
        source: reqwest::Error,
    },
    /// An answer, but not a success.
    #[error("{url} answered {status}")]
    Status {
        /// The URL asked.
        url: String,
        /// The status it gave.
        status: reqwest::StatusCode,
    },
}

/// The `/healthz` URL of a broker listening on `listen`, reached over loopback when it listens
/// on every address.
pub fn url_for(listen: SocketAddr) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/healthz", SocketAddr::new(ip, listen.port()))
}

/// The URL to probe: `url` when given, else the `/healthz` of the configuration's `listen`.
pub fn target(url: Option<String>, config: &std::path::Path) -> anyhow::Result<String> {
    match url {
        Some(url) => Ok(url),
        None => Ok(url_for(Config::load(config)?.listen)),
    }
}

/// Succeeds when `url` answers with a 2xx status within five seconds.
pub async fn probe(url: &str) -> Result<(), HealthError> {
    let unreachable = |source| HealthError::Unreachable {
        url: url.to_owned(),
        source,
    };
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(PROBE_TIMEOUT)
        .build()
        .map_err(unreachable)?;
    let response = client.get(url).send().await.map_err(unreachable)?;
    if !response.status().is_success() {
        return Err(HealthError::Status {
            url: url.to_owned(),
            status: response.status(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_address_listener_is_probed_over_loopback() {
        let url = |addr: &str| url_for(addr.parse().unwrap());
        assert_eq!(url("0.0.0.0:8080"), "http://127.0.0.1:8080/healthz");
        assert_eq!(url("[::]:9000"), "http://[::1]:9000/healthz");
        assert_eq!(url("10.1.2.3:80"), "http://10.1.2.3:80/healthz");
    }
}
