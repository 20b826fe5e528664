//! What Duplicati's routes read: the authid in `X-AuthID`, the query and a form, `type` (which
//! ends in a redirect), and `/fetch`'s `token` and JSONP `callback`.

use super::api::json_post;
use super::values::hostile_values;
use super::{query, Case, Expect, Fixture, ATTRIBUTE, CRLF, SCRIPT};
use oauth_e2e::raw_http::RawRequest;

/// Duplicati's cases.
pub fn cases(fixture: &Fixture) -> Vec<Case> {
    let mut cases = refresh(fixture);
    cases.extend(fetch());
    cases
}

fn refresh(fixture: &Fixture) -> Vec<Case> {
    let endpoint = "GET|POST /refresh";
    let authid = &fixture.authid;
    let mut cases = Vec::new();
    let headers: Vec<(&str, Vec<u8>)> = vec![
        ("traversal", b"../../etc/passwd".to_vec()),
        (
            "Bearer before the authid",
            format!("Bearer {authid}").into_bytes(),
        ),
        (
            "authid with one more character",
            format!("{authid}A").into_bytes(),
        ),
        ("lookup part only", authid.as_bytes()[..22].to_vec()),
        ("attribute breakout", ATTRIBUTE.as_bytes().to_vec()),
    ];
    for (name, value) in headers {
        let request = RawRequest::get("/refresh").header("X-AuthID", &value);
        let case = Case::new(
            endpoint,
            format!("X-AuthID: {name}"),
            request,
            Expect::Status(401),
        );
        cases.push(case.needle(ATTRIBUTE));
    }
    for (name, value) in hostile_values() {
        let target = format!("/refresh?{}", query(&[("authid", &value)]));
        let request = RawRequest::get(target);
        let case = Case::new(
            endpoint,
            format!("authid query: {name}"),
            request,
            Expect::Status(401),
        );
        cases.push(case.needle(&value));
        let form = RawRequest::post("/refresh")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(query(&[("authid", &value)]));
        let case = Case::new(
            endpoint,
            format!("authid form field: {name}"),
            form,
            Expect::Status(401),
        );
        cases.push(case.needle(&value));
    }
    let json = json_post(
        "/refresh",
        serde_json::json!({ "authid": authid }).to_string(),
    );
    cases.push(Case::new(
        endpoint,
        "authid in a JSON body",
        json,
        Expect::Status(401),
    ));
    let huge = RawRequest::post("/refresh")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("authid={}", "A".repeat(1 << 20)));
    cases.push(Case::new(endpoint, "1 MiB form body", huge, Expect::Status(400)).wire());
    cases.extend(duplicati_types());
    cases
}

/// `GET /refresh?type=` redirects to the picker: never anywhere else.
fn duplicati_types() -> Vec<Case> {
    let types: [(&str, &[u8]); 9] = [
        ("absolute URL", b"https://evil.example/"),
        ("protocol-relative URL", b"//evil.example"),
        ("backslashes", b"/\\evil.example"),
        ("double backslash", b"\\\\evil.example"),
        (
            "CR/LF and Location",
            b"x\r\nLocation: https://evil.example/",
        ),
        ("traversal", b"../../evil.example"),
        ("javascript: URL", b"javascript:alert('zq7hostile')"),
        ("script", SCRIPT.as_bytes()),
        ("invalid UTF-8", b"\xff\xfe"),
    ];
    types
        .into_iter()
        .map(|(name, value)| {
            let request = RawRequest::get(format!("/refresh?{}", query(&[("type", value)])));
            Case::new(
                "GET|POST /refresh",
                format!("type: {name}"),
                request,
                Expect::Status(303),
            )
            .needle(value)
        })
        .collect()
}

fn fetch() -> Vec<Case> {
    let endpoint = "GET /fetch";
    let mut cases = Vec::new();
    let mut tokens = hostile_values();
    tokens.extend([
        ("7 characters", b"abcdefg".to_vec()),
        ("129 characters", vec![b'a'; 129]),
        ("space inside", b"zq7hostile token".to_vec()),
    ]);
    for (name, token) in tokens {
        let request = RawRequest::get(format!("/fetch?{}", query(&[("token", &token)])));
        let case = Case::new(
            endpoint,
            format!("token: {name}"),
            request,
            Expect::Status(400),
        );
        cases.push(case.needle(&token));
    }
    let callbacks: [(&str, &[u8]); 6] = [
        ("CR/LF", CRLF.as_bytes()),
        ("65 characters", &[b'a'; 65]),
        ("non-ASCII", "café".as_bytes()),
        ("invalid UTF-8", b"cb\xff"),
        ("NUL", b"cb\0alert"),
        ("script", SCRIPT.as_bytes()),
    ];
    for (name, callback) in callbacks {
        let pairs: [(&str, &[u8]); 2] = [
            ("token", b"zq7hostile-never-issued"),
            ("callback", callback),
        ];
        let request = RawRequest::get(format!("/fetch?{}", query(&pairs)));
        let case = Case::new(
            endpoint,
            format!("callback: {name}"),
            request,
            Expect::Status(400),
        );
        cases.push(case.needle(callback));
    }
    let never = RawRequest::get("/fetch?token=zq7hostile-never-issued");
    cases.push(Case::new(
        endpoint,
        "token never issued",
        never,
        Expect::DuplicatiError,
    ));
    let jsonp = RawRequest::get("/fetch?token=zq7hostile-never-issued&callback=cb");
    let name = "token never issued, JSONP";
    cases.push(Case::new(endpoint, name, jsonp, Expect::DuplicatiError));
    cases
}
