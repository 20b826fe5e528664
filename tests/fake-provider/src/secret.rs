//! Random secrets (codes, tokens, user ids) and the PKCE S256 check (RFC 7636).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// 32 random bytes, base64url without padding: an authorization code or a token.
pub(crate) fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// A stable-looking user id: `uid-` and 16 random hex digits.
pub(crate) fn random_user_id() -> String {
    let hex: String = random_bytes::<8>()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("uid-{hex}")
}

/// Whether `verifier` hashes to `challenge` by the S256 method, compared in constant time.
pub(crate) fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    equal(&computed, challenge)
}

/// Whether a code challenge or verifier has the RFC 7636 form: 43 to 128 unreserved characters.
pub(crate) fn is_pkce_value(value: &str) -> bool {
    let unreserved = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
    (43..=128).contains(&value.len()) && value.chars().all(unreserved)
}

/// Compares two secrets in constant time (for equal lengths).
pub(crate) fn equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_the_rfc_7636_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches("wrong-verifier", challenge));
        assert!(is_pkce_value(verifier));
    }

    #[test]
    fn user_ids_have_sixteen_hex_digits() {
        let id = random_user_id();
        assert_eq!(id.len(), 20);
        assert!(id[4..].chars().all(|c| c.is_ascii_hexdigit()));
    }
}
