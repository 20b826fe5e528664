//! The broker's master key: 32 random bytes, stored as base64 in a file or the environment.

use super::hash;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore as _;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use zeroize::Zeroizing;

/// Why a master key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// The file could not be read.
    #[error(
        "cannot read master key file {path}: {source}; create one with `oauth-broker gen-key`"
    )]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Neither a file nor the environment variable holds a key.
    #[error("no master key: set master_key_file in the config or {0}; create one with `oauth-broker gen-key`")]
    Missing(&'static str),
    /// The value is not 32 bytes of base64.
    #[error("the master key is not valid: expected 32 bytes in base64, as `oauth-broker gen-key` prints")]
    Invalid,
}

/// The master key. Cloning shares one zeroed-on-drop buffer; `Debug` prints only its id.
#[derive(Clone)]
pub struct MasterKey(Arc<Zeroizing<[u8; 32]>>);

impl MasterKey {
    /// A fresh key from the OS random generator.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut *key);
        Self(Arc::new(key))
    }

    /// Parses the base64 text form (surrounding white space allowed).
    pub fn from_base64(text: &str) -> Result<Self, MasterKeyError> {
        let bytes = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| MasterKeyError::Invalid)?,
        );
        if bytes.len() != 32 {
            return Err(MasterKeyError::Invalid);
        }
        // Copied straight into the zeroed-on-drop buffer: no stray copy on the stack.
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&bytes);
        Ok(Self(Arc::new(key)))
    }

    /// Reads the key from a file.
    pub fn from_file(path: &Path) -> Result<Self, MasterKeyError> {
        let text = std::fs::read_to_string(path)
            .map(Zeroizing::new)
            .map_err(|source| MasterKeyError::Read {
                path: path.display().to_string(),
                source,
            })?;
        Self::from_base64(&text)
    }

    /// Reads the key from the environment variable `var`.
    pub fn from_env(var: &'static str) -> Result<Self, MasterKeyError> {
        let text = std::env::var(var)
            .map(Zeroizing::new)
            .map_err(|_| MasterKeyError::Missing(var))?;
        Self::from_base64(&text)
    }

    /// The base64 text form, for `gen-key` and the dev mode's key file.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.bytes()))
    }

    /// A short public identifier of this key, stored beside each record so that a later key
    /// rotation knows which key a record was written under.
    pub fn id(&self) -> String {
        let digest = hash("oauth-broker master key id v1", &[&**self.0]);
        digest[..6].iter().map(|b| format!("{b:02x}")).collect()
    }

    pub(super) fn bytes(&self) -> &[u8] {
        &**self.0
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey(id={})", self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip_and_validation() {
        let key = MasterKey::generate();
        let again = MasterKey::from_base64(&format!(" {}\n", &*key.to_base64())).unwrap();
        assert_eq!(key.bytes(), again.bytes());
        assert_eq!(key.id(), again.id());

        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64("not base64 at all").is_err());
    }

    #[test]
    fn debug_prints_only_the_id() {
        let key = MasterKey::generate();
        let printed = format!("{key:?}");
        assert_eq!(printed, format!("MasterKey(id={})", key.id()));
        assert!(!printed.contains(&*key.to_base64()));
    }

    /// Compiles only while the buffer behind every clone is a type that zeroes itself on drop.
    #[test]
    fn the_key_buffer_is_zeroed_on_drop() {
        fn zeroed_on_drop<T: zeroize::ZeroizeOnDrop>(_: &T) {}
        zeroed_on_drop(&*MasterKey::generate().0);
    }
}
