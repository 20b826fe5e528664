//! Handing a finished sign-in's authid to the program that started it.
//!
//! When a program starts a sign-in, the broker makes a random poll secret, derives an X25519 key
//! pair from it, stores only the public key (and a hash of the secret, to check polls), and gives
//! the secret to the program. When the user finishes, the broker seals the new authid to the
//! public key (a libsodium-style sealed box). Only a poll that presents the secret can rebuild
//! the private key and open it, so the database never holds a usable authid, even for a moment.

use super::master_key::MasterKey;
use super::seal::{OpenError, SealKey};
use crypto_box::{PublicKey, SecretKey};
use rand::rngs::OsRng;
use zeroize::Zeroizing;

/// The key pair a poll secret stands for.
pub struct PollKeys {
    secret: SecretKey,
}

impl std::fmt::Debug for PollKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PollKeys([redacted])")
    }
}

impl PollKeys {
    /// Derives the key pair from the poll secret (and the master key, so that the database and a
    /// guessed secret are not enough).
    pub fn derive(master: &MasterKey, poll_secret: &str) -> Self {
        let seed = SealKey::derive(master, poll_secret.as_bytes(), "oauth-broker poll key v1");
        let bytes: Zeroizing<[u8; 32]> = Zeroizing::new(seed.raw());
        Self {
            secret: SecretKey::from(*bytes),
        }
    }

    /// The public half, stored with the pending sign-in.
    pub fn public_key(&self) -> [u8; 32] {
        *self.secret.public_key().as_bytes()
    }

    /// Opens a box sealed with [`seal_to`].
    pub fn open(&self, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        self.secret
            .unseal(sealed)
            .map(Zeroizing::new)
            .map_err(|_| OpenError)
    }
}

/// Seals `plaintext` to a stored public key. `None` when the stored key is not 32 bytes.
pub fn seal_to(public_key: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
    let public: [u8; 32] = public_key.try_into().ok()?;
    PublicKey::from(public).seal(&mut OsRng, plaintext).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_poll_secret_opens_the_box() {
        let master = MasterKey::generate();
        let keys = PollKeys::derive(&master, "poll-secret");
        let sealed = seal_to(&keys.public_key(), b"the-authid").unwrap();

        let again = PollKeys::derive(&master, "poll-secret");
        assert_eq!(&*again.open(&sealed).unwrap(), b"the-authid");
        assert!(PollKeys::derive(&master, "other").open(&sealed).is_err());
        assert!(PollKeys::derive(&MasterKey::generate(), "poll-secret")
            .open(&sealed)
            .is_err());
    }

    #[test]
    fn debug_hides_the_key() {
        let keys = PollKeys::derive(&MasterKey::generate(), "poll-secret");
        assert_eq!(format!("{keys:?}"), "PollKeys([redacted])");
    }
}
