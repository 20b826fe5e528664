//! The table `oauth-agent status` prints for people: one row per account with its token's state
//! and the time left in words, columns as wide as their widest cell.

use oauth_protocol::AccountStatus;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const HEADER: [&str; 6] = [
    "ACCOUNT",
    "PROVIDER",
    "BROKER",
    "TOKEN",
    "EXPIRES IN",
    "LAST ERROR",
];

/// The table for `accounts` as seen at `now`, one line per account after the header.
pub fn render(accounts: &[AccountStatus], daemon_running: bool, now: OffsetDateTime) -> String {
    let rows: Vec<[String; 6]> = accounts
        .iter()
        .map(|a| row(a, daemon_running, now))
        .collect();
    let mut widths = HEADER.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = line(&HEADER.map(str::to_owned), &widths);
    for row in &rows {
        out.push_str(&line(row, &widths));
    }
    out
}

fn line(cells: &[String; 6], widths: &[usize; 6]) -> String {
    let padded: Vec<String> = cells
        .iter()
        .zip(widths)
        .map(|(cell, width)| format!("{cell:<width$}"))
        .collect();
    format!("{}\n", padded.join("  ").trim_end())
}

fn row(account: &AccountStatus, daemon_running: bool, now: OffsetDateTime) -> [String; 6] {
    let expires = account
        .expires_at
        .as_deref()
        .and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok());
    let left = expires.map(|at| (at - now).whole_seconds());
    [
        account.name.clone(),
        account.provider.clone(),
        account.broker.clone(),
        token_state(account, daemon_running, left).to_owned(),
        left.map_or_else(|| "-".to_owned(), expires_in),
        account.last_error.clone().unwrap_or_else(|| "-".to_owned()),
    ]
}

/// One word for the token: `needs-login`, `valid`, `expired`, `error`, `none` (nothing cached
/// yet) or `unknown` (no daemon to ask).
fn token_state(account: &AccountStatus, daemon_running: bool, left: Option<i64>) -> &'static str {
    match (account.reauth_required, left) {
        (true, _) => "needs-login",
        (false, Some(secs)) if secs > 0 => "valid",
        (false, Some(_)) => "expired",
        (false, None) if !daemon_running => "unknown",
        (false, None) if account.last_error.is_some() => "error",
        (false, None) => "none",
    }
}

/// Seconds left as people read them: `45s`, `12m 05s`, `3h 07m`, `2d 04h`, `expired`.
pub fn expires_in(secs: i64) -> String {
    match secs {
        ..=0 => "expired".to_owned(),
        1..60 => format!("{secs}s"),
        60..3600 => format!("{}m {:02}s", secs / 60, secs % 60),
        3600..86400 => format!("{}h {:02}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d {:02}h", secs / 86400, secs % 86400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::parse("2030-01-01T00:00:00Z", &Rfc3339).unwrap()
    }

    fn account(name: &str, expires_at: Option<&str>) -> AccountStatus {
        AccountStatus {
            name: name.into(),
            provider: "fake".into(),
            broker: "http://127.0.0.1:8080".into(),
            expires_at: expires_at.map(Into::into),
            last_refresh: None,
            last_error: None,
            reauth_required: false,
        }
    }

    #[test]
    fn expires_in_reads_naturally() {
        assert_eq!(expires_in(-5), "expired");
        assert_eq!(expires_in(0), "expired");
        assert_eq!(expires_in(45), "45s");
        assert_eq!(expires_in(725), "12m 05s");
        assert_eq!(expires_in(3 * 3600 + 7 * 60 + 59), "3h 07m");
        assert_eq!(expires_in(2 * 86400 + 4 * 3600), "2d 04h");
    }

    #[test]
    fn rows_show_state_time_left_and_error() {
        let now = now();
        let mut broken = account("work", None);
        broken.last_error = Some("provider_unavailable: timed out".into());
        let mut stale = account("old", None);
        stale.reauth_required = true;
        let accounts = [
            account("home", Some("2030-01-01T00:59:30Z")),
            account("gone", Some("2029-12-31T23:00:00Z")),
            broken,
            stale,
        ];
        let table = render(&accounts, true, now);
        let lines: Vec<&str> = table.lines().collect();

        assert!(lines[0].starts_with("ACCOUNT"), "{table}");
        assert!(
            lines[1].contains("valid") && lines[1].contains("59m 30s"),
            "{table}"
        );
        assert!(lines[2].contains("expired"), "{table}");
        assert!(
            lines[3].contains(" error ") && lines[3].contains("timed out"),
            "{table}"
        );
        assert!(lines[4].contains("needs-login"), "{table}");
        let column = lines[0].find("TOKEN").unwrap();
        assert!(lines
            .iter()
            .skip(1)
            .all(|l| l[column..].starts_with(['v', 'e', 'n'])));
    }

    #[test]
    fn without_a_daemon_the_token_state_is_unknown() {
        let now = now();
        let table = render(&[account("home", None)], false, now);
        assert!(table.lines().nth(1).unwrap().contains("unknown"), "{table}");
    }
}
