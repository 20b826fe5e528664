//! `Debug` for the service types that carry a secret: each prints `[redacted]` in its place, so
//! a stray `?value` in a log line or a panic message cannot leak an authid, a `state`, a `code`
//! or the browser-binding cookie.

use super::{CallbackParams, PollOutcome, SignInDone, SignInStart};
use std::fmt;

const REDACTED: &str = "[redacted]";

impl fmt::Debug for SignInStart {
    /// The authorize URL carries `state` in its query: only its origin and path are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = &self.authorize_url;
        f.debug_struct("SignInStart")
            .field(
                "authorize_url",
                &format_args!(
                    "{}{}?{REDACTED}",
                    url.origin().ascii_serialization(),
                    url.path()
                ),
            )
            .field("browser_cookie", &REDACTED)
            .finish()
    }
}

impl fmt::Debug for CallbackParams {
    /// The provider's error and description are not secret; `code` and `state` are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let presence = |value: &Option<String>| value.as_ref().map(|_| REDACTED);
        f.debug_struct("CallbackParams")
            .field("code", &presence(&self.code))
            .field("state", &presence(&self.state))
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .finish()
    }
}

impl fmt::Debug for SignInDone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ShowAuthid { provider, .. } => f
                .debug_struct("ShowAuthid")
                .field("authid", &REDACTED)
                .field("provider", provider)
                .finish(),
            Self::HandedToProgram { provider } => f
                .debug_struct("HandedToProgram")
                .field("provider", provider)
                .finish(),
        }
    }
}

impl fmt::Debug for PollOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pending => f.write_str("Pending"),
            Self::Done { provider, .. } => f
                .debug_struct("Done")
                .field("authid", &REDACTED)
                .field("provider", provider)
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    const SECRET: &str = "s3cr3t-value-that-must-not-print";

    fn assert_redacted(value: &impl fmt::Debug, shown: &str) {
        let printed = format!("{value:?}");
        assert!(!printed.contains(SECRET), "{printed}");
        assert!(printed.contains(REDACTED), "{printed}");
        assert!(printed.contains(shown), "{printed}");
    }

    #[test]
    fn sign_in_start_hides_state_and_cookie() {
        let start = SignInStart {
            authorize_url: format!("https://idp.example/authorize?state={SECRET}&x=1")
                .parse()
                .unwrap(),
            browser_cookie: Zeroizing::new(SECRET.to_owned()),
        };
        assert_redacted(&start, "https://idp.example/authorize");
    }

    #[test]
    fn callback_params_hide_code_and_state() {
        let params = CallbackParams {
            code: Some(SECRET.to_owned()),
            state: Some(SECRET.to_owned()),
            error: Some("access_denied".to_owned()),
            error_description: None,
        };
        assert_redacted(&params, "access_denied");
    }

    #[test]
    fn finished_sign_ins_and_polls_hide_the_authid() {
        let shown = SignInDone::ShowAuthid {
            authid: Zeroizing::new(SECRET.to_owned()),
            provider: "Demo".to_owned(),
        };
        assert_redacted(&shown, "Demo");
        let polled = PollOutcome::Done {
            authid: Zeroizing::new(SECRET.to_owned()),
            provider: "demo".to_owned(),
        };
        assert_redacted(&polled, "demo");
    }
}
