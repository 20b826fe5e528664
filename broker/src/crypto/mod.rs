//! Everything cryptographic the broker does, in one place.
//!
//! - [`authid`]: the user's key to a grant: a lookup part the database indexes (hashed) and a
//!   secret part that never reaches the database.
//! - [`master_key`]: the broker's own 256-bit key, mixed into every record key.
//! - [`master_keys`]: the current master key and the previous ones kept during a rotation.
//! - [`seal`]: AES-256-GCM under HKDF-SHA256 derived keys, with associated data.
//! - [`poll_box`]: hands a finished sign-in's authid to the program that polls for it, encrypted
//!   to a key only that program's poll secret can rebuild.
//!
//! Randomness always comes from the operating system ([`rand::rngs::OsRng`]).

pub mod authid;
pub mod master_key;
pub mod master_keys;
pub mod poll_box;
pub mod seal;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

/// `n` random bytes from the OS, base64url without padding.
pub fn random_token(n: usize) -> Zeroizing<String> {
    let mut bytes = Zeroizing::new(vec![0u8; n]);
    OsRng.fill_bytes(&mut bytes);
    Zeroizing::new(URL_SAFE_NO_PAD.encode(&*bytes))
}

/// SHA-256 of `parts`, each prefixed by its length so that no two inputs collide.
pub fn hash(domain: &str, parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(domain.as_bytes());
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// Compares two byte strings in constant time.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"poll-hash", b"poll-hash"));
        assert!(!constant_time_eq(b"poll-hash", b"poll-hasH"));
        assert!(!constant_time_eq(b"poll-hash", b"poll-has"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
