//! The outbound HTTP client of webhooks (an adapter, like `mail::smtp` and `gateway`): one
//! HTTP/1.1 `POST` per delivery on hyper, over TCP or TLS (tokio-rustls on ring, Mozilla's
//! roots). Defences against a hostile URL (docs/SECURITY.md, "Webhooks"): the host is resolved
//! once, every address is checked against the forbidden ranges, and the connection goes to a
//! checked address itself, so a second resolution cannot swap in another (DNS rebinding);
//! redirects are never followed; the answer is read up to 64 KiB; connect and whole-request
//! timeouts.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::Request;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls;
use url::Url;

/// Most of an answer read (and then dropped): the status is all that counts.
const MAX_ANSWER: usize = 64 * 1024;
/// Longest wait for the TCP connection and the TLS handshake (each).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Whether an address is one a webhook may not reach without
/// `CINEFLOW_WEBHOOK_ALLOW_PRIVATE`: private, loopback, link-local (cloud metadata lives at
/// 169.254.169.254), CGNAT, unique-local, unspecified, multicast, broadcast, documentation
/// and benchmarking ranges; IPv4-mapped and -compatible IPv6 are judged as their IPv4.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            let s = v6.segments();
            // ::a.b.c.d (deprecated IPv4-compatible), ::ffff:0:a.b.c.d (IPv4-translated) and
            // NAT64's 64:ff9b::/96 carry an IPv4 in their last 32 bits.
            if (s[..6] == [0, 0, 0, 0, 0, 0] && !v6.is_unspecified() && !v6.is_loopback())
                || s[..6] == [0, 0, 0, 0, 0xffff, 0]
                || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
            {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return forbidden_v4(Ipv4Addr::new(a, b, c, d));
            }
            // 6to4 (2002::/16) carries one in bits 16 to 48.
            if s[0] == 0x2002 {
                let [a, b] = s[1].to_be_bytes();
                let [c, d] = s[2].to_be_bytes();
                if forbidden_v4(Ipv4Addr::new(a, b, c, d)) {
                    return true;
                }
            }
            // Teredo (2001::/32) hides its client's IPv4, and NAT64 local use (64:ff9b:1::/48)
            // translates to whatever the local network chose: neither can be judged.
            if (s[0] == 0x2001 && s[1] == 0) || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) {
                return true;
            }
            v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation 2001:db8::/32
                || s[0] == 0x3fff // documentation 3fff::/20 (and the rest of 3fff::/16)
                || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only 100::/64
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || a == 0 // "this network" 0.0.0.0/8
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a >= 240 // reserved 240.0.0.0/4
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments 192.0.0.0/24
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18.0.0/15
}

/// Why a URL may not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlRefusal {
    /// Not a usable URL (the reason).
    Invalid(String),
    /// Its host is or resolves to a forbidden address.
    NotAllowed(String),
}

/// Parses and checks the form of an endpoint URL: `http`/`https`, a host, no user or password,
/// at most [`MAX_URL_LEN`] characters. No resolution.
pub fn parse_url(raw: &str) -> Result<Url, UrlRefusal> {
    if raw.len() > MAX_URL_LEN {
        return Err(UrlRefusal::Invalid(format!(
            "at most {MAX_URL_LEN} characters"
        )));
    }
    let url = Url::parse(raw).map_err(|e| UrlRefusal::Invalid(format!("not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlRefusal::Invalid(
            "must be an http:// or https:// URL".into(),
        ));
    }
    if url.host().is_none() {
        return Err(UrlRefusal::Invalid("must have a host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlRefusal::Invalid(
            "may not carry a user name or password".into(),
        ));
    }
    if url.fragment().is_some() {
        return Err(UrlRefusal::Invalid("may not have a fragment".into()));
    }
    Ok(url)
}

/// The addresses to connect to for `url`: its host resolved once, each address checked
/// (unless `allow_private`). Any forbidden address refuses the whole host: a name that
/// resolves to a public and a private address is how rebinding is attempted.
pub async fn resolve(url: &Url, allow_private: bool) -> Result<Vec<SocketAddr>, UrlRefusal> {
    let port = url
        .port_or_known_default()
        .ok_or_else(|| UrlRefusal::Invalid("no port".into()))?;
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(url::Host::Domain(name)) => {
            let lookup = tokio::net::lookup_host((name, port));
            tokio::time::timeout(CONNECT_TIMEOUT, lookup)
                .await
                .map_err(|_| UrlRefusal::Invalid(format!("{name} did not resolve in time")))?
                .map_err(|e| UrlRefusal::Invalid(format!("{name} does not resolve ({e})")))?
                .collect()
        }
        None => return Err(UrlRefusal::Invalid("must have a host".into())),
    };
    if addrs.is_empty() {
        return Err(UrlRefusal::Invalid("the host has no address".into()));
    }
    // The address itself is not told: a chain's staff could otherwise point a name they
    // control at internal names and read back the addresses they resolve to.
    if !allow_private && addrs.iter().any(|a| is_forbidden(a.ip())) {
        return Err(UrlRefusal::NotAllowed(
            "the host is or resolves to a private, loopback, link-local or otherwise reserved \
             address"
                .to_owned(),
        ));
    }
    Ok(addrs)
}

/// How a request ended when it did not get an answer (or got no usable one).
#[derive(Debug, Clone)]
pub struct SendError {
    /// The status, when an answer came but could not be read whole.
    pub status: Option<u16>,
    /// A short reason for the delivery log.
    pub message: String,
}

fn fail(message: impl Into<String>) -> SendError {
    SendError {
        status: None,
        message: message.into(),
    }
}

/// Sends webhook requests.
#[derive(Clone)]
pub struct WebhookClient {
    tls: TlsConnector,
    timeout: Duration,
    allow_private: bool,
}

impl WebhookClient {
    /// A client whose requests end after `timeout` (connecting included).
    pub fn new(timeout: Duration, allow_private: bool) -> Self {
        Self {
            tls: TlsConnector::from(tls_config()),
            timeout,
            allow_private,
        }
    }

    /// The longest a request can take: a sender's lease must be longer.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `POST`s `body` to `url` with `headers`; the status of the answer (any status: the
    /// caller decides), or why there was none.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(HeaderName, String)],
        body: Bytes,
    ) -> Result<u16, SendError> {
        tokio::time::timeout(self.timeout, self.exchange(url, headers, body))
            .await
            .map_err(|_| fail(format!("no answer within {} ms", self.timeout.as_millis())))?
    }

    async fn exchange(
        &self,
        raw: &str,
        headers: &[(HeaderName, String)],
        body: Bytes,
    ) -> Result<u16, SendError> {
        let url = parse_url(raw).map_err(|e| fail(refusal_text(&e)))?;
        // Checked again at every attempt: DNS may have changed since the endpoint was made.
        let addrs = resolve(&url, self.allow_private)
            .await
            .map_err(|e| fail(refusal_text(&e)))?;
        let mut authority = url.host_str().unwrap_or_default().to_owned();
        if let Some(port) = url.port() {
            authority.push_str(&format!(":{port}"));
        }
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let mut request = Request::post(path)
            .header(header::HOST, authority)
            .header(header::CONTENT_TYPE, "application/json")
            .header(
                header::USER_AGENT,
                concat!("Cineflow-Webhooks/", env!("CARGO_PKG_VERSION")),
            );
        for (name, value) in headers {
            let value = HeaderValue::from_str(value).map_err(|_| fail("bad header value"))?;
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(body))
            .map_err(|e| fail(format!("building the request: {e}")))?;
        let tcp = connect(&addrs).await?;
        if url.scheme() == "https" {
            let name = match url.host() {
                Some(url::Host::Domain(d)) => rustls::pki_types::ServerName::try_from(d.to_owned())
                    .map_err(|e| fail(format!("TLS name: {e}")))?,
                Some(url::Host::Ipv4(ip)) => rustls::pki_types::ServerName::from(IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => rustls::pki_types::ServerName::from(IpAddr::V6(ip)),
                None => return Err(fail("no host")),
            };
            let tls = tokio::time::timeout(CONNECT_TIMEOUT, self.tls.connect(name, tcp))
                .await
                .map_err(|_| fail("no TLS handshake in time"))?
                .map_err(|e| fail(format!("TLS: {e}")))?;
            round_trip(tls, request).await
        } else {
            round_trip(tcp, request).await
        }
    }
}

/// The text of a refusal, for the log.
pub fn refusal_text(r: &UrlRefusal) -> String {
    match r {
        UrlRefusal::Invalid(m) | UrlRefusal::NotAllowed(m) => m.clone(),
    }
}

/// Connects to the first checked address that answers.
async fn connect(addrs: &[SocketAddr]) -> Result<TcpStream, SendError> {
    let mut last = String::from("no address");
    for addr in addrs {
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(tcp)) => {
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Ok(Err(e)) => last = format!("connecting to {addr}: {e}"),
            Err(_) => last = format!("connecting to {addr}: timed out"),
        }
    }
    Err(fail(last))
}

/// HTTP/1.1 on an open connection: the status, after reading (at most 64 KiB of) the answer.
async fn round_trip<S>(io: S, request: Request<Full<Bytes>>) -> Result<u16, SendError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| fail(format!("HTTP: {e}")))?;
    let driver = tokio::spawn(connection);
    let result = match sender.send_request(request).await {
        Ok(response) => {
            let status = response.status().as_u16();
            // A body over the cap is not an error: the status already says what happened.
            let _ = Limited::new(response.into_body(), MAX_ANSWER)
                .collect()
                .await;
            Ok(status)
        }
        Err(e) => Err(fail(format!("HTTP: {e}"))),
    };
    driver.abort();
    result
}

/// TLS 1.2 and 1.3 with ring, trusting Mozilla's roots.
fn tls_config() -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider);
    let mut config = match builder.with_safe_default_protocol_versions() {
        Ok(b) => b.with_root_certificates(roots).with_no_client_auth(),
        // ring supports the safe defaults; this arm is for the type checker.
        Err(_) => rustls::ClientConfig::builder()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden(s: &str) -> bool {
        is_forbidden(s.parse().expect("an address"))
    }

    #[test]
    fn private_and_reserved_addresses_are_forbidden() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.51.100.1",
            "203.0.113.1",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "::ffff:0:7f00:1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "64:ff9b:1::a00:1",
        ] {
            assert!(forbidden(bad), "{bad} should be forbidden");
        }
        for good in [
            "93.184.215.14",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "2002:808:808::1",
        ] {
            assert!(!forbidden(good), "{good} should be allowed");
        }
    }

    #[test]
    fn urls_need_http_a_host_and_no_user() {
        assert!(parse_url("https://hooks.example.com/x").is_ok());
        assert!(parse_url("ftp://example.com/").is_err());
        assert!(parse_url("https://user:pw@example.com/").is_err());
        assert!(parse_url("https://user@example.com/").is_err());
        assert!(parse_url("mailto:a@example.com").is_err());
        assert!(parse_url(&format!("https://example.com/{}", "a".repeat(2100))).is_err());
    }
}
