//! The hostile-input table for the broker: each case names its endpoint, the raw request, what
//! a correct broker answers, and what it may change in the database. `generic` sends the same
//! sweep to every route; `pages`, `api` and `compat` add what only one route reads; `wire`
//! sends what matches no route or is not HTTP.

mod api;
mod compat;
mod generic;
mod pages;
mod values;
mod wire;

pub use oauth_e2e::payloads::{pct, ATTRIBUTE, CRLF, MARK, SCRIPT};
use oauth_e2e::raw_http::RawRequest;

/// Another site, for open-redirect attempts.
pub const EVIL: &str = "evil.example";
/// Every query parameter any route reads.
pub const PARAMS: [&str; 10] = [
    "type",
    "token",
    "login_id",
    "state",
    "code",
    "error",
    "error_description",
    "authid",
    "callback",
    "min_valid_secs",
];
/// Parameters that other services use to choose where to redirect to.
pub const REDIRECT_PARAMS: [&str; 10] = [
    "redirect_uri",
    "redirect",
    "redir",
    "redirect_url",
    "return_to",
    "returnTo",
    "next",
    "url",
    "continue",
    "dest",
];

/// What the test set up before the sweep: a working grant, a pending program sign-in, and
/// browser sign-ins waiting for their callback.
pub struct Fixture {
    /// A valid authid.
    pub authid: String,
    /// An access token the broker handed out for it.
    pub access_token: String,
    /// A pending program sign-in and its poll secret.
    pub login_id: String,
    pub poll_secret: String,
    /// An authorization code that was already exchanged.
    pub used_code: String,
    /// The provider's client secret.
    pub client_secret: String,
    /// Started browser sign-ins: `state` and the browser cookie, each used by one case.
    pub signins: Vec<SignIn>,
}

/// A browser sign-in waiting for its callback.
#[derive(Clone)]
pub struct SignIn {
    pub state: String,
    pub cookie: String,
}

impl Fixture {
    /// Everything that must never appear in an answer to a hostile request.
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets = vec![
            self.authid.clone(),
            self.access_token.clone(),
            self.poll_secret.clone(),
            self.used_code.clone(),
            self.client_secret.clone(),
        ];
        for signin in &self.signins {
            secrets.extend([signin.state.clone(), signin.cookie.clone()]);
        }
        secrets
    }
}

/// What a correct broker answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Exactly this status.
    Status(u16),
    /// Any 4xx.
    Refused,
    /// The route reads no such input: its usual 2xx, or a 4xx.
    IgnoredOrRefused,
    /// A redirect to a safe place, or a 4xx.
    RedirectOrRefused,
    /// Duplicati's `/fetch` refusal: 200 with a JSON `error` (its wire format).
    DuplicatiError,
}

/// What the case may change in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Nothing.
    None,
    /// One new browser sign-in, if and only if the answer is a redirect to the provider.
    NewSigninIfRedirected,
    /// Exactly one browser sign-in consumed (its `state` was presented with its cookie).
    ConsumesSignin,
}

/// One hostile request.
pub struct Case {
    pub endpoint: &'static str,
    pub name: String,
    pub request: RawRequest,
    pub expect: Expect,
    pub effect: Effect,
    /// Malformed at the HTTP level: a 4xx without our body, or a closed connection, will do.
    pub wire: bool,
    /// What the answer must not contain: the injected values, raw.
    pub needles: Vec<Vec<u8>>,
}

impl Case {
    pub fn new(
        endpoint: &'static str,
        name: impl Into<String>,
        request: RawRequest,
        expect: Expect,
    ) -> Self {
        Self {
            endpoint,
            name: name.into(),
            request,
            expect,
            effect: Effect::None,
            wire: false,
            needles: Vec::new(),
        }
    }

    pub fn effect(mut self, effect: Effect) -> Self {
        self.effect = effect;
        self
    }

    pub fn wire(mut self) -> Self {
        self.wire = true;
        self
    }

    pub fn needle(mut self, needle: impl AsRef<[u8]>) -> Self {
        self.needles.push(needle.as_ref().to_vec());
        self
    }

    /// The usual needles: the markup and header-injection payloads.
    pub fn payload_needles(self) -> Self {
        self.needle(SCRIPT).needle(ATTRIBUTE).needle(CRLF)
    }
}

/// The whole table. Takes browser sign-ins from `fixture` for the cases that need one.
pub fn all(fixture: &mut Fixture) -> Vec<Case> {
    let mut cases = Vec::new();
    for route in generic::routes(fixture) {
        cases.extend(generic::cases(&route));
    }
    cases.extend(pages::cases(fixture));
    cases.extend(api::cases(fixture));
    cases.extend(compat::cases(fixture));
    cases.extend(wire::cases());
    cases
}

/// `name=value&...`, each value percent-encoded.
pub fn query(pairs: &[(&str, &[u8])]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{name}={}", pct(value)))
        .collect();
    parts.join("&")
}

/// Every parameter in `names` set to `value`.
pub fn every(names: &[&str], value: &[u8]) -> String {
    let pairs: Vec<(&str, &[u8])> = names.iter().map(|name| (*name, value)).collect();
    query(&pairs)
}
