//! Requests no route matches (traversal, encoded slashes, other sites in the target) and
//! bytes that are not an HTTP request at all.

use super::{pct, Case, Expect, CRLF, EVIL, MARK, SCRIPT};
use oauth_e2e::raw_http::RawRequest;

/// The cases for no route and for no HTTP.
pub fn cases() -> Vec<Case> {
    let mut cases = unmatched();
    cases.extend(not_http());
    cases
}

fn unmatched() -> Vec<Case> {
    let endpoint = "(no route)";
    let long = format!("/{}", "a".repeat(10 * 1024));
    let targets: Vec<(&str, String)> = vec![
        ("unknown path", "/nope".into()),
        ("protocol-relative path", format!("//{EVIL}/")),
        ("encoded protocol-relative path", format!("/%2F%2F{EVIL}")),
        ("encoded backslash path", format!("/%5C{EVIL}")),
        ("dot segments to a route", "/v1/../v1/token".into()),
        (
            "encoded dot segments to a route",
            "/v1/%2e%2e/v1/token".into(),
        ),
        ("static traversal", "/static/..%2F..%2FCargo.toml".into()),
        (
            "static dot segments",
            "/static/%2e%2e/%2e%2e/Cargo.toml".into(),
        ),
        ("static file with NUL", "/static/style.css%00.js".into()),
        (
            "static file with a slash after it",
            "/static/style.css/".into(),
        ),
        ("static file in upper case", "/static/STYLE.CSS".into()),
        ("other static file", "/static/index.html".into()),
        ("dot file", "/.env".into()),
        ("git config", "/.git/config".into()),
        ("login without provider", "/login/".into()),
        ("API path with trailing slash", "/v1/token/".into()),
        ("API path in upper case", "/V1/TOKEN".into()),
        ("invalid UTF-8 path", "/%FF%FE".into()),
        ("script path", format!("/{}", pct(SCRIPT))),
        ("CR/LF path", format!("/{}", pct(CRLF))),
        ("10 KiB path", long),
        ("semicolon trick", "/callback/..;/v1/token".into()),
    ];
    let mut cases: Vec<Case> = targets
        .into_iter()
        .map(|(name, target)| {
            let case = Case::new(endpoint, name, RawRequest::get(target), Expect::Status(404));
            case.payload_needles().needle(format!("//{EVIL}"))
        })
        .collect();
    let raw: [(&str, &[u8]); 4] = [
        ("raw backslash", b"/\\evil.example/"),
        ("raw space", b"/v1/ token"),
        ("asterisk", b"*"),
        ("raw markup", b"/<script>alert(1)</script>"),
    ];
    for (name, target) in raw {
        let case = Case::new(endpoint, name, RawRequest::get(target), Expect::Refused).wire();
        cases.push(case.needle(b"<script>alert(1)</script>"));
    }
    let absolute = RawRequest::post(format!("http://{EVIL}/v1/token"));
    let name = "absolute-form target naming another site";
    cases.push(Case::new(endpoint, name, absolute, Expect::Refused).needle(EVIL));
    let connect = RawRequest::new("CONNECT", format!("{EVIL}:443"));
    cases.push(
        Case::new(
            endpoint,
            "CONNECT to another site",
            connect,
            Expect::Refused,
        )
        .wire(),
    );
    cases
}

/// Bytes that are not an HTTP request, or not one of a version we speak.
fn not_http() -> Vec<Case> {
    let endpoint = "(not HTTP)";
    let mut hello = b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03".to_vec();
    hello.extend((0..160u8).map(|i| i.wrapping_mul(37)));
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("TLS ClientHello", hello),
        ("4 KiB of noise", noise),
        (
            "blank lines, then garbage",
            b"\r\n\r\n\r\n\r\nzq7hostile\r\n\r\n".to_vec(),
        ),
        ("method only", b"GET\r\n\r\n".to_vec()),
        (
            "unknown HTTP version",
            b"GET / HTTP/9.9\r\nHost: x\r\n\r\n".to_vec(),
        ),
        (
            "HTTP/2 preface",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
        ),
        ("NUL bytes", vec![0; 1024]),
        (
            "header without a colon",
            b"GET / HTTP/1.1\r\nHost x\r\nzq7hostile\r\n\r\n".to_vec(),
        ),
        (
            "space before the colon",
            b"GET / HTTP/1.1\r\nHost : x\r\n\r\n".to_vec(),
        ),
        (
            "NUL in a header",
            b"GET / HTTP/1.1\r\nHost: x\r\nX-AuthID: a\0b\r\n\r\n".to_vec(),
        ),
        (
            "request line of 1 MiB",
            [
                b"GET /".as_slice(),
                &vec![b'a'; 1 << 20],
                b" HTTP/1.1\r\n\r\n",
            ]
            .concat(),
        ),
    ];
    inputs
        .into_iter()
        .map(|(name, bytes)| {
            Case::new(endpoint, name, RawRequest::raw(bytes), Expect::Refused)
                .wire()
                .needle(MARK)
        })
        .collect()
}
