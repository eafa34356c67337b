//! A TCP relay in front of the test SMTP server that passes every message on, but withholds
//! the server's "message accepted" reply (and everything after it). The sweeper behind it is
//! left mid-send: the email is delivered, yet its row stays claimed by that sweeper. An SMTP
//! server that answers in microseconds makes "killed while sending" too rare to test;
//! this makes it certain for every email the stalled replica claims once the relay is armed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// The relay; stops (closing every connection) when dropped.
pub struct StallingRelay {
    addr: SocketAddr,
    armed: Arc<AtomicBool>,
    stalled: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl StallingRelay {
    /// Relays to the SMTP server at `upstream_url` (`smtp://host:port`).
    pub async fn start(upstream_url: &str) -> StallingRelay {
        let upstream: SocketAddr = upstream_url
            .strip_prefix("smtp://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("not smtp://host:port: {upstream_url}"));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
        let addr = listener.local_addr().expect("relay address");
        let armed = Arc::new(AtomicBool::new(false));
        let stalled = Arc::new(AtomicUsize::new(0));
        let (arming, counter) = (armed.clone(), stalled.clone());
        let task = tokio::spawn(async move {
            // Owned here so that aborting the task closes every relayed connection too.
            let mut sessions = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                sessions.spawn(relay(client, upstream, arming.clone(), counter.clone()));
            }
        });
        StallingRelay {
            addr,
            armed,
            stalled,
            task,
        }
    }

    /// `smtp://…` of the relay.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// From now on, withholds every acceptance (until then it relays faithfully).
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Emails delivered whose acceptance the sender never heard of.
    pub fn stalled(&self) -> usize {
        self.stalled.load(Ordering::SeqCst)
    }
}

impl Drop for StallingRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    armed: Arc<AtomicBool>,
    stalled: Arc<AtomicUsize>,
) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut from_client, mut to_client) = client.into_split();
    let (from_server, mut to_server) = server.into_split();
    let up = async move {
        let _ = tokio::io::copy(&mut from_client, &mut to_server).await;
    };
    let down = async move {
        let mut lines = BufReader::new(from_server);
        let mut line = String::new();
        loop {
            line.clear();
            match lines.read_line(&mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            // The reply to the end of DATA (see support/smtp.rs): delivered, never confirmed.
            if line.starts_with("250 OK queued") && armed.load(Ordering::SeqCst) {
                stalled.fetch_add(1, Ordering::SeqCst);
                // Keeps the connection open (and silent) until the relay stops.
                let _keep = (to_client, lines);
                std::future::pending::<()>().await;
                return;
            }
            if to_client.write_all(line.as_bytes()).await.is_err() {
                return;
            }
        }
    };
    tokio::join!(up, down);
}
