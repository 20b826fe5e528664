//! A TCP gate in front of the broker: while closed it accepts connections and holds them
//! without forwarding a byte, so the agent's broker call is in flight for as long as a test
//! needs (a daemon killed "while clients wait" is then killed at a known moment); once open it
//! forwards them, and every later one, to the broker.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Gate {
    /// `http://127.0.0.1:PORT`, the broker URL the agent is given.
    pub url: String,
    open: watch::Sender<bool>,
    held: Arc<AtomicUsize>,
}

impl Gate {
    /// A gate in front of `target` (`http://HOST:PORT`), open or closed.
    pub async fn start(target: &str, open: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let target = target.trim_start_matches("http://").to_owned();
        let (open, watch) = watch::channel(open);
        let held = Arc::new(AtomicUsize::new(0));
        let counter = held.clone();
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let pass = pass(inbound, target.clone(), watch.clone(), counter.clone());
                tokio::spawn(pass);
            }
        });
        Self { url, open, held }
    }

    pub fn open(&self) {
        self.open.send_replace(true);
    }

    /// Connections waiting for the gate to open.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }
}

async fn pass(
    mut inbound: TcpStream,
    target: String,
    mut open: watch::Receiver<bool>,
    held: Arc<AtomicUsize>,
) {
    held.fetch_add(1, Ordering::SeqCst);
    let _ = open.wait_for(|open| *open).await;
    held.fetch_sub(1, Ordering::SeqCst);
    let Ok(mut outbound) = TcpStream::connect(target).await else {
        return;
    };
    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
}
