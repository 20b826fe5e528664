//! The configuration file exactly as written, and how one `[providers.NAME]` table is resolved.

use super::{presets, ClientAuth, ClientSecret, ConfigError, ProviderConfig};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use url::Url;

/// The TOML file, key for key. Unknown keys are an error, so typos do not pass silently.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// `listen = "127.0.0.1:8080"`.
    pub listen: Option<String>,
    /// `public_url = "https://broker.example.com"`.
    pub public_url: Option<String>,
    /// `database_url = "sqlite:///var/lib/oauth-broker/broker.db"`.
    pub database_url: Option<String>,
    /// `database_max_connections = 16` (PostgreSQL pool size per replica).
    pub database_max_connections: Option<u32>,
    /// `grant_cache_mib = 8` (grant rows kept in memory per broker process; 0 turns it off).
    pub grant_cache_mib: Option<u32>,
    /// `master_key_file = "/etc/oauth-broker/master.key"`.
    pub master_key_file: Option<PathBuf>,
    /// `previous_master_key_files = ["/etc/oauth-broker/master.key.old"]`: keys of a rotation
    /// still needed to open records sealed before it.
    #[serde(default)]
    pub previous_master_key_files: Vec<PathBuf>,
    /// `reap_after_days = 365`.
    pub reap_after_days: Option<u32>,
    /// `provider_timeout_secs = 20`.
    pub provider_timeout_secs: Option<u64>,
    /// `trust_forwarded_for = false`.
    pub trust_forwarded_for: Option<bool>,
    /// `[limits]`.
    #[serde(default)]
    pub limits: RawLimits,
    /// `[providers.NAME]` tables.
    #[serde(default)]
    pub providers: BTreeMap<String, RawProvider>,
    /// `[compat]`.
    #[serde(default)]
    pub compat: RawCompat,
}

/// The `[compat]` table: Duplicati's wire format.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCompat {
    /// Serve `/refresh`, `/fetch` and `/?type=` (default true).
    pub duplicati: Option<bool>,
    /// Duplicati provider id to broker provider name, e.g. `onedrivev2 = "onedrive"`.
    pub types: Option<BTreeMap<String, String>>,
}

/// The `[limits]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    /// Failed authid look-ups per client address per minute.
    pub failed_lookups_per_minute: Option<u32>,
    /// Provider refreshes per authid per hour.
    pub refreshes_per_hour: Option<u32>,
}

/// One `[providers.NAME]` table. `Debug` redacts `client_secret` (in `secret.rs`).
#[derive(Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvider {
    /// A preset filling endpoints, scopes and parameters in.
    pub preset: Option<String>,
    /// Shown on the sign-in pages.
    pub display_name: Option<String>,
    /// Authorization endpoint.
    pub authorize_url: Option<String>,
    /// Token endpoint.
    pub token_url: Option<String>,
    /// RFC 7009 revocation endpoint.
    pub revocation_url: Option<String>,
    /// Client id.
    pub client_id: Option<String>,
    /// File holding the client secret.
    pub client_secret_file: Option<PathBuf>,
    /// Environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// The client secret itself (prefer a file or the environment).
    pub client_secret: Option<String>,
    /// Scopes.
    pub scopes: Option<Vec<String>>,
    /// `basic` or `post`.
    pub client_auth: Option<ClientAuth>,
    /// PKCE with S256.
    pub pkce: Option<bool>,
    /// Extra authorization parameters.
    pub authorize_params: Option<BTreeMap<String, String>>,
}

/// Resolves one provider table: preset first, explicit keys on top, then every value checked.
pub(super) fn resolve_provider(
    name: &str,
    raw: RawProvider,
) -> Result<ProviderConfig, ConfigError> {
    let key = |field: &str| format!("providers.{name}.{field}");
    check_provider_name(name)?;

    let base = match raw.preset.as_deref() {
        Some(preset) => presets::preset(preset).ok_or_else(|| {
            let known = presets::PRESET_NAMES.join(", ");
            ConfigError::invalid(
                key("preset"),
                format!("unknown preset `{preset}`; known: {known}"),
            )
        })?,
        None => RawProvider::default(),
    };
    let secret = ClientSecret::resolve(&key("client_secret"), &raw)?;

    let authorize_url = endpoint(
        &key("authorize_url"),
        raw.authorize_url.or(base.authorize_url),
    )?;
    let token_url = endpoint(&key("token_url"), raw.token_url.or(base.token_url))?;
    let revocation_url = match raw.revocation_url.or(base.revocation_url) {
        Some(url) => Some(endpoint(&key("revocation_url"), Some(url))?),
        None => None,
    };
    let client_id = raw
        .client_id
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| {
            ConfigError::invalid(
                key("client_id"),
                "missing: the app's client id from the provider",
            )
        })?;

    let mut authorize_params = base.authorize_params.unwrap_or_default();
    authorize_params.extend(raw.authorize_params.unwrap_or_default());
    check_authorize_params(&key("authorize_params"), &authorize_params)?;

    Ok(ProviderConfig {
        name: name.to_owned(),
        preset: raw.preset.clone(),
        display_name: raw
            .display_name
            .or(base.display_name)
            .unwrap_or_else(|| name.to_owned()),
        authorize_url,
        token_url,
        revocation_url,
        client_id,
        client_secret: secret,
        scopes: raw.scopes.or(base.scopes).unwrap_or_default(),
        client_auth: raw
            .client_auth
            .or(base.client_auth)
            .unwrap_or(ClientAuth::Basic),
        pkce: raw.pkce.or(base.pkce).unwrap_or(true),
        authorize_params,
    })
}

/// Provider names appear in URLs and in the database: keep them to a small, safe alphabet.
fn check_provider_name(name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        return Ok(());
    }
    Err(ConfigError::invalid(
        format!("providers.{name}"),
        "provider names use only a-z, 0-9, '-' and '_' (at most 64 characters)",
    ))
}

fn endpoint(key: &str, value: Option<String>) -> Result<Url, ConfigError> {
    let value = value.ok_or_else(|| {
        ConfigError::invalid(key, "missing: set it, or use a preset that provides it")
    })?;
    let url = Url::parse(&value)
        .map_err(|e| ConfigError::invalid(key, format!("`{value}` is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::invalid(
            key,
            "must be an http:// or https:// URL",
        ));
    }
    Ok(url)
}

/// The broker sets these itself; letting a config override them would break the flow.
const RESERVED_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

fn check_authorize_params(key: &str, params: &BTreeMap<String, String>) -> Result<(), ConfigError> {
    match params
        .keys()
        .find(|name| RESERVED_PARAMS.contains(&name.as_str()))
    {
        Some(name) => Err(ConfigError::invalid(
            key,
            format!("`{name}` is set by the broker itself and cannot be configured"),
        )),
        None => Ok(()),
    }
}
