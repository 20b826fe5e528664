//! The run's results as a markdown table (the form docs/load.md quotes), and the verdict.

use crate::clients::Tally;
use crate::memory::{GrowthLimit, Memory};
use oauth_e2e::millis;
use std::path::Path;

/// One line of the table.
#[derive(Debug)]
pub struct Row {
    /// What ran.
    pub scenario: String,
    /// Seconds.
    pub duration: u64,
    /// How many clients, in words.
    pub concurrency: String,
    /// What the clients saw.
    pub tally: Tally,
    /// Whose memory the row reports, in words.
    pub measured: String,
    /// That process's (or the worst of those processes') memory.
    pub memory: Memory,
}

impl Row {
    /// Whether this row fails the run.
    pub fn failed(&self, limit: GrowthLimit) -> bool {
        self.tally.error_count() > 0 || self.memory.grew(limit)
    }
}

/// Prints the table, then one line per failure.
pub fn print(rows: Vec<Row>, limit: GrowthLimit) -> bool {
    println!(
        "| scenario | duration | concurrency | requests | errors | p50 | p99 | max | RSS of | \
         peak RSS | RSS growth |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut failed = false;
    for row in rows {
        let row_failed = row.failed(limit);
        failed |= row_failed;
        for (error, count) in &row.tally.errors {
            eprintln!("{}: {count} × {error}", row.scenario);
        }
        if row.memory.grew(limit) {
            eprintln!("{}: resident memory grew beyond the limit", row.scenario);
        }
        let errors = row.tally.error_count();
        let latency = row.tally.latencies.percentiles();
        println!(
            "| {} | {} s | {} | {} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {} | {} | {}{} |",
            row.scenario,
            row.duration,
            row.concurrency,
            latency.count,
            errors,
            millis(latency.p50),
            millis(latency.p99),
            millis(latency.max),
            row.measured,
            mib(row.memory.peak_kib as f64),
            growth(&row.memory),
            if row.memory.grew(limit) {
                " (too much)"
            } else {
                ""
            },
        );
    }
    failed
}

fn mib(kib: f64) -> String {
    format!("{:.1} MiB", kib / 1024.0)
}

fn growth(memory: &Memory) -> String {
    let percent = if memory.first_half_peak_kib == 0 {
        0.0
    } else {
        memory.growth_kib as f64 * 100.0 / memory.first_half_peak_kib as f64
    };
    let sign = if memory.growth_kib >= 0 { "+" } else { "" };
    format!(
        "{sign}{} ({sign}{percent:.1} %)",
        mib(memory.growth_kib as f64)
    )
}

/// The last lines of a component's log file, to show with an error.
pub fn tail(component: &str, log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(20);
    format!("the {component}'s log ends:\n{}", lines[start..].join("\n"))
}
