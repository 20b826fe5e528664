//! Built-in provider presets: endpoints, scopes and extra parameters of well-known providers.
//!
//! A preset is a partly filled `[providers.NAME]` table; keys set explicitly in the config file
//! win over it. Client ids and secrets are never part of a preset: every operator registers
//! their own app at the provider.

use super::{ClientAuth, RawProvider};
use std::collections::BTreeMap;

/// Names accepted by `preset = "..."`.
pub const PRESET_NAMES: &[&str] = &[
    "onedrive",
    "sharepoint",
    "msgroup",
    "google-drive",
    "google-cloud-storage",
    "dropbox",
    "box",
    "jottacloud",
];

/// Duplicati's provider ids and the preset each stands for.
pub const DUPLICATI_TYPES: &[(&str, &str)] = &[
    ("onedrivev2", "onedrive"),
    ("sharepoint", "sharepoint"),
    ("msgroup", "msgroup"),
    ("googledrive", "google-drive"),
    ("gcs", "google-cloud-storage"),
    ("dropbox", "dropbox"),
    ("box.com", "box"),
    ("jottacloud", "jottacloud"),
];

const MS_AUTHORIZE: &str = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize";
const MS_TOKEN: &str = "https://login.microsoftonline.com/common/oauth2/v2.0/token";
const GOOGLE_AUTHORIZE: &str = "https://accounts.google.com/o/oauth2/v2/auth";
const GOOGLE_TOKEN: &str = "https://oauth2.googleapis.com/token";
const GOOGLE_REVOKE: &str = "https://oauth2.googleapis.com/revoke";
const JOTTA_OIDC: &str = "https://id.jottacloud.com/auth/realms/jottacloud/protocol/openid-connect";

/// The preset called `name`, if there is one.
pub fn preset(name: &str) -> Option<RawProvider> {
    let preset = match name {
        "onedrive" => microsoft("Microsoft OneDrive", &["Files.ReadWrite", "offline_access"]),
        "sharepoint" => microsoft(
            "Microsoft SharePoint",
            &[
                "Files.ReadWrite.All",
                "Sites.ReadWrite.All",
                "offline_access",
            ],
        ),
        "msgroup" => microsoft(
            "Microsoft 365 Group",
            &["Files.ReadWrite.All", "Group.Read.All", "offline_access"],
        ),
        "google-drive" => google("Google Drive", "https://www.googleapis.com/auth/drive.file"),
        "google-cloud-storage" => google(
            "Google Cloud Storage",
            "https://www.googleapis.com/auth/devstorage.read_write",
        ),
        "dropbox" => dropbox(),
        "box" => box_com(),
        "jottacloud" => jottacloud(),
        _ => return None,
    };
    Some(preset)
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Microsoft identity platform v2. It rotates refresh tokens on every refresh and has no RFC 7009
/// revocation endpoint; `offline_access` is what makes it issue a refresh token at all.
fn microsoft(display_name: &str, scopes: &[&str]) -> RawProvider {
    RawProvider {
        display_name: Some(display_name.to_owned()),
        authorize_url: Some(MS_AUTHORIZE.to_owned()),
        token_url: Some(MS_TOKEN.to_owned()),
        scopes: Some(strings(scopes)),
        client_auth: Some(ClientAuth::Post),
        pkce: Some(true),
        ..RawProvider::default()
    }
}

/// Google issues a refresh token only with `access_type=offline`, and only on first consent
/// unless `prompt=consent` forces the consent screen. Refresh responses carry no refresh token.
fn google(display_name: &str, scope: &str) -> RawProvider {
    RawProvider {
        display_name: Some(display_name.to_owned()),
        authorize_url: Some(GOOGLE_AUTHORIZE.to_owned()),
        token_url: Some(GOOGLE_TOKEN.to_owned()),
        revocation_url: Some(GOOGLE_REVOKE.to_owned()),
        scopes: Some(strings(&[scope])),
        client_auth: Some(ClientAuth::Post),
        pkce: Some(true),
        authorize_params: Some(params(&[("access_type", "offline"), ("prompt", "consent")])),
        ..RawProvider::default()
    }
}

/// Dropbox issues long-lived refresh tokens only with `token_access_type=offline`; scopes come
/// from the app's settings. Its revocation endpoint is not RFC 7009, so none is configured.
fn dropbox() -> RawProvider {
    RawProvider {
        display_name: Some("Dropbox".to_owned()),
        authorize_url: Some("https://www.dropbox.com/oauth2/authorize".to_owned()),
        token_url: Some("https://api.dropboxapi.com/oauth2/token".to_owned()),
        client_auth: Some(ClientAuth::Basic),
        pkce: Some(true),
        authorize_params: Some(params(&[("token_access_type", "offline")])),
        ..RawProvider::default()
    }
}

/// Box rotates the refresh token on every refresh and the old one stops working at once.
fn box_com() -> RawProvider {
    RawProvider {
        display_name: Some("Box".to_owned()),
        authorize_url: Some("https://account.box.com/api/oauth2/authorize".to_owned()),
        token_url: Some("https://api.box.com/oauth2/token".to_owned()),
        revocation_url: Some("https://api.box.com/oauth2/revoke".to_owned()),
        client_auth: Some(ClientAuth::Post),
        pkce: Some(true),
        ..RawProvider::default()
    }
}

/// Jottacloud runs Keycloak (OpenID Connect) with a public client: no client secret, rotating
/// refresh tokens, and a standard revocation endpoint.
fn jottacloud() -> RawProvider {
    RawProvider {
        display_name: Some("Jottacloud".to_owned()),
        authorize_url: Some(format!("{JOTTA_OIDC}/auth")),
        token_url: Some(format!("{JOTTA_OIDC}/token")),
        revocation_url: Some(format!("{JOTTA_OIDC}/revoke")),
        scopes: Some(strings(&["openid", "offline_access"])),
        client_auth: Some(ClientAuth::Post),
        pkce: Some(true),
        ..RawProvider::default()
    }
}
