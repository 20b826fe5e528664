//! The broker's database in tests: a SQLite file in a temporary directory (the default), or a
//! fresh PostgreSQL database per test when `OAUTH_TEST_DATABASE=postgres`, created on the server
//! named by `OAUTH_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and
//! dropped again when the test's broker goes away.

use rand::Rng as _;
use sqlx::{Column as _, Row as _};
use std::path::PathBuf;
use std::time::Duration;

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Whether this test run uses PostgreSQL.
pub fn postgres_selected() -> bool {
    std::env::var("OAUTH_TEST_DATABASE").is_ok_and(|v| v == "postgres")
}

/// Whether the PostgreSQL test server answers.
pub async fn postgres_reachable() -> bool {
    let options = sqlx::postgres::PgPoolOptions::new().acquire_timeout(Duration::from_secs(2));
    match options.connect(&postgres_server()).await {
        Ok(pool) => {
            pool.close().await;
            true
        }
        Err(_) => false,
    }
}

/// Whether PostgreSQL answers. Otherwise prints one `SKIP` line for `test` straight to stderr
/// (the test harness hides `eprintln!` of passing tests), or fails when
/// `OAUTH_TEST_REQUIRE_SERVICES=1`.
pub async fn postgres_or_skip(test: &str) -> bool {
    if postgres_reachable().await {
        return true;
    }
    let why = "PostgreSQL is not reachable (set OAUTH_TEST_POSTGRES_URL)";
    assert!(
        std::env::var("OAUTH_TEST_REQUIRE_SERVICES").as_deref() != Ok("1"),
        "{test}: {why}, and OAUTH_TEST_REQUIRE_SERVICES=1"
    );
    let line = format!("SKIP {test}: {why}\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
    false
}

/// The server tests create their databases on.
pub fn postgres_server() -> String {
    std::env::var("OAUTH_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned())
}

/// One test's database.
pub enum TestDatabase {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database: its URL, and the name to drop.
    Postgres { url: String, name: String },
}

impl TestDatabase {
    /// A new, empty database: PostgreSQL when `postgres` or `OAUTH_TEST_DATABASE=postgres`.
    pub async fn create(dir: &std::path::Path, postgres: bool) -> Self {
        if !postgres && !postgres_selected() {
            return Self::Sqlite(dir.join("broker.db"));
        }
        let server = postgres_server();
        let name = format!("oauth_broker_test_{:016x}", rand::thread_rng().gen::<u64>());
        let admin = sqlx::PgPool::connect(&server)
            .await
            .expect("PostgreSQL at OAUTH_TEST_POSTGRES_URL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let mut url = url::Url::parse(&server).unwrap();
        url.set_path(&format!("/{name}"));
        Self::Postgres {
            url: url.to_string(),
            name,
        }
    }

    /// A SQLite file in `dir`, whatever `OAUTH_TEST_DATABASE` says.
    pub fn sqlite(dir: &std::path::Path) -> Self {
        Self::Sqlite(dir.join("broker.db"))
    }

    /// The broker's `database_url`.
    pub fn url(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres { url, .. } => url.clone(),
        }
    }

    /// One number from `sql`, through a connection of the test's own.
    pub async fn scalar(&self, sql: &str) -> i64 {
        match self {
            Self::Sqlite(path) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .read_only(true);
                let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
                let value = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
                pool.close().await;
                value
            }
            Self::Postgres { url, .. } => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let value: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
                pool.close().await;
                value
            }
        }
    }

    /// Runs one statement on the database, through a connection of the test's own.
    pub async fn execute(&self, sql: &str) {
        match self {
            Self::Sqlite(path) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
                let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
                pool.close().await;
            }
            Self::Postgres { url, .. } => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
                pool.close().await;
            }
        }
    }

    /// A reader of every row, on connections of the test's own, for repeated snapshots.
    pub async fn row_reader(&self) -> RowReader {
        match self {
            Self::Sqlite(path) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .read_only(true);
                RowReader::Sqlite(sqlx::SqlitePool::connect_with(options).await.unwrap())
            }
            Self::Postgres { url, .. } => {
                RowReader::Postgres(sqlx::PgPool::connect(url).await.unwrap())
            }
        }
    }

    /// Every stored byte, for scanning: the SQLite file with its journal, or every column of
    /// every row of the broker's tables.
    pub async fn bytes(&self) -> Vec<u8> {
        match self {
            Self::Sqlite(path) => {
                let mut bytes = Vec::new();
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let file = PathBuf::from(format!("{}{suffix}", path.display()));
                    bytes.extend(std::fs::read(file).unwrap_or_default());
                }
                bytes
            }
            Self::Postgres { url, .. } => postgres_bytes(url).await,
        }
    }

    /// Drops a PostgreSQL database (blocking; used from `Drop`).
    pub fn drop_blocking(&self) {
        let Self::Postgres { name, .. } = self else {
            return;
        };
        let name = name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(admin) = sqlx::PgPool::connect(&postgres_server()).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(&sql).execute(&admin).await;
                    admin.close().await;
                }
            });
        });
        let _ = dropped.join();
    }
}

/// Reads every row of the broker's tables (grants, logins, sign-ins) as text, in a fixed
/// order: equal before and after a request means the request changed no stored data.
pub enum RowReader {
    /// On SQLite, read-only.
    Sqlite(sqlx::SqlitePool),
    /// On PostgreSQL.
    Postgres(sqlx::PgPool),
}

impl RowReader {
    /// One line per row, `table: value|value|...`.
    pub async fn rows(&self) -> Vec<String> {
        let mut rows = Vec::new();
        for table in TABLES {
            let sql = format!("SELECT * FROM {table} ORDER BY id");
            match self {
                Self::Sqlite(pool) => {
                    let found = sqlx::query(&sql).fetch_all(pool).await.unwrap();
                    rows.extend(found.iter().map(|row| render_row(table, row)));
                }
                Self::Postgres(pool) => {
                    let found = sqlx::query(&sql).fetch_all(pool).await.unwrap();
                    rows.extend(found.iter().map(|row| render_row(table, row)));
                }
            }
        }
        rows
    }
}

/// The tables that hold the broker's data (the rate-limit counters are not data).
const TABLES: [&str; 3] = ["grants", "logins", "signins"];

/// One row as `table: value|value|...`, each value as a number, hex bytes, text or NULL.
fn render_row<R>(table: &str, row: &R) -> String
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i32>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<Vec<u8>>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let values: Vec<String> = (0..row.columns().len())
        .map(|index| {
            let value = if let Ok(value) = row.try_get::<Option<i64>, _>(index) {
                value.map(|v| v.to_string())
            } else if let Ok(value) = row.try_get::<Option<i32>, _>(index) {
                value.map(|v| v.to_string())
            } else if let Ok(value) = row.try_get::<Option<Vec<u8>>, _>(index) {
                value.map(|v| v.iter().map(|b| format!("{b:02x}")).collect())
            } else if let Ok(value) = row.try_get::<Option<String>, _>(index) {
                value
            } else {
                Some("?".to_owned())
            };
            value.unwrap_or_else(|| "NULL".to_owned())
        })
        .collect();
    format!("{table}: {}", values.join("|"))
}

async fn postgres_bytes(url: &str) -> Vec<u8> {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let mut bytes = Vec::new();
    for table in TABLES {
        let rows = sqlx::query(&format!("SELECT * FROM {table}"))
            .fetch_all(&pool)
            .await
            .unwrap();
        for row in rows {
            for column in row.columns() {
                let index = column.ordinal();
                if let Ok(Some(value)) = row.try_get::<Option<Vec<u8>>, _>(index) {
                    bytes.extend(value);
                } else if let Ok(Some(value)) = row.try_get::<Option<String>, _>(index) {
                    bytes.extend(value.into_bytes());
                }
                bytes.push(0);
            }
        }
    }
    pool.close().await;
    bytes
}
