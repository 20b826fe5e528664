//! What the `/v1` API reads: JSON bodies and their content type, login ids in the path, poll
//! secrets, and authids in the right header and in all the wrong places.

use super::values::hostile_values;
use super::{query, Case, Expect, Fixture, SCRIPT};
use oauth_e2e::payloads::path_segments;
use oauth_e2e::raw_http::RawRequest;

/// The API's cases.
pub fn cases(fixture: &Fixture) -> Vec<Case> {
    let mut cases = create_login();
    cases.extend(poll(fixture));
    cases.extend(token(fixture));
    cases.extend(revoke(fixture));
    cases
}

pub fn json_post(path: &str, body: impl AsRef<[u8]>) -> RawRequest {
    RawRequest::post(path)
        .header("Content-Type", "application/json")
        .body(body)
}

fn create_login() -> Vec<Case> {
    let endpoint = "POST /v1/logins";
    let mut cases: Vec<Case> = hostile_values()
        .into_iter()
        .filter(|(name, _)| *name != "invalid UTF-8")
        .map(|(name, value)| {
            let value = String::from_utf8(value).unwrap();
            let body = serde_json::json!({ "provider": value }).to_string();
            let request = json_post("/v1/logins", body);
            Case::new(
                endpoint,
                format!("provider: {name}"),
                request,
                Expect::Status(400),
            )
            .needle(&value)
        })
        .collect();
    let bodies: [(&str, Vec<u8>); 6] = [
        ("upper-case provider", br#"{"provider":"DEMO"}"#.to_vec()),
        (
            "duplicate key",
            br#"{"provider":"demo","provider":"demo"}"#.to_vec(),
        ),
        (
            "byte-order mark",
            b"\xef\xbb\xbf{\"provider\":\"demo\"}".to_vec(),
        ),
        (
            "trailing garbage",
            br#"{"provider":"demo"} zq7hostile"#.to_vec(),
        ),
        (
            "two objects",
            br#"{"provider":"demo"}{"provider":"demo"}"#.to_vec(),
        ),
        (
            "NUL after the object",
            b"{\"provider\":\"demo\"}\0".to_vec(),
        ),
    ];
    for (name, body) in bodies {
        cases.push(Case::new(
            endpoint,
            name,
            json_post("/v1/logins", body),
            Expect::Status(400),
        ));
    }
    let chunk = format!("{:x}\r\n{}\r\n0\r\n\r\n", 20 * 1024, " ".repeat(20 * 1024));
    let chunked = RawRequest::post("/v1/logins")
        .header("Content-Type", "application/json")
        .header("Transfer-Encoding", "chunked")
        .body(chunk);
    cases.push(
        Case::new(
            endpoint,
            "20 KiB chunked body",
            chunked,
            Expect::Status(400),
        )
        .wire(),
    );
    cases
}

fn poll(fixture: &Fixture) -> Vec<Case> {
    let endpoint = "POST /v1/logins/{id}/poll";
    let secret = format!("Bearer {}", fixture.poll_secret);
    let mut cases = Vec::new();
    for (name, segment) in path_segments() {
        let request =
            RawRequest::post(format!("/v1/logins/{segment}/poll")).header("Authorization", &secret);
        let case = Case::new(
            endpoint,
            format!("login id: {name}"),
            request,
            Expect::Refused,
        );
        cases.push(case.payload_needles());
    }
    let id = &fixture.login_id;
    for (name, target) in [
        ("login id with NUL", format!("/v1/logins/{id}%00/poll")),
        (
            "login id in upper case",
            format!("/v1/logins/{}/poll", id.to_uppercase()),
        ),
        (
            "login id with a trailing space",
            format!("/v1/logins/{id}%20/poll"),
        ),
    ] {
        let request = RawRequest::post(target).header("Authorization", &secret);
        cases.push(Case::new(endpoint, name, request, Expect::Status(404)));
    }
    let path = format!("/v1/logins/{id}/poll");
    let credentials: Vec<(&str, Vec<u8>)> = vec![
        ("non-UTF-8 secret", b"Bearer \xff\xfe\xfd".to_vec()),
        (
            "64 KiB secret",
            format!("Bearer {}", "A".repeat(64 * 1024)).into_bytes(),
        ),
        ("script secret", format!("Bearer {SCRIPT}").into_bytes()),
        (
            "secret with Basic",
            format!("Basic {}", fixture.poll_secret).into_bytes(),
        ),
        (
            "secret with one more character",
            format!("{secret}A").into_bytes(),
        ),
        (
            "the authid instead",
            format!("Bearer {}", fixture.authid).into_bytes(),
        ),
    ];
    for (name, value) in credentials {
        let request = RawRequest::post(&path).header("Authorization", &value);
        cases.push(Case::new(endpoint, name, request, Expect::Status(404)).needle(SCRIPT));
    }
    let query = format!(
        "{path}?{}",
        query(&[("poll_secret", fixture.poll_secret.as_bytes())])
    );
    let name = "poll secret in the query";
    cases.push(Case::new(
        endpoint,
        name,
        RawRequest::post(query),
        Expect::Status(404),
    ));
    cases
}

/// The real authid anywhere but the `Authorization` header is not accepted.
fn misplaced_authid(endpoint: &'static str, path: &str, authid: &str) -> Vec<Case> {
    let in_query = format!("{path}?{}", query(&[("authid", authid.as_bytes())]));
    let body = serde_json::json!({ "authid": authid }).to_string();
    let requests = [
        ("authid in the query", RawRequest::post(in_query)),
        (
            "authid in X-AuthID",
            RawRequest::post(path).header("X-AuthID", authid),
        ),
        (
            "authid in a cookie",
            RawRequest::post(path).header("Cookie", format!("authid={authid}")),
        ),
        ("authid in the body", json_post(path, body)),
        (
            "authid twice in one header",
            RawRequest::post(path).header("Authorization", format!("Bearer {authid}{authid}")),
        ),
        (
            "lookup part only",
            RawRequest::post(path).header("Authorization", format!("Bearer {}", &authid[..22])),
        ),
        (
            "garbage before the real authid",
            RawRequest::post(path)
                .header("Authorization", "Bearer zq7hostile")
                .header("Authorization", format!("Bearer {authid}")),
        ),
    ];
    requests
        .into_iter()
        .map(|(name, request)| Case::new(endpoint, name, request, Expect::Status(401)))
        .collect()
}

fn token(fixture: &Fixture) -> Vec<Case> {
    let endpoint = "POST /v1/token";
    let mut cases = misplaced_authid(endpoint, "/v1/token", &fixture.authid);
    let bearer = format!("Bearer {}", fixture.authid);
    let valid = |content_type: Option<&str>, body: &[u8]| {
        let request = RawRequest::post("/v1/token").header("Authorization", &bearer);
        let request = match content_type {
            Some(value) => request.header("Content-Type", value),
            None => request,
        };
        request.body(body)
    };
    let body = br#"{"min_valid_secs":600}"#;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=zq7hostile"),
    ] {
        let name = format!("valid authid, JSON body sent as {content_type:?}");
        let request = valid(content_type, body);
        cases.push(Case::new(endpoint, name, request, Expect::Status(400)));
    }
    let json = Some("application/json");
    let bodies: [(&str, Vec<u8>); 5] = [
        ("non-UTF-8 body", b"{\"min_valid_secs\":\"\xff\"}".to_vec()),
        ("number beyond f64", br#"{"min_valid_secs":1e400}"#.to_vec()),
        (
            "number beyond u64",
            br#"{"min_valid_secs":18446744073709551616}"#.to_vec(),
        ),
        (
            "duplicate key",
            br#"{"min_valid_secs":600,"min_valid_secs":600}"#.to_vec(),
        ),
        (
            "script as the value",
            format!(r#"{{"min_valid_secs":"{SCRIPT}"}}"#).into_bytes(),
        ),
    ];
    for (name, body) in bodies {
        let name = format!("valid authid, {name}");
        let case = Case::new(endpoint, name, valid(json, &body), Expect::Status(400));
        cases.push(case.needle(SCRIPT));
    }
    let huge = format!(r#"{{"min_valid_secs":600{}}}"#, " ".repeat(1 << 20));
    let name = "valid authid, 1 MiB body";
    cases.push(
        Case::new(
            endpoint,
            name,
            valid(json, huge.as_bytes()),
            Expect::Status(400),
        )
        .wire(),
    );
    cases
}

fn revoke(fixture: &Fixture) -> Vec<Case> {
    // Never the real authid in `Authorization` here: that would revoke it.
    misplaced_authid("POST /v1/revoke", "/v1/revoke", &fixture.authid)
        .into_iter()
        .filter(|case| !case.name.contains("garbage before"))
        .collect()
}
