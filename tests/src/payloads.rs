//! Hostile values both hostile-input suites send (the broker's over TCP, the agent's on its
//! socket): markup, header injection, names that try to leave their directory, and bytes that
//! are not HTTP.

/// A marker inside every injected value, so a leak is easy to spot.
pub const MARK: &str = "zq7hostile";
/// Markup that must never come back unescaped.
pub const SCRIPT: &str = "<script>alert('zq7hostile')</script>";
/// An attribute breakout that must never come back unescaped.
pub const ATTRIBUTE: &str = "\"><img src=x onerror=alert('zq7hostile')>";
/// A CR/LF header injection.
pub const CRLF: &str = "x\r\nX-Injected: zq7hostile\r\nSet-Cookie: zq7hostile=1";

/// Percent-encodes every byte but ASCII letters, digits and `-._~`.
pub fn pct(bytes: impl AsRef<[u8]>) -> String {
    bytes
        .as_ref()
        .iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Path segments that stand where a name (`demo`) belongs: traversal, encoded slashes, NUL,
/// invalid UTF-8, case, markup, CR/LF and length, percent-encoded where they need to be.
pub fn path_segments() -> Vec<(&'static str, String)> {
    let encoded: [(&str, &str); 21] = [
        ("dot-dot", ".."),
        ("encoded dot-dot", "%2e%2e"),
        ("encoded traversal to an API route", "..%2F..%2Fv1%2Ftoken"),
        ("traversal to the config", "..%2F..%2Fconfig%2Fagent.toml"),
        ("traversal to the authid file", "..%2Fdata%2Fauthids%2Fdemo"),
        (
            "upper-case encoded traversal",
            "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        ),
        ("double-encoded traversal", "%252e%252e%252fetc%252fpasswd"),
        ("overlong UTF-8 slash", "..%C0%AF..%C0%AFetc"),
        ("backslash traversal", "..%5C..%5Cetc"),
        ("absolute path", "%2Fetc%2Fpasswd"),
        ("name then encoded slash", "demo%2F.."),
        ("trailing encoded slash", "demo%2F"),
        ("hidden name", ".demo"),
        ("trailing NUL", "demo%00"),
        ("NUL only", "%00"),
        ("invalid UTF-8", "%FF%FE"),
        ("non-ASCII", "d%C3%A9mo"),
        ("upper case", "DEMO"),
        ("trailing space", "demo%20"),
        ("matrix parameter", "demo;x=1"),
        ("encoded query", "demo%3Fnext%3D%2F%2Fevil.example"),
    ];
    let mut segments: Vec<(&str, String)> = encoded
        .into_iter()
        .map(|(name, segment)| (name, segment.to_owned()))
        .collect();
    segments.extend([
        ("script", pct(SCRIPT)),
        ("attribute breakout", pct(ATTRIBUTE)),
        ("CR/LF", pct(CRLF)),
        ("10 KiB", "a".repeat(10 * 1024)),
    ]);
    segments
}

/// Bytes that are not an HTTP request, or not one of a version we speak; `path` is a path
/// the server serves, for the near misses.
pub fn not_http(path: &str) -> Vec<(&'static str, Vec<u8>)> {
    let mut hello = b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03".to_vec();
    hello.extend((0..160u8).map(|i| i.wrapping_mul(37)));
    let noise = (0..4096u32)
        .map(|i| i.wrapping_mul(2_654_435_761).to_be_bytes()[0])
        .collect();
    let line = |rest: &str| format!("GET {path} HTTP/1.1\r\n{rest}").into_bytes();
    vec![
        ("TLS ClientHello", hello),
        ("4 KiB of noise", noise),
        (
            "blank lines, then garbage",
            b"\r\n\r\n\r\n\r\nzq7hostile\r\n\r\n".to_vec(),
        ),
        ("method only", b"GET\r\n\r\n".to_vec()),
        (
            "unknown HTTP version",
            format!("GET {path} HTTP/9.9\r\nHost: x\r\n\r\n").into_bytes(),
        ),
        (
            "HTTP/2 preface",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
        ),
        ("NUL bytes", vec![0; 1024]),
        (
            "header without a colon",
            line("Host x\r\nzq7hostile\r\n\r\n"),
        ),
        ("space before the colon", line("Host : x\r\n\r\n")),
        ("NUL in a header", line("Host: x\r\nX-AuthID: a\0b\r\n\r\n")),
        (
            "request line of 1 MiB",
            format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(1 << 20)).into_bytes(),
        ),
    ]
}
