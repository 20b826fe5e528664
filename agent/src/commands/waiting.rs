//! What `oauth-agent login` shows while the sign-in is open: on a terminal, a spinner with the
//! time left redrawn in place on standard error; otherwise (logs, pipes, tests) a plain line
//! about once a minute, with no control characters.

use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

const FRAMES: [char; 4] = ['|', '/', '-', '\\'];
const REDRAW: Duration = Duration::from_millis(125);
const PLAIN_EVERY: Duration = Duration::from_secs(60);

/// The waiting indicator of one sign-in.
#[derive(Debug)]
pub struct Waiting {
    terminal: bool,
    deadline: Instant,
    frame: usize,
    last_plain: Instant,
}

impl Waiting {
    /// Starts showing progress for a sign-in that expires at `deadline`.
    pub fn new(deadline: Instant) -> Self {
        Self::with_terminal(deadline, std::io::stderr().is_terminal())
    }

    fn with_terminal(deadline: Instant, terminal: bool) -> Self {
        Self {
            terminal,
            deadline,
            frame: 0,
            last_plain: Instant::now(),
        }
    }

    /// Waits `pause`, redrawing the spinner meanwhile (on a terminal).
    pub async fn pause(&mut self, pause: Duration) {
        if !self.terminal {
            tokio::time::sleep(pause).await;
            self.plain_line();
            return;
        }
        let end = tokio::time::Instant::now() + pause;
        let mut ticks = tokio::time::interval(REDRAW);
        while tokio::time::Instant::now() < end {
            self.draw();
            tokio::select! {
                _ = ticks.tick() => {}
                () = tokio::time::sleep_until(end) => {}
            }
        }
    }

    /// Clears the spinner line; call before printing the outcome.
    pub fn finish(&self) {
        if self.terminal {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }

    fn draw(&mut self) {
        let left = self.deadline.saturating_duration_since(Instant::now());
        let frame = FRAMES[self.frame % FRAMES.len()];
        self.frame += 1;
        eprint!("\r{}", spinner_line(frame, left));
        let _ = std::io::stderr().flush();
    }

    fn plain_line(&mut self) {
        if self.last_plain.elapsed() >= PLAIN_EVERY {
            self.last_plain = Instant::now();
            let left = self.deadline.saturating_duration_since(Instant::now());
            eprintln!("still waiting for the sign-in; {} left", time_left(left));
        }
    }
}

fn spinner_line(frame: char, left: Duration) -> String {
    format!(
        "{frame} waiting for the sign-in in the browser ({} left)",
        time_left(left)
    )
}

/// Time left as `m:ss` (`4:05`, `0:09`), or `h:mm:ss` past an hour.
pub fn time_left(left: Duration) -> String {
    let secs = left.as_secs();
    match secs {
        ..3600 => format!("{}:{:02}", secs / 60, secs % 60),
        _ => format!("{}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_is_minutes_and_seconds() {
        assert_eq!(time_left(Duration::ZERO), "0:00");
        assert_eq!(time_left(Duration::from_millis(9_900)), "0:09");
        assert_eq!(time_left(Duration::from_secs(245)), "4:05");
        assert_eq!(time_left(Duration::from_secs(600)), "10:00");
        assert_eq!(time_left(Duration::from_secs(3600 + 62)), "1:01:02");
    }

    #[test]
    fn the_spinner_line_names_the_time_left() {
        let line = spinner_line('/', Duration::from_secs(299));
        assert_eq!(line, "/ waiting for the sign-in in the browser (4:59 left)");
    }

    #[tokio::test(start_paused = true)]
    async fn off_a_terminal_the_pause_is_a_plain_sleep() {
        let mut waiting = Waiting::with_terminal(Instant::now() + Duration::from_secs(300), false);
        let before = tokio::time::Instant::now();
        waiting.pause(Duration::from_secs(2)).await;
        assert_eq!(before.elapsed(), Duration::from_secs(2));
        assert_eq!(waiting.frame, 0, "no spinner frame was drawn");
    }
}
