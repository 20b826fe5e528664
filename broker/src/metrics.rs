//! Prometheus metrics: requests by route and status, refreshes by provider and outcome, cache
//! hits by provider, grant rows served from memory or read from the database. Served as text at
//! `GET /metrics`.

use crate::store::CacheCounters;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use std::sync::Arc;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefreshLabels {
    provider: String,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    provider: String,
}

/// The broker's counters. Cheap to clone; clones count into the same registry.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    refreshes: Family<RefreshLabels, Counter>,
    cache_hits: Family<ProviderLabels, Counter>,
    grant_cache: CacheCounters,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("oauth_broker");
        let requests = Family::default();
        let refreshes = Family::default();
        let cache_hits = Family::default();
        registry.register(
            "http_requests",
            "HTTP requests by matched route and status",
            requests.clone(),
        );
        registry.register(
            "refreshes",
            "Refreshes at the provider by outcome",
            refreshes.clone(),
        );
        registry.register(
            "token_cache_hits",
            "Tokens served from the cache",
            cache_hits.clone(),
        );
        let grant_cache = CacheCounters::default();
        registry.register(
            "grant_cache_hits",
            "Grant rows served from memory for token requests",
            grant_cache.hits.clone(),
        );
        registry.register(
            "grant_cache_misses",
            "Grant rows read from the database for token requests",
            grant_cache.misses.clone(),
        );
        Self {
            registry: Arc::new(registry),
            requests,
            refreshes,
            cache_hits,
            grant_cache,
        }
    }
}

impl Metrics {
    /// Counts one HTTP request. `route` is the matched route template, never the raw path.
    pub fn request(&self, route: &str, status: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                status,
            })
            .inc();
    }

    /// Counts one refresh at the provider; `outcome` is a fixed word such as `ok`.
    pub fn refresh(&self, provider: &str, outcome: &'static str) {
        self.refreshes
            .get_or_create(&RefreshLabels {
                provider: provider.to_owned(),
                outcome,
            })
            .inc();
    }

    /// Counts one token served from the cache.
    pub fn cache_hit(&self, provider: &str) {
        self.cache_hits
            .get_or_create(&ProviderLabels {
                provider: provider.to_owned(),
            })
            .inc();
    }

    /// The counters the store's grant cache counts into.
    pub fn grant_cache(&self) -> CacheCounters {
        self.grant_cache.clone()
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
