//! The broker's baseline: a bare axum server answering `POST /v1/token` with fixed JSON bytes
//! (one real broker reply), so wrk measures only what tokio, axum and loopback TCP cost.

use axum::http::header::CONTENT_TYPE;
use axum::routing::post;
use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Serves fixed bytes on `POST /v1/token`.
#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long)]
    listen: SocketAddr,
    /// File with the body to answer.
    #[arg(long)]
    body: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let body = oauth_bench::read_body(&args.body)?;
    let app = axum::Router::new().route(
        "/v1/token",
        post(move || {
            let body = body.clone();
            async move { ([(CONTENT_TYPE, "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
