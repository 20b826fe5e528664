//! Counting the answers of a hostile-input sweep per endpoint, and the summary lines
//! `HOSTILE <endpoint>: cases=N 5xx=M ...` that docs/reliability.md quotes.

use crate::raw_http::Outcome;

/// Answers per endpoint, in the order endpoints first appear.
#[derive(Debug, Default)]
pub struct Tally {
    endpoints: Vec<(String, Counts)>,
}

/// The answers one endpoint gave.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// Requests sent.
    pub cases: usize,
    /// 2xx answers.
    pub success: usize,
    /// 3xx answers.
    pub redirect: usize,
    /// 4xx answers.
    pub client_error: usize,
    /// 5xx answers.
    pub server_error: usize,
    /// Connections closed without an answer.
    pub closed: usize,
    /// Requests neither answered nor closed in time.
    pub hung: usize,
}

impl Tally {
    /// Counts one answer of `endpoint`.
    pub fn count(&mut self, endpoint: &str, outcome: &Outcome) {
        let index = match self.endpoints.iter().position(|(e, _)| e == endpoint) {
            Some(index) => index,
            None => {
                self.endpoints
                    .push((endpoint.to_owned(), Counts::default()));
                self.endpoints.len() - 1
            }
        };
        let counts = &mut self.endpoints[index].1;
        counts.cases += 1;
        match outcome {
            Outcome::Closed => counts.closed += 1,
            Outcome::Hung => counts.hung += 1,
            Outcome::Answered(r) if r.status >= 500 => counts.server_error += 1,
            Outcome::Answered(r) if r.status >= 400 => counts.client_error += 1,
            Outcome::Answered(r) if r.status >= 300 => counts.redirect += 1,
            Outcome::Answered(_) => counts.success += 1,
        }
    }

    /// 5xx answers over all endpoints.
    pub fn server_errors(&self) -> usize {
        self.endpoints.iter().map(|(_, c)| c.server_error).sum()
    }

    /// Requests over all endpoints that were neither answered nor closed.
    pub fn hung(&self) -> usize {
        self.endpoints.iter().map(|(_, c)| c.hung).sum()
    }

    /// Requests over all endpoints.
    pub fn cases(&self) -> usize {
        self.endpoints.iter().map(|(_, c)| c.cases).sum()
    }

    /// One line per endpoint and a total, each starting `HOSTILE {prefix}`, with `note` in
    /// the parentheses (the database, say).
    pub fn summary(&self, prefix: &str, note: &str) -> String {
        let mut text = String::new();
        for (endpoint, c) in &self.endpoints {
            text.push_str(&format!(
                "HOSTILE {prefix}{endpoint}: cases={} 5xx={} \
                 (4xx={}, closed={}, 3xx={}, 2xx={}, hung={}; {note})\n",
                c.cases, c.server_error, c.client_error, c.closed, c.redirect, c.success, c.hung
            ));
        }
        text.push_str(&format!(
            "HOSTILE {prefix}total: cases={} 5xx={} ({note})\n",
            self.cases(),
            self.server_errors()
        ));
        text
    }

    /// Writes [`summary`](Self::summary) straight to stderr: the test harness hides
    /// `eprintln!` of passing tests, and these lines are the sweep's figures.
    pub fn print(&self, prefix: &str, note: &str) {
        let text = self.summary(prefix, note);
        std::io::Write::write_all(&mut std::io::stderr(), text.as_bytes()).unwrap();
    }
}
