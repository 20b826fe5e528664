//! Shared pieces of the benchmark binaries (issue #7; see docs/performance.md and
//! `scripts/bench`): reading the body a baseline answers with, and summarising latencies.

use std::time::Duration;

/// The bytes a baseline server answers with: the file the script saved from one real reply.
pub fn read_body(path: &std::path::Path) -> anyhow::Result<hyper::body::Bytes> {
    Ok(std::fs::read(path)?.into())
}

/// Requests per second and latency percentiles of one load run, as one JSON line.
#[derive(Debug)]
pub struct Summary {
    /// Successful requests.
    pub requests: usize,
    /// Requests that failed or answered other than 200.
    pub errors: usize,
    /// How long the run lasted.
    pub elapsed: Duration,
    /// Sorted latencies of the successful requests, in microseconds.
    pub latencies_us: Vec<u32>,
}

impl Summary {
    /// The `p` quantile (0..=1) in milliseconds; 0 without samples.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        let n = self.latencies_us.len();
        if n == 0 {
            return 0.0;
        }
        let index = ((n as f64 * p) as usize).min(n - 1);
        f64::from(self.latencies_us[index]) / 1000.0
    }

    /// The JSON line `scripts/bench` reads.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "requests": self.requests,
            "errors": self.errors,
            "rps": self.requests as f64 / self.elapsed.as_secs_f64(),
            "p50_ms": self.percentile_ms(0.50),
            "p99_ms": self.percentile_ms(0.99),
        })
    }
}
