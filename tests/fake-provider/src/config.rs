//! How the provider behaves: the registered client, how it authenticates, token lifetimes and
//! refresh token rotation, with profiles that copy the quirks of real providers.

use std::fmt;
use std::time::Duration;

/// How the client must authenticate at `/token` and `/revoke` (RFC 6749 section 2.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// HTTP Basic with the form-urlencoded client id and secret; a secret in the body is refused.
    Basic,
    /// `client_id` and `client_secret` in the form body; an `Authorization` header is refused.
    Post,
    /// Either [`ClientAuth::Basic`] or [`ClientAuth::Post`], but not both in one request.
    Any,
    /// A public client: `client_id` in the form body and no secret at all.
    None,
}

/// What a refresh does to the refresh token that was presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// The refresh token stays valid until the grant is revoked.
    Never,
    /// Each refresh issues a new refresh token. Presenting a rotated-away token gives
    /// `invalid_grant` but leaves the grant alive (unless
    /// [`ProviderConfig::old_refresh_tokens_stay_valid`] is set, and then it simply works).
    Always,
    /// Like [`Rotation::Always`], but presenting a rotated-away token is taken as theft: the whole
    /// grant is revoked, the current refresh token included.
    AlwaysRevokeOnReuse,
}

/// The provider's settings. Start from a profile such as [`ProviderConfig::demo`] and change the
/// fields a test needs.
#[derive(Clone)]
pub struct ProviderConfig {
    /// Shown on the consent page, e.g. "Demo provider".
    pub name: String,
    /// The one registered client.
    pub client_id: String,
    /// The client's secret; `None` for a public client.
    pub client_secret: Option<String>,
    /// How the client must authenticate at `/token` and `/revoke`.
    pub client_auth: ClientAuth,
    /// Whether `/authorize` refuses requests without an S256 `code_challenge`.
    pub require_pkce: bool,
    /// Lifetime of each access token, by the provider's clock.
    pub access_token_lifetime: Duration,
    /// What a refresh does to the presented refresh token.
    pub rotation: Rotation,
    /// With [`Rotation::Always`]: rotated-away refresh tokens keep working (Microsoft).
    pub old_refresh_tokens_stay_valid: bool,
    /// If set, a refresh token is issued only when the authorize request carried this parameter
    /// with this value (e.g. `access_type=offline`); if `None`, one is always issued.
    pub offline_param: Option<(String, String)>,
    /// Refresh requests that carry `redirect_uri` get `400 invalid_request` (Dropbox).
    pub reject_redirect_uri_on_refresh: bool,
    /// With [`Rotation::Never`]: whether the refresh response repeats the refresh token.
    pub refresh_returns_refresh_token: bool,
}

impl ProviderConfig {
    /// The broker's demo mode: a confidential client that may use Basic or body
    /// authentication, PKCE required, 300 s access tokens, and refresh tokens that rotate on
    /// every refresh (the old one is invalid afterwards, without reuse detection).
    pub fn demo() -> Self {
        let mut config = Self::base("Demo provider", "demo", ClientAuth::Any, Rotation::Always);
        config.require_pkce = true;
        config.access_token_lifetime = Duration::from_secs(300);
        config
    }

    /// Like Microsoft identity: body authentication, rotation on every refresh where the old
    /// refresh token keeps working, 3600 s access tokens, PKCE optional.
    pub fn microsoft() -> Self {
        let mut config = Self::base(
            "Microsoft (fake)",
            "microsoft",
            ClientAuth::Post,
            Rotation::Always,
        );
        config.old_refresh_tokens_stay_valid = true;
        config
    }

    /// Like Google: body authentication, no rotation and no refresh token in refresh responses;
    /// a refresh token is issued only if the authorize request had `access_type=offline`.
    pub fn google() -> Self {
        let mut config = Self::base("Google (fake)", "google", ClientAuth::Post, Rotation::Never);
        config.offline_param = Some(("access_type".into(), "offline".into()));
        config.refresh_returns_refresh_token = false;
        config
    }

    /// Like Dropbox: HTTP Basic only, a refresh token only with `token_access_type=offline`,
    /// `redirect_uri` refused on refresh, no rotation, 14400 s access tokens.
    pub fn dropbox() -> Self {
        let mut config = Self::base(
            "Dropbox (fake)",
            "dropbox",
            ClientAuth::Basic,
            Rotation::Never,
        );
        config.offline_param = Some(("token_access_type".into(), "offline".into()));
        config.reject_redirect_uri_on_refresh = true;
        config.refresh_returns_refresh_token = false;
        config.access_token_lifetime = Duration::from_secs(14_400);
        config
    }

    /// Like Box: body authentication, and reusing a rotated-away refresh token revokes the grant.
    pub fn box_com() -> Self {
        Self::base(
            "Box (fake)",
            "box",
            ClientAuth::Post,
            Rotation::AlwaysRevokeOnReuse,
        )
    }

    /// Like Jottacloud: a public client (no secret), PKCE required, and reusing a rotated-away
    /// refresh token revokes the grant.
    pub fn jottacloud() -> Self {
        let rotation = Rotation::AlwaysRevokeOnReuse;
        let mut config = Self::base(
            "Jottacloud (fake)",
            "jottacloud",
            ClientAuth::None,
            rotation,
        );
        config.client_secret = None;
        config.require_pkce = true;
        config
    }

    fn base(name: &str, client: &str, client_auth: ClientAuth, rotation: Rotation) -> Self {
        Self {
            name: name.into(),
            client_id: format!("{client}-client"),
            client_secret: Some(format!("{client}-secret")),
            client_auth,
            require_pkce: false,
            access_token_lifetime: Duration::from_secs(3600),
            rotation,
            old_refresh_tokens_stay_valid: false,
            offline_param: None,
            reject_redirect_uri_on_refresh: false,
            refresh_returns_refresh_token: true,
        }
    }
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("client_auth", &self.client_auth)
            .field("require_pkce", &self.require_pkce)
            .field("access_token_lifetime", &self.access_token_lifetime)
            .field("rotation", &self.rotation)
            .field(
                "old_refresh_tokens_stay_valid",
                &self.old_refresh_tokens_stay_valid,
            )
            .field("offline_param", &self.offline_param)
            .field(
                "reject_redirect_uri_on_refresh",
                &self.reject_redirect_uri_on_refresh,
            )
            .field(
                "refresh_returns_refresh_token",
                &self.refresh_returns_refresh_token,
            )
            .finish()
    }
}
