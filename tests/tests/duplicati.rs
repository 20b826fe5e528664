//! Duplicati compatibility: `/refresh`, `/fetch` and `/?type=` behave exactly as Duplicati's
//! client code expects (header and field names, shapes, statuses, `X-Reason`).
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

use oauth_broker::config::RawProvider;
use oauth_e2e::fake::{Fault, ProviderConfig};
use oauth_e2e::{BrokerBuilder, Browser, TestBroker};
use serde_json::Value;

const USER_AGENT: &str = "Duplicati v2.1.0.5";

fn onedrive() -> BrokerBuilder {
    let raw = RawProvider {
        preset: Some("onedrive".into()),
        ..RawProvider::default()
    };
    BrokerBuilder::with_fake("onedrive", ProviderConfig::microsoft(), raw)
}

/// A second provider, `gdrive`, from the Google Drive preset.
fn with_gdrive(builder: BrokerBuilder) -> BrokerBuilder {
    builder.config(|raw| {
        let gdrive = RawProvider {
            preset: Some("google-drive".into()),
            client_id: Some("g".into()),
            client_secret: Some("s".into()),
            ..RawProvider::default()
        };
        raw.providers.insert("gdrive".into(), gdrive);
    })
}

async fn refresh(broker: &TestBroker, authid: &str) -> reqwest::Response {
    let request = broker
        .http
        .get(broker.url("/refresh"))
        .header("X-AuthID", authid);
    request
        .header("User-Agent", USER_AGENT)
        .send()
        .await
        .unwrap()
}

fn reason(response: &reqwest::Response) -> String {
    response.headers()["x-reason"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn refresh_answers_the_exact_shape_duplicati_parses() {
    let broker = onedrive().start().await;
    let authid = broker.sign_in().await;
    let response = refresh(&broker, &authid).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = response.text().await.unwrap();

    let parsed: Value = serde_json::from_str(&body).unwrap();
    let token = parsed["access_token"].as_str().unwrap();
    let expires = parsed["expires"].as_u64().unwrap();
    assert_eq!(
        body,
        format!(r#"{{"access_token":"{token}","expires":{expires},"type":"onedrivev2"}}"#)
    );
    assert!(expires > 300, "Duplicati uses expires - 30 s");
    assert!(broker.fake().is_access_token_valid(token));
    assert!(!body.contains("v2_authid"));
}

#[tokio::test]
async fn authid_is_accepted_in_header_query_and_form() {
    let broker = onedrive().start().await;
    let authid = broker.sign_in().await;
    let query = broker
        .http
        .get(broker.url(&format!("/refresh?authid={authid}")));
    assert_eq!(query.send().await.unwrap().status(), 200);
    let form = broker
        .http
        .post(broker.url("/refresh"))
        .form(&[("authid", authid.as_str())]);
    assert_eq!(form.send().await.unwrap().status(), 200);
    let header = broker
        .http
        .post(broker.url("/refresh"))
        .header("X-AuthID", &authid);
    assert_eq!(header.send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn errors_carry_the_json_body_and_an_x_reason() {
    let broker = onedrive()
        .config(|raw| raw.limits.refreshes_per_hour = Some(2))
        .start()
        .await;
    let authid = broker.sign_in().await;

    let unknown = refresh(&broker, &"A".repeat(64)).await;
    assert_eq!(unknown.status(), 401);
    assert_eq!(
        reason(&unknown),
        "The AuthID is unknown or malformed; create a new AuthID"
    );
    assert_eq!(
        unknown.json::<Value>().await.unwrap()["error"],
        "invalid_authid"
    );
    let missing = broker
        .http
        .get(broker.url("/refresh"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401);

    broker.expire_cached_tokens();
    broker.fake().inject(Fault::Status(500));
    let down = refresh(&broker, &authid).await;
    assert_eq!(down.status(), 503, "Duplicati knows 503, not 502");
    assert!(down.headers().contains_key("retry-after"));
    assert!(reason(&down).starts_with("The provider is unavailable; retry after"));

    // The failed attempt used one of the two refreshes this hour; this uses the other.
    let first = refresh(&broker, &authid).await;
    assert_eq!(first.status(), 200);
    for _ in 0..10 {
        assert_eq!(
            refresh(&broker, &authid).await.status(),
            200,
            "cache hits are never limited"
        );
    }
    broker.expire_cached_tokens();
    let limited = refresh(&broker, &authid).await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    assert!(reason(&limited).starts_with("Too many requests; retry after"));
}

#[tokio::test]
async fn refused_grant_tells_duplicati_to_create_a_new_authid() {
    let broker = onedrive().start().await;
    let authid = broker.sign_in().await;
    broker.fake().revoke_all_grants();
    broker.expire_cached_tokens();
    let response = refresh(&broker, &authid).await;
    assert_eq!(response.status(), 401);
    assert_eq!(
        reason(&response),
        "the provider no longer accepts this sign-in; create a new AuthID"
    );
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "reauth_required"
    );
}

#[tokio::test]
async fn type_narrows_the_picker_and_refresh_without_authid_redirects_to_it() {
    let broker = with_gdrive(onedrive()).start().await;
    let page = |path: &str| {
        let request = broker.http.get(broker.url(path));
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let all = page("/").await;
    assert!(all.contains("/login/onedrive") && all.contains("/login/gdrive"));
    let onedrive = page("/?type=onedrivev2").await;
    assert!(onedrive.contains("/login/onedrive") && !onedrive.contains("/login/gdrive"));
    let google = page("/?type=googledrive").await;
    assert!(google.contains("/login/gdrive") && !google.contains("/login/onedrive"));

    let redirect = broker
        .http
        .get(broker.url("/refresh?type=onedrivev2"))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 303);
    assert_eq!(redirect.headers()["location"], "/?type=onedrivev2");
}

#[tokio::test]
async fn configured_types_override_the_preset_mapping() {
    let broker = with_gdrive(onedrive())
        .config(|raw| {
            raw.compat.types = Some([("googledrive".to_owned(), "onedrive".to_owned())].into());
        })
        .start()
        .await;
    let page = broker
        .http
        .get(broker.url("/?type=googledrive"))
        .send()
        .await
        .unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("/login/onedrive") && !page.contains("/login/gdrive"));
}

#[tokio::test]
async fn older_ui_token_flow_hands_the_authid_to_fetch_once() {
    let broker = onedrive().start().await;
    let token = "dup-token-0123456789";
    let fetch = |query: String| {
        let request = broker.http.get(broker.url(&format!("/fetch?{query}")));
        async move { request.send().await.unwrap() }
    };
    let picker = broker
        .http
        .get(broker.url(&format!("/?type=onedrivev2&token={token}")));
    let picker = picker.send().await.unwrap().text().await.unwrap();
    let start = picker
        .split("href=\"")
        .find(|part| part.starts_with("/login/onedrive"))
        .unwrap();
    let start = start.split('"').next().unwrap().replace("&amp;", "&");
    assert!(start.contains("login_id="), "{start}");

    let waiting = fetch(format!("token={token}")).await.text().await.unwrap();
    assert_eq!(waiting, r#"{"wait":"Not ready"}"#);
    let jsonp = fetch(format!("token={token}&callback=jQuery_12.cb")).await;
    assert!(jsonp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/javascript"));
    assert_eq!(
        jsonp.text().await.unwrap(),
        r#"jQuery_12.cb({"wait":"Not ready"});"#
    );

    let page = Browser::new().sign_in(&broker.url(&start)).await;
    assert!(page.body.contains("close this window") && page.authid().is_none());
    let ready: Value = fetch(format!("token={token}")).await.json().await.unwrap();
    let authid = ready["authid"].as_str().unwrap();
    assert_eq!(refresh(&broker, authid).await.status(), 200);

    let again: Value = fetch(format!("token={token}")).await.json().await.unwrap();
    assert!(again["error"].is_string(), "handed out once: {again}");
    let unknown: Value = fetch("token=never-issued-123".into())
        .await
        .json()
        .await
        .unwrap();
    assert!(unknown["error"].is_string());
}

#[tokio::test]
async fn hostile_jsonp_callbacks_are_refused() {
    let broker = onedrive().start().await;
    for callback in ["alert(1)//", "x;alert(1)", "<script>", ".x", "a b"] {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", "dup-token-0123456789")
            .append_pair("callback", callback)
            .finish();
        let response = broker
            .http
            .get(broker.url(&format!("/fetch?{query}")))
            .send()
            .await;
        let response = response.unwrap();
        assert_eq!(response.status(), 400, "{callback}");
        let body = response.text().await.unwrap();
        assert!(!body.contains(callback), "{callback} echoed");
    }
}

#[tokio::test]
async fn switching_compatibility_off_removes_the_routes() {
    let broker = with_gdrive(onedrive())
        .config(|raw| raw.compat.duplicati = Some(false))
        .start()
        .await;
    let authid = broker.sign_in().await;
    assert_eq!(refresh(&broker, &authid).await.status(), 404);
    let fetch = broker
        .http
        .get(broker.url("/fetch?token=dup-token-0123456789"))
        .send()
        .await;
    assert_eq!(fetch.unwrap().status(), 404);
    let page = broker
        .http
        .get(broker.url("/?type=onedrivev2"))
        .send()
        .await
        .unwrap();
    let page = page.text().await.unwrap();
    assert!(
        page.contains("/login/gdrive"),
        "the full picker, type ignored"
    );
}
