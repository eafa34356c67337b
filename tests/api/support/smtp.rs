//! An SMTP server in the test process, on a real socket: it speaks enough SMTP for lettre
//! (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), records what it receives, and can be told to
//! refuse recipients (permanent 550 or temporary 451) or to go down and come back on the same
//! port, for outage tests.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// How the server answers `RCPT TO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Takes every message.
    Accept,
    /// `550` for every recipient (permanent).
    Reject,
    /// `451` for every recipient (try again later).
    Defer,
}

/// A message as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Envelope sender.
    pub from: String,
    /// Envelope recipients.
    pub to: Vec<String>,
    /// The message (headers and body), dot-unstuffed, CRLF line ends.
    pub data: String,
}

#[derive(Default)]
struct Shared {
    messages: Vec<Received>,
    mode: Option<Mode>,
    /// Mail transactions open right now (from `MAIL FROM` to the reply after `DATA`), and the
    /// most there ever were at once.
    open_transactions: usize,
    peak_transactions: usize,
    /// How long the server waits before accepting a message, so transactions overlap.
    data_delay: Duration,
}

/// Counts one open mail transaction; closing it (or dropping the session) uncounts it.
struct Transaction {
    shared: Arc<Mutex<Shared>>,
    open: bool,
}

impl Transaction {
    fn open(&mut self) {
        if !self.open {
            self.open = true;
            let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            shared.open_transactions += 1;
            shared.peak_transactions = shared.peak_transactions.max(shared.open_transactions);
        }
    }

    fn close(&mut self) {
        if self.open {
            self.open = false;
            let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            shared.open_transactions = shared.open_transactions.saturating_sub(1);
        }
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        self.close();
    }
}

/// A running (or stopped) test SMTP server.
pub struct SmtpServer {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    tasks: Option<JoinSet<()>>,
}

impl SmtpServer {
    /// Starts on a free port of 127.0.0.1.
    pub async fn start() -> SmtpServer {
        Self::start_on("127.0.0.1:0".parse().expect("address"), Arc::default()).await
    }

    async fn start_on(addr: SocketAddr, shared: Arc<Mutex<Shared>>) -> SmtpServer {
        let listener = TcpListener::bind(addr)
            .await
            .expect("bind the test SMTP port");
        let addr = listener.local_addr().expect("bound address");
        let mut tasks = JoinSet::new();
        let accept_shared = shared.clone();
        tasks.spawn(async move {
            let mut sessions = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                sessions.spawn(session(stream, accept_shared.clone()));
            }
        });
        SmtpServer {
            addr,
            shared,
            tasks: Some(tasks),
        }
    }

    /// `smtp://127.0.0.1:<port>` for `CINEFLOW_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Changes how recipients are answered from now on.
    pub fn set_mode(&self, mode: Mode) {
        self.lock().mode = Some(mode);
    }

    /// Holds every message this long before accepting it.
    pub fn set_data_delay(&self, delay: Duration) {
        self.lock().data_delay = delay;
    }

    /// The most mail transactions that were ever open at the same time.
    pub fn peak_transactions(&self) -> usize {
        self.lock().peak_transactions
    }

    /// Everything received so far.
    pub fn messages(&self) -> Vec<Received> {
        self.lock().messages.clone()
    }

    /// Waits until at least `n` messages arrived (or `timeout` passed), then returns all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let got = self.messages();
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Closes the port and every open connection (clients see resets and refusals).
    pub async fn stop(&mut self) {
        if let Some(mut tasks) = self.tasks.take() {
            tasks.shutdown().await;
        }
    }

    /// Listens again on the same port, keeping what was received.
    pub async fn restart(&mut self) {
        self.stop().await;
        let again = Self::start_on(self.addr, self.shared.clone()).await;
        self.tasks = again.tasks;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn session(stream: TcpStream, shared: Arc<Mutex<Shared>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mode = || {
        shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .mode
            .unwrap_or(Mode::Accept)
    };
    if write
        .write_all(b"220 test-smtp ESMTP ready\r\n")
        .await
        .is_err()
    {
        return;
    }
    let mut from = String::new();
    let mut to: Vec<String> = Vec::new();
    let mut transaction = Transaction {
        shared: shared.clone(),
        open: false,
    };
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: String = match verb.as_str() {
            "EHLO" => "250-test-smtp\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n".into(),
            "HELO" => "250 test-smtp\r\n".into(),
            "MAIL" => {
                transaction.open();
                from = address(&command);
                to.clear();
                "250 OK\r\n".into()
            }
            "RCPT" => match mode() {
                Mode::Accept => {
                    to.push(address(&command));
                    "250 OK\r\n".into()
                }
                Mode::Reject => "550 5.1.1 mailbox unavailable\r\n".into(),
                Mode::Defer => "451 4.3.0 try again later\r\n".into(),
            },
            "DATA" => {
                if write
                    .write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let mut data = String::new();
                loop {
                    line.clear();
                    match lines.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                    data.push_str(unstuffed);
                }
                let delay = shared.lock().unwrap_or_else(|e| e.into_inner()).data_delay;
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                transaction.close();
                shared
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .messages
                    .push(Received {
                        from: from.clone(),
                        to: std::mem::take(&mut to),
                        data,
                    });
                "250 OK queued\r\n".into()
            }
            "RSET" => {
                transaction.close();
                to.clear();
                "250 OK\r\n".into()
            }
            "NOOP" => "250 OK\r\n".into(),
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            _ => "502 command not implemented\r\n".into(),
        };
        if write.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The address in `MAIL FROM:<a@b> ...` / `RCPT TO:<a@b>`.
fn address(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(a, _)| a.to_owned())
        .unwrap_or_default()
}
