//! Which database failures pass by themselves (the server is unreachable, restarting, locked or
//! out of space) and which are faults of the broker or its schema.
//!
//! The first kind becomes `503` with `Retry-After`, so clients wait and retry; the second a
//! `500`. Both are logged as errors: either way an operator must look.

use sqlx::error::DatabaseError;
use sqlx::postgres::PgDatabaseError;
use sqlx::sqlite::SqliteError;

/// SQLite primary result codes that a retry can outlast: BUSY, LOCKED, READONLY, IOERR, FULL,
/// CANTOPEN.
const SQLITE_TRANSIENT: [i32; 6] = [5, 6, 8, 10, 13, 14];

/// SQLSTATE classes and codes that a retry can outlast: connection exceptions (08),
/// insufficient resources such as a full disk (53), the server shutting down or starting up
/// (57P), system errors such as I/O (58), and a read-only transaction after a fail-over to a
/// standby (25006).
const POSTGRES_TRANSIENT: [&str; 5] = ["08", "53", "57P", "58", "25006"];

/// Whether `error` is a database outage rather than a fault of the broker.
pub(super) fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(error) => database_error_is_transient(error.as_ref()),
        _ => false,
    }
}

fn database_error_is_transient(error: &dyn DatabaseError) -> bool {
    if let Some(error) = error.try_downcast_ref::<PgDatabaseError>() {
        let code = error.code();
        return POSTGRES_TRANSIENT
            .iter()
            .any(|prefix| code.starts_with(prefix));
    }
    if let Some(error) = error.try_downcast_ref::<SqliteError>() {
        // The code is SQLite's extended result code; its low byte is the primary code.
        let primary = error.code().and_then(|code| code.parse::<i32>().ok());
        return primary.is_some_and(|code| SQLITE_TRANSIENT.contains(&(code & 0xff)));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_failures_are_transient_and_data_errors_are_not() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(is_transient(&sqlx::Error::Io(io)));
        assert!(is_transient(&sqlx::Error::PoolTimedOut));
        assert!(!is_transient(&sqlx::Error::RowNotFound));
        assert!(!is_transient(&sqlx::Error::ColumnNotFound("x".into())));
    }
}
