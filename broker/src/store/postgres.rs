//! The PostgreSQL backend, for several broker replicas on one database.
//!
//! The queries mirror `sqlite.rs` in PostgreSQL's dialect. What only several processes need
//! lives here too: [`PgStore::lock_grant`] takes a transaction-scoped advisory lock per grant, so
//! two replicas never refresh the same grant at once; the lock ends with its transaction, also
//! when the replica holding it dies and its connection drops.

use super::{GrantRow, LoginRow, Reaped, SignInRow, StoreError};
use crate::crypto::authid::GrantId;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Row as _, Transaction};
use std::time::Duration;

#[derive(Debug, Clone)]
pub(super) struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub(super) async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }

    /// How the pool connects, for connections of its own (the cache's listener).
    pub(super) fn connect_options(&self) -> PgConnectOptions {
        (*self.pool.connect_options()).clone()
    }

    /// Holds grant `id`'s advisory lock until the returned transaction ends.
    pub(super) async fn lock_grant(
        &self,
        id: &GrantId,
    ) -> Result<Transaction<'static, Postgres>, StoreError> {
        let key = i64::from_be_bytes(id.0[..8].try_into().unwrap_or_default());
        let mut transaction = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(key)
            .execute(&mut *transaction)
            .await?;
        Ok(transaction)
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub(super) async fn insert_grant(&self, row: &GrantRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO grants (id, provider, format, master_key_id, sealed, version, \
             reauth_required_at, created_at, updated_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
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
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn grant(&self, id: &GrantId) -> Result<Option<GrantRow>, StoreError> {
        let row = sqlx::query(
            "SELECT provider, format, master_key_id, sealed, version, reauth_required_at, \
             created_at, updated_at, last_used_at FROM grants WHERE id = $1",
        )
        .bind(&id.0[..])
        .fetch_optional(&self.pool)
        .await?;

        let Some(row) = row else { return Ok(None) };
        Ok(Some(GrantRow {
            id: *id,
            provider: row.try_get("provider")?,
            format: row.try_get("format")?,
            master_key_id: row.try_get("master_key_id")?,
            sealed: row.try_get("sealed")?,
            version: row.try_get("version")?,
            reauth_required_at: row.try_get("reauth_required_at")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            last_used_at: row.try_get("last_used_at")?,
        }))
    }

    pub(super) async fn update_grant(
        &self,
        id: &GrantId,
        expected_version: i64,
        sealed: &[u8],
        master_key_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE grants SET sealed = $1, master_key_id = $2, version = version + 1, \
             updated_at = $3, last_used_at = $4 WHERE id = $5 AND version = $6",
        )
        .bind(sealed)
        .bind(master_key_id)
        .bind(now)
        .bind(now)
        .bind(&id.0[..])
        .bind(expected_version)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn mark_reauth_required(
        &self,
        id: &GrantId,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE grants SET reauth_required_at = $1, updated_at = $2 WHERE id = $3")
            .bind(now)
            .bind(now)
            .bind(&id.0[..])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn touch_grant(&self, id: &GrantId, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE grants SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&id.0[..])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn delete_grant(&self, id: &GrantId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM grants WHERE id = $1")
            .bind(&id.0[..])
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn insert_login(&self, row: &LoginRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO logins (id, poll_hash, poll_public_key, provider, sealed_authid, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&row.id)
        .bind(&row.poll_hash)
        .bind(&row.poll_public_key)
        .bind(&row.provider)
        .bind(&row.sealed_authid)
        .bind(row.created_at)
        .bind(row.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn login(&self, id: &str) -> Result<Option<LoginRow>, StoreError> {
        let row = sqlx::query(
            "SELECT poll_hash, poll_public_key, provider, sealed_authid, created_at, expires_at \
             FROM logins WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;

        let Some(row) = row else { return Ok(None) };
        Ok(Some(LoginRow {
            id: id.to_owned(),
            poll_hash: row.try_get("poll_hash")?,
            poll_public_key: row.try_get("poll_public_key")?,
            provider: row.try_get("provider")?,
            sealed_authid: row.try_get("sealed_authid")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }

    pub(super) async fn finish_login(&self, id: &str, sealed: &[u8]) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE logins SET sealed_authid = $1 WHERE id = $2 AND sealed_authid IS NULL",
        )
        .bind(sealed)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn take_login(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM logins WHERE id = $1 AND sealed_authid IS NOT NULL RETURNING sealed_authid",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| row.try_get("sealed_authid")).transpose()?)
    }

    pub(super) async fn insert_signin(&self, row: &SignInRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO signins (id, browser_hash, provider, login_id, sealed_verifier, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&row.id[..])
        .bind(&row.browser_hash)
        .bind(&row.provider)
        .bind(&row.login_id)
        .bind(&row.sealed_verifier)
        .bind(row.created_at)
        .bind(row.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn signin(&self, id: &[u8; 32]) -> Result<Option<SignInRow>, StoreError> {
        let row = sqlx::query(
            "SELECT browser_hash, provider, login_id, sealed_verifier, created_at, expires_at \
             FROM signins WHERE id = $1",
        )
        .bind(&id[..])
        .fetch_optional(&self.pool)
        .await?;

        let Some(row) = row else { return Ok(None) };
        Ok(Some(SignInRow {
            id: *id,
            browser_hash: row.try_get("browser_hash")?,
            provider: row.try_get("provider")?,
            login_id: row.try_get("login_id")?,
            sealed_verifier: row.try_get("sealed_verifier")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }

    pub(super) async fn consume_signin(&self, id: &[u8; 32]) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM signins WHERE id = $1")
            .bind(&id[..])
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn reap(
        &self,
        unused_since: i64,
        signins_expired_before: i64,
        logins_expired_before: i64,
    ) -> Result<Reaped, StoreError> {
        let grants = sqlx::query("DELETE FROM grants WHERE last_used_at < $1")
            .bind(unused_since)
            .execute(&self.pool)
            .await?
            .rows_affected();
        let logins = sqlx::query("DELETE FROM logins WHERE expires_at < $1")
            .bind(logins_expired_before)
            .execute(&self.pool)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM failed_lookups WHERE window_start < $1")
            .bind(signins_expired_before - 3600)
            .execute(&self.pool)
            .await?;
        let signins = sqlx::query("DELETE FROM signins WHERE expires_at < $1")
            .bind(signins_expired_before)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(Reaped {
            grants,
            logins,
            signins,
        })
    }

    /// Counts one event for `key` in a fixed window of `window` seconds starting no earlier
    /// than `now - window`; returns the count in the current window and when it started.
    async fn count_in_window(
        &self,
        sql: &str,
        key_bytes: Option<&[u8]>,
        key_text: Option<&str>,
        now: i64,
        window: i64,
    ) -> Result<(i64, i64), StoreError> {
        let query = sqlx::query(sql);
        let query = match (key_bytes, key_text) {
            (Some(bytes), _) => query.bind(bytes),
            (None, text) => query.bind(text),
        };
        let row = query
            .bind(now)
            .bind(now - window)
            .fetch_one(&self.pool)
            .await?;
        Ok((row.try_get("count")?, row.try_get("window_start")?))
    }

    pub(super) async fn count_refresh(
        &self,
        id: &GrantId,
        now: i64,
        window: i64,
    ) -> Result<(i64, i64), StoreError> {
        let sql = "INSERT INTO refresh_counts (grant_id, window_start, count) VALUES ($1, $2, 1) \
                   ON CONFLICT (grant_id) DO UPDATE SET \
                   count = CASE WHEN refresh_counts.window_start <= $3 THEN 1 \
                           ELSE refresh_counts.count + 1 END, \
                   window_start = CASE WHEN refresh_counts.window_start <= $3 THEN $2 \
                           ELSE refresh_counts.window_start END \
                   RETURNING count, window_start";
        self.count_in_window(sql, Some(&id.0[..]), None, now, window)
            .await
    }

    pub(super) async fn count_failure(
        &self,
        addr: &str,
        now: i64,
        window: i64,
    ) -> Result<(i64, i64), StoreError> {
        let sql = "INSERT INTO failed_lookups (addr, window_start, count) VALUES ($1, $2, 1) \
                   ON CONFLICT (addr) DO UPDATE SET \
                   count = CASE WHEN failed_lookups.window_start <= $3 THEN 1 \
                           ELSE failed_lookups.count + 1 END, \
                   window_start = CASE WHEN failed_lookups.window_start <= $3 THEN $2 \
                           ELSE failed_lookups.window_start END \
                   RETURNING count, window_start";
        self.count_in_window(sql, None, Some(addr), now, window)
            .await
    }

    /// Addresses over `quota` in a window that started after `since`, with the window start.
    pub(super) async fn blocked_addresses(
        &self,
        quota: i64,
        since: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT addr, window_start FROM failed_lookups WHERE count > $1 AND window_start > $2",
        )
        .bind(quota)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("addr")?, row.try_get("window_start")?)))
            .collect()
    }
}
