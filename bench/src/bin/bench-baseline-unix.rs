//! The agent's baseline: a bare hyper HTTP/1.1 server on a Unix socket answering every request
//! with fixed JSON bytes (one real agent reply).

use clap::Parser;
use http_body_util::Full;
use hyper::header::CONTENT_TYPE;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::path::PathBuf;
use tokio::net::UnixListener;

/// Serves fixed bytes on a Unix socket.
#[derive(Debug, Parser)]
struct Args {
    /// Socket path (replaced if present).
    #[arg(long)]
    socket: PathBuf,
    /// File with the body to answer.
    #[arg(long)]
    body: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let body = oauth_bench::read_body(&args.body)?;
    let _ = std::fs::remove_file(&args.socket);
    let listener = UnixListener::bind(&args.socket)?;
    loop {
        let (stream, _) = listener.accept().await?;
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_: Request<hyper::body::Incoming>| {
                let response = Response::builder()
                    .header(CONTENT_TYPE, "application/json")
                    .body(Full::new(body.clone()));
                async move { Ok::<_, Infallible>(response.unwrap_or_default()) }
            });
            let io = TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
    }
}
