//! The sweep every route gets: wrong and malformed methods, invalid UTF-8 in the target, the
//! query and the headers, markup, CR/LF and oversized values in every parameter any route
//! reads, open-redirect parameters, a forged `Host`, hostile credentials, oversized and
//! malformed bodies, wrong content types, broken framing, and traversal after the route.

use super::{every, query, Case, Effect, Expect, Fixture, ATTRIBUTE, CRLF, EVIL, MARK, PARAMS};
use super::{REDIRECT_PARAMS, SCRIPT};
use oauth_e2e::raw_http::RawRequest;

/// How a route treats input it does not expect.
#[derive(Debug, Clone, Copy)]
pub enum Takes {
    /// Reads no input: answers as usual whatever comes.
    Nothing,
    /// Refuses what it cannot use.
    Input,
    /// `/login/{provider}`: unknown parameters do not stop the sign-in, so it may redirect to
    /// the provider (storing one sign-in).
    SignIn,
    /// `/refresh`: refuses, or with `type` redirects to the picker.
    Refresh,
}

impl Takes {
    fn expect(self) -> Expect {
        match self {
            Self::Nothing => Expect::IgnoredOrRefused,
            Self::Input => Expect::Refused,
            Self::SignIn | Self::Refresh => Expect::RedirectOrRefused,
        }
    }

    fn effect(self) -> Effect {
        match self {
            Self::SignIn => Effect::NewSigninIfRedirected,
            _ => Effect::None,
        }
    }
}

/// One route of the router, with a concrete path.
pub struct Route {
    endpoint: &'static str,
    method: &'static str,
    path: String,
    takes: Takes,
}

impl Route {
    fn new(endpoint: &'static str, method: &'static str, path: &str, takes: Takes) -> Self {
        Self {
            endpoint,
            method,
            path: path.to_owned(),
            takes,
        }
    }

    /// A request to this route; POSTs get an empty body unless the case sets one.
    fn request(&self, target: impl AsRef<[u8]>) -> RawRequest {
        let request = RawRequest::new(self.method, target);
        match self.method {
            "POST" => request.body(Vec::new()),
            _ => request,
        }
    }

    fn with_query(&self, query: &str) -> RawRequest {
        self.request(format!("{}?{query}", self.path))
    }

    /// A case expecting what this route does with input it does not want.
    fn case(&self, name: &str, request: RawRequest) -> Case {
        Case::new(self.endpoint, name, request, self.takes.expect()).effect(self.takes.effect())
    }
}

/// Every route of `oauth_broker::http::router` (with Duplicati compatibility on).
pub fn routes(fixture: &Fixture) -> Vec<Route> {
    let poll = format!("/v1/logins/{}/poll", fixture.login_id);
    vec![
        Route::new("GET /", "GET", "/", Takes::Nothing),
        Route::new("GET /login/{provider}", "GET", "/login/demo", Takes::SignIn),
        Route::new("GET /callback", "GET", "/callback", Takes::Input),
        Route::new("GET /static/*", "GET", "/static/style.css", Takes::Nothing),
        Route::new("GET /static/*", "GET", "/static/copy.js", Takes::Nothing),
        Route::new("POST /v1/logins", "POST", "/v1/logins", Takes::Input),
        Route::new("POST /v1/logins/{id}/poll", "POST", &poll, Takes::Input),
        Route::new("POST /v1/token", "POST", "/v1/token", Takes::Input),
        Route::new("POST /v1/revoke", "POST", "/v1/revoke", Takes::Input),
        Route::new("GET /healthz", "GET", "/healthz", Takes::Nothing),
        Route::new("GET /readyz", "GET", "/readyz", Takes::Nothing),
        Route::new("GET /metrics", "GET", "/metrics", Takes::Nothing),
        Route::new("GET|POST /refresh", "GET", "/refresh", Takes::Refresh),
        Route::new("GET|POST /refresh", "POST", "/refresh", Takes::Refresh),
        Route::new("GET /fetch", "GET", "/fetch", Takes::Input),
    ]
}

/// The sweep for one route.
pub fn cases(route: &Route) -> Vec<Case> {
    let mut cases = methods(route);
    cases.extend(parameters(route));
    cases.extend(headers(route));
    cases.extend(bodies(route));
    cases.extend(framing(route));
    cases.extend(paths(route));
    cases
}

fn methods(route: &Route) -> Vec<Case> {
    let wrong = match (route.method, route.path.as_str()) {
        (_, "/refresh") => "PUT",
        ("GET", _) => "DELETE",
        _ => "GET",
    };
    let path = &route.path;
    vec![
        Case::new(
            route.endpoint,
            format!("wrong method {wrong}"),
            RawRequest::new(wrong, path),
            Expect::Status(405),
        ),
        Case::new(
            route.endpoint,
            "unknown method BREW",
            RawRequest::new("BREW", path),
            Expect::Status(405),
        ),
        Case::new(
            route.endpoint,
            "control byte in the method",
            RawRequest::new(b"G\x01T", path),
            Expect::Refused,
        )
        .wire(),
        Case::new(
            route.endpoint,
            "method of 10 KiB",
            RawRequest::new("A".repeat(10 * 1024), path),
            Expect::Refused,
        )
        .wire(),
    ]
}

fn parameters(route: &Route) -> Vec<Case> {
    let long = "A".repeat(4 * 1024);
    let duplicated = format!(
        "{}&{}",
        every(&PARAMS, b"first"),
        every(&PARAMS, MARK.as_bytes())
    );
    let absolute = every(&REDIRECT_PARAMS, format!("https://{EVIL}/").as_bytes());
    let relative = every(&REDIRECT_PARAMS, format!("//{EVIL}/%2F..").as_bytes());
    let mut raw_query = route.path.clone().into_bytes();
    raw_query.extend_from_slice(b"?state=\xff\xfe&type=\xc0\xaf");
    vec![
        route
            .case("raw non-UTF-8 bytes in the query", route.request(raw_query))
            .wire(),
        route.case(
            "percent-encoded invalid UTF-8 in every parameter",
            route.with_query(&every(&PARAMS, b"\xff\xfe\xc0\xaf")),
        ),
        route.case(
            "NUL in every parameter",
            route.with_query(&every(&PARAMS, b"zq7\0hostile")),
        ),
        route
            .case(
                "script in every parameter",
                route.with_query(&every(&PARAMS, SCRIPT.as_bytes())),
            )
            .needle(SCRIPT),
        route
            .case(
                "attribute breakout in every parameter",
                route.with_query(&every(&PARAMS, ATTRIBUTE.as_bytes())),
            )
            .needle(ATTRIBUTE),
        route
            .case(
                "CR/LF in every parameter",
                route.with_query(&every(&PARAMS, CRLF.as_bytes())),
            )
            .needle(CRLF),
        route.case(
            "4 KiB in every parameter",
            route.with_query(&every(&PARAMS, long.as_bytes())),
        ),
        route.case("every parameter twice", route.with_query(&duplicated)),
        route
            .case("query of 70 KiB", route.with_query(&"A".repeat(70 * 1024)))
            .wire(),
        route.case(
            "redirect parameters to another site",
            route.with_query(&absolute),
        ),
        route.case(
            "protocol-relative redirect parameters",
            route.with_query(&relative),
        ),
        route
            .case(
                "type naming another site",
                route.with_query(&query(&[("type", format!("//{EVIL}").as_bytes())])),
            )
            .needle(format!("//{EVIL}")),
    ]
}

fn headers(route: &Route) -> Vec<Case> {
    let big = "A".repeat(64 * 1024);
    let credentials = |request: RawRequest, value: &[u8]| {
        let mut bearer = b"Bearer ".to_vec();
        bearer.extend_from_slice(value);
        let mut cookie = b"oauth_broker_browser=".to_vec();
        cookie.extend_from_slice(value);
        request
            .header("Authorization", bearer)
            .header("X-AuthID", value)
            .header("Cookie", cookie)
    };
    let forged_host = route
        .request(&route.path)
        .header("Host", EVIL)
        .header("X-Forwarded-Host", EVIL)
        .header("X-Forwarded-Proto", "https")
        .header("Forwarded", format!("host={EVIL};proto=https"))
        .header("X-Original-URL", format!("//{EVIL}/"))
        .header("X-Rewrite-URL", format!("//{EVIL}/"));
    let many = (0..200).fold(route.request(&route.path), |request, i| {
        request.header(format!("X-Pad-{i}"), "x")
    });
    vec![
        route
            .case(
                "Host and forwarding headers naming another site",
                forged_host,
            )
            .needle(EVIL),
        route.case(
            "non-UTF-8 credentials",
            credentials(route.request(&route.path), b"\xff\xfe\xfd"),
        ),
        route
            .case(
                "64 KiB credentials",
                credentials(route.request(&route.path), big.as_bytes()),
            )
            .needle(&big[..1024]),
        route
            .case(
                "script as credentials",
                credentials(route.request(&route.path), SCRIPT.as_bytes()),
            )
            .needle(SCRIPT),
        route.case(
            "a second, empty Authorization",
            route
                .request(&route.path)
                .header("Authorization", "")
                .header("Authorization", "Bearer"),
        ),
        route.case(
            "garbage X-Forwarded-For",
            route
                .request(&route.path)
                .header("X-Forwarded-For", format!("{SCRIPT}, ::1, 999.1.1.1")),
        ),
        route
            .case(
                "a 1 MiB header",
                route
                    .request(&route.path)
                    .header("X-Pad", "A".repeat(1 << 20)),
            )
            .wire(),
        route.case("200 headers", many).wire(),
    ]
}

fn bodies(route: &Route) -> Vec<Case> {
    let json = |body: Vec<u8>| {
        RawRequest::new(route.method, &route.path)
            .header("Content-Type", "application/json")
            .body(body)
    };
    let huge = format!(r#"{{"provider":"{}"}}"#, "A".repeat(1 << 20)).into_bytes();
    let declared = RawRequest::new(route.method, &route.path)
        .header("Content-Type", "application/json")
        .header("Content-Length", "10000000000")
        .body(vec![b' '; 64 * 1024]);
    let typed = |content_type: &str| {
        let request = RawRequest::new(route.method, &route.path);
        let request = match content_type {
            "" => request,
            _ => request.header("Content-Type", content_type),
        };
        request.body(r#"{"provider":"demo"}"#)
    };
    let form = RawRequest::new(route.method, &route.path)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(every(&PARAMS, SCRIPT.as_bytes()));
    let mut cases = vec![
        route.case("1 MiB JSON body", json(huge)).wire(),
        route.case("declared 10 GB body", declared).wire(),
        route.case(
            "non-UTF-8 JSON body",
            json(b"{\"provider\":\"\xff\xfe\"}".to_vec()),
        ),
        route.case("deeply nested JSON body", json(nested(8000))),
        route
            .case("form body with script in every field", form)
            .needle(SCRIPT),
    ];
    for content_type in [
        "",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=zq7hostile",
        "application/xml",
        "application/jsonx",
    ] {
        let name = format!("JSON body sent as {content_type:?}");
        cases.push(route.case(&name, typed(content_type)));
    }
    let control = RawRequest::new(route.method, &route.path)
        .header("Content-Type", b"application/json\x7f\x01")
        .body(r#"{"provider":"demo"}"#);
    cases.push(
        route
            .case("control bytes in the content type", control)
            .wire(),
    );
    cases
}

/// `[[[...]]]` nested `depth` deep.
fn nested(depth: usize) -> Vec<u8> {
    let mut body = vec![b'['; depth];
    body.extend(vec![b']'; depth]);
    body
}

fn framing(route: &Route) -> Vec<Case> {
    let request = || RawRequest::new(route.method, &route.path);
    let smuggled = format!("0\r\n\r\nGET /v1/token?{MARK} HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut bare_lf = format!("{} {} HTTP/1.1\nHost: x\n", route.method, route.path).into_bytes();
    bare_lf.extend_from_slice(b"X-AuthID: a\r\nConnection: close\n\n");
    vec![
        route
            .case(
                "two different Content-Lengths",
                request()
                    .header("Content-Length", "5")
                    .header("Content-Length", "6")
                    .body("hello!"),
            )
            .wire(),
        route
            .case(
                "Content-Length with Transfer-Encoding",
                request()
                    .header("Content-Length", "4")
                    .header("Transfer-Encoding", "chunked")
                    .body(smuggled),
            )
            .wire(),
        route
            .case(
                "malformed chunked body",
                request()
                    .header("Transfer-Encoding", "chunked")
                    .body("zz\r\nhello\r\n0\r\n\r\n"),
            )
            .wire(),
        route
            .case(
                "header continued on a folded line",
                request()
                    .header("X-AuthID", "a\r\n b")
                    .header("Authorization", "Bearer\r\n\tb"),
            )
            .wire(),
        route
            .case("bare LF line ends", RawRequest::raw(bare_lf))
            .wire(),
    ]
}

fn paths(route: &Route) -> Vec<Case> {
    let path = route.path.trim_end_matches('/');
    let not_found = |name: &str, target: String| {
        Case::new(
            route.endpoint,
            name,
            RawRequest::new(route.method, target),
            Expect::Status(404),
        )
    };
    let mut raw_path = path.as_bytes().to_vec();
    raw_path.extend_from_slice(b"/\xff\xfe");
    let mut cases = vec![
        not_found(
            "encoded traversal after the route",
            format!("{path}/..%2F..%2Fetc%2Fpasswd"),
        ),
        not_found(
            "dot segments after the route",
            format!("{path}/../../etc/passwd"),
        ),
        not_found(
            "encoded dot segments",
            format!("{path}/%2e%2e/%2E%2E/etc/passwd"),
        ),
        not_found(
            "double-encoded traversal",
            format!("{path}/%252e%252e%252fetc%252fpasswd"),
        ),
        Case::new(
            route.endpoint,
            "raw non-UTF-8 bytes in the path",
            RawRequest::new(route.method, raw_path),
            Expect::Refused,
        )
        .wire(),
    ];
    if let Some(slash) = path.rfind('/').filter(|&i| i > 0) {
        let encoded = format!("{}%2F{}", &path[..slash], &path[slash + 1..]);
        cases.push(not_found("encoded slash inside the route", encoded));
    }
    cases
}
