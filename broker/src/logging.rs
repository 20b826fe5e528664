//! Log set-up: `tracing` with the filter from `RUST_LOG` (default `info`), human-readable by
//! default or JSON with `OAUTH_BROKER_LOG_FORMAT=json`. Logs go to standard error, and so do
//! panics, as log lines (see [`install_panic_hook`]).

use tracing_subscriber::EnvFilter;

/// The filter used when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info";

/// Installs the global subscriber and the panic hook. Call once, first thing in `main`.
pub fn init() {
    install_panic_hook();
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let json =
        std::env::var("OAUTH_BROKER_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Sends panics through [`log_panic`] instead of the default hook's bare standard error, so that
/// a panic in a request task reaches the same format (JSON included) and log pipeline as every
/// other line.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(log_panic));
}

/// Logs one panic at error level: its thread, location and message.
///
/// The message is logged as it is: outside tests the broker has no `unwrap`, `expect` or
/// `panic!` (clippy's `unwrap_used` warns), so a message comes from an index, an overflow or a
/// dependency, never from formatting a secret. The end-to-end secrets test routes panics
/// through here, so its scan of the logs covers them too.
pub fn log_panic(info: &std::panic::PanicHookInfo<'_>) {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a panic without a message)");
    let location = info.location().map(ToString::to_string).unwrap_or_default();
    let thread = std::thread::current();
    let thread = thread.name().unwrap_or("(unnamed)");
    tracing::error!(panic = message, %location, thread, "panic");
}
