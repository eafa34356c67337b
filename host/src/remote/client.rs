//! The HTTP client of `cineflow remote`: one HTTP/1.1 exchange per request on hyper, over
//! TCP or TLS (tokio-rustls on ring, Mozilla's roots plus any `--ca-cert`), with a connect
//! timeout, a whole-request timeout, a cap on the answer's size and no redirects (a redirect
//! could carry the bearer token to another host; it is reported instead).
//!
//! Paths are built from segments, each percent-encoded, so an id typed by the user can never
//! reach another path (`--component ../../users`).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls;
use url::Url;

use super::error::{Refusal, RemoteError};

/// Largest answer read, in bytes.
const MAX_ANSWER: usize = 16 * 1024 * 1024;
/// Longest wait for the TCP connection and TLS handshake.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A successful answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// The JSON body; `Null` for an empty one (204).
    pub body: Value,
}

/// A server and the token to send it.
pub struct Client {
    base: Url,
    token: Option<String>,
    tls: TlsConnector,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// A query string's pairs; `None` values are left out.
pub type Query<'a> = &'a [(&'a str, Option<String>)];

/// Checks and normalises a server URL: `http` or `https`, no query or fragment, no trailing
/// slash. A path is kept (a server behind a proxy at `https://host/cineflow`).
pub fn parse_server(raw: &str) -> Result<Url, RemoteError> {
    let url = Url::parse(raw.trim()).map_err(|e| {
        RemoteError::Usage(format!(
            "--server {raw:?} is not a URL like https://cineflow.example.com ({e})"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(RemoteError::Usage(format!(
            "--server {raw:?}: use an http:// or https:// URL with a host"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(RemoteError::Usage(format!(
            "--server {raw:?}: give the server's base URL only (no query, fragment or user)"
        )));
    }
    let trimmed = url.as_str().trim_end_matches('/').to_owned();
    Url::parse(&trimmed).map_err(|e| RemoteError::Usage(format!("--server {raw:?}: {e}")))
}

/// The text form of a normalised server URL (what the config file stores).
pub fn server_text(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

impl Client {
    /// A client of `base` (from [`parse_server`]); `ca_cert` is a PEM file of extra roots.
    pub fn new(
        base: Url,
        token: Option<String>,
        ca_cert: Option<&std::path::Path>,
        timeout: Duration,
    ) -> Result<Client, RemoteError> {
        Ok(Client {
            base,
            token,
            tls: TlsConnector::from(tls_config(ca_cert)?),
            timeout,
        })
    }

    /// The URL of `/api/v1/<segments...>` with `query`.
    pub fn url(&self, segments: &[&str], query: Query<'_>) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(["api", "v1"]).extend(segments);
        }
        let pairs: Vec<(&str, &str)> = query
            .iter()
            .filter_map(|(k, v)| v.as_deref().map(|v| (*k, v)))
            .collect();
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        url
    }

    pub async fn get(&self, segments: &[&str], query: Query<'_>) -> Result<Answer, RemoteError> {
        self.send(Method::GET, self.url(segments, query), None)
            .await
    }

    pub async fn post_json(&self, segments: &[&str], body: &Value) -> Result<Answer, RemoteError> {
        let bytes = encode(body)?;
        self.send(
            Method::POST,
            self.url(segments, &[]),
            Some(("application/json", bytes)),
        )
        .await
    }

    pub async fn put_json(&self, segments: &[&str], body: &Value) -> Result<Answer, RemoteError> {
        let bytes = encode(body)?;
        self.send(
            Method::PUT,
            self.url(segments, &[]),
            Some(("application/json", bytes)),
        )
        .await
    }

    pub async fn delete(&self, segments: &[&str]) -> Result<Answer, RemoteError> {
        self.send(Method::DELETE, self.url(segments, &[]), None)
            .await
    }

    /// POST of raw bytes with their content type (a component upload).
    pub async fn post_bytes(
        &self,
        segments: &[&str],
        query: Query<'_>,
        content_type: &'static str,
        bytes: Vec<u8>,
    ) -> Result<Answer, RemoteError> {
        self.send(
            Method::POST,
            self.url(segments, query),
            Some((content_type, Bytes::from(bytes))),
        )
        .await
    }

    /// One request: an error status becomes [`RemoteError::Refused`].
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<(&'static str, Bytes)>,
    ) -> Result<Answer, RemoteError> {
        let where_to = format!("{method} {}", url.path());
        let exchange = self.exchange(method, &url, body);
        let (status, retry_after, bytes) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| {
                RemoteError::Connection(format!(
                    "{where_to}: no answer from {} within {} s",
                    server_text(&self.base),
                    self.timeout.as_secs()
                ))
            })??;
        if (300..400).contains(&status) {
            return Err(RemoteError::Connection(format!(
                "{where_to}: the server answered {status} (a redirect, not followed: give the URL it redirects to as --server)"
            )));
        }
        if status >= 400 {
            return Err(RemoteError::Refused(Refusal::from_answer(
                status,
                &bytes,
                retry_after,
            )));
        }
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|e| {
                RemoteError::Connection(format!(
                    "{where_to}: the answer ({status}) is not JSON ({e}); is {} a Cineflow server?",
                    server_text(&self.base)
                ))
            })?
        };
        Ok(Answer { status, body })
    }

    /// Connects (TCP, then TLS for https), sends the request, reads the answer.
    async fn exchange(
        &self,
        method: Method,
        url: &Url,
        body: Option<(&'static str, Bytes)>,
    ) -> Result<(u16, Option<String>, Bytes), RemoteError> {
        let server = server_text(&self.base);
        let unreachable =
            |e: &dyn std::fmt::Display| RemoteError::Connection(format!("{server}: {e}"));
        let host = url
            .host()
            .ok_or_else(|| RemoteError::Usage(format!("{server}: no host")))?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| RemoteError::Usage(format!("{server}: no port")))?;
        let name = match &host {
            url::Host::Domain(d) => (*d).to_owned(),
            url::Host::Ipv4(ip) => ip.to_string(),
            url::Host::Ipv6(ip) => ip.to_string(),
        };
        let mut authority = url.host_str().unwrap_or_default().to_owned();
        if let Some(port) = url.port() {
            authority.push_str(&format!(":{port}"));
        }
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, authority)
            .header(header::ACCEPT, "application/json, application/problem+json")
            .header(
                header::USER_AGENT,
                concat!("cineflow-remote/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(token) = &self.token {
            let value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                RemoteError::Usage("the token has characters a header cannot carry".into())
            })?;
            request = request.header(header::AUTHORIZATION, value);
        }
        let payload = match body {
            Some((content_type, bytes)) => {
                request = request.header(header::CONTENT_TYPE, content_type);
                bytes
            }
            None => Bytes::new(),
        };
        let request = request
            .body(Full::new(payload))
            .map_err(|e| RemoteError::Usage(format!("building the request: {e}")))?;

        let connect = async {
            let tcp = TcpStream::connect((name.as_str(), port))
                .await
                .map_err(|e| unreachable(&e))?;
            let _ = tcp.set_nodelay(true);
            Ok::<_, RemoteError>(tcp)
        };
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .map_err(|_| unreachable(&"no connection within 10 s"))??;
        if url.scheme() == "https" {
            let server_name = match host {
                url::Host::Domain(d) => rustls::pki_types::ServerName::try_from(d.to_owned())
                    .map_err(|e| RemoteError::Usage(format!("{server}: {e}")))?,
                url::Host::Ipv4(ip) => {
                    rustls::pki_types::ServerName::from(std::net::IpAddr::V4(ip))
                }
                url::Host::Ipv6(ip) => {
                    rustls::pki_types::ServerName::from(std::net::IpAddr::V6(ip))
                }
            };
            let tls = tokio::time::timeout(CONNECT_TIMEOUT, self.tls.connect(server_name, tcp))
                .await
                .map_err(|_| unreachable(&"no TLS handshake within 10 s"))?
                .map_err(|e| unreachable(&format!("TLS: {e}")))?;
            round_trip(tls, request, &server).await
        } else {
            round_trip(tcp, request, &server).await
        }
    }
}

/// HTTP/1.1 on an open connection: the status, `Retry-After` and the (capped) body.
async fn round_trip<S>(
    io: S,
    request: Request<Full<Bytes>>,
    server: &str,
) -> Result<(u16, Option<String>, Bytes), RemoteError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let broken = |e: &dyn std::fmt::Display| RemoteError::Connection(format!("{server}: {e}"));
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| broken(&e))?;
    // The connection is driven beside the request and ends with it.
    let driver = tokio::spawn(connection);
    let response = sender.send_request(request).await.map_err(|e| broken(&e));
    let result = match response {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            Limited::new(response.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map(|collected| (status, retry_after, collected.to_bytes()))
                .map_err(|e| broken(&format!("reading the answer: {e}")))
        }
        Err(e) => Err(e),
    };
    driver.abort();
    result
}

fn encode(body: &Value) -> Result<Bytes, RemoteError> {
    serde_json::to_vec(body)
        .map(Bytes::from)
        .map_err(|e| RemoteError::Usage(format!("encoding the request: {e}")))
}

/// TLS 1.2 and 1.3 with ring, trusting Mozilla's roots and the certificates in `ca_cert`.
fn tls_config(ca_cert: Option<&std::path::Path>) -> Result<Arc<rustls::ClientConfig>, RemoteError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;

    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_cert {
        let bad = |e: &dyn std::fmt::Display| {
            RemoteError::Usage(format!("--ca-cert {}: {e}", path.display()))
        };
        let mut added = 0;
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))? {
            roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
            added += 1;
        }
        if added == 0 {
            return Err(bad(&"no PEM certificate in the file"));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| RemoteError::Usage(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(server: &str) -> Client {
        let base = parse_server(server).expect("valid");
        Client::new(base, None, None, Duration::from_secs(5)).expect("client")
    }

    #[test]
    fn servers_are_normalised_and_checked() {
        let url = parse_server("http://127.0.0.1:8080/").expect("valid");
        assert_eq!(server_text(&url), "http://127.0.0.1:8080");
        let proxied = parse_server("https://example.com/cineflow/").expect("valid");
        assert_eq!(server_text(&proxied), "https://example.com/cineflow");
        for bad in [
            "ftp://x",
            "not a url",
            "http://x/?a=1",
            "http://u:p@x",
            "file:///tmp",
        ] {
            let err = parse_server(bad).expect_err(bad);
            assert_eq!(err.exit_code(), 2, "{bad}");
        }
    }

    #[test]
    fn paths_are_built_from_encoded_segments() {
        let c = client("http://127.0.0.1:8080");
        assert_eq!(
            c.url(
                &["chains", "abc", "components"],
                &[("hook", Some("pricing".into()))]
            )
            .as_str(),
            "http://127.0.0.1:8080/api/v1/chains/abc/components?hook=pricing"
        );
        let sneaky = c.url(&["chains", "c", "components", "../../users"], &[]);
        assert_eq!(sneaky.path(), "/api/v1/chains/c/components/..%2F..%2Fusers");
        let q = c.url(
            &["runs"],
            &[
                ("hook", None),
                ("from", Some("2026-01-01T00:00:00+05:30".into())),
            ],
        );
        assert_eq!(q.query(), Some("from=2026-01-01T00%3A00%3A00%2B05%3A30"));
        let proxied = client("https://example.com/cineflow/");
        assert_eq!(
            proxied.url(&["hooks"], &[]).as_str(),
            "https://example.com/cineflow/api/v1/hooks"
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let base = parse_server("http://127.0.0.1:1").expect("valid");
        let c =
            Client::new(base, Some("sekrit".into()), None, Duration::from_secs(1)).expect("client");
        assert!(!format!("{c:?}").contains("sekrit"));
    }

    #[test]
    fn a_ca_cert_file_must_hold_certificates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing.pem");
        let err = tls_config(Some(&missing)).expect_err("missing file");
        assert!(err.render().contains("--ca-cert"), "{}", err.render());
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("writes");
        let err = tls_config(Some(&empty)).expect_err("no certificate");
        assert!(
            err.render().contains("no PEM certificate"),
            "{}",
            err.render()
        );
        assert!(tls_config(None).is_ok());
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connection_error() {
        // Bound but not listening: connections are refused, and no one else can take it.
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
            .expect("binds");
        let port = socket.local_addr().expect("addr").port();
        let err = client(&format!("http://127.0.0.1:{port}"))
            .get(&["hooks"], &[])
            .await
            .expect_err("nothing listens");
        assert!(matches!(err, RemoteError::Connection(_)), "{err:?}");
        assert_eq!(err.exit_code(), 2);
    }
}
