//! What the sign-in pages read: Duplicati's `token` on the picker, provider names and
//! `login_id` on `/login/{provider}`, and `state`, the browser cookie, `code` and the
//! provider's `error` and `error_description` on the callback.

use super::values::hostile_values;
use super::{query, Case, Effect, Expect, Fixture, SignIn, ATTRIBUTE, CRLF, EVIL};
use super::{REDIRECT_PARAMS, SCRIPT};
use oauth_e2e::payloads::path_segments;
use oauth_e2e::raw_http::RawRequest;

/// The pages' cases. Takes the browser sign-ins the callback cases use.
pub fn cases(fixture: &mut Fixture) -> Vec<Case> {
    let mut cases = picker();
    cases.extend(login(fixture));
    cases.extend(callback(fixture));
    cases
}

fn picker() -> Vec<Case> {
    let endpoint = "GET /";
    let mut cases: Vec<Case> = hostile_values()
        .into_iter()
        .map(|(name, token)| {
            let target = format!("/?{}", query(&[("type", b"demov2"), ("token", &token)]));
            let request = RawRequest::get(target);
            Case::new(
                endpoint,
                format!("Duplicati token: {name}"),
                request,
                Expect::Status(404),
            )
            .needle(&token)
        })
        .collect();
    let short = RawRequest::get("/?type=demov2&token=abcdefg");
    cases.push(Case::new(
        endpoint,
        "Duplicati token of 7 characters",
        short,
        Expect::Status(404),
    ));
    cases
}

fn login(fixture: &Fixture) -> Vec<Case> {
    let endpoint = "GET /login/{provider}";
    let mut cases = Vec::new();
    for (name, segment) in path_segments() {
        let request = RawRequest::get(format!("/login/{segment}"));
        let case = Case::new(
            endpoint,
            format!("provider: {name}"),
            request,
            Expect::Refused,
        );
        cases.push(case.payload_needles());
    }
    for (name, value) in hostile_values() {
        let request = RawRequest::get(format!("/login/demo?{}", query(&[("login_id", &value)])));
        let case = Case::new(
            endpoint,
            format!("login_id: {name}"),
            request,
            Expect::Status(404),
        );
        cases.push(case.needle(&value));
    }
    let real = fixture.login_id.as_bytes();
    let mut pairs: Vec<(&str, &[u8])> = vec![("login_id", real)];
    let evil = format!("https://{EVIL}/callback");
    pairs.extend(REDIRECT_PARAMS.iter().map(|name| (*name, evil.as_bytes())));
    let request = RawRequest::get(format!("/login/demo?{}", query(&pairs)));
    let name = "real login_id with redirect parameters to another site";
    let redirect = Case::new(endpoint, name, request, Expect::Status(303))
        .effect(Effect::NewSigninIfRedirected);
    cases.push(redirect);
    cases
}

fn callback_request(pairs: &[(&str, &[u8])], cookie: Option<&[u8]>) -> RawRequest {
    let request = RawRequest::get(format!("/callback?{}", query(pairs)));
    match cookie {
        Some(value) => {
            let mut header = b"oauth_broker_browser=".to_vec();
            header.extend_from_slice(value);
            request.header("Cookie", header)
        }
        None => request,
    }
}

fn callback(fixture: &mut Fixture) -> Vec<Case> {
    let mut cases = forged_states();
    let mut next = || {
        fixture
            .signins
            .pop()
            .expect("enough browser sign-ins in the pool")
    };
    let other = next();
    cases.extend(wrong_cookies(&next(), &other));
    cases.extend(provider_errors(&mut next));
    cases.extend(codes(&mut next, &fixture.used_code));
    cases
}

fn forged_states() -> Vec<Case> {
    hostile_values()
        .into_iter()
        .map(|(name, state)| {
            let request = callback_request(&[("state", &state), ("code", b"zq7hostile")], None);
            Case::new(
                "GET /callback",
                format!("state: {name}"),
                request,
                Expect::Status(400),
            )
            .needle(&state)
        })
        .collect()
}

/// A real `state` with a missing or wrong cookie: refused before the state is consumed.
fn wrong_cookies(signin: &SignIn, other: &SignIn) -> Vec<Case> {
    let state = signin.state.as_bytes();
    let pairs: [(&str, &[u8]); 2] = [("state", state), ("code", b"zq7hostile")];
    let big = vec![b'A'; 64 * 1024];
    let cookies: Vec<(&str, Option<&[u8]>)> = vec![
        ("no cookie", None),
        ("another sign-in's cookie", Some(other.cookie.as_bytes())),
        ("non-UTF-8 cookie", Some(b"\xff\xfe\xfd")),
        ("64 KiB cookie", Some(&big)),
        ("script cookie", Some(SCRIPT.as_bytes())),
    ];
    let mut cases: Vec<Case> = cookies
        .into_iter()
        .map(|(name, cookie)| {
            let request = callback_request(&pairs, cookie);
            let name = format!("real state, {name}");
            Case::new("GET /callback", name, request, Expect::Status(400)).needle(SCRIPT)
        })
        .collect();
    let upper = signin.state.to_uppercase();
    let request = callback_request(
        &[("state", upper.as_bytes()), ("code", b"zq7hostile")],
        Some(signin.cookie.as_bytes()),
    );
    let name = "real state in upper case, right cookie";
    cases.push(Case::new(
        "GET /callback",
        name,
        request,
        Expect::Status(400),
    ));
    let twice = callback_request(
        &[("state", state), ("state", state)],
        Some(signin.cookie.as_bytes()),
    );
    cases.push(Case::new(
        "GET /callback",
        "real state twice",
        twice,
        Expect::Status(400),
    ));
    cases
}

/// The provider's `error` and `error_description`, reaching the error page.
fn provider_errors(next: &mut impl FnMut() -> SignIn) -> Vec<Case> {
    let long = "B".repeat(30 * 1024);
    let close_quote = format!("</q></p>{SCRIPT}");
    let descriptions: Vec<(&str, &[u8], Vec<u8>)> = vec![
        ("script", SCRIPT.as_bytes(), SCRIPT.into()),
        ("attribute breakout", ATTRIBUTE.as_bytes(), ATTRIBUTE.into()),
        (
            "closing the quote",
            close_quote.as_bytes(),
            close_quote.clone().into(),
        ),
        ("CR/LF", CRLF.as_bytes(), CRLF.into()),
        ("30 KiB", long.as_bytes(), long[..301].into()),
        (
            "invalid UTF-8",
            b"zq7\xff\xfe<b>",
            b"zq7\xff\xfe<b>".to_vec(),
        ),
    ];
    let mut cases = Vec::new();
    for (name, description, needle) in descriptions {
        let signin = next();
        let pairs: [(&str, &[u8]); 3] = [
            ("state", signin.state.as_bytes()),
            ("error", b"access_denied"),
            ("error_description", description),
        ];
        let request = callback_request(&pairs, Some(signin.cookie.as_bytes()));
        let name = format!("provider error_description: {name}");
        let case = Case::new("GET /callback", name, request, Expect::Status(400));
        cases.push(case.effect(Effect::ConsumesSignin).needle(needle));
    }
    let signin = next();
    let pairs: [(&str, &[u8]); 3] = [
        ("state", signin.state.as_bytes()),
        ("error", SCRIPT.as_bytes()),
        ("code", b"zq7hostile"),
    ];
    let request = callback_request(&pairs, Some(signin.cookie.as_bytes()));
    let case = Case::new(
        "GET /callback",
        "provider error: script",
        request,
        Expect::Status(400),
    );
    cases.push(case.effect(Effect::ConsumesSignin).needle(SCRIPT));

    // The state just consumed, presented again with its cookie: a replay.
    let pairs: [(&str, &[u8]); 2] = [("state", signin.state.as_bytes()), ("code", b"zq7hostile")];
    let request = callback_request(&pairs, Some(signin.cookie.as_bytes()));
    cases.push(Case::new(
        "GET /callback",
        "replayed state",
        request,
        Expect::Status(400),
    ));
    cases
}

/// A real `state` and cookie with forged, replayed and hostile codes: the state is used up,
/// the provider refuses the code, nothing is stored.
fn codes(next: &mut impl FnMut() -> SignIn, used_code: &str) -> Vec<Case> {
    let mut codes: Vec<(&str, Vec<u8>)> = vec![
        ("forged", b"zq7hostile-forged-code".to_vec()),
        (
            "replayed (already exchanged)",
            used_code.as_bytes().to_vec(),
        ),
        ("empty", Vec::new()),
    ];
    codes.extend(hostile_values());
    let mut cases = Vec::new();
    for (name, code) in codes {
        let signin = next();
        let pairs: [(&str, &[u8]); 2] = [("state", signin.state.as_bytes()), ("code", &code)];
        let request = callback_request(&pairs, Some(signin.cookie.as_bytes()));
        let case = Case::new(
            "GET /callback",
            format!("code: {name}"),
            request,
            Expect::Status(400),
        );
        cases.push(case.effect(Effect::ConsumesSignin).needle(&code));
    }
    let signin = next();
    let evil = format!("https://{EVIL}/");
    let mut pairs: Vec<(&str, &[u8])> =
        vec![("state", signin.state.as_bytes()), ("code", b"zq7hostile")];
    pairs.extend(REDIRECT_PARAMS.iter().map(|name| (*name, evil.as_bytes())));
    let request = callback_request(&pairs, Some(signin.cookie.as_bytes()));
    let name = "forged code with redirect parameters to another site";
    let case = Case::new("GET /callback", name, request, Expect::Status(400));
    cases.push(case.effect(Effect::ConsumesSignin).needle(EVIL));
    cases
}
