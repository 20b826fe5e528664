//! The authid: 48 random bytes, shown as 64 base64url characters.
//!
//! The first 16 bytes are the lookup part: the database stores only their SHA-256 (the grant
//! id) to find the record. The last 32 bytes are the secret part: together with the master key
//! they derive the record's encryption key, and they are never stored anywhere by the broker.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore as _;
use std::fmt;
use zeroize::Zeroizing;

const LOOKUP_LEN: usize = 16;
const SECRET_LEN: usize = 32;

/// Length of an authid in characters.
pub const AUTHID_LEN: usize = 64;

/// The grant id: what the database indexes a grant by.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GrantId(pub [u8; 32]);

impl fmt::Debug for GrantId {
    /// Only a short prefix: enough to correlate log lines, useless for finding the record.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "GrantId({:02x}{:02x}{:02x}..)",
            self.0[0], self.0[1], self.0[2]
        )
    }
}

/// A parsed authid. `Debug` never prints it.
#[derive(Clone)]
pub struct Authid {
    lookup: [u8; LOOKUP_LEN],
    secret: Zeroizing<[u8; SECRET_LEN]>,
}

/// Why a string is not an authid. Deliberately vague towards the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid authid")]
pub struct MalformedAuthid;

impl Authid {
    /// A fresh authid from the OS random generator.
    pub fn generate() -> Self {
        let mut lookup = [0u8; LOOKUP_LEN];
        let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
        OsRng.fill_bytes(&mut lookup);
        OsRng.fill_bytes(&mut *secret);
        Self { lookup, secret }
    }

    /// Parses the 64-character form; anything else is rejected without further work.
    pub fn parse(text: &str) -> Result<Self, MalformedAuthid> {
        let text = text.trim();
        if text.len() != AUTHID_LEN {
            return Err(MalformedAuthid);
        }
        let bytes = Zeroizing::new(URL_SAFE_NO_PAD.decode(text).map_err(|_| MalformedAuthid)?);
        let (lookup, secret) = bytes.split_at(LOOKUP_LEN);
        let mut parsed = Self::from_parts(lookup)?;
        parsed.secret.copy_from_slice(secret);
        Ok(parsed)
    }

    fn from_parts(lookup: &[u8]) -> Result<Self, MalformedAuthid> {
        let lookup = lookup.try_into().map_err(|_| MalformedAuthid)?;
        Ok(Self {
            lookup,
            secret: Zeroizing::new([0u8; SECRET_LEN]),
        })
    }

    /// The text form handed to the user.
    pub fn encode(&self) -> Zeroizing<String> {
        let mut bytes = Zeroizing::new([0u8; LOOKUP_LEN + SECRET_LEN]);
        bytes[..LOOKUP_LEN].copy_from_slice(&self.lookup);
        bytes[LOOKUP_LEN..].copy_from_slice(&*self.secret);
        Zeroizing::new(URL_SAFE_NO_PAD.encode(*bytes))
    }

    /// The grant id the database indexes: a hash of the lookup part only.
    pub fn grant_id(&self) -> GrantId {
        GrantId(super::hash("oauth-broker grant id v1", &[&self.lookup]))
    }

    /// The secret part, for key derivation.
    pub(super) fn secret(&self) -> &[u8] {
        &*self.secret
    }
}

impl fmt::Debug for Authid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Authid([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_is_url_safe() {
        let authid = Authid::generate();
        let text = authid.encode();
        assert_eq!(text.len(), AUTHID_LEN);
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));

        let parsed = Authid::parse(&text).unwrap();
        assert_eq!(parsed.grant_id(), authid.grant_id());
        assert_eq!(parsed.secret(), authid.secret());
    }

    #[test]
    fn rejects_wrong_length_and_alphabet() {
        let good = Authid::generate().encode();
        assert!(Authid::parse(&good[..63]).is_err());
        assert!(Authid::parse(&format!("{}A", &*good)).is_err());
        assert!(Authid::parse(&"!".repeat(64)).is_err());
        assert!(Authid::parse("").is_err());
        assert!(Authid::parse(&"é".repeat(32)).is_err());
    }

    #[test]
    fn debug_hides_the_value() {
        let authid = Authid::generate();
        let text = authid.encode();
        assert!(!format!("{authid:?}").contains(&text[..10]));
    }

    /// Compiles only while the secret part and the text form zero themselves on drop.
    #[test]
    fn secret_part_and_text_form_are_zeroed_on_drop() {
        fn zeroed_on_drop<T: zeroize::ZeroizeOnDrop>(_: &T) {}
        let authid = Authid::generate();
        zeroed_on_drop(&authid.secret);
        zeroed_on_drop(&authid.encode());
    }

    #[test]
    fn grant_id_depends_only_on_lookup_part() {
        let a = Authid::generate();
        let mut b = a.clone();
        b.secret = Zeroizing::new([7u8; SECRET_LEN]);
        assert_eq!(a.grant_id(), b.grant_id());
        assert_ne!(a.grant_id(), Authid::generate().grant_id());
    }
}
