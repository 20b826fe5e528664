//! An OAuth token endpoint that answers every refresh at once with a new access token, for the
//! broker's refresh-path benchmark. `GET /count` says how many refreshes it answered.

use axum::extract::State;
use axum::routing::{get, post};
use clap::Parser;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// An instant token endpoint.
#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long)]
    listen: SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let count = Arc::new(AtomicU64::new(0));
    let app = axum::Router::new()
        .route("/token", post(token))
        .route(
            "/count",
            get(|State(count): State<Arc<AtomicU64>>| async move {
                count.load(Ordering::Relaxed).to_string()
            }),
        )
        .with_state(count);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// A refresh reply; the form is not checked, every refresh token is good.
async fn token(State(count): State<Arc<AtomicU64>>) -> axum::Json<serde_json::Value> {
    let n = count.fetch_add(1, Ordering::Relaxed);
    axum::Json(serde_json::json!({
        "access_token": format!("bench-access-token-{n:020}-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
        "token_type": "Bearer",
        "expires_in": 3600,
    }))
}
