//! Hostile names and values shared by the route-specific cases.

use super::{pct, ATTRIBUTE, CRLF, SCRIPT};

/// Names for path segments and values: traversal, encoded slashes, NUL, invalid UTF-8, case,
/// markup, CR/LF and length. Each is already percent-encoded where it needs to be.
pub fn hostile_segments() -> Vec<(&'static str, String)> {
    vec![
        ("dot-dot", "..".to_owned()),
        ("encoded dot-dot", "%2e%2e".to_owned()),
        ("encoded traversal", "..%2F..%2Fv1%2Ftoken".to_owned()),
        (
            "upper-case encoded traversal",
            "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd".to_owned(),
        ),
        (
            "double-encoded traversal",
            "%252e%252e%252fetc%252fpasswd".to_owned(),
        ),
        ("overlong UTF-8 slash", "..%C0%AF..%C0%AFetc".to_owned()),
        ("backslash traversal", "..%5C..%5Cetc".to_owned()),
        ("name then encoded slash", "demo%2F..".to_owned()),
        ("trailing encoded slash", "demo%2F".to_owned()),
        ("trailing NUL", "demo%00".to_owned()),
        ("NUL only", "%00".to_owned()),
        ("invalid UTF-8", "%FF%FE".to_owned()),
        ("upper case", "DEMO".to_owned()),
        ("trailing space", "demo%20".to_owned()),
        ("matrix parameter", "demo;x=1".to_owned()),
        (
            "encoded query",
            "demo%3Fnext%3D%2F%2Fevil.example".to_owned(),
        ),
        ("script", pct(SCRIPT)),
        ("attribute breakout", pct(ATTRIBUTE)),
        ("CR/LF", pct(CRLF)),
        ("10 KiB", "A".repeat(10 * 1024)),
    ]
}

/// The same as plain values for JSON bodies and queries.
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
