//! A grant's secret part: what is sealed inside each `grants` row, and how.
//!
//! The associated data binds the ciphertext to its row id, provider and format version, so a
//! sealed blob copied into another row, or relabelled as another provider, fails to open.

use super::{Broker, ServiceError};
use crate::crypto::authid::{Authid, GrantId};
use crate::crypto::master_key::MasterKey;
use crate::crypto::seal::SealKey;
use crate::store::GrantRow;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The current record format.
pub(crate) const FORMAT: i64 = 1;

/// The cached access token.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub(super) struct CachedAccess {
    pub token: String,
    pub token_type: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// The lifetime the provider gave it, in seconds.
    pub lifetime: u64,
}

/// Everything secret about a grant.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub(super) struct GrantSecrets {
    pub refresh_token: String,
    pub user_id: Option<String>,
    pub scope: String,
    pub access: Option<CachedAccess>,
}

fn aad(id: &GrantId, provider: &str, format: i64) -> Vec<u8> {
    let mut aad = Vec::with_capacity(64 + provider.len());
    aad.extend_from_slice(b"oauth-broker grant");
    aad.extend_from_slice(&format.to_be_bytes());
    aad.extend_from_slice(&id.0);
    aad.extend_from_slice(provider.as_bytes());
    aad
}

impl GrantSecrets {
    /// Seals for the row of `id`.
    pub(super) fn seal(&self, key: &SealKey, id: &GrantId, provider: &str) -> Vec<u8> {
        let plain = Zeroizing::new(serde_json::to_vec(self).unwrap_or_default());
        key.seal(&aad(id, provider, FORMAT), &plain)
    }

    /// Opens a row; `None` when the key is wrong or the row is damaged.
    pub(super) fn open(key: &SealKey, row: &GrantRow) -> Option<Self> {
        let plain = key
            .open(&aad(&row.id, &row.provider, row.format), &row.sealed)
            .ok()?;
        serde_json::from_slice(&plain).ok()
    }
}

/// Opens `sealed` as the record of a `provider` grant in `format`, under the key `master` and
/// `authid` derive, and decodes it: what every token request does. The secrets come back
/// encoded as JSON again. For the `sealed_record` fuzz target.
pub fn open_record(
    master: &MasterKey,
    authid: &Authid,
    provider: &str,
    format: i64,
    sealed: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    let row = GrantRow {
        id: authid.grant_id(),
        provider: provider.to_owned(),
        format,
        master_key_id: master.id(),
        sealed: sealed.to_vec(),
        version: 0,
        reauth_required_at: None,
        created_at: 0,
        updated_at: 0,
        last_used_at: 0,
    };
    let secrets = GrantSecrets::open(&SealKey::for_grant(master, authid), &row)?;
    serde_json::to_vec(&secrets).ok().map(Zeroizing::new)
}

/// Seals any `plaintext` as the current format's record of a `provider` grant would be sealed,
/// so that a fuzzer reaches the decoder behind the tag check.
pub fn seal_record(
    master: &MasterKey,
    authid: &Authid,
    provider: &str,
    plaintext: &[u8],
) -> Vec<u8> {
    let key = SealKey::for_grant(master, authid);
    key.seal(&aad(&authid.grant_id(), provider, FORMAT), plaintext)
}

impl Broker {
    /// Finds and opens the grant an authid refers to. Every failure is `InvalidAuthid`, so
    /// callers cannot tell "unknown" from "wrong secret part".
    pub(super) async fn open_grant(
        &self,
        authid: &Authid,
    ) -> Result<(GrantRow, GrantSecrets, SealKey), ServiceError> {
        let row = self.inner.store.grant(&authid.grant_id()).await?;
        let row = row.ok_or(ServiceError::InvalidAuthid)?;
        self.open_row(authid, row)
    }

    /// Like [`open_grant`](Self::open_grant), from the store's grant cache when it holds the
    /// row: for answering from a cached access token, never for writing the row.
    pub(super) async fn open_grant_cached(
        &self,
        authid: &Authid,
    ) -> Result<(GrantRow, GrantSecrets, SealKey), ServiceError> {
        let row = self.inner.store.grant_cached(&authid.grant_id()).await?;
        let row = row.ok_or(ServiceError::InvalidAuthid)?;
        self.open_row(authid, row)
    }

    /// Opens a row already read; `InvalidAuthid` when the authid's secret part does not fit.
    ///
    /// The row opens under the master key that sealed it; the returned key is the one to seal
    /// it with next, under the current master key, so a rotation completes as rows are written.
    pub(super) fn open_row(
        &self,
        authid: &Authid,
        row: GrantRow,
    ) -> Result<(GrantRow, GrantSecrets, SealKey), ServiceError> {
        let keys = &self.inner.master_keys;
        let Some(master) = keys.by_id(&row.master_key_id) else {
            return Err(ServiceError::Internal(format!(
                "a grant is sealed under master key {}, which is not configured: add that key's \
                 file to previous_master_key_files",
                row.master_key_id
            )));
        };

        let key = SealKey::for_grant(master, authid);
        let secrets = GrantSecrets::open(&key, &row).ok_or(ServiceError::InvalidAuthid)?;
        if row.master_key_id == keys.current_id() {
            return Ok((row, secrets, key));
        }
        Ok((row, secrets, SealKey::for_grant(keys.current(), authid)))
    }

    /// Whether the row was sealed under a previous master key, to be sealed again.
    pub(super) fn sealed_under_previous_key(&self, row: &GrantRow) -> bool {
        row.master_key_id != self.inner.master_keys.current_id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The derived `Zeroize` is what the derived drop runs: it must reach every field.
    #[test]
    fn decrypted_secrets_are_zeroed_on_drop() {
        fn zeroed_on_drop<T: ZeroizeOnDrop>() {}
        zeroed_on_drop::<GrantSecrets>();
        zeroed_on_drop::<CachedAccess>();

        let access = CachedAccess {
            token: "at".to_owned(),
            token_type: "Bearer".to_owned(),
            expires_at: 1,
            lifetime: 2,
        };
        let mut secrets = GrantSecrets {
            refresh_token: "rt".to_owned(),
            user_id: Some("uid".to_owned()),
            scope: "files".to_owned(),
            access: Some(access),
        };
        secrets.zeroize();
        assert!(secrets.refresh_token.is_empty() && secrets.scope.is_empty());
        assert!(secrets.user_id.is_none() && secrets.access.is_none());
    }

    #[test]
    fn a_sealed_record_opens_only_as_the_row_it_was_sealed_for() {
        let (master, authid) = (MasterKey::generate(), Authid::generate());
        let record = br#"{"refresh_token":"r","user_id":null,"scope":"s","access":null}"#;
        let sealed = seal_record(&master, &authid, "demo", record);

        let opened = open_record(&master, &authid, "demo", FORMAT, &sealed).unwrap();
        assert_eq!(&*opened, &record[..]);
        assert!(open_record(&master, &authid, "other", FORMAT, &sealed).is_none());
        assert!(open_record(&master, &authid, "demo", FORMAT + 1, &sealed).is_none());
        assert!(open_record(&master, &Authid::generate(), "demo", FORMAT, &sealed).is_none());

        let not_a_record = seal_record(&master, &authid, "demo", b"[1,2]");
        assert!(open_record(&master, &authid, "demo", FORMAT, &not_a_record).is_none());
    }
}
