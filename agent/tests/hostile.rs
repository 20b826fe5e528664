//! Hostile requests on the agent daemon's socket: malformed and oversized requests, invalid
//! UTF-8, traversal and encoded slashes in account names, unknown methods, bytes that are not
//! HTTP, and slow partial requests. Each gets a 4xx or a closed connection (or, where the
//! route reads no such input, its usual answer), never a 5xx; no answer echoes the injected
//! value or carries the authid; the daemon keeps serving after every case and while slow
//! clients hold connections; and no file under the agent's directories changes.
//!
//! Prints `HOSTILE agent <endpoint>: cases=N 5xx=0 ...` per endpoint for docs/reliability.md.
#![cfg(unix)] // the daemon's socket is a Unix socket here
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

mod support;

use oauth_agent::clock::Clock;
use oauth_e2e::payloads::{pct, CRLF, SCRIPT};
use oauth_e2e::raw_http::{exchange, read_answer, Outcome, RawRequest};
use oauth_e2e::tally::Tally;
use oauth_e2e::TestBroker;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use support::AgentEnv;
use tokio::io::AsyncWriteExt as _;
use tokio::net::UnixStream;

/// A request neither answered nor closed in this time means a hung daemon.
const DEADLINE: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Exactly this status (or, for malformed HTTP, any 4xx or a close).
    Status(u16),
    /// A 4xx or a closed connection.
    Refused,
    /// The route reads no such input: its usual 2xx, or a 4xx.
    IgnoredOrRefused,
}

struct Case {
    endpoint: &'static str,
    name: String,
    request: RawRequest,
    expect: Expect,
    needles: Vec<Vec<u8>>,
}

fn case(
    endpoint: &'static str,
    name: impl Into<String>,
    request: RawRequest,
    expect: Expect,
) -> Case {
    Case {
        endpoint,
        name: name.into(),
        request,
        expect,
        needles: vec![SCRIPT.into(), CRLF.into(), b"../".to_vec()],
    }
}

/// An agent with account `demo` signed in at a real broker, its daemon, and the secrets: the
/// authid first, then the access token the daemon handed out.
async fn signed_in_agent() -> (TestBroker, AgentEnv, support::RunningDaemon, Vec<String>) {
    let broker = TestBroker::start().await;
    let agent = AgentEnv::new();
    let authid = broker.sign_in().await;
    agent.add_account("demo", &broker.url, &authid).await;
    let daemon = agent.start_daemon(Clock::default()).await;
    let (status, token) = agent.get("/v1/tokens/demo").await;
    assert_eq!(status, 200, "{token}");
    let access_token = token["access_token"].as_str().unwrap().to_owned();
    (broker, agent, daemon, vec![authid, access_token])
}

#[tokio::test]
async fn hostile_requests_on_the_socket_are_refused_and_change_nothing() {
    let (broker, agent, daemon, secrets) = signed_in_agent().await;
    let before = files(agent.dir.path(), &agent.socket);
    let mut tally = Tally::default();
    let mut failures = Vec::new();

    for case in cases() {
        let stream = UnixStream::connect(&agent.socket).await.unwrap();
        let outcome = exchange(stream, &case.request.to_bytes("oauth-agent"), DEADLINE).await;
        let problems = check(&case, &outcome, &secrets);
        failures.extend(
            problems
                .into_iter()
                .map(|p| format!("{} / {}: {p}", case.endpoint, case.name)),
        );
        tally.count(case.endpoint, &outcome);
        let (status, _) = agent.get("/v1/status").await;
        assert_eq!(status, 200, "{}: the daemon stopped serving", case.name);
        if files(agent.dir.path(), &agent.socket) != before {
            failures.push(format!("{} / {}: files changed", case.endpoint, case.name));
        }
    }

    tally.print("agent ", "unix socket");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(tally.server_errors(), 0, "no case may get a 5xx");
    let (status, _) = agent.get("/v1/tokens/demo").await;
    assert_eq!(status, 200, "the account still gets tokens");
    daemon.stop().await;
    broker.stop().await;
}

fn check(case: &Case, outcome: &Outcome, secrets: &[String]) -> Vec<String> {
    let response = match outcome {
        Outcome::Answered(response) => response,
        Outcome::Hung => return vec![format!("no answer and no close within {DEADLINE:?}")],
        Outcome::Closed if case.expect == Expect::Refused || case.request_is_malformed() => {
            return Vec::new()
        }
        Outcome::Closed => return vec!["closed without an answer".into()],
    };
    let mut problems = Vec::new();
    let status = response.status;
    let refused = (400..500).contains(&status);
    let expected = match case.expect {
        Expect::Status(expected) => status == expected || (case.request_is_malformed() && refused),
        Expect::Refused => refused,
        Expect::IgnoredOrRefused => (200..300).contains(&status) || refused,
    };
    if !expected || status >= 500 {
        let body: String = response.text().chars().take(300).collect();
        problems.push(format!(
            "status {status}, expected {:?}: {body}",
            case.expect
        ));
    }
    let mut places = vec![("body".to_owned(), response.body.clone())];
    places.extend(response.headers.iter().map(|(n, v)| (n.clone(), v.clone())));
    for (place, bytes) in places {
        // The authid never leaves the agent; an access token only as a token route's answer.
        let (authid, tokens) = secrets.split_first().unwrap();
        let token = tokens
            .iter()
            .any(|t| oauth_e2e::contains_bytes(&bytes, t.as_bytes()));
        if oauth_e2e::contains_bytes(&bytes, authid.as_bytes()) {
            problems.push(format!("the authid in the {place}"));
        }
        if token && !(200..300).contains(&status) {
            problems.push(format!("an access token in the refusal's {place}"));
        }
        for needle in &case.needles {
            if oauth_e2e::contains_bytes(&bytes, needle) {
                problems.push(format!(
                    "the {place} echoes {:?}",
                    String::from_utf8_lossy(needle)
                ));
            }
        }
        if place == "x-injected" {
            problems.push("an injected header".into());
        }
    }
    problems
}

impl Case {
    /// Cases whose bytes are not a well-formed request: a bare 400 or a close will do.
    fn request_is_malformed(&self) -> bool {
        matches!(self.endpoint, "(not HTTP)") || self.name.starts_with("malformed:")
    }
}

/// Every file under `dir` with its contents (the socket only by name).
fn files(dir: &Path, socket: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        for entry in std::fs::read_dir(&path).unwrap() {
            let path = entry.unwrap().path();
            let name = path.display().to_string();
            if path == socket {
                found.insert(name, Vec::new());
            } else if path.is_dir() {
                found.insert(name, b"<dir>".to_vec());
                pending.push(path);
            } else {
                found.insert(name, std::fs::read(&path).unwrap());
            }
        }
    }
    found
}

/// The whole table.
fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let routes = [
        ("GET /v1/tokens/{name}", "GET", "/v1/tokens/demo"),
        ("DELETE /v1/tokens/{name}", "DELETE", "/v1/tokens/demo"),
        ("GET /v1/status", "GET", "/v1/status"),
        ("POST /v1/reload", "POST", "/v1/reload"),
    ];
    for (endpoint, method, path) in routes {
        cases.extend(generic(endpoint, method, path));
    }
    for (endpoint, method) in [
        ("GET /v1/tokens/{name}", "GET"),
        ("DELETE /v1/tokens/{name}", "DELETE"),
    ] {
        cases.extend(names(endpoint, method));
    }
    cases.extend(min_valid_secs());
    cases.extend(unmatched());
    cases.extend(not_http());
    cases
}

/// What every route gets: wrong and unknown methods, malformed requests, invalid UTF-8,
/// oversized headers and bodies.
fn generic(endpoint: &'static str, method: &str, path: &str) -> Vec<Case> {
    let wrong = if method == "GET" { "PUT" } else { "PATCH" };
    let request = || RawRequest::new(method, path);
    let mut raw_query = path.as_bytes().to_vec();
    raw_query.extend_from_slice(b"?min_valid_secs=\xff\xfe");
    let many = (0..200).fold(request(), |r, i| r.header(format!("X-Pad-{i}"), "x"));
    let ignored = Expect::IgnoredOrRefused;
    vec![
        case(
            endpoint,
            format!("wrong method {wrong}"),
            RawRequest::new(wrong, path),
            Expect::Status(405),
        ),
        case(
            endpoint,
            "unknown method BREW",
            RawRequest::new("BREW", path),
            Expect::Status(405),
        ),
        case(
            endpoint,
            "malformed: control byte in the method",
            RawRequest::new(b"G\x01T", path),
            Expect::Refused,
        ),
        case(
            endpoint,
            "malformed: raw non-UTF-8 query",
            RawRequest::new(method, raw_query),
            Expect::Refused,
        ),
        case(
            endpoint,
            "script in the query",
            RawRequest::new(method, format!("{path}?x={}", pct(SCRIPT))),
            ignored,
        ),
        case(
            endpoint,
            "non-UTF-8 headers",
            request()
                .header("Authorization", b"Bearer \xff\xfe")
                .header("X-Account", b"\xff"),
            ignored,
        ),
        case(
            endpoint,
            "64 KiB header",
            request().header("X-Pad", "A".repeat(64 * 1024)),
            ignored,
        ),
        case(
            endpoint,
            "malformed: 1 MiB header",
            request().header("X-Pad", "A".repeat(1 << 20)),
            Expect::Refused,
        ),
        case(endpoint, "malformed: 200 headers", many, Expect::Refused),
        case(
            endpoint,
            "1 MiB body",
            request()
                .header("Content-Type", "application/json")
                .body(vec![b'{'; 1 << 20]),
            ignored,
        ),
        case(
            endpoint,
            "body of invalid UTF-8",
            request()
                .header("Content-Type", "text/plain")
                .body(b"\xff\xfe\xfd"),
            ignored,
        ),
        case(
            endpoint,
            "malformed: two different Content-Lengths",
            request()
                .header("Content-Length", "5")
                .header("Content-Length", "6")
                .body("hello!"),
            Expect::Refused,
        ),
        case(
            endpoint,
            // No route reads a body, so a broken one may go unnoticed.
            "malformed: broken chunked body",
            request()
                .header("Transfer-Encoding", "chunked")
                .body("zz\r\nhello\r\n0\r\n\r\n"),
            ignored,
        ),
        case(
            endpoint,
            "malformed: folded header",
            request().header("X-Pad", "a\r\n b"),
            Expect::Refused,
        ),
        case(
            endpoint,
            "traversal after the route",
            RawRequest::new(method, format!("{path}/..%2F..%2Fetc%2Fpasswd")),
            Expect::Status(404),
        ),
        case(
            endpoint,
            "dot segments after the route",
            RawRequest::new(method, format!("{path}/../../status")),
            Expect::Status(404),
        ),
    ]
}

/// Account names that are not names: traversal, encoded slashes, NUL, invalid UTF-8, markup,
/// CR/LF and length. None reaches the store.
fn names(endpoint: &'static str, method: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = oauth_e2e::payloads::path_segments()
        .into_iter()
        .map(|(name, segment)| {
            let request = RawRequest::new(method, format!("/v1/tokens/{segment}"));
            case(endpoint, format!("name: {name}"), request, Expect::Refused)
                .needle("passwd")
                .needle("agent.toml")
        })
        .collect();
    for (name, target) in [
        ("raw dot segments", &b"/v1/tokens/../status"[..]),
        ("raw traversal", b"/v1/tokens/../../../etc/passwd"),
    ] {
        cases.push(case(
            endpoint,
            name,
            RawRequest::new(method, target),
            Expect::Status(404),
        ));
    }
    let raw = RawRequest::new(method, b"/v1/tokens/\xff\xfe");
    cases.push(case(
        endpoint,
        "malformed: raw non-UTF-8 name",
        raw,
        Expect::Refused,
    ));
    cases
}

fn min_valid_secs() -> Vec<Case> {
    let endpoint = "GET /v1/tokens/{name}";
    let long = "9".repeat(10 * 1024);
    let values = [
        ("negative", "-1".to_owned()),
        ("exponent", "1e99".to_owned()),
        ("beyond u64", "18446744073709551616".to_owned()),
        ("fraction", "1.5".to_owned()),
        ("invalid UTF-8", "%FF%FE".to_owned()),
        ("script", pct(SCRIPT)),
        ("10 KiB of digits", long),
        ("twice", "1&min_valid_secs=2".to_owned()),
    ];
    values
        .into_iter()
        .map(|(name, value)| {
            let request = RawRequest::get(format!("/v1/tokens/demo?min_valid_secs={value}"));
            case(
                endpoint,
                format!("min_valid_secs: {name}"),
                request,
                Expect::Status(400),
            )
        })
        .collect()
}

fn unmatched() -> Vec<Case> {
    let endpoint = "(no route)";
    let targets = [
        "/",
        "/v1",
        "/v1/tokens",
        "/v1/tokens/",
        "/v1/token/demo",
        "//v1/status",
        "/v1/%2e%2e/v1/status",
        "/v1%2Fstatus",
        "/%FF%FE",
        "/V1/STATUS",
    ];
    let mut cases: Vec<Case> = targets
        .into_iter()
        .map(|target| {
            case(
                endpoint,
                target,
                RawRequest::get(target),
                Expect::Status(404),
            )
        })
        .collect();
    let long = format!("/{}", "a".repeat(10 * 1024));
    cases.push(case(
        endpoint,
        "10 KiB path",
        RawRequest::get(long),
        Expect::Status(404),
    ));
    cases
}

/// Bytes that are not an HTTP request.
fn not_http() -> Vec<Case> {
    oauth_e2e::payloads::not_http("/v1/status")
        .into_iter()
        .map(|(name, bytes)| case("(not HTTP)", name, RawRequest::raw(bytes), Expect::Refused))
        .collect()
}

impl Case {
    fn needle(mut self, needle: &str) -> Self {
        self.needles.push(needle.as_bytes().to_vec());
        self
    }
}

/// How slow clients start their request, and how they finish it.
const SLOW: [(&str, &[u8], &[u8]); 3] = [
    (
        "headers that do not end",
        b"GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Slow: ",
        b"a\r\nConnection: close\r\n\r\n",
    ),
    (
        "half a request line",
        b"GET /v1/sta",
        b"tus HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ),
    (
        "nothing sent",
        b"",
        b"GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ),
];

#[tokio::test]
async fn slow_partial_requests_do_not_block_other_clients() {
    let (broker, agent, daemon, _) = signed_in_agent().await;
    let mut slow = Vec::new();
    for (kind, start, rest) in SLOW {
        for _ in 0..20 {
            let mut stream = UnixStream::connect(&agent.socket).await.unwrap();
            stream.write_all(start).await.unwrap();
            slow.push((kind, stream, rest));
        }
    }

    let served = tokio::time::timeout(DEADLINE, agent.get("/v1/tokens/demo")).await;
    let (status, body) = served.expect("another client is served while slow ones hold connections");
    assert_eq!(status, 200, "{body}");

    // The slow clients, once they finish, are answered too.
    let mut tally = Tally::default();
    for (kind, mut stream, rest) in slow {
        stream.write_all(rest).await.unwrap();
        let outcome = tokio::time::timeout(DEADLINE, read_answer(&mut stream)).await;
        let outcome = outcome.unwrap_or(Outcome::Hung);
        let Outcome::Answered(response) = &outcome else {
            panic!("{kind}: {outcome:?} once the request was complete");
        };
        assert_eq!(response.status, 200, "{kind}");
        tally.count("(slow clients)", &outcome);
    }
    // One line, no total: the sweep above prints the agent's total.
    let line = tally.summary("agent ", "unix socket");
    let line = line.lines().next().unwrap_or_default();
    std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes()).unwrap();
    assert_eq!(tally.server_errors(), 0);
    daemon.stop().await;
    broker.stop().await;
}
