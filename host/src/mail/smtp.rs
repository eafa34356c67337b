//! Sending over SMTP with lettre's SMTP protocol code on connections we open ourselves: one
//! pool of connections per process, messages built as multipart text + HTML with a Message-ID
//! derived from the notification, and SMTP errors sorted into "try again later" and "never
//! going to work".
//!
//! Why not lettre's `AsyncSmtpTransport`: it opens its sockets without `TCP_NODELAY` and
//! gives no way to set it, and its `AsyncSmtpConnection` writes a message's body and its
//! terminator (`<CRLF>.<CRLF>`) in two writes. Nagle's algorithm then holds the small
//! terminator until the server acknowledges the body, and the server delays that
//! acknowledgement (~40 ms on Linux) because it is waiting for the terminator: about 25
//! messages per second per connection, whatever the server could do. So this module connects
//! (TCP with `TCP_NODELAY`, then implicit TLS when asked), hands the stream to
//! `AsyncSmtpConnection::connect_with_transport`, lets lettre do STARTTLS, AUTH and the mail
//! transaction on it, and keeps the connections in a small pool of its own.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::Message;
use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::{SMTP_PORT, SUBMISSION_PORT, SUBMISSIONS_PORT};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls;
use uuid::Uuid;

use crate::domain::hook_io::RenderedEmail;

/// Where and how to send.
#[derive(Clone)]
pub struct SmtpSettings {
    /// lettre's URL syntax: `smtp://host:port` (plain), `smtp://host:port?tls=required`
    /// (STARTTLS), `smtps://host:port` (TLS); credentials as `smtp://user:pass@host`.
    pub url: String,
    /// Connections kept open to the server.
    pub pool_size: u32,
    /// Limit on one SMTP command.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("SmtpSettings")
            .field("url", &redact(&self.url))
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

/// The URL without credentials, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// The Message-ID of notification `id` sent from `domain`.
pub fn message_id(id: Uuid, domain: &str) -> String {
    format!("<{id}@{domain}>")
}

/// Why a message was not accepted.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// A 5xx reply (or a message the server can never take): retrying cannot help.
    pub permanent: bool,
    /// What happened, for `last_error`.
    pub message: String,
}

/// An email ready to go.
#[derive(Debug)]
pub struct Outgoing<'a> {
    /// The notification (its id makes the Message-ID).
    pub id: Uuid,
    /// Recipients.
    pub to: &'a [String],
    /// Rendered content.
    pub email: &'a RenderedEmail,
}

/// A pooled SMTP sender.
#[derive(Clone)]
pub struct Mailer {
    pool: Arc<Pool>,
    from: Mailbox,
    url: String,
}

impl Mailer {
    /// A sender for mail from `from` (connections open lazily, on the first send).
    pub fn new(settings: &SmtpSettings, from: &Mailbox) -> anyhow::Result<Self> {
        Self::with_roots(settings, from, &[])
    }

    /// As [`Mailer::new`], also trusting `roots` (DER) besides Mozilla's: for tests with a
    /// server certificate of their own.
    pub fn with_roots(
        settings: &SmtpSettings,
        from: &Mailbox,
        roots: &[Vec<u8>],
    ) -> anyhow::Result<Self> {
        let endpoint = Endpoint::parse(&settings.url, settings.timeout, roots)
            .map_err(|e| anyhow::anyhow!("CINEFLOW_SMTP_URL is not a valid SMTP URL: {e}"))?;
        Ok(Self {
            pool: Arc::new(Pool {
                endpoint,
                idle: Mutex::new(Vec::new()),
                max_idle: usize::try_from(settings.pool_size.max(1)).unwrap_or(1),
            }),
            from: from.clone(),
            url: redact(&settings.url),
        })
    }

    /// The server, without credentials.
    pub fn server(&self) -> &str {
        &self.url
    }

    /// The Message-ID of a notification's email: the same for every attempt, so receivers
    /// can drop the duplicates an at-least-once delivery may produce.
    pub fn message_id(&self, id: Uuid) -> String {
        message_id(id, self.from.email.domain())
    }

    /// Builds the message (multipart text + HTML when there is HTML).
    pub fn message(&self, out: &Outgoing<'_>) -> Result<Message, SendError> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(out.email.subject.clone())
            .message_id(Some(self.message_id(out.id)));
        for to in out.to {
            let mailbox: Mailbox = to
                .parse()
                .map_err(|e| permanent(format!("recipient {to:?} is not an address: {e}")))?;
            builder = builder.to(mailbox);
        }
        let built = match &out.email.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                out.email.text.clone(),
                html.clone(),
            )),
            None => builder.singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(out.email.text.clone()),
            ),
        };
        built.map_err(|e| permanent(format!("the message could not be built: {e}")))
    }

    /// Sends one message. `Ok` only once the server accepted it (250 after the data), so a
    /// failure at any point before leaves the notification due again: at-least-once.
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        let envelope = message.envelope().clone();
        let bytes = message.formatted();
        self.pool.send(&envelope, &bytes).await
    }
}

fn permanent(message: String) -> SendError {
    SendError {
        permanent: true,
        message,
    }
}

fn temporary(message: String) -> SendError {
    SendError {
        permanent: false,
        message,
    }
}

fn from_lettre(e: &lettre::transport::smtp::Error) -> SendError {
    SendError {
        permanent: e.is_permanent(),
        message: describe(e),
    }
}

fn describe(e: &lettre::transport::smtp::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text.chars().take(1000).collect()
}

/// How the connection is protected, as lettre's URL syntax says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    /// `smtp://`: plain text.
    Plain,
    /// `smtp://…?tls=required` or `?tls=opportunistic`: STARTTLS after the greeting.
    StartTls { required: bool },
    /// `smtps://`: TLS from the first byte.
    Implicit,
}

/// Where to connect and how, parsed once from the URL.
struct Endpoint {
    host: String,
    port: u16,
    security: Security,
    /// For STARTTLS (lettre's rustls set-up: Mozilla's roots, plus any given).
    starttls: Option<TlsParameters>,
    /// For implicit TLS.
    tls: Option<(TlsConnector, rustls::pki_types::ServerName<'static>)>,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Duration,
}

impl Endpoint {
    /// Reads lettre's URL syntax (the same schemes, `tls=` values, default ports, EHLO name
    /// from the path and percent-encoded credentials as `AsyncSmtpTransport::from_url`).
    fn parse(raw: &str, timeout: Duration, roots: &[Vec<u8>]) -> Result<Self, String> {
        let url = url::Url::parse(raw).map_err(|e| e.to_string())?;
        let tls_mode = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let (host, name) = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => (
                d.to_owned(),
                rustls::pki_types::ServerName::try_from(d.to_owned()).map_err(|e| e.to_string()),
            ),
            Some(url::Host::Ipv4(ip)) => (
                ip.to_string(),
                Ok(rustls::pki_types::ServerName::from(IpAddr::V4(ip))),
            ),
            Some(url::Host::Ipv6(ip)) => (
                ip.to_string(),
                Ok(rustls::pki_types::ServerName::from(IpAddr::V6(ip))),
            ),
            _ => return Err("the SMTP host is missing".to_owned()),
        };
        let (security, default_port) = match (url.scheme(), tls_mode.as_deref()) {
            ("smtp", None) => (Security::Plain, SMTP_PORT),
            ("smtp", Some("required")) => (Security::StartTls { required: true }, SUBMISSION_PORT),
            ("smtp", Some("opportunistic")) => {
                (Security::StartTls { required: false }, SUBMISSION_PORT)
            }
            ("smtps", _) => (Security::Implicit, SUBMISSIONS_PORT),
            (scheme, tls) => {
                return Err(format!(
                    "unknown scheme {scheme:?} or tls parameter {tls:?} (smtp://, smtp://…?tls=required, smtp://…?tls=opportunistic or smtps://)"
                ));
            }
        };
        let starttls = match security {
            Security::StartTls { .. } => {
                let mut builder = TlsParameters::builder(host.clone());
                for der in roots {
                    let cert = lettre::transport::smtp::client::Certificate::from_der(der.clone())
                        .map_err(|e| e.to_string())?;
                    builder = builder.add_root_certificate(cert);
                }
                Some(builder.build().map_err(|e| e.to_string())?)
            }
            _ => None,
        };
        let tls = match security {
            Security::Implicit => Some((TlsConnector::from(tls_config(roots)?), name?)),
            _ => None,
        };
        let hello = match url.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_owned()),
        };
        let credentials = match url.password() {
            Some(password) => {
                let decode = |s: &str| {
                    percent_encoding::percent_decode_str(s)
                        .decode_utf8()
                        .map(|c| c.into_owned())
                        .map_err(|e| e.to_string())
                };
                Some(Credentials::new(decode(url.username())?, decode(password)?))
            }
            None => None,
        };
        Ok(Self {
            host,
            port: url.port().unwrap_or(default_port),
            security,
            starttls,
            tls,
            credentials,
            hello,
            timeout,
        })
    }
}

/// TLS 1.2 and 1.3 with ring, trusting Mozilla's roots (as lettre does) and `extra` (DER).
fn tls_config(extra: &[Vec<u8>]) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in extra {
        roots
            .add(rustls::pki_types::CertificateDer::from(der.clone()))
            .map_err(|e| e.to_string())?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A parked connection idle longer than this says NOOP before it carries a message: the
/// server may have closed it meanwhile. Between the messages of a busy sweep it is not
/// asked, which saves a round trip per message; if the server did go away in that second,
/// the send fails as temporary and the notification is retried.
const CHECK_AFTER: Duration = Duration::from_secs(1);
/// Parked connections idle longer than this are closed instead of reused (lettre's default).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Open connections between messages. The number of connections in use is bounded by the
/// callers (the sweeper's concurrency); at most `max_idle` stay open while idle.
struct Pool {
    endpoint: Endpoint,
    idle: Mutex<Vec<Parked>>,
    max_idle: usize,
}

struct Parked {
    conn: AsyncSmtpConnection,
    since: Instant,
}

impl Pool {
    async fn send(
        &self,
        envelope: &lettre::address::Envelope,
        email: &[u8],
    ) -> Result<(), SendError> {
        let mut conn = match self.checkout().await {
            Some(conn) => conn,
            None => self.connect().await?,
        };
        match tokio::time::timeout(self.endpoint.timeout, conn.send(envelope, email)).await {
            Ok(Ok(_)) => {
                self.checkin(conn);
                Ok(())
            }
            // lettre has already sent QUIT on this connection (any error breaks it).
            Ok(Err(e)) => Err(from_lettre(&e)),
            // Dropping the connection closes it: the server then discards the transaction.
            Err(_) => Err(temporary(format!(
                "the SMTP server did not answer within {:?}",
                self.endpoint.timeout
            ))),
        }
    }

    fn parked(&self) -> std::sync::MutexGuard<'_, Vec<Parked>> {
        // A panic elsewhere cannot leave the list half-changed (push and pop only).
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The most recently parked connection that still works, if any.
    async fn checkout(&self) -> Option<AsyncSmtpConnection> {
        loop {
            let parked = self.parked().pop()?;
            let idle = parked.since.elapsed();
            let mut conn = parked.conn;
            if idle > IDLE_TIMEOUT {
                close(conn);
                continue;
            }
            if idle >= CHECK_AFTER {
                let alive = tokio::time::timeout(self.endpoint.timeout, conn.test_connected())
                    .await
                    .unwrap_or(false);
                if !alive {
                    close(conn);
                    continue;
                }
            }
            return Some(conn);
        }
    }

    fn checkin(&self, conn: AsyncSmtpConnection) {
        if conn.has_broken() {
            return;
        }
        let mut parked = self.parked();
        if parked.len() < self.max_idle {
            parked.push(Parked {
                conn,
                since: Instant::now(),
            });
        } else {
            drop(parked);
            close(conn);
        }
    }

    /// A new connection, greeted, encrypted and logged in as the URL asks.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let e = &self.endpoint;
        tokio::time::timeout(e.timeout, self.open())
            .await
            .map_err(|_| {
                temporary(format!(
                    "no SMTP session with {}:{} within {:?}",
                    e.host, e.port, e.timeout
                ))
            })?
    }

    async fn open(&self) -> Result<AsyncSmtpConnection, SendError> {
        let e = &self.endpoint;
        let tcp = connect_tcp(&e.host, e.port).await?;
        let stream: Box<dyn AsyncTokioStream> = match &e.tls {
            Some((connector, name)) => {
                Box::new(TlsTcp(connector.connect(name.clone(), tcp).await.map_err(
                    |err| temporary(format!("TLS with {}: {err}", e.host)),
                )?))
            }
            None => Box::new(tcp),
        };
        let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &e.hello)
            .await
            .map_err(|err| from_lettre(&err))?;
        if let (Security::StartTls { required }, Some(params)) = (e.security, &e.starttls)
            && (required || conn.can_starttls())
        {
            conn.starttls(params.clone(), &e.hello)
                .await
                .map_err(|err| from_lettre(&err))?;
        }
        if let Some(credentials) = &e.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials)
                .await
                .map_err(|err| from_lettre(&err))?;
        }
        Ok(conn)
    }
}

/// Says QUIT and closes, in the background, giving up after a few seconds.
fn close(mut conn: AsyncSmtpConnection) {
    tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(5), conn.abort()).await;
    });
}

/// TCP to the first address that answers, with `TCP_NODELAY`: every write lettre makes is a
/// whole command or the end of a message, so nothing is gained by holding it back.
async fn connect_tcp(host: &str, port: u16) -> Result<TcpStream, SendError> {
    let addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| temporary(format!("resolving {host}: {e}")))?;
    let mut last = format!("{host} has no address");
    for addr in addrs {
        // Each address gets a few seconds of its own: one that drops SYNs (an unrouted IPv6
        // address, say) must not use up the whole set-up time before the next is tried.
        let attempt = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(addr)).await;
        let attempt = attempt
            .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "no answer in 5 s")));
        match attempt {
            Ok(tcp) => {
                tcp.set_nodelay(true)
                    .map_err(|e| temporary(format!("TCP_NODELAY on {addr}: {e}")))?;
                return Ok(tcp);
            }
            Err(e) => last = format!("connecting to {addr}: {e}"),
        }
    }
    Err(temporary(last))
}

/// An implicit-TLS stream in the shape lettre takes.
#[derive(Debug)]
struct TlsTcp(tokio_rustls::client::TlsStream<TcpStream>);

impl AsyncTokioStream for TlsTcp {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl AsyncRead for TlsTcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::{Mailer, Outgoing, SmtpSettings, redact};
    use crate::domain::hook_io::RenderedEmail;
    use std::sync::Arc;
    use std::time::Duration;
    use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::mpsc;
    use tokio_rustls::TlsAcceptor;
    use tokio_rustls::rustls;

    const CERT: &[u8] = include_bytes!("../../../tests/fixtures/smtp-tls/cert.der");
    const KEY: &[u8] = include_bytes!("../../../tests/fixtures/smtp-tls/key.der");

    #[test]
    fn credentials_never_reach_the_logs() {
        assert_eq!(
            redact("smtps://user:secret@mail.example.com:465"),
            "smtps://***@mail.example.com:465"
        );
        assert_eq!(redact("smtp://127.0.0.1:2525"), "smtp://127.0.0.1:2525");
    }

    #[test]
    fn urls_are_read_as_lettre_reads_them() {
        let from = "a@example.com".parse().expect("mailbox");
        let settings = |url: &str| SmtpSettings {
            url: url.to_owned(),
            pool_size: 1,
            timeout: Duration::from_secs(1),
        };
        for good in [
            "smtp://127.0.0.1:2525",
            "smtp://mail.example.com?tls=required",
            "smtp://mail.example.com:587?tls=opportunistic",
            "smtps://user:p%40ss@mail.example.com/client.example.com",
            "smtp://[::1]:25",
        ] {
            assert!(Mailer::new(&settings(good), &from).is_ok(), "{good}");
        }
        for bad in [
            "http://not-smtp",
            "smtp://host?tls=sometimes",
            "smtp:///nohost",
        ] {
            assert!(Mailer::new(&settings(bad), &from).is_err(), "{bad}");
        }
    }

    /// Received: was the session encrypted when the message came, and the message.
    type Got = (bool, String);

    /// A TLS-capable SMTP server for one test: implicit TLS, or plain with STARTTLS.
    async fn tls_server(implicit: bool) -> (u16, mpsc::UnboundedReceiver<Got>) {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![rustls::pki_types::CertificateDer::from(CERT.to_vec())],
                rustls::pki_types::PrivateKeyDer::Pkcs8(KEY.to_vec().into()),
            )
            .expect("certificate");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    let _ = serve(tcp, acceptor, implicit, tx).await;
                });
            }
        });
        (port, rx)
    }

    async fn serve(
        tcp: TcpStream,
        acceptor: TlsAcceptor,
        implicit: bool,
        tx: mpsc::UnboundedSender<Got>,
    ) -> std::io::Result<()> {
        if implicit {
            let tls = acceptor.accept(tcp).await?;
            session(&mut BufReader::new(tls), true, true, &tx).await?;
            return Ok(());
        }
        let mut plain = BufReader::new(tcp);
        if session(&mut plain, true, false, &tx).await? {
            let tls = acceptor.accept(plain.into_inner()).await?;
            session(&mut BufReader::new(tls), false, true, &tx).await?;
        }
        Ok(())
    }

    /// Speaks SMTP until QUIT or EOF; `true` when the client asked for STARTTLS (the
    /// caller then goes on over TLS).
    async fn session<S: AsyncRead + AsyncWrite + Unpin>(
        io: &mut BufReader<S>,
        greet: bool,
        encrypted: bool,
        tx: &mpsc::UnboundedSender<Got>,
    ) -> std::io::Result<bool> {
        if greet {
            io.get_mut()
                .write_all(b"220 localhost ESMTP test\r\n")
                .await?;
        }
        let mut line = String::new();
        loop {
            line.clear();
            if io.read_line(&mut line).await? == 0 {
                return Ok(false);
            }
            let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" if encrypted => b"250-localhost\r\n250 8BITMIME\r\n",
                "EHLO" => b"250-localhost\r\n250-STARTTLS\r\n250 8BITMIME\r\n",
                "STAR" => {
                    io.get_mut().write_all(b"220 go ahead\r\n").await?;
                    io.get_mut().flush().await?;
                    return Ok(true);
                }
                "DATA" => {
                    io.get_mut().write_all(b"354 go on\r\n").await?;
                    let mut data = String::new();
                    loop {
                        let mut l = String::new();
                        if io.read_line(&mut l).await? == 0 || l == ".\r\n" {
                            break;
                        }
                        data.push_str(&l);
                    }
                    let _ = tx.send((encrypted, data));
                    b"250 queued\r\n"
                }
                "QUIT" => {
                    io.get_mut().write_all(b"221 bye\r\n").await?;
                    return Ok(false);
                }
                _ => b"250 ok\r\n",
            };
            io.get_mut().write_all(reply).await?;
            io.get_mut().flush().await?;
        }
    }

    /// Sends two messages of one notification; its Message-ID.
    async fn send_over(url: String) -> String {
        let from = "Cineflow <mail@test.cineflow.local>"
            .parse()
            .expect("mailbox");
        let settings = SmtpSettings {
            url,
            pool_size: 2,
            timeout: Duration::from_secs(5),
        };
        let mailer = Mailer::with_roots(&settings, &from, &[CERT.to_vec()]).expect("mailer");
        let email = RenderedEmail {
            subject: "Hello".to_owned(),
            text: "Over TLS.".to_owned(),
            html: None,
        };
        let id = uuid::Uuid::now_v7();
        let to = ["guest@example.com".to_owned()];
        for _ in 0..2 {
            // Twice: the second message goes over the pooled (encrypted) connection.
            let message = mailer
                .message(&Outgoing {
                    id,
                    to: &to,
                    email: &email,
                })
                .expect("message");
            mailer.send(message).await.expect("sent");
        }
        mailer.message_id(id)
    }

    #[tokio::test]
    async fn smtps_sends_over_tls_from_the_first_byte() {
        let (port, mut rx) = tls_server(true).await;
        let message_id = send_over(format!("smtps://localhost:{port}")).await;
        for _ in 0..2 {
            let (encrypted, data) = rx.recv().await.expect("a message");
            assert!(encrypted);
            assert!(
                data.contains(&format!("Message-ID: {message_id}")),
                "{data}"
            );
        }
    }

    #[tokio::test]
    async fn starttls_upgrades_before_the_message() {
        let (port, mut rx) = tls_server(false).await;
        let message_id = send_over(format!("smtp://localhost:{port}?tls=required")).await;
        for _ in 0..2 {
            let (encrypted, data) = rx.recv().await.expect("a message");
            assert!(encrypted, "the message came before STARTTLS");
            assert!(
                data.contains(&format!("Message-ID: {message_id}")),
                "{data}"
            );
        }
    }

    #[tokio::test]
    async fn a_certificate_nobody_vouches_for_is_refused() {
        let (port, _rx) = tls_server(true).await;
        let from = "a@example.com".parse().expect("mailbox");
        let settings = SmtpSettings {
            url: format!("smtps://localhost:{port}"),
            pool_size: 1,
            timeout: Duration::from_secs(5),
        };
        let mailer = Mailer::new(&settings, &from).expect("mailer");
        let email = RenderedEmail {
            subject: "x".to_owned(),
            text: "x".to_owned(),
            html: None,
        };
        let to = ["guest@example.com".to_owned()];
        let message = mailer
            .message(&Outgoing {
                id: uuid::Uuid::now_v7(),
                to: &to,
                email: &email,
            })
            .expect("message");
        let err = mailer.send(message).await.expect_err("must not send");
        assert!(!err.permanent, "a TLS failure is retried: {}", err.message);
    }
}
