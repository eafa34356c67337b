//! What can go wrong talking to a server, how it is shown, and the exit code it gives.
//!
//! Exit codes (docs/component-guide.md, "The remote CLI"): 0 done; 1 the server refused (it
//! answered 4xx or 5xx: its problem's `detail`, `code` and status go to stderr); 2 a usage or
//! connection error (bad arguments or files, no token, no server, an answer that is not the
//! API's); 3 the server did what was asked but reports a failure (a dry run whose component
//! trapped, a replay that ended `failed`).

use std::fmt::Write as _;

use serde_json::Value;

use super::output::clean;

/// A failed command.
#[derive(Debug)]
pub enum RemoteError {
    /// Arguments, files, configuration: the user can fix it here. Exit 2.
    Usage(String),
    /// The server could not be reached, or did not answer like the API. Exit 2.
    Connection(String),
    /// The server answered with an error status. Exit 1.
    Refused(Refusal),
    /// Writing the output failed (a closed pipe is not an error: see [`RemoteError::is_broken_pipe`]).
    Output(std::io::Error),
}

impl RemoteError {
    /// The process's exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            RemoteError::Refused(_) => 1,
            RemoteError::Usage(_) | RemoteError::Connection(_) | RemoteError::Output(_) => 2,
        }
    }

    /// Whether this is stdout closed under us (`cineflow remote runs | head`): a clean exit.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, RemoteError::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }

    /// What goes to stderr, one or more lines without the final newline.
    pub fn render(&self) -> String {
        match self {
            RemoteError::Usage(m) => format!("error: {}", clean(m)),
            RemoteError::Connection(m) => format!("error: {}", clean(m)),
            RemoteError::Output(e) => format!("error: writing the output: {e}"),
            RemoteError::Refused(r) => r.render(),
        }
    }
}

impl From<std::io::Error> for RemoteError {
    fn from(e: std::io::Error) -> Self {
        RemoteError::Output(e)
    }
}

/// An error answer: its status, the problem document if it sent one, and `Retry-After`.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: u16,
    /// The RFC 9457 problem (`application/problem+json`), or whatever JSON it sent.
    pub body: Option<Value>,
    /// The start of a body that was not JSON (a proxy's HTML page, say).
    pub text: Option<String>,
    pub retry_after: Option<String>,
}

/// Longest piece of a non-JSON error body shown.
const TEXT_SHOWN: usize = 200;

impl Refusal {
    /// Builds the refusal from the raw answer.
    pub fn from_answer(status: u16, body: &[u8], retry_after: Option<String>) -> Self {
        let json = serde_json::from_slice::<Value>(body).ok();
        let text = match json {
            Some(_) => None,
            None if body.is_empty() => None,
            None => {
                let text = String::from_utf8_lossy(body);
                let text: String = text.trim().chars().take(TEXT_SHOWN).collect();
                Some(text)
            }
        };
        Refusal {
            status,
            body: json,
            text,
            retry_after,
        }
    }

    /// The problem's stable `code`, if any.
    pub fn code(&self) -> Option<&str> {
        self.body.as_ref()?.get("code")?.as_str()
    }

    fn field(&self, name: &str) -> Option<&str> {
        self.body.as_ref()?.get(name)?.as_str()
    }

    /// `error: <detail>`, then the status and code, then each field error and a hint.
    pub fn render(&self) -> String {
        let reason = hyper::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let headline = self
            .field("detail")
            .or_else(|| self.field("title"))
            .map(clean)
            .or_else(|| self.text.as_deref().map(clean))
            .unwrap_or_else(|| format!("the server answered {} {reason}", self.status));
        let mut out = format!("error: {headline}\n  status: {} {reason}", self.status);
        if let Some(code) = self.code() {
            let _ = write!(out, ", code: {}", clean(code));
        }
        let errors = self
            .body
            .as_ref()
            .and_then(|b| b.get("errors"))
            .and_then(Value::as_object);
        for (field, messages) in errors.into_iter().flatten() {
            let messages: Vec<String> = match messages {
                Value::Array(list) => list.iter().map(display).collect(),
                other => vec![display(other)],
            };
            let _ = write!(out, "\n  {}: {}", clean(field), messages.join("; "));
        }
        if let Some(retry) = &self.retry_after {
            let _ = write!(out, "\n  retry after: {} s", clean(retry));
        }
        if self.status == 401 {
            out.push_str(
                "\n  hint: the token is missing, invalid or expired; run `cineflow remote login`",
            );
        }
        out
    }
}

/// A JSON value as text: strings bare, anything else as compact JSON; cleaned for a terminal.
fn display(v: &Value) -> String {
    match v {
        Value::String(s) => clean(s),
        other => clean(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refusal(status: u16, body: Value) -> Refusal {
        Refusal::from_answer(status, body.to_string().as_bytes(), None)
    }

    #[test]
    fn a_problem_shows_detail_status_and_code() {
        let r = refusal(
            404,
            json!({"type": "about:blank", "title": "Not Found", "status": 404,
                   "detail": "no such chain (or not yours)", "code": "not_found"}),
        );
        assert_eq!(
            r.render(),
            "error: no such chain (or not yours)\n  status: 404 Not Found, code: not_found"
        );
        assert_eq!(RemoteError::Refused(r).exit_code(), 1);
    }

    #[test]
    fn validation_errors_are_listed_per_field() {
        let r = refusal(
            422,
            json!({"title": "Unprocessable", "status": 422, "detail": "validation failed",
                   "code": "validation_failed",
                   "errors": {"hook": ["must be one of pricing, booking-rules"], "limit": "too big"}}),
        );
        let text = r.render();
        assert!(text.starts_with("error: validation failed\n"), "{text}");
        assert!(text.contains("code: validation_failed"), "{text}");
        assert!(
            text.contains("\n  hook: must be one of pricing, booking-rules"),
            "{text}"
        );
        assert!(text.contains("\n  limit: too big"), "{text}");
    }

    #[test]
    fn without_a_problem_the_status_and_the_start_of_the_body_are_shown() {
        let html = format!("<html>{}</html>", "x".repeat(1000));
        let r = Refusal::from_answer(502, html.as_bytes(), None);
        let text = r.render();
        assert!(text.starts_with("error: <html>xxx"), "{text}");
        assert!(text.len() < 300, "{text}");
        assert!(text.contains("status: 502 Bad Gateway"), "{text}");

        let empty = Refusal::from_answer(503, b"", Some("2".into()));
        assert_eq!(
            empty.render(),
            "error: the server answered 503 Service Unavailable\n  status: 503 Service Unavailable\n  retry after: 2 s"
        );
    }

    #[test]
    fn unauthorised_gets_a_login_hint() {
        let r = refusal(
            401,
            json!({"status": 401, "detail": "missing bearer token", "code": "unauthorized"}),
        );
        assert!(r.render().contains("cineflow remote login"));
    }

    #[test]
    fn terminal_control_sequences_from_the_server_are_neutralised() {
        let r = refusal(
            409,
            json!({"detail": "taken\u{1b}[2J\u{1b}]0;pwned\u{7}", "code": "x\ry"}),
        );
        let text = r.render();
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(!text.contains('\r'), "{text:?}");
        assert!(!text.contains('\u{7}'), "{text:?}");
    }

    #[test]
    fn exit_codes_and_broken_pipes() {
        assert_eq!(RemoteError::Usage("x".into()).exit_code(), 2);
        assert_eq!(RemoteError::Connection("x".into()).exit_code(), 2);
        let pipe = RemoteError::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(pipe.is_broken_pipe());
        assert!(!RemoteError::Usage("x".into()).is_broken_pipe());
    }
}
