//! Request latencies from a benchmark or load run, summarised as the percentiles the docs
//! report (`bench-scaling`, `load`).

use std::time::Duration;

/// Latencies in the order they were measured, until summarised.
#[derive(Debug, Clone, Default)]
pub struct Latencies(Vec<Duration>);

/// The summary of a run's latencies.
#[derive(Debug, Clone, Copy, Default)]
pub struct Percentiles {
    /// How many were measured.
    pub count: usize,
    /// The median.
    pub p50: Duration,
    /// The 99th percentile.
    pub p99: Duration,
    /// The slowest.
    pub max: Duration,
}

impl Latencies {
    /// Adds one measurement.
    pub fn push(&mut self, latency: Duration) {
        self.0.push(latency);
    }

    /// Adds another run's measurements.
    pub fn append(&mut self, other: Latencies) {
        self.0.extend(other.0);
    }

    /// How many were measured.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none were.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// p50, p99 and max (all zero when nothing was measured).
    pub fn percentiles(mut self) -> Percentiles {
        self.0.sort_unstable();
        let Some(&max) = self.0.last() else {
            return Percentiles::default();
        };
        let at = |p: f64| self.0[((self.0.len() as f64 * p) as usize).min(self.0.len() - 1)];
        Percentiles {
            count: self.0.len(),
            p50: at(0.50),
            p99: at(0.99),
            max,
        }
    }
}

/// `duration` in milliseconds, for printing.
pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let mut latencies = Latencies::default();
        for ms in (1..=100).rev() {
            latencies.push(Duration::from_millis(ms));
        }
        let summary = latencies.percentiles();
        assert_eq!(summary.count, 100);
        assert_eq!(summary.p50, Duration::from_millis(51));
        assert_eq!(summary.p99, Duration::from_millis(100));
        assert_eq!(summary.max, Duration::from_millis(100));
    }

    #[test]
    fn no_measurements_summarise_to_zero() {
        assert_eq!(Latencies::default().percentiles().count, 0);
    }
}
