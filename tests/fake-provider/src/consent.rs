//! The provider's HTML: the consent page of `GET /authorize` and the error page shown when a
//! request cannot be sent back to the client. Every value is HTML-escaped, and the form posts to
//! its own URL, so the pages work under any prefix.

use std::fmt::Write;

use axum::http::{header, HeaderName, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::form::Params;

/// Parameters that the consent form sets itself, so they are not carried as hidden inputs.
const FORM_FIELDS: [&str; 2] = ["user", "decision"];

/// The consent page for a validated authorization request.
pub(crate) fn page(provider_name: &str, params: &Params) -> Response {
    let name = escape(provider_name);
    let client = escape(params.get("client_id").unwrap_or_default());
    let scope = escape(params.get("scope").unwrap_or("(no scope)"));
    let body = format!(
        "<h1>Sign in to {name}</h1>\n\
         <p>This is a demo/test OAuth provider. No real account is involved: any user name \
         signs in.</p>\n\
         <p>The application <strong>{client}</strong> asks for access to: \
         <code>{scope}</code></p>\n\
         <form method=\"post\">\n{hidden}\
         <p><label for=\"user\">User name</label>\n\
         <input id=\"user\" name=\"user\" type=\"text\" value=\"demo-user\" \
         autocomplete=\"username\"></p>\n\
         <p><button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\n\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></p>\n\
         </form>",
        hidden = hidden_inputs(params),
    );
    respond(StatusCode::OK, &format!("Sign in to {name}"), &body)
}

/// A `400` page for a request that must not be redirected back to the client.
pub(crate) fn error_page(message: &str) -> Response {
    let body = format!(
        "<h1>Invalid authorization request</h1>\n<p role=\"alert\">{}</p>",
        escape(message)
    );
    respond(
        StatusCode::BAD_REQUEST,
        "Invalid authorization request",
        &body,
    )
}

/// Text made safe for HTML element content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn hidden_inputs(params: &Params) -> String {
    let mut inputs = String::new();
    for (name, value) in params
        .iter()
        .filter(|(name, _)| !FORM_FIELDS.contains(name))
    {
        let (name, value) = (escape(name), escape(value));
        // Writing to a String cannot fail.
        let _ = writeln!(
            inputs,
            "<input type=\"hidden\" name=\"{name}\" value=\"{value}\">"
        );
    }
    inputs
}

fn respond(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    );
    (status, page_headers(), Html(html)).into_response()
}

/// No caching, no framing (clickjacking), no scripts and no referrer leaks.
fn page_headers() -> [(HeaderName, &'static str); 4] {
    [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
        (header::REFERRER_POLICY, "no-referrer"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
