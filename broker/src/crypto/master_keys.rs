//! The master keys a broker knows: the current one, which seals everything new, and previous
//! ones kept during a rotation so that records sealed before it can still be opened.
//!
//! A grant row stores the id of the key that sealed it. Opening picks that key; the next write
//! of the row (a refresh, or the first cache hit after the rotation) seals it again under the
//! current key. Short-lived secrets (a sign-in's PKCE verifier, a finished sign-in's sealed
//! authid) carry no key id: they are opened with each key in turn, current first. Once no row
//! names a previous key any more (`SELECT master_key_id, count(*) FROM grants GROUP BY 1`) and
//! ten minutes have passed for sign-ins in flight, the previous key can be removed.

use super::master_key::MasterKey;

/// The current master key and the previous ones, each with its precomputed id.
#[derive(Debug, Clone)]
pub struct MasterKeys {
    /// `(id, key)`, the current key first.
    keys: Vec<(String, MasterKey)>,
}

/// Why a set of master keys was refused.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeysError {
    /// The same key appears twice, so one of the configured files is probably the wrong one.
    #[error(
        "master key {0} is configured twice (as the current key and in \
         previous_master_key_files, or twice in that list); list each key once"
    )]
    Duplicate(String),
}

impl MasterKeys {
    /// The current key plus `previous` ones, newest first. Refuses a key given twice.
    pub fn new(current: MasterKey, previous: Vec<MasterKey>) -> Result<Self, MasterKeysError> {
        let mut keys: Vec<(String, MasterKey)> = Vec::with_capacity(1 + previous.len());
        for key in std::iter::once(current).chain(previous) {
            let id = key.id();
            if keys.iter().any(|(known, _)| *known == id) {
                return Err(MasterKeysError::Duplicate(id));
            }
            keys.push((id, key));
        }
        Ok(Self { keys })
    }

    /// The key that seals everything written from now on.
    pub fn current(&self) -> &MasterKey {
        &self.keys[0].1
    }

    /// The current key's id, as stored in `grants.master_key_id`.
    pub fn current_id(&self) -> &str {
        &self.keys[0].0
    }

    /// The key with this id, current or previous.
    pub fn by_id(&self, id: &str) -> Option<&MasterKey> {
        self.keys
            .iter()
            .find(|(known, _)| known == id)
            .map(|(_, key)| key)
    }

    /// Every key, the current one first: the order in which to try keys for data that does not
    /// say which key sealed it.
    pub fn all(&self) -> impl Iterator<Item = &MasterKey> {
        self.keys.iter().map(|(_, key)| key)
    }
}

impl From<MasterKey> for MasterKeys {
    fn from(current: MasterKey) -> Self {
        let id = current.id();
        Self {
            keys: vec![(id, current)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_first_and_lookup_by_id() {
        let (old, new) = (MasterKey::generate(), MasterKey::generate());
        let keys = MasterKeys::new(new.clone(), vec![old.clone()]).unwrap();

        assert_eq!(keys.current_id(), new.id());
        assert_eq!(keys.current().id(), new.id());
        assert_eq!(keys.by_id(&old.id()).map(MasterKey::id), Some(old.id()));
        assert!(keys.by_id("000000000000").is_none());
        let order: Vec<String> = keys.all().map(MasterKey::id).collect();
        assert_eq!(order, vec![new.id(), old.id()]);
    }

    #[test]
    fn a_key_given_twice_is_refused() {
        let key = MasterKey::generate();
        let error = MasterKeys::new(key.clone(), vec![key.clone()]).unwrap_err();
        assert!(error.to_string().contains(&key.id()), "{error}");
    }
}
