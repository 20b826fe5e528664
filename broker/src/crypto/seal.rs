//! Authenticated encryption of stored secrets: AES-256-GCM, keys from HKDF-SHA256.
//!
//! A sealed blob is `nonce (12 bytes) || ciphertext || tag (16 bytes)`. Every seal draws a fresh
//! random nonce, so sealing the same plaintext twice gives different blobs.

use super::authid::Authid;
use super::master_key::MasterKey;
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use hkdf::Hkdf;
use rand::rngs::OsRng;
use rand::RngCore as _;
use sha2::Sha256;
use zeroize::Zeroizing;

const NONCE_LEN: usize = 12;

/// The blob is damaged, or the key is not the one it was sealed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sealed data cannot be opened with this key")]
pub struct OpenError;

/// A 256-bit AES-GCM key, zeroed on drop.
pub struct SealKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey([redacted])")
    }
}

impl SealKey {
    /// HKDF-SHA256 with the master key as salt: neither input alone gives the key.
    pub fn derive(master: &MasterKey, secret: &[u8], info: &str) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(master.bytes()), secret);
        let mut key = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
        let _ = hkdf.expand(info.as_bytes(), &mut *key);
        Self(key)
    }

    /// The raw key bytes, for use as a seed of another primitive.
    pub(super) fn raw(&self) -> [u8; 32] {
        *self.0
    }

    /// The key of the grant an authid opens.
    pub fn for_grant(master: &MasterKey, authid: &Authid) -> Self {
        Self::derive(master, authid.secret(), "oauth-broker grant key v1")
    }

    /// Encrypts `plaintext`, binding `aad` to it.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let cipher = Aes256Gcm::new((&*self.0).into());
        let payload = Payload {
            msg: plaintext,
            aad,
        };
        // AES-GCM encryption fails only for plaintexts over 64 GiB; ours are a few KiB.
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .unwrap_or_default();

        let mut blob = Vec::with_capacity(NONCE_LEN + sealed.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        blob
    }

    /// Decrypts a blob from [`seal`](Self::seal) made with the same key and `aad`.
    pub fn open(&self, aad: &[u8], blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        if blob.len() < NONCE_LEN + 16 {
            return Err(OpenError);
        }
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        let cipher = Aes256Gcm::new((&*self.0).into());
        let payload = Payload { msg: sealed, aad };
        cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map(Zeroizing::new)
            .map_err(|_| OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_with_fresh_nonces() {
        let master = MasterKey::generate();
        let authid = Authid::generate();
        let key = SealKey::for_grant(&master, &authid);

        let a = key.seal(b"aad", b"refresh-token");
        let b = key.seal(b"aad", b"refresh-token");
        assert_ne!(a, b);
        assert_eq!(&*key.open(b"aad", &a).unwrap(), b"refresh-token");
    }

    #[test]
    fn wrong_key_aad_or_tampering_fail() {
        let master = MasterKey::generate();
        let authid = Authid::generate();
        let key = SealKey::for_grant(&master, &authid);
        let blob = key.seal(b"aad", b"secret");

        let other_authid = SealKey::for_grant(&master, &Authid::generate());
        let other_master = SealKey::for_grant(&MasterKey::generate(), &authid);
        assert_eq!(other_authid.open(b"aad", &blob), Err(OpenError));
        assert_eq!(other_master.open(b"aad", &blob), Err(OpenError));
        assert_eq!(key.open(b"other", &blob), Err(OpenError));

        let mut tampered = blob.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(key.open(b"aad", &tampered), Err(OpenError));
        assert_eq!(key.open(b"aad", &blob[..10]), Err(OpenError));
    }

    #[test]
    fn debug_hides_the_key_and_the_key_is_zeroed_on_drop() {
        fn zeroed_on_drop<T: zeroize::ZeroizeOnDrop>(_: &T) {}
        let key = SealKey::derive(&MasterKey::generate(), b"secret", "test");
        assert_eq!(format!("{key:?}"), "SealKey([redacted])");
        // Compiles only while the key bytes sit in a type that zeroes itself on drop.
        zeroed_on_drop(&key.0);
    }
}
