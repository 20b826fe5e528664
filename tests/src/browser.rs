//! A scripted browser: a cookie-keeping HTTP client that follows the sign-in the way a person's
//! browser would, including the fake provider's consent form.

use url::Url;

/// A browser with its own cookie jar.
pub struct Browser {
    /// The HTTP client; it keeps cookies and does not follow redirects by itself.
    pub client: reqwest::Client,
}

/// The page the sign-in ended on.
#[derive(Debug)]
pub struct Page {
    /// HTTP status.
    pub status: u16,
    /// The HTML.
    pub body: String,
}

impl Page {
    /// The authid shown on the callback page, if any.
    pub fn authid(&self) -> Option<String> {
        let start = self.body.find("id=\"authid\"")?;
        let rest = &self.body[start..];
        let value = rest.find("value=\"")? + "value=\"".len();
        let end = rest[value..].find('"')?;
        Some(rest[value..value + end].to_owned())
    }
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    /// A fresh browser with an empty cookie jar.
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { client }
    }

    /// Opens `start` (a `/login/...` URL) and returns the provider's authorize URL it
    /// redirects to.
    pub async fn start(&self, start: &str) -> Url {
        let response = self.client.get(start).send().await.unwrap();
        assert_eq!(
            response.status(),
            303,
            "sign-in start must redirect: {}",
            response.status()
        );
        location(&response)
    }

    /// Consents at the provider as `user` and returns the callback URL it redirects to.
    pub async fn consent(&self, authorize: &Url, decision: &str) -> Url {
        let page = self.client.get(authorize.clone()).send().await.unwrap();
        assert_eq!(
            page.status(),
            200,
            "consent page: {}",
            page.text().await.unwrap()
        );
        let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
        form.push(("user".into(), "demo-user".into()));
        form.push(("decision".into(), decision.into()));
        let response = self
            .client
            .post(authorize.clone())
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            303,
            "consent must redirect: {}",
            response.status()
        );
        location(&response)
    }

    /// Follows the callback URL and returns the page.
    pub async fn open(&self, url: &str) -> Page {
        let response = self.client.get(url).send().await.unwrap();
        Page {
            status: response.status().as_u16(),
            body: response.text().await.unwrap(),
        }
    }

    /// The whole sign-in: start, consent, callback.
    pub async fn sign_in(&self, start: &str) -> Page {
        let authorize = self.start(start).await;
        let callback = self.consent(&authorize, "allow").await;
        self.open(callback.as_str()).await
    }
}

fn location(response: &reqwest::Response) -> Url {
    let location = response
        .headers()
        .get("location")
        .expect("a Location header");
    Url::parse(location.to_str().unwrap()).unwrap()
}
