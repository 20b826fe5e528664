//! A load generator for HTTP/1.1 over a Unix socket (wrk speaks only TCP): `--connections`
//! keep-alive connections, each sending `GET --path` back to back for `--seconds`. Prints one
//! JSON line: requests, errors, rps, p50_ms, p99_ms. Used for the agent and its baseline alike.

use clap::Parser;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::rt::TokioIo;
use oauth_bench::Summary;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::net::UnixStream;

/// Load on a Unix socket.
#[derive(Debug, Parser)]
struct Args {
    /// Socket path.
    #[arg(long)]
    socket: PathBuf,
    /// Request path, e.g. `/v1/tokens/a0`.
    #[arg(long)]
    path: String,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Run time.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
}

/// What one connection measured.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.seconds);
    let workers: Vec<_> = (0..args.connections)
        .map(|_| tokio::spawn(connection(args.socket.clone(), args.path.clone(), deadline)))
        .collect();
    let mut summary = Summary {
        requests: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies_us: Vec::new(),
    };
    for worker in workers {
        let tally = worker.await??;
        summary.errors += tally.errors;
        summary.latencies_us.extend(tally.latencies_us);
    }
    summary.elapsed = started.elapsed();
    summary.requests = summary.latencies_us.len();
    summary.latencies_us.sort_unstable();
    println!("{}", summary.to_json());
    Ok(())
}

/// One keep-alive connection sending requests one after the other until `deadline`.
async fn connection(socket: PathBuf, path: String, deadline: Instant) -> anyhow::Result<Tally> {
    let stream = UnixStream::connect(&socket).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut tally = Tally::default();
    while Instant::now() < deadline {
        let request = Request::get(path.as_str())
            .header("host", "agent")
            .body(Empty::<Bytes>::new())?;
        let start = Instant::now();
        match sender.send_request(request).await {
            Ok(response) if response.status() == 200 => {
                response.into_body().collect().await?;
                let micros = start.elapsed().as_micros();
                tally
                    .latencies_us
                    .push(u32::try_from(micros).unwrap_or(u32::MAX));
            }
            Ok(response) => {
                response.into_body().collect().await?;
                tally.errors += 1;
            }
            Err(_) => {
                tally.errors += 1;
                break;
            }
        }
    }
    Ok(tally)
}
