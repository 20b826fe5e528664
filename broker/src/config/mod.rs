//! The broker's configuration: the TOML file as written, and the checked form the rest of the
//! broker uses.
//!
//! Parsing happens in two steps. [`RawConfig`] mirrors the file one-to-one; [`Config::from_raw`]
//! then checks every value, fills presets in, reads client secrets from their files or
//! environment variables, and produces a [`Config`] in which nothing is half-checked.

mod paths;
mod presets;
mod raw;
mod secret;

pub use paths::CREDENTIALS_DIRECTORY_ENV;
pub use presets::{preset, DUPLICATI_TYPES, PRESET_NAMES};
pub use raw::{RawCompat, RawConfig, RawProvider};
pub use secret::ClientSecret;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// Where the configuration file is looked for when `--config` is not given.
pub const CONFIG_ENV: &str = "OAUTH_BROKER_CONFIG";

/// Environment variable holding the base64 master key, as an alternative to `master_key_file`.
pub const MASTER_KEY_ENV: &str = "OAUTH_BROKER_MASTER_KEY";

/// A configuration mistake, named precisely enough to fix without reading code.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown or mistyped keys.
    #[error("config file {path} is not valid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML parser's explanation, with line and column.
        message: String,
    },
    /// A value is present but wrong.
    #[error("config key `{key}`: {message}")]
    Invalid {
        /// The key, dotted (`providers.onedrive.token_url`).
        key: String,
        /// What is wrong and what is expected.
        message: String,
    },
}

impl ConfigError {
    fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// How the broker authenticates itself at a provider's token endpoint (RFC 6749 section 2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    /// HTTP Basic authentication with the client id and secret.
    Basic,
    /// `client_id` and `client_secret` in the form body.
    Post,
}

/// One provider, fully resolved.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// The name used in URLs and the API (`[providers.NAME]`).
    pub name: String,
    /// Human-readable name for pages.
    pub display_name: String,
    /// The provider's authorization endpoint.
    pub authorize_url: Url,
    /// The provider's token endpoint.
    pub token_url: Url,
    /// The provider's RFC 7009 revocation endpoint, if it has one.
    pub revocation_url: Option<Url>,
    /// The preset the table used, if any (Duplicati's type mapping follows it).
    pub preset: Option<String>,
    /// The broker's client id at the provider.
    pub client_id: String,
    /// The broker's client secret; `None` for a public client (Jottacloud).
    pub client_secret: Option<ClientSecret>,
    /// Scopes asked for at sign-in.
    pub scopes: Vec<String>,
    /// How the client authenticates at the token endpoint.
    pub client_auth: ClientAuth,
    /// Whether to use PKCE (S256).
    pub pkce: bool,
    /// Extra query parameters for the authorization request.
    pub authorize_params: BTreeMap<String, String>,
}

/// Rate limits; see `docs/configuration.md` for how to choose them.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Failed authid look-ups allowed per client address per minute before it gets 429.
    pub failed_lookups_per_minute: u32,
    /// Refreshes at the provider allowed per authid per hour.
    pub refreshes_per_hour: u32,
}

/// The checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The URL users reach the broker at; the redirect URI is this plus `/callback`.
    pub public_url: Url,
    /// `sqlite:///abs/path/broker.db`.
    pub database_url: String,
    /// PostgreSQL connections per replica (each refresh in progress holds one).
    pub database_max_connections: u32,
    /// Bytes of grant rows each broker process keeps in memory for token requests (0: none).
    pub grant_cache_bytes: u64,
    /// Where the master key comes from.
    pub master_key: MasterKeySource,
    /// Files holding previous master keys, kept during a rotation (see
    /// [`crate::crypto::master_keys`]).
    pub previous_master_keys: Vec<PathBuf>,
    /// Providers by name.
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Grants unused this long are deleted.
    pub reap_after: Duration,
    /// Time limit for each request to a provider.
    pub provider_timeout: Duration,
    /// Use the right-most `X-Forwarded-For` address as the client address (behind a proxy).
    pub trust_forwarded_for: bool,
    /// Rate limits.
    pub limits: Limits,
    /// Duplicati compatibility.
    pub compat: Compat,
}

/// Duplicati compatibility (`[compat]`).
#[derive(Debug, Clone, Default)]
pub struct Compat {
    /// Whether `/refresh`, `/fetch` and `/?type=` are served.
    pub duplicati: bool,
    /// Duplicati provider id to broker provider name.
    pub types: BTreeMap<String, String>,
}

impl Compat {
    /// The broker provider a Duplicati id stands for.
    pub fn provider_for(&self, duplicati_id: &str) -> Option<&str> {
        self.types.get(duplicati_id).map(String::as_str)
    }

    /// The Duplicati id of a broker provider (its own name when none maps to it).
    pub fn duplicati_id<'a>(&'a self, provider: &'a str) -> &'a str {
        self.types
            .iter()
            .find(|(_, p)| p.as_str() == provider)
            .map_or(provider, |(id, _)| id)
    }
}

/// Where to read the master key from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterKeySource {
    /// A file holding the base64 key.
    File(PathBuf),
    /// The `OAUTH_BROKER_MASTER_KEY` environment variable.
    Env,
}

impl Config {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let raw: RawConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Self::from_raw(raw)
    }

    /// Checks a parsed file and resolves presets and secrets.
    pub fn from_raw(raw: RawConfig) -> Result<Self, ConfigError> {
        let listen = raw.listen.as_deref().unwrap_or("127.0.0.1:8080");
        let listen = listen.parse().map_err(|_| {
            ConfigError::invalid(
                "listen",
                format!("`{listen}` is not an address like 127.0.0.1:8080"),
            )
        })?;
        let public_url = parse_public_url(raw.public_url.as_deref())?;
        let database_url = check_database_url(raw.database_url)?;
        let master_key = match raw.master_key_file {
            Some(path) => MasterKeySource::File(paths::secret_path("master_key_file", path)?),
            None => MasterKeySource::Env,
        };
        let previous_master_keys = raw
            .previous_master_key_files
            .into_iter()
            .map(|path| paths::secret_path("previous_master_key_files", path))
            .collect::<Result<_, _>>()?;

        let mut providers = BTreeMap::new();
        for (name, provider) in raw.providers {
            let resolved = raw::resolve_provider(&name, provider)?;
            providers.insert(name, resolved);
        }

        let compat = resolve_compat(raw.compat, &providers)?;

        Ok(Self {
            listen,
            public_url,
            database_url,
            database_max_connections: raw.database_max_connections.unwrap_or(16).clamp(2, 1000),
            grant_cache_bytes: u64::from(raw.grant_cache_mib.unwrap_or(8).min(65_536)) << 20,
            master_key,
            previous_master_keys,
            providers,
            reap_after: Duration::from_secs(u64::from(raw.reap_after_days.unwrap_or(365)) * 86_400),
            provider_timeout: Duration::from_secs(raw.provider_timeout_secs.unwrap_or(20).max(1)),
            trust_forwarded_for: raw.trust_forwarded_for.unwrap_or(false),
            limits: Limits {
                failed_lookups_per_minute: raw
                    .limits
                    .failed_lookups_per_minute
                    .unwrap_or(10)
                    .max(1),
                refreshes_per_hour: raw.limits.refreshes_per_hour.unwrap_or(30).max(1),
            },
            compat,
        })
    }

    /// The OAuth redirect URI registered at every provider.
    pub fn redirect_uri(&self) -> String {
        join_url(&self.public_url, "/callback")
    }
}

/// Duplicati's provider ids map to the first provider (by name) using the matching preset,
/// unless `[compat.types]` says otherwise; explicit entries must name configured providers.
fn resolve_compat(
    raw: RawCompat,
    providers: &BTreeMap<String, ProviderConfig>,
) -> Result<Compat, ConfigError> {
    let mut types = BTreeMap::new();
    for (duplicati_id, preset) in DUPLICATI_TYPES {
        let matching = providers
            .values()
            .find(|p| p.preset.as_deref() == Some(preset));
        if let Some(provider) = matching {
            types.insert((*duplicati_id).to_owned(), provider.name.clone());
        }
    }
    for (duplicati_id, provider) in raw.types.unwrap_or_default() {
        if !providers.contains_key(&provider) {
            return Err(ConfigError::invalid(
                format!("compat.types.{duplicati_id}"),
                format!("`{provider}` is not a configured provider"),
            ));
        }
        types.insert(duplicati_id, provider);
    }
    Ok(Compat {
        duplicati: raw.duplicati.unwrap_or(true),
        types,
    })
}

/// `base` with `path` appended, without doubling the slash.
pub fn join_url(base: &Url, path: &str) -> String {
    format!("{}{}", base.as_str().trim_end_matches('/'), path)
}

fn parse_public_url(value: Option<&str>) -> Result<Url, ConfigError> {
    let value = value.ok_or_else(|| {
        ConfigError::invalid(
            "public_url",
            "missing: set it to the URL users reach the broker at",
        )
    })?;
    let url = Url::parse(value)
        .map_err(|e| ConfigError::invalid("public_url", format!("`{value}` is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
        return Err(ConfigError::invalid(
            "public_url",
            "must be an http:// or https:// URL without a query, like https://broker.example.com",
        ));
    }
    Ok(url)
}

fn check_database_url(value: Option<String>) -> Result<String, ConfigError> {
    let value = value.ok_or_else(|| {
        ConfigError::invalid(
            "database_url",
            "missing: for example sqlite:///var/lib/oauth-broker/broker.db",
        )
    })?;
    if !value.starts_with("sqlite:") && !crate::store::is_postgres(&value) {
        return Err(ConfigError::invalid(
            "database_url",
            "use sqlite:///absolute/path/broker.db or postgres://user@host/database",
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_raw(
            toml::from_str(text).map_err(|e| ConfigError::invalid("toml", e.to_string()))?,
        )
    }

    const BASE: &str =
        "public_url = \"https://b.example.com/\"\ndatabase_url = \"sqlite:///tmp/b.db\"\n";

    #[test]
    fn preset_fills_in_and_explicit_keys_override() {
        let config = parse(&format!(
            "{BASE}[providers.gd]\npreset = \"google-drive\"\nclient_id = \"id\"\nclient_secret = \"s\"\n\
             scopes = [\"a\"]\n[providers.gd.authorize_params]\nprompt = \"select_account\"\n"
        ))
        .unwrap();
        let gd = &config.providers["gd"];
        assert_eq!(gd.token_url.as_str(), "https://oauth2.googleapis.com/token");
        assert_eq!(gd.scopes, ["a"]);
        assert_eq!(gd.authorize_params["prompt"], "select_account");
        assert_eq!(gd.authorize_params["access_type"], "offline");
        assert_eq!(gd.client_auth, ClientAuth::Post);
        assert_eq!(config.redirect_uri(), "https://b.example.com/callback");
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn mistakes_name_their_key() {
        let cases = [
            ("[providers.x]\nclient_id = \"i\"\ntoken_url = \"https://t\"\n", "providers.x.authorize_url"),
            (
                "[providers.x]\npreset = \"box\"\nclient_id = \"i\"\nclient_secret = \"a\"\nclient_secret_env = \"B\"\n",
                "providers.x.client_secret",
            ),
            (
                "[providers.x]\npreset = \"box\"\nclient_id = \"i\"\n[providers.x.authorize_params]\nstate = \"1\"\n",
                "providers.x.authorize_params",
            ),
            ("[providers.Bad]\npreset = \"box\"\nclient_id = \"i\"\n", "providers.Bad"),
            ("[providers.x]\npreset = \"box\"\nclient_id = \"i\"\ntoken_url = \"file:///etc\"\n", "token_url"),
        ];
        for (table, key) in cases {
            let error = parse(&format!("{BASE}{table}")).unwrap_err().to_string();
            assert!(error.contains(key), "`{key}` not named in: {error}");
        }
        let error = parse("database_url = \"mysql://x\"\npublic_url = \"http://a\"").unwrap_err();
        assert!(error.to_string().contains("database_url"));
    }

    #[test]
    fn client_secret_from_environment_and_file() {
        let dir = std::env::temp_dir().join(format!("oauth-broker-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("secret");
        std::fs::write(&file, "from-file\n").unwrap();
        let config = parse(&format!(
            "{BASE}[providers.x]\npreset = \"box\"\nclient_id = \"i\"\nclient_secret_file = \"{}\"\n",
            file.display()
        ))
        .unwrap();
        let secret = config.providers["x"].client_secret.as_ref().unwrap();
        assert_eq!(secret.expose(), "from-file");
        assert!(!format!("{:?}", config.providers["x"]).contains("from-file"));

        let missing = parse(&format!(
            "{BASE}[providers.x]\npreset = \"box\"\nclient_id = \"i\"\nclient_secret_env = \"OAUTH_BROKER_TEST_UNSET_VAR\"\n"
        ));
        assert!(missing
            .unwrap_err()
            .to_string()
            .contains("OAUTH_BROKER_TEST_UNSET_VAR"));
    }
}
