//! Helpers that play the client: requests through the router, a PKCE sign-in, and token
//! requests authenticated the way the provider's profile asks.

use axum::body::{to_bytes, Body};
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use fake_oauth_provider::{ClientAuth, FakeProvider, ProviderConfig};
use serde_json::Value;
use tower::ServiceExt;
use url::Url;

pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
/// The code verifier and challenge from RFC 7636 appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    /// The body broke off: the connection closed partway through the reply.
    pub cut_off: bool,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    pub fn location(&self) -> Url {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{}", self.body);
        Url::parse(self.headers[header::LOCATION].to_str().unwrap()).unwrap()
    }

    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap().to_owned()
    }
}

/// A provider with `config` and the client that talks to it.
pub struct Client {
    pub provider: FakeProvider,
    pub config: ProviderConfig,
    router: Router,
    /// Where the provider's router is nested, e.g. `/demo`, or empty.
    prefix: String,
}

impl Client {
    pub fn new(config: ProviderConfig) -> Self {
        let provider = FakeProvider::new(config.clone());
        Self {
            router: provider.router(),
            provider,
            config,
            prefix: String::new(),
        }
    }

    /// A client of a provider nested under `prefix`, as the broker's dev command nests it.
    pub fn nested(config: ProviderConfig, prefix: &str) -> Self {
        let mut client = Self::new(config);
        client.router = Router::new().nest(prefix, client.provider.router());
        client.prefix = prefix.to_owned();
        client
    }

    /// `path` below the prefix the provider is nested under.
    pub fn path(&self, path: &str) -> String {
        format!("{}{path}", self.prefix)
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = to_bytes(body, usize::MAX).await;
        let cut_off = body.is_err();
        let body = String::from_utf8(body.unwrap_or_default().to_vec()).unwrap();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
            cut_off,
        }
    }

    pub async fn get(&self, uri: &str, bearer: Option<&str>) -> Reply {
        let mut request = Request::get(uri);
        if let Some(token) = bearer {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// A form post, with HTTP Basic credentials when `basic` is given.
    pub async fn post(
        &self,
        uri: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Reply {
        let mut request =
            Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some((id, secret)) = basic {
            let credentials = STANDARD.encode(format!("{id}:{secret}"));
            request = request.header(header::AUTHORIZATION, format!("Basic {credentials}"));
        }
        let body = serde_urlencoded::to_string(form).unwrap();
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// A form post to `/token` or `/revoke`, authenticated as the profile asks.
    pub async fn post_as_client(&self, uri: &str, form: &[(&str, &str)]) -> Reply {
        let secret = self.config.client_secret.as_deref().unwrap_or_default();
        let id = self.config.client_id.as_str();
        let mut form = form.to_vec();
        match self.config.client_auth {
            ClientAuth::Basic => return self.post(uri, &form, Some((id, secret))).await,
            ClientAuth::Post | ClientAuth::Any => {
                form.extend([("client_id", id), ("client_secret", secret)])
            }
            ClientAuth::None => form.push(("client_id", id)),
        }
        self.post(uri, &form, None).await
    }

    /// The query of an authorization request with PKCE, state and `extra`.
    pub fn authorize_query(&self, extra: &[(&str, &str)]) -> String {
        let mut query = vec![
            ("response_type", "code"),
            ("client_id", self.config.client_id.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("scope", "files.read files.write"),
            ("state", "st<a>te"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        query.extend_from_slice(extra);
        serde_urlencoded::to_string(query).unwrap()
    }

    /// Posts the consent form's answer `allow` and returns the code from the redirect.
    pub async fn sign_in(&self, extra: &[(&str, &str)]) -> String {
        let uri = self.path(&format!("/authorize?{}", self.authorize_query(extra)));
        let form = [("user", "alice"), ("decision", "allow")];
        let location = self.post(&uri, &form, None).await.location();
        query_value(&location, "code").unwrap()
    }

    pub async fn exchange(&self, code: &str, verifier: &str) -> Reply {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ];
        self.post_as_client(&self.path("/token"), &form).await
    }

    /// Sign-in and code exchange that must succeed; returns the token response.
    pub async fn tokens(&self, extra: &[(&str, &str)]) -> Value {
        let code = self.sign_in(extra).await;
        let reply = self.exchange(&code, VERIFIER).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json()
    }

    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        self.post_as_client(&self.path("/token"), &form).await
    }
}

pub fn query_value(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

pub fn text(value: &Value, name: &str) -> String {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {value}"))
        .to_owned()
}
