//! Capturing every log line of a test process, for secret scans.

use std::io::Write;
use std::sync::{Arc, Mutex};
use tracing_subscriber::fmt::MakeWriter;

/// Everything the process logged since [`LogCapture::install`].
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// Installs a global subscriber at `trace` for every crate, writing here, and routes every
    /// panic of the process through the broker's panic hook into it as well (then on to the
    /// default hook, so the test's own output still shows them). Call once per test binary,
    /// first thing.
    pub fn install() -> Self {
        let capture = Self::default();
        tracing_subscriber::fmt()
            .with_env_filter("trace")
            .with_ansi(false)
            .with_writer(capture.clone())
            .init();
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            oauth_broker::logging::log_panic(info);
            default_hook(info);
        }));
        capture
    }

    /// A copy of what was logged so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
