//! Sign-in through the consent page and the code exchange: PKCE, code replay, and the
//! authorization errors that must or must not be redirected.

use axum::http::StatusCode;
use fake_oauth_provider::{FakeProvider, ProviderConfig};

use crate::support::{query_value, text, Client, REDIRECT_URI, VERIFIER};

/// The hidden inputs of the consent form, unescaped.
fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let unescape = |value: &str| {
        let entities = [
            ("&lt;", "<"),
            ("&gt;", ">"),
            ("&quot;", "\""),
            ("&#39;", "'"),
        ];
        let value = entities
            .iter()
            .fold(value.to_owned(), |v, (from, to)| v.replace(from, to));
        value.replace("&amp;", "&")
    };
    html.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|input| {
            let (name, rest) = input.split_once("\" value=\"").unwrap();
            let (value, _) = rest.split_once("\">").unwrap();
            (unescape(name), unescape(value))
        })
        .collect()
}

#[tokio::test]
async fn consent_form_posted_as_a_browser_would_yields_working_tokens() {
    // Nested as the broker's dev command nests it, to prove the form posts to its own URL.
    let client = Client::nested(ProviderConfig::demo(), "/demo");
    let uri = format!("/demo/authorize?{}", client.authorize_query(&[]));

    let page = client.get(&uri, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<html lang=\"en\">"));
    assert!(page.body.contains("This is a demo/test OAuth provider"));
    assert!(page
        .body
        .contains("<title>Sign in to Demo provider</title>"));
    assert!(
        page.body.contains("<form method=\"post\">"),
        "no action: posts to the same URL"
    );
    assert!(page.body.contains("<label for=\"user\">"));
    assert!(!page.body.contains("st<a>te"), "values are escaped");

    let mut form = hidden_inputs(&page.body);
    assert!(form.contains(&("state".into(), "st<a>te".into())));
    form.extend([
        ("user".into(), "bob".into()),
        ("decision".into(), "allow".into()),
    ]);
    let form: Vec<(&str, &str)> = form.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let callback = client.post(&uri, &form, None).await.location();
    assert!(callback.as_str().starts_with(REDIRECT_URI));
    assert_eq!(query_value(&callback, "state").as_deref(), Some("st<a>te"));

    let code = query_value(&callback, "code").unwrap();
    let reply = client.exchange(&code, VERIFIER).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.headers["cache-control"], "no-store");
    let tokens = reply.json();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 300);
    assert_eq!(tokens["scope"], "files.read files.write");

    let whoami = client
        .get("/demo/api/whoami", Some(&text(&tokens, "access_token")))
        .await;
    assert_eq!(whoami.status, StatusCode::OK);
    assert_eq!(whoami.json()["user"], "bob");
    assert_eq!(whoami.json()["user_id"], tokens["user_id"]);
    assert_eq!(client.provider.authorize_requests()[0]["state"], "st<a>te");
    assert_eq!(client.provider.code_exchange_count(), 1);
}

#[tokio::test]
async fn the_same_user_name_keeps_its_user_id() {
    let client = Client::new(ProviderConfig::demo());
    let first = client.tokens(&[]).await;
    let second = client.tokens(&[]).await;
    assert_eq!(first["user_id"], second["user_id"]);
    assert!(text(&first, "user_id").starts_with("uid-"));
    assert!(client
        .provider
        .issued_secrets()
        .contains(&text(&first, "user_id")));
}

#[tokio::test]
async fn wrong_code_verifier_is_refused() {
    let client = Client::new(ProviderConfig::demo());
    let code = client.sign_in(&[]).await;
    let wrong = "x".repeat(43);
    let reply = client.exchange(&code, &wrong).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error(), "invalid_grant");
    assert_eq!(client.provider.live_grants(), 0);
}

#[tokio::test]
async fn replayed_code_is_refused_and_revokes_its_grant() {
    let client = Client::new(ProviderConfig::demo());
    let code = client.sign_in(&[]).await;
    let tokens = client.exchange(&code, VERIFIER).await.json();
    let access_token = text(&tokens, "access_token");
    assert!(client.provider.is_access_token_valid(&access_token));

    let replay = client.exchange(&code, VERIFIER).await;
    assert_eq!(replay.error(), "invalid_grant");
    assert!(!client.provider.is_access_token_valid(&access_token));
    assert_eq!(
        client
            .refresh(&text(&tokens, "refresh_token"))
            .await
            .error(),
        "invalid_grant"
    );
    assert_eq!(client.provider.live_grants(), 0);
}

#[tokio::test]
async fn code_expires_after_ten_minutes_of_provider_time() {
    let client = Client::new(ProviderConfig::demo());
    let code = client.sign_in(&[]).await;
    client
        .provider
        .advance_clock(std::time::Duration::from_secs(600));
    assert_eq!(
        client.exchange(&code, VERIFIER).await.error(),
        "invalid_grant"
    );
}

#[tokio::test]
async fn untrusted_client_or_redirect_uri_gets_an_error_page_not_a_redirect() {
    let client = Client::new(ProviderConfig::demo());
    let query = client.authorize_query(&[]);
    let cases = [
        query.replace("demo-client", "other-client"),
        query.replace("redirect_uri=http", "redirect_uri=javascript"),
        query.replace("&code_challenge_method=S256", "&client_id=demo-client"),
    ];
    for query in cases {
        let reply = client.get(&format!("/authorize?{query}"), None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(reply.headers.get("location").is_none());
        assert!(reply.body.contains("Invalid authorization request"));
    }
}

#[tokio::test]
async fn bad_requests_with_a_trusted_redirect_uri_are_redirected_with_an_error() {
    let client = Client::new(ProviderConfig::demo());
    let query = client.authorize_query(&[]);
    let cases = [
        (
            query.replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
        (
            query.replace("code_challenge_method=S256", "code_challenge_method=plain"),
            "invalid_request",
        ),
        (client_query_without_pkce(&client), "invalid_request"),
    ];
    for (query, error) in cases {
        let location = client
            .get(&format!("/authorize?{query}"), None)
            .await
            .location();
        assert_eq!(
            query_value(&location, "error").as_deref(),
            Some(error),
            "{query}"
        );
        assert_eq!(query_value(&location, "state").as_deref(), Some("st<a>te"));
    }
}

fn client_query_without_pkce(client: &Client) -> String {
    let query = client.authorize_query(&[]);
    let pkce = format!(
        "&code_challenge={}&code_challenge_method=S256",
        crate::support::CHALLENGE
    );
    query.replace(&pkce, "")
}

#[tokio::test]
async fn denied_consent_redirects_with_access_denied() {
    let client = Client::new(ProviderConfig::demo());
    let uri = format!("/authorize?{}", client.authorize_query(&[]));
    let location = client
        .post(&uri, &[("decision", "deny")], None)
        .await
        .location();
    assert_eq!(
        query_value(&location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        query_value(&location, "error_description").as_deref(),
        Some("The user denied access")
    );
    assert!(query_value(&location, "code").is_none());
}

#[test]
fn provider_debug_output_hides_the_client_secret() {
    let provider = FakeProvider::new(ProviderConfig::demo());
    assert!(!format!("{provider:?} {:?}", ProviderConfig::demo()).contains("demo-secret"));
}
