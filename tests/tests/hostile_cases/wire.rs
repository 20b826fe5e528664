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
    oauth_e2e::payloads::not_http("/")
        .into_iter()
        .map(|(name, bytes)| {
            Case::new("(not HTTP)", name, RawRequest::raw(bytes), Expect::Refused)
                .wire()
                .needle(MARK)
        })
        .collect()
}
