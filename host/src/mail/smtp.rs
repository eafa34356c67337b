//! Sending over SMTP with lettre: one pooled transport per process, messages built as
//! multipart text + HTML with a Message-ID derived from the notification, and SMTP errors
//! sorted into "try again later" and "never going to work".

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
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
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    url: String,
}

impl Mailer {
    /// Builds the transport for mail from `from` (connections open lazily, on the first send).
    pub fn new(settings: &SmtpSettings, from: &Mailbox) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.url)
            .map_err(|e| anyhow::anyhow!("CINEFLOW_SMTP_URL is not a valid SMTP URL: {e}"))?
            .pool_config(PoolConfig::new().max_size(settings.pool_size.max(1)))
            .timeout(Some(settings.timeout))
            .build();
        Ok(Self {
            transport,
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
        let permanent = |message: String| SendError {
            permanent: true,
            message,
        };
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

    /// Sends one message.
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => Err(SendError {
                permanent: e.is_permanent(),
                message: describe(&e),
            }),
        }
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

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn credentials_never_reach_the_logs() {
        assert_eq!(
            redact("smtps://user:secret@mail.example.com:465"),
            "smtps://***@mail.example.com:465"
        );
        assert_eq!(redact("smtp://127.0.0.1:2525"), "smtp://127.0.0.1:2525");
    }
}
