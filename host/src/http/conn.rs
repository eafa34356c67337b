//! Connections: the listener both servers use, so that the answers hyper writes by itself
//! (before any of our code sees a request) are problem+json like every other error.
//!
//! hyper answers a request it cannot parse on its own, with an empty body: 400 for a malformed
//! request line or header, 414 for a URI over its fixed limit (64 KiB), 431 for more than 100
//! headers or a head over its buffer (about 400 KiB). It offers no hook for that answer, so
//! [`ProblemIo`] recognises it on the way out (an error status with `content-length: 0` in
//! the first write of a response; none of our own error answers is empty) and writes a
//! problem in its place. Smaller limits are the router's (`http::refuse_oversized_heads`).

use crate::http::code::Code;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::ApiError;

/// A TCP listener whose connections are [`ProblemIo`]s.
#[derive(Debug)]
pub struct ProblemListener(TcpListener);

impl ProblemListener {
    /// Wraps a bound listener.
    pub fn new(listener: TcpListener) -> Self {
        Self(listener)
    }
}

impl axum::serve::Listener for ProblemListener {
    type Io = ProblemIo<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.0).await;
        if let Err(e) = io.set_nodelay(true) {
            tracing::trace!(error = %e, "could not set TCP_NODELAY");
        }
        (ProblemIo::new(io), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

// `ConnectInfo<SocketAddr>` (the signin limiter keys on the peer) is implemented by axum for
// `TapIo` listeners of any address type (and for a bare `TcpListener`), hence this wrapper.
impl ProblemListener {
    /// This listener as one `into_make_service_with_connect_info::<SocketAddr>` accepts.
    pub fn with_connect_info(
        self,
    ) -> axum::serve::TapIo<Self, impl FnMut(&mut ProblemIo<TcpStream>) + Send + 'static> {
        axum::serve::ListenerExt::tap_io(self, |_: &mut ProblemIo<TcpStream>| {})
    }
}

/// A connection whose automatic error answers from hyper are rewritten as problem+json.
#[derive(Debug)]
pub struct ProblemIo<T> {
    inner: T,
    /// A rewritten answer still to be written, and how much of it is written.
    pending: Option<(Vec<u8>, usize)>,
}

impl<T> ProblemIo<T> {
    /// Wraps a connection.
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            pending: None,
        }
    }
}

impl<T: AsyncWrite + Unpin> ProblemIo<T> {
    /// Writes what is left of a rewritten answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((data, written)) = &mut self.pending {
            if *written >= data.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &data[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ProblemIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ProblemIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        if let Some(problem) = rewrite(buf) {
            // hyper is told its answer went out; ours goes in its place, now or on the flush
            // that follows (a pending write has registered the waker).
            self.pending = Some((problem, 0));
            if let Poll::Ready(Err(e)) = self.poll_pending(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The problem to send instead of `buf`, when `buf` is one of hyper's own answers: a whole
/// head (ending the write) of 400, 414 or 431 with an empty body.
fn rewrite(buf: &[u8]) -> Option<Vec<u8>> {
    let rest = buf
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| buf.strip_prefix(b"HTTP/1.0 "))?;
    let (status, code, detail) = match rest.get(..4)? {
        b"400 " => (
            StatusCode::BAD_REQUEST,
            Code::BadRequest,
            "the request is not valid HTTP/1.1",
        ),
        b"414 " => (
            StatusCode::URI_TOO_LONG,
            Code::UriTooLong,
            "the request URI is too long",
        ),
        b"431 " => (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Code::HeadersTooLarge,
            "the request's headers are too large or too many",
        ),
        _ => return None,
    };
    if !buf.ends_with(b"\r\n\r\n") || !has_empty_body(buf) {
        return None;
    }
    let body = ApiError::new(status, code, detail).problem_json();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error"),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    Some(out)
}

/// True when the head declares `content-length: 0` (hyper writes header names in lower case).
fn has_empty_body(head: &[u8]) -> bool {
    head.split(|&b| b == b'\n').any(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        line.len() == "content-length: 0".len() && line.eq_ignore_ascii_case(b"content-length: 0")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_empty_error_answers_are_rewritten() {
        let hyper_414 = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Thu, 01 Jan 2026 00:00:00 GMT\r\n\r\n";
        let out = rewrite(hyper_414).expect("rewritten");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{text}");
        assert!(text.contains("content-type: application/problem+json\r\n"));
        let (_, body) = text.split_once("\r\n\r\n").expect("head and body");
        let problem: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(problem["code"], "uri_too_long");
        assert_eq!(problem["status"], 414);
        assert!(text.contains(&format!("content-length: {}\r\n", body.len())));

        for (raw, code) in [
            (
                &b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n"[..],
                "headers_too_large",
            ),
            (
                &b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n"[..],
                "bad_request",
            ),
        ] {
            let out = rewrite(raw).expect("rewritten");
            let text = String::from_utf8(out).expect("utf-8");
            assert!(text.contains(&format!("\"code\":\"{code}\"")), "{text}");
        }
        // Our own answers carry a body, and other statuses are never touched.
        for raw in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\ncontent-length: 120\r\n\r\n"[..],
            &b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"[..],
            &b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"[..],
            &b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\n{}"[..],
            &b"{\"items\": []}"[..],
        ] {
            assert!(rewrite(raw).is_none(), "{}", String::from_utf8_lossy(raw));
        }
    }

    #[tokio::test]
    async fn a_rewritten_answer_is_written_whole_through_short_writes() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (client, server) = tokio::io::duplex(7);
        let mut io = ProblemIo::new(server);
        let writer = tokio::spawn(async move {
            io.write_all(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n",
            )
            .await
            .expect("written");
            io.shutdown().await.expect("shut down");
        });
        let mut received = Vec::new();
        let mut client = client;
        client.read_to_end(&mut received).await.expect("read");
        writer.await.expect("writer");
        let text = String::from_utf8(received).expect("utf-8");
        assert!(text.ends_with('}'), "{text}");
        assert!(text.contains("\"code\":\"headers_too_large\""), "{text}");
    }
}
