//! Every built-in preset against the fake profile that copies its real provider: a browser
//! sign-in and two forced refreshes, then the authorization request, the code exchange, the
//! client authentication and both refresh requests checked as the fake recorded them.
//!
//! The expectations are written out here rather than read from the presets, so a preset that
//! drifts from what its provider needs fails a test instead of redefining it.

use oauth_broker::config::RawProvider;
use oauth_e2e::fake::{ProviderConfig, TokenRequestRecord};
use oauth_e2e::{BrokerBuilder, TestBroker};
use std::collections::{BTreeMap, BTreeSet};

/// Where the broker must put its client credentials at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClientAuth {
    /// An HTTP Basic header, nothing in the body.
    Basic,
    /// `client_id` and `client_secret` in the form body.
    Body,
    /// A public client: `client_id` in the body and no secret anywhere.
    Public,
}

/// What the broker must do for one preset.
struct Expected {
    preset: &'static str,
    fake: fn() -> ProviderConfig,
    /// The `scope` parameter of the authorization request; `None` means no parameter at all.
    scope: Option<&'static str>,
    /// The preset's own authorization parameters.
    authorize_params: &'static [(&'static str, &'static str)],
    client_auth: ClientAuth,
    /// Whether each refresh must present the refresh token the previous one returned.
    rotates: bool,
}

const GOOGLE_PARAMS: &[(&str, &str)] = &[("access_type", "offline"), ("prompt", "consent")];

#[tokio::test]
async fn onedrive_preset_asks_for_offline_access_and_stores_each_rotated_refresh_token() {
    check_preset(Expected {
        preset: "onedrive",
        fake: ProviderConfig::microsoft,
        scope: Some("Files.ReadWrite offline_access"),
        authorize_params: &[],
        client_auth: ClientAuth::Body,
        rotates: true,
    })
    .await;
}

#[tokio::test]
async fn sharepoint_preset_asks_for_site_scopes_and_authenticates_in_the_body() {
    check_preset(Expected {
        preset: "sharepoint",
        fake: ProviderConfig::microsoft,
        scope: Some("Files.ReadWrite.All Sites.ReadWrite.All offline_access"),
        authorize_params: &[],
        client_auth: ClientAuth::Body,
        rotates: true,
    })
    .await;
}

#[tokio::test]
async fn msgroup_preset_asks_for_group_scopes_and_authenticates_in_the_body() {
    check_preset(Expected {
        preset: "msgroup",
        fake: ProviderConfig::microsoft,
        scope: Some("Files.ReadWrite.All Group.Read.All offline_access"),
        authorize_params: &[],
        client_auth: ClientAuth::Body,
        rotates: true,
    })
    .await;
}

#[tokio::test]
async fn google_drive_preset_forces_offline_consent_and_keeps_the_refresh_token() {
    check_preset(Expected {
        preset: "google-drive",
        fake: ProviderConfig::google,
        scope: Some("https://www.googleapis.com/auth/drive.file"),
        authorize_params: GOOGLE_PARAMS,
        client_auth: ClientAuth::Body,
        rotates: false,
    })
    .await;
}

#[tokio::test]
async fn google_cloud_storage_preset_forces_offline_consent_and_keeps_the_refresh_token() {
    check_preset(Expected {
        preset: "google-cloud-storage",
        fake: ProviderConfig::google,
        scope: Some("https://www.googleapis.com/auth/devstorage.read_write"),
        authorize_params: GOOGLE_PARAMS,
        client_auth: ClientAuth::Body,
        rotates: false,
    })
    .await;
}

#[tokio::test]
async fn dropbox_preset_uses_basic_auth_and_sends_no_redirect_uri_on_refresh() {
    check_preset(Expected {
        preset: "dropbox",
        fake: ProviderConfig::dropbox,
        scope: None,
        authorize_params: &[("token_access_type", "offline")],
        client_auth: ClientAuth::Basic,
        rotates: false,
    })
    .await;
}

#[tokio::test]
async fn box_preset_survives_two_rotations_with_reuse_detection() {
    check_preset(Expected {
        preset: "box",
        fake: ProviderConfig::box_com,
        scope: None,
        authorize_params: &[],
        client_auth: ClientAuth::Body,
        rotates: true,
    })
    .await;
}

#[tokio::test]
async fn jottacloud_preset_is_a_public_client_that_survives_two_rotations() {
    check_preset(Expected {
        preset: "jottacloud",
        fake: ProviderConfig::jottacloud,
        scope: Some("openid offline_access"),
        authorize_params: &[],
        client_auth: ClientAuth::Public,
        rotates: true,
    })
    .await;
}

/// Signs in, serves the cached token, refreshes twice, and checks every recorded request.
async fn check_preset(expected: Expected) {
    let fake = (expected.fake)();
    let raw = RawProvider {
        preset: Some(expected.preset.to_owned()),
        ..Default::default()
    };
    let broker = BrokerBuilder::with_fake(expected.preset, fake.clone(), raw)
        .start()
        .await;

    let authid = broker.sign_in().await;
    let cached = token_round(&broker, &expected, &authid, None).await;
    broker.expire_cached_tokens();
    let refreshed = token_round(&broker, &expected, &authid, Some(&cached)).await;
    broker.expire_cached_tokens();
    token_round(&broker, &expected, &authid, Some(&refreshed)).await;

    let redirect_uri = broker.url("/callback");
    let authorize = broker.fake().authorize_requests();
    assert_eq!(
        authorize.len(),
        1,
        "{}: one authorization request",
        expected.preset
    );
    assert_authorize(&authorize[0], &expected, &fake, &redirect_uri);

    let requests = broker.fake().token_requests();
    assert_eq!(
        requests.len(),
        3,
        "{}: one exchange and two refreshes",
        expected.preset
    );
    assert_exchange(&requests[0], &expected, &fake, &redirect_uri);
    assert_refresh(&requests[1], &expected, &fake);
    assert_refresh(&requests[2], &expected, &fake);
    assert_rotation(&requests, &expected);
    assert_eq!(
        broker.fake().live_grants(),
        1,
        "{}: the grant is still alive",
        expected.preset
    );
    broker.stop().await;
}

/// One `POST /v1/token`: a provider token that differs from the previous round's, if any, and
/// exactly one more refresh at the provider than before (none for the first, cached round).
async fn token_round(
    broker: &TestBroker,
    expected: &Expected,
    authid: &str,
    previous: Option<&str>,
) -> String {
    let refreshes_before = broker.fake().refresh_count();
    let body = broker.access_token(authid).await;
    let token = body["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();

    assert_eq!(body["provider"], expected.preset);
    assert_eq!(
        body["scope"],
        expected.scope.unwrap_or_default(),
        "{}",
        expected.preset
    );
    assert!(
        broker.fake().is_access_token_valid(&token),
        "{}: a live token",
        expected.preset
    );
    let refreshes = broker.fake().refresh_count() - refreshes_before;
    assert_eq!(
        refreshes,
        usize::from(previous.is_some()),
        "{}: refreshes",
        expected.preset
    );
    assert_ne!(
        Some(token.as_str()),
        previous,
        "{}: a fresh token",
        expected.preset
    );
    token
}

fn assert_authorize(
    query: &BTreeMap<String, String>,
    expected: &Expected,
    fake: &ProviderConfig,
    redirect_uri: &str,
) {
    let preset = expected.preset;
    let mut names = vec![
        "response_type",
        "client_id",
        "redirect_uri",
        "state",
        "code_challenge",
        "code_challenge_method",
    ];
    names.extend(expected.scope.map(|_| "scope"));
    names.extend(expected.authorize_params.iter().map(|(name, _)| *name));
    let want: BTreeSet<&str> = names.into_iter().collect();
    assert_eq!(keys(query), want, "{preset}: authorize parameters");

    let value = |name: &str| query.get(name).map(String::as_str);
    assert_eq!(value("response_type"), Some("code"), "{preset}");
    assert_eq!(
        value("client_id"),
        Some(fake.client_id.as_str()),
        "{preset}"
    );
    assert_eq!(value("redirect_uri"), Some(redirect_uri), "{preset}");
    assert_eq!(
        value("scope"),
        expected.scope,
        "{preset}: scopes joined by spaces"
    );
    assert_eq!(value("code_challenge_method"), Some("S256"), "{preset}");
    for (name, param) in expected.authorize_params {
        assert_eq!(
            value(name),
            Some(*param),
            "{preset}: preset parameter {name}"
        );
    }
}

fn assert_exchange(
    record: &TokenRequestRecord,
    expected: &Expected,
    fake: &ProviderConfig,
    redirect_uri: &str,
) {
    let preset = expected.preset;
    assert_eq!(record.grant_type, "authorization_code", "{preset}");
    let body = ["grant_type", "code", "redirect_uri", "code_verifier"];
    assert_form_keys(record, expected, &body);
    assert_eq!(record.form["redirect_uri"], redirect_uri, "{preset}");
    assert!(
        !record.form["code_verifier"].is_empty(),
        "{preset}: a PKCE verifier"
    );
    assert_client_auth(record, expected, fake);
}

fn assert_refresh(record: &TokenRequestRecord, expected: &Expected, fake: &ProviderConfig) {
    let preset = expected.preset;
    assert_eq!(record.grant_type, "refresh_token", "{preset}");
    assert!(
        !record.form.contains_key("redirect_uri"),
        "{preset}: no redirect_uri on refresh"
    );
    assert!(
        !record.form.contains_key("scope"),
        "{preset}: no scope on refresh"
    );
    assert_form_keys(record, expected, &["grant_type", "refresh_token"]);
    assert_client_auth(record, expected, fake);
}

/// Rotating providers must get the refresh token the previous refresh returned; the others
/// return none, so the broker must keep presenting the one from the sign-in.
fn assert_rotation(requests: &[TokenRequestRecord], expected: &Expected) {
    let first = &requests[1].form["refresh_token"];
    let second = &requests[2].form["refresh_token"];
    if expected.rotates {
        assert_ne!(
            first, second,
            "{}: the rotated refresh token is used",
            expected.preset
        );
    } else {
        assert_eq!(
            first, second,
            "{}: the refresh token is kept",
            expected.preset
        );
    }
}

/// The form carries exactly `names` plus the client credentials that belong in the body.
fn assert_form_keys(record: &TokenRequestRecord, expected: &Expected, names: &[&str]) {
    let mut names = names.to_vec();
    match expected.client_auth {
        ClientAuth::Basic => {}
        ClientAuth::Body => names.extend(["client_id", "client_secret"]),
        ClientAuth::Public => names.push("client_id"),
    }
    let want: BTreeSet<&str> = names.into_iter().collect();
    assert_eq!(
        keys(&record.form),
        want,
        "{}: {} form",
        expected.preset,
        record.grant_type
    );
    let content_type = record.content_type.as_deref();
    assert_eq!(
        content_type,
        Some("application/x-www-form-urlencoded"),
        "{}",
        expected.preset
    );
}

fn assert_client_auth(record: &TokenRequestRecord, expected: &Expected, fake: &ProviderConfig) {
    let preset = expected.preset;
    let id = fake.client_id.clone();
    let form_id = record.form.get("client_id");
    let form_secret = record.form.get("client_secret");
    match expected.client_auth {
        ClientAuth::Basic => {
            let secret = fake.client_secret.clone().expect("a confidential client");
            assert_eq!(
                record.basic_auth,
                Some((id, secret)),
                "{preset}: Basic credentials"
            );
            assert_eq!(
                (form_id, form_secret),
                (None, None),
                "{preset}: nothing in the body"
            );
        }
        ClientAuth::Body => {
            assert_eq!(record.basic_auth, None, "{preset}: no Basic header");
            assert_eq!(form_id, Some(&id), "{preset}: client_id in the body");
            assert_eq!(
                form_secret,
                fake.client_secret.as_ref(),
                "{preset}: secret in the body"
            );
            assert!(form_secret.is_some(), "{preset}: a confidential client");
        }
        ClientAuth::Public => {
            assert_eq!(
                fake.client_secret, None,
                "{preset}: the fake is a public client"
            );
            assert_eq!(record.basic_auth, None, "{preset}: no Basic header");
            assert_eq!(form_id, Some(&id), "{preset}: client_id in the body");
            assert_eq!(form_secret, None, "{preset}: no secret at all");
        }
    }
}

fn keys(map: &BTreeMap<String, String>) -> BTreeSet<&str> {
    map.keys().map(String::as_str).collect()
}
