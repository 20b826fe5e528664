//! Hostile names and values shared by the route-specific cases.

use super::{ATTRIBUTE, CRLF, SCRIPT};

/// Hostile values for JSON bodies and queries.
pub fn hostile_values() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("traversal", b"../../etc/passwd".to_vec()),
        ("encoded traversal", b"..%2F..%2Fetc%2Fpasswd".to_vec()),
        ("NUL", b"zq7\0hostile".to_vec()),
        ("invalid UTF-8", b"zq7\xff\xfehostile".to_vec()),
        ("script", SCRIPT.as_bytes().to_vec()),
        ("attribute breakout", ATTRIBUTE.as_bytes().to_vec()),
        ("CR/LF", CRLF.as_bytes().to_vec()),
        ("4 KiB", vec![b'A'; 4 * 1024]),
    ]
}
