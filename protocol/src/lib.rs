//! Wire types shared by the broker (`oauth-broker`) and the agent (`oauth-agent`).
//!
//! Everything here is plain data: request and response bodies of the broker's `/v1` API, the
//! error body every endpoint returns, its stable error codes, and a few constants. No runtime and
//! no web framework live in this crate, so both sides and any third-party client can depend on it.

mod agent;
mod error;
mod login;
mod token;

pub use agent::{AccountStatus, AgentStatus, AgentToken};
pub use error::{ErrorBody, ErrorCode};
pub use login::{CreateLoginRequest, CreateLoginResponse, PollResponse, PollStatus};
pub use token::{TokenRequest, TokenResponse};

/// Version prefix of the broker's JSON API.
pub const API_PREFIX: &str = "/v1";

/// How many seconds an access token must still be valid when handed out, unless the caller asks
/// otherwise. Capped by the broker at half the token's lifetime for short-lived tokens.
pub const DEFAULT_MIN_VALID_SECS: u64 = 300;

/// The largest `min_valid_secs` a caller may ask for (one day).
pub const MAX_MIN_VALID_SECS: u64 = 86_400;
