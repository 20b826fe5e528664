//! Fills a broker database with `--grants` real grants, sealed by the broker's own code, and
//! writes their authids (one per line) for the load generators. Rows are inserted in bulk, in
//! large transactions, since a million sign-ins would take hours. Prints one JSON line with the
//! database's bytes per stored grant.

use anyhow::Context as _;
use clap::Parser;
use oauth_broker::provider::TokenGrant;
use oauth_broker::store::GrantRow;
use oauth_broker::{Broker, Clock, Config};
use std::io::Write as _;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Rows per transaction (and per PostgreSQL `INSERT`).
const BATCH: usize = 5_000;

/// Fill a broker database.
#[derive(Debug, Parser)]
struct Args {
    /// The broker configuration naming the database and master key.
    #[arg(long)]
    config: PathBuf,
    /// How many grants to store.
    #[arg(long)]
    grants: usize,
    /// Where to write the authids.
    #[arg(long)]
    authids: PathBuf,
    /// The provider the grants belong to.
    #[arg(long, default_value = "bench")]
    provider: String,
    /// Store the cached access tokens already expired, so every first use refreshes.
    #[arg(long)]
    expired: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = Config::load(&args.config)?;
    let url = config.database_url.clone();
    let keys = oauth_broker::load_master_keys(&config)?;
    let broker = oauth_broker::open(config, keys, Clock::default()).await?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args.authids)?);
    let mut db = Db::connect(&url).await?;
    let mut done = 0;
    while done < args.grants {
        let n = BATCH.min(args.grants - done);
        let rows = seal(&broker, &args, n, &mut out)?;
        db.insert(&rows).await?;
        done += n;
    }
    out.flush()?;
    let bytes = db.size().await?;
    let per_grant = bytes / i64::try_from(args.grants.max(1))?;
    println!(
        "{}",
        serde_json::json!({ "grants": args.grants, "bytes_per_grant": per_grant })
    );
    Ok(())
}

/// Seals `n` new grants, writing their authids to `out`.
fn seal(
    broker: &Broker,
    args: &Args,
    n: usize,
    out: &mut impl std::io::Write,
) -> anyhow::Result<Vec<GrantRow>> {
    let provider = broker
        .config()
        .providers
        .get(&args.provider)
        .context("the configuration lacks the provider")?;
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        let grant = TokenGrant {
            access_token: Zeroizing::new(format!("bench-access-token-{i:020}-{:032}", 0)),
            token_type: "Bearer".to_owned(),
            expires_in: if args.expired { 0 } else { 3600 },
            refresh_token: Some(Zeroizing::new(format!("bench-refresh-token-{i:020}"))),
            scope: None,
            user_id: None,
        };
        let (authid, row) = broker.seal_new_grant(provider, &grant)?;
        writeln!(out, "{}", *authid.encode())?;
        rows.push(row);
    }
    Ok(rows)
}

/// A direct connection to the broker's database, for bulk inserts.
enum Db {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

const COLUMNS: &str = "INSERT INTO grants (id, provider, format, master_key_id, sealed, version, \
                       reauth_required_at, created_at, updated_at, last_used_at) ";

impl Db {
    async fn connect(url: &str) -> anyhow::Result<Self> {
        use sqlx::Connection as _;
        Ok(if oauth_broker::store::is_postgres(url) {
            Self::Postgres(sqlx::PgConnection::connect(url).await?)
        } else {
            Self::Sqlite(sqlx::SqliteConnection::connect(url).await?)
        })
    }

    async fn insert(&mut self, rows: &[GrantRow]) -> anyhow::Result<()> {
        match self {
            Self::Sqlite(conn) => insert_sqlite(conn, rows).await,
            Self::Postgres(conn) => insert_postgres(conn, rows).await,
        }
    }

    /// The database's size in bytes: the whole SQLite file, or the grants table with its
    /// indexes on PostgreSQL.
    async fn size(&mut self) -> anyhow::Result<i64> {
        Ok(match self {
            Self::Sqlite(conn) => {
                sqlx::query_scalar(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                )
                .fetch_one(conn)
                .await?
            }
            Self::Postgres(conn) => {
                sqlx::query_scalar("SELECT pg_total_relation_size('grants')")
                    .fetch_one(conn)
                    .await?
            }
        })
    }
}

async fn insert_sqlite(conn: &mut sqlx::SqliteConnection, rows: &[GrantRow]) -> anyhow::Result<()> {
    use sqlx::Connection as _;
    let mut tx = conn.begin().await?;
    let sql = format!("{COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for row in rows {
        sqlx::query(&sql)
            .bind(&row.id.0[..])
            .bind(&row.provider)
            .bind(row.format)
            .bind(&row.master_key_id)
            .bind(&row.sealed)
            .bind(row.version)
            .bind(row.reauth_required_at)
            .bind(row.created_at)
            .bind(row.updated_at)
            .bind(row.last_used_at)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn insert_postgres(conn: &mut sqlx::PgConnection, rows: &[GrantRow]) -> anyhow::Result<()> {
    let column = |f: fn(&GrantRow) -> i64| rows.iter().map(f).collect::<Vec<_>>();
    let sql = format!(
        "{COLUMNS} SELECT * FROM UNNEST($1::bytea[], $2::text[], $3::int8[], $4::text[], \
         $5::bytea[], $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[])"
    );
    sqlx::query(&sql)
        .bind(rows.iter().map(|r| r.id.0.to_vec()).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.provider.clone()).collect::<Vec<_>>())
        .bind(column(|r| r.format))
        .bind(
            rows.iter()
                .map(|r| r.master_key_id.clone())
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.sealed.clone()).collect::<Vec<_>>())
        .bind(column(|r| r.version))
        .bind(
            rows.iter()
                .map(|r| r.reauth_required_at)
                .collect::<Vec<_>>(),
        )
        .bind(column(|r| r.created_at))
        .bind(column(|r| r.updated_at))
        .bind(column(|r| r.last_used_at))
        .execute(conn)
        .await?;
    Ok(())
}
