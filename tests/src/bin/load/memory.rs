//! Resident memory of the processes under load, sampled from `/proc/PID/status` while a
//! scenario runs. Memory is flat when the peak of the run's second half is no higher than the
//! first half's (which includes the warm-up): a leak of a few bytes per request shows as
//! growth, one-off allocations at start do not.

use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// `VmRSS` of process `pid` in KiB; `None` once it has gone.
pub fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Samples processes at an interval until finished.
#[derive(Debug)]
pub struct Sampler {
    /// Sent (or dropped) by `finish`; the sampling task stops when it closes.
    stop: oneshot::Sender<()>,
    task: JoinHandle<Vec<Vec<u64>>>,
}

impl Sampler {
    /// Starts sampling `pids` every `every`.
    pub fn start(pids: Vec<u32>, every: Duration) -> Self {
        let (stop, mut stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let mut samples = vec![Vec::new(); pids.len()];
            let mut ticks = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = &mut stopped => return samples,
                    _ = ticks.tick() => {}
                }
                for (pid, series) in pids.iter().zip(&mut samples) {
                    series.extend(resident_kib(*pid));
                }
            }
        });
        Self { stop, task }
    }

    /// Stops sampling; one summary per process, in the order given to `start`.
    pub async fn finish(self) -> Vec<Memory> {
        let _ = self.stop.send(());
        let samples = self.task.await.unwrap_or_default();
        samples.iter().map(|series| Memory::of(series)).collect()
    }
}

/// One process's memory over a scenario (or the worst of several processes).
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Highest resident memory seen, KiB.
    pub peak_kib: u64,
    /// Highest in the first half of the samples, KiB.
    pub first_half_peak_kib: u64,
    /// The second half's peak minus the first half's, KiB.
    pub growth_kib: i64,
    /// How many samples were taken.
    pub samples: usize,
}

/// How much growth is tolerated: the larger of a fixed amount and a share of the first half's
/// peak.
#[derive(Debug, Clone, Copy)]
pub struct GrowthLimit {
    /// KiB.
    pub kib: u64,
    /// Percent of the first half's peak.
    pub percent: u64,
}

impl Memory {
    fn of(series: &[u64]) -> Self {
        let (first, second) = series.split_at(series.len() / 2);
        let first_peak = first.iter().copied().max().unwrap_or(0);
        let second_peak = second.iter().copied().max().unwrap_or(0);
        Self {
            peak_kib: first_peak.max(second_peak),
            first_half_peak_kib: first_peak,
            growth_kib: i64::try_from(second_peak).unwrap_or(i64::MAX)
                - i64::try_from(first_peak).unwrap_or(i64::MAX),
            samples: series.len(),
        }
    }

    /// The highest peak and the largest growth of several processes.
    pub fn worst(all: &[Memory]) -> Memory {
        let worst_growth = all.iter().max_by_key(|m| m.growth_kib).copied();
        Memory {
            peak_kib: all.iter().map(|m| m.peak_kib).max().unwrap_or(0),
            samples: all.iter().map(|m| m.samples).min().unwrap_or(0),
            ..worst_growth.unwrap_or_default()
        }
    }

    /// Whether memory grew beyond `limit`, or too few samples were taken to tell.
    pub fn grew(&self, limit: GrowthLimit) -> bool {
        let allowed = limit
            .kib
            .max(self.first_half_peak_kib * limit.percent / 100);
        self.samples < 4 || self.growth_kib > i64::try_from(allowed).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: GrowthLimit = GrowthLimit {
        kib: 1024,
        percent: 10,
    };

    #[test]
    fn warm_up_in_the_first_half_is_not_growth() {
        let memory = Memory::of(&[5_000, 20_000, 20_100, 19_900, 20_050, 20_000]);
        assert_eq!(memory.peak_kib, 20_100);
        assert_eq!(memory.growth_kib, -50);
        assert!(!memory.grew(LIMIT));
    }

    #[test]
    fn steady_growth_is_flagged() {
        let series: Vec<u64> = (0..100).map(|i| 20_000 + i * 100).collect();
        let memory = Memory::of(&series);
        assert_eq!(memory.growth_kib, 5_000);
        assert!(memory.grew(LIMIT));
    }

    #[test]
    fn the_worst_of_several_keeps_the_largest_growth_and_peak() {
        let a = Memory::of(&[10_000, 10_000, 30_000, 30_000]);
        let b = Memory::of(&[50_000, 50_000, 50_000, 50_000]);
        let worst = Memory::worst(&[a, b]);
        assert_eq!(worst.peak_kib, 50_000);
        assert_eq!(worst.growth_kib, 20_000);
        assert!(worst.grew(LIMIT));
    }
}
