//! A raw HTTP/1.1 exchange over any byte stream, for hostile-input tests: the request goes out
//! exactly as given (invalid UTF-8, bare CR or LF, conflicting lengths, bytes that are not HTTP
//! at all), which no well-behaved client library would send, and the answer is read leniently.

use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// An answer, parsed.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// The status code.
    pub status: u16,
    /// Header names (lowercase) and their raw values, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The first value of header `name` (lowercase), as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What came back.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A parsable HTTP/1.x answer.
    Answered(RawResponse),
    /// The server closed the connection without a (parsable) answer.
    Closed,
    /// Neither an answer nor a close within the deadline: a hung server.
    Hung,
}

/// Sends `request` on `stream` and reads one answer, or gives up after `deadline`.
pub async fn exchange<S>(mut stream: S, request: &[u8], deadline: Duration) -> Outcome
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let exchange = async move {
        // A server may answer (413, 431) and close before reading everything: that is fine,
        // the answer is read below.
        let _ = stream.write_all(request).await;
        let _ = stream.flush().await;
        read_answer(&mut stream).await
    };
    tokio::time::timeout(deadline, exchange)
        .await
        .unwrap_or(Outcome::Hung)
}

/// Reads until one whole answer is in, or the connection ends.
pub async fn read_answer<S: AsyncRead + Unpin>(stream: &mut S) -> Outcome {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(response) = parse(&buffer) {
            return Outcome::Answered(response);
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return parse_at_end(&buffer),
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

fn parse_at_end(buffer: &[u8]) -> Outcome {
    // Without a length, the body runs to the end of the connection.
    match split_head(buffer).and_then(|(head, body)| Some((parse_head(head)?, body))) {
        Some(((status, headers), body)) => Outcome::Answered(RawResponse {
            status,
            headers,
            body: body.to_vec(),
        }),
        None => Outcome::Closed,
    }
}

/// A complete answer in `buffer`, if there is one yet.
fn parse(buffer: &[u8]) -> Option<RawResponse> {
    let (head, rest) = split_head(buffer)?;
    let (status, headers) = parse_head(head)?;
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| String::from_utf8_lossy(v).trim().to_ascii_lowercase())
    };
    let body = if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        dechunk(rest)?
    } else if let Some(length) = find("content-length") {
        let length: usize = length.parse().ok()?;
        rest.get(..length)?.to_vec()
    } else if status == 204 || status == 304 || (100..200).contains(&status) {
        Vec::new()
    } else {
        return None;
    };
    Some(RawResponse {
        status,
        headers,
        body,
    })
}

fn split_head(buffer: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = buffer.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some((&buffer[..end], &buffer[end + 4..]))
}

type Head = (u16, Vec<(String, Vec<u8>)>);

fn parse_head(head: &[u8]) -> Option<Head> {
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = std::str::from_utf8(lines.next()?).ok()?;
    let mut parts = status_line.splitn(3, ' ');
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let status = parts.next()?.parse().ok()?;
    let headers = lines
        .filter_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            let name = String::from_utf8_lossy(&line[..colon]).to_ascii_lowercase();
            let value = line[colon + 1..].trim_ascii().to_vec();
            Some((name, value))
        })
        .collect();
    Some((status, headers))
}

/// The body of a chunked message, once its last chunk is in.
fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

/// A request to send raw: every part is bytes, and nothing is checked or escaped.
#[derive(Debug, Clone)]
pub struct RawRequest {
    method: Vec<u8>,
    target: Vec<u8>,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    body: Option<Vec<u8>>,
    host: bool,
    verbatim: Option<Vec<u8>>,
}

impl RawRequest {
    /// `method target`, with a `Host` header and `Connection: close` added when sent.
    pub fn new(method: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> Self {
        Self {
            method: method.as_ref().to_vec(),
            target: target.as_ref().to_vec(),
            headers: Vec::new(),
            body: None,
            host: true,
            verbatim: None,
        }
    }

    /// Exactly `bytes`, whatever they are.
    pub fn raw(bytes: impl AsRef<[u8]>) -> Self {
        Self {
            verbatim: Some(bytes.as_ref().to_vec()),
            ..Self::new("", "")
        }
    }

    /// A `GET`.
    pub fn get(target: impl AsRef<[u8]>) -> Self {
        Self::new("GET", target)
    }

    /// A `POST` with an empty body.
    pub fn post(target: impl AsRef<[u8]>) -> Self {
        Self::new("POST", target).body(Vec::new())
    }

    /// Adds a header, exactly as given.
    pub fn header(mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Self {
        let name = name.as_ref().to_vec();
        if name.eq_ignore_ascii_case(b"host") {
            self.host = false;
        }
        self.headers.push((name, value.as_ref().to_vec()));
        self
    }

    /// Sets the body; `Content-Length` is added when sent, unless a header already gives a
    /// length or a transfer encoding.
    pub fn body(mut self, body: impl AsRef<[u8]>) -> Self {
        self.body = Some(body.as_ref().to_vec());
        self
    }

    /// The bytes on the wire, for `host`.
    pub fn to_bytes(&self, host: &str) -> Vec<u8> {
        if let Some(bytes) = &self.verbatim {
            return bytes.clone();
        }
        let mut out = Vec::new();
        out.extend_from_slice(&self.method);
        out.push(b' ');
        out.extend_from_slice(&self.target);
        out.extend_from_slice(b" HTTP/1.1\r\n");
        if self.host {
            out.extend_from_slice(format!("Host: {host}\r\n").as_bytes());
        }
        out.extend_from_slice(b"Connection: close\r\n");
        let framed = self.headers.iter().any(|(name, _)| {
            name.eq_ignore_ascii_case(b"content-length")
                || name.eq_ignore_ascii_case(b"transfer-encoding")
        });
        for (name, value) in &self.headers {
            out.extend_from_slice(name);
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        if let (Some(body), false) = (&self.body, framed) {
            out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(self.body.as_deref().unwrap_or_default());
        out
    }
}
