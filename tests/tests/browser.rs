//! The sign-in pages in a real headless Chromium against the real broker and the fake provider:
//! what a person clicks and sees, what the Copy button puts on the clipboard, and what a
//! Duplicati-style opener window receives. Each test skips (one line for the whole binary) when
//! Chromium or ChromeDriver is missing; a failing test leaves a screenshot in
//! `target/browser-artifacts/` (see `oauth_e2e::Chrome`).
#![allow(clippy::unwrap_used)] // test scaffolding: a panic is a failed test

use axum::response::Html;
use axum::routing::get;
use axum::Router;
use oauth_broker::config::RawProvider;
use oauth_e2e::{fake, BrokerBuilder, Browser, Chrome, TestBroker};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The fake provider's consent button.
const ALLOW: &str = "button[name=decision][value=allow]";

#[tokio::test]
async fn picker_sign_in_shows_an_authid_that_copies_to_the_clipboard_and_gets_tokens() {
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    let broker = TestBroker::start().await;
    chrome
        .check(async {
            chrome.goto(&broker.url("/")).await;
            chrome.click("a[href='/login/demo']").await;
            allow_at_provider(&chrome, &broker).await;

            let authid = chrome.value("#authid").await;
            assert_eq!(authid.len(), 64, "the page shows an authid: {authid:?}");
            chrome.grant_clipboard(&broker.url).await;
            chrome.click("#copy").await;
            let status = chrome.wait_for_text("#copy-status").await;
            assert_eq!(status, "Copied to the clipboard.");
            assert_eq!(chrome.clipboard().await, authid);

            let token = broker.access_token(&authid).await;
            assert_eq!(token["provider"], "demo");
        })
        .await;
    chrome.close().await;
    broker.stop().await;
}

#[tokio::test]
async fn program_sign_in_page_shows_no_authid_and_the_poll_hands_it_over() {
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    let broker = TestBroker::start().await;
    chrome
        .check(async {
            let created = broker.http.post(broker.url("/v1/logins"));
            let created = created
                .json(&json!({"provider": "demo"}))
                .send()
                .await
                .unwrap();
            assert_eq!(created.status(), 201);
            let login: Value = created.json().await.unwrap();

            chrome.goto(login["login_url"].as_str().unwrap()).await;
            allow_at_provider(&chrome, &broker).await;

            assert!(chrome.text("main").await.contains("close this window"));
            assert!(
                !chrome.has("#authid").await,
                "the authid is not on the page"
            );
            let authid = poll(&broker, &login).await;
            assert!(
                !chrome.client().source().await.unwrap().contains(&authid),
                "the authid is nowhere in the page"
            );
            broker.access_token(&authid).await;
        })
        .await;
    chrome.close().await;
    broker.stop().await;
}

#[tokio::test]
async fn sign_in_state_expired_at_the_callback_shows_an_error_page_and_creates_no_grant() {
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    let broker = TestBroker::start().await;
    chrome
        .check(async {
            chrome.goto(&broker.url("/login/demo")).await;
            chrome.find("#user").await;
            broker.clock.advance(11 * 60);
            chrome.click(ALLOW).await;

            assert_error_page(&chrome, "Sign-in not recognized").await;
            assert_eq!(grants(&broker).await, 0);
            assert_eq!(broker.fake().code_exchange_count(), 0);
        })
        .await;
    chrome.close().await;
    broker.stop().await;
}

#[tokio::test]
async fn tampered_state_in_the_callback_shows_an_error_page_and_creates_no_grant() {
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    let broker = TestBroker::start().await;
    chrome
        .check(async {
            chrome.goto(&broker.url("/login/demo")).await;
            chrome.find("#user").await;
            // The provider's answer, taken before the browser follows it, with `state` edited.
            let authorize = chrome.url().await;
            let callback = Browser::new().consent(&authorize, "allow").await;
            chrome.goto(with_tampered_state(&callback).as_str()).await;

            assert_error_page(&chrome, "Sign-in not recognized").await;
            assert_eq!(grants(&broker).await, 0);
            assert_eq!(broker.fake().code_exchange_count(), 0);
        })
        .await;
    chrome.close().await;
    broker.stop().await;
}

#[tokio::test]
async fn duplicati_popup_sign_in_posts_the_authid_to_the_opener_window() {
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    let preset = RawProvider {
        preset: Some("onedrive".into()),
        ..RawProvider::default()
    };
    let builder = BrokerBuilder::with_fake("onedrive", fake::ProviderConfig::microsoft(), preset);
    let broker = builder.start().await;
    let opener = Opener::serve(&broker.url("/?type=onedrivev2")).await;
    chrome
        .check(async {
            chrome.goto(&opener.url).await;
            let opener_window = chrome.client().window().await.unwrap();
            chrome.click("#open").await;
            let popup = chrome.new_window(&opener_window).await;
            chrome.client().switch_to_window(popup).await.unwrap();

            chrome.click("a[href='/login/onedrive']").await;
            allow_at_provider(&chrome, &broker).await;
            let authid = chrome.value("#authid").await;
            chrome
                .client()
                .switch_to_window(opener_window)
                .await
                .unwrap();
            let message = chrome.wait_for_text("#messages li").await;
            assert_eq!(message, format!("authid:{authid}"));
            let origin = chrome.find("#messages li").await.attr("data-origin").await;
            assert_eq!(
                origin.unwrap(),
                Some(broker.url.clone()),
                "sent by the broker's page"
            );

            let token = broker.access_token(&authid).await;
            assert_eq!(token["provider"], "onedrive");
        })
        .await;
    chrome.close().await;
    opener.stop().await;
    broker.stop().await;
}

/// On the fake provider's consent page, which the browser must have reached: presses Allow and
/// waits until the broker's callback page is there.
async fn allow_at_provider(chrome: &Chrome, broker: &TestBroker) {
    chrome.find("#user").await;
    let at_provider = chrome.url().await;
    assert!(
        at_provider
            .as_str()
            .starts_with(&broker.provider.url("/authorize")),
        "the consent page is the provider's: {at_provider}"
    );
    chrome.click(ALLOW).await;
    let on_callback = |url: &url::Url| url.as_str().starts_with(&broker.url("/callback"));
    chrome.wait_for_url("back at the broker", on_callback).await;
}

/// Checks that the page is the broker's error page titled `title`.
async fn assert_error_page(chrome: &Chrome, title: &str) {
    let on_callback = |url: &url::Url| url.path() == "/callback";
    chrome.wait_for_url("on the callback", on_callback).await;
    assert_eq!(chrome.text("h1").await, title);
    assert!(
        !chrome.text("[role=alert]").await.is_empty(),
        "the page says why"
    );
    assert!(!chrome.has("#authid").await);
}

/// `callback` with the last character of its `state` changed.
fn with_tampered_state(callback: &url::Url) -> url::Url {
    let pairs: Vec<(String, String)> = callback.query_pairs().into_owned().collect();
    let mut tampered = callback.clone();
    let mut query = tampered.query_pairs_mut();
    query.clear();
    for (name, mut value) in pairs {
        if name == "state" {
            let last = if value.pop() == Some('A') { 'B' } else { 'A' };
            value.push(last);
        }
        query.append_pair(&name, &value);
    }
    drop(query);
    tampered
}

/// The program's poll of `login`, which must hand out the authid now that the page has shown.
async fn poll(broker: &TestBroker, login: &Value) -> String {
    let id = login["login_id"].as_str().unwrap();
    let secret = login["poll_secret"].as_str().unwrap();
    let url = broker.url(&format!("/v1/logins/{id}/poll"));
    let done = broker
        .http
        .post(url)
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(
        done.status(),
        200,
        "the sign-in is done once the page shows"
    );
    let done: Value = done.json().await.unwrap();
    done["authid"].as_str().unwrap().to_owned()
}

/// Grants in the broker's database, read through a connection of its own.
async fn grants(broker: &TestBroker) -> i64 {
    broker.scalar("SELECT count(*) FROM grants").await
}

/// A page like Duplicati's, served on loopback: a button opens the broker with `window.open`,
/// and every `message` event is listed as `#messages li`, its origin in `data-origin`.
struct Opener {
    url: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Opener {
    /// Serves the page, its button opening `popup_url`.
    async fn serve(popup_url: &str) -> Self {
        let popup_url = serde_json::to_string(popup_url).unwrap();
        let page = OPENER_PAGE.replace("POPUP_URL", &popup_url);
        let app = Router::new().route("/", get(move || async move { Html(page) }));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        let task = tokio::spawn(async move { server.await });
        Self { url, stop, task }
    }

    /// Stops the server and waits for it.
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
    }
}

const OPENER_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Duplicati</title></head>
<body>
<button id="open" type="button">Sign in with the broker</button>
<ol id="messages"></ol>
<script>
window.addEventListener("message", function (event) {
  var item = document.createElement("li");
  item.textContent = String(event.data);
  item.dataset.origin = event.origin;
  document.getElementById("messages").appendChild(item);
});
document.getElementById("open").addEventListener("click", function () {
  window.open(POPUP_URL, "oauth-broker", "width=600,height=700");
});
</script>
</body>
</html>
"#;
