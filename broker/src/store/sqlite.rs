//! The embedded SQLite backend: one file, WAL journal, full fsync on commit.
//!
//! `synchronous = FULL` because a rotated refresh token that a power cut loses after the broker
//! answered is a grant lost for good at providers that revoke on reuse (Box, Jottacloud).

use super::{GrantRow, LoginRow, Reaped, SignInRow, StoreError};
use crate::crypto::authid::GrantId;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row as _, SqlitePool};
use std::str::FromStr as _;
use std::time::Duration;

#[derive(Debug, Clone)]
pub(super) struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    pub(super) async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let path = options.get_filename().to_owned();
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        restrict_permissions(&path);

        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub(super) async fn insert_grant(&self, row: &GrantRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO grants (id, provider, format, master_key_id, sealed, version, \
             reauth_required_at, created_at, updated_at, last_used_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
             created_at, updated_at, last_used_at FROM grants WHERE id = ?",
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
            "UPDATE grants SET sealed = ?, master_key_id = ?, version = version + 1, \
             updated_at = ?, last_used_at = ? WHERE id = ? AND version = ?",
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
        sqlx::query("UPDATE grants SET reauth_required_at = ?, updated_at = ? WHERE id = ?")
            .bind(now)
            .bind(now)
            .bind(&id.0[..])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn touch_grant(&self, id: &GrantId, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE grants SET last_used_at = ? WHERE id = ?")
            .bind(now)
            .bind(&id.0[..])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn delete_grant(&self, id: &GrantId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM grants WHERE id = ?")
            .bind(&id.0[..])
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn insert_login(&self, row: &LoginRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO logins (id, poll_hash, poll_public_key, provider, sealed_authid, \
             created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
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
             FROM logins WHERE id = ?",
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
            "UPDATE logins SET sealed_authid = ? WHERE id = ? AND sealed_authid IS NULL",
        )
        .bind(sealed)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn take_login(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM logins WHERE id = ? AND sealed_authid IS NOT NULL RETURNING sealed_authid",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| row.try_get("sealed_authid")).transpose()?)
    }

    pub(super) async fn insert_signin(&self, row: &SignInRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO signins (id, browser_hash, provider, login_id, sealed_verifier, \
             created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
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
             FROM signins WHERE id = ?",
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
        let done = sqlx::query("DELETE FROM signins WHERE id = ?")
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
        let grants = sqlx::query("DELETE FROM grants WHERE last_used_at < ?")
            .bind(unused_since)
            .execute(&self.pool)
            .await?
            .rows_affected();
        let logins = sqlx::query("DELETE FROM logins WHERE expires_at < ?")
            .bind(logins_expired_before)
            .execute(&self.pool)
            .await?
            .rows_affected();
        let signins = sqlx::query("DELETE FROM signins WHERE expires_at < ?")
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
}

/// The database holds only ciphertext, but there is no reason for other users to read it.
fn restrict_permissions(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Err(error) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            let path = path.display().to_string();
            tracing::warn!(%error, %path, "cannot restrict the database file's permissions");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
