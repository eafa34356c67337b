//! Table `notifications`: the transactional outbox for emails. Producers call [`enqueue`]
//! inside the transaction of the change they announce, so an email exists if and only if the
//! change committed. Sending is the sweeper's job.

use serde_json::{Map, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::hook_io::EventKind;

/// An email to send about something that happened.
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    /// What happened (selects the template).
    pub kind: EventKind,
    /// The chain whose templates render it; `None` for platform mail.
    pub chain_id: Option<Uuid>,
    /// Who gets it.
    pub recipients: Vec<String>,
    /// Template fields (see docs/components.md).
    pub fields: Vec<(&'static str, String)>,
    /// Identifies the event so that enqueueing it twice sends one email.
    pub dedupe_key: Option<String>,
}

/// Writes the event's notification row; returns its id (or `None` when a row with the same
/// dedupe key already exists).
#[tracing::instrument(skip_all, fields(kind = ?event.kind))]
pub async fn enqueue(
    conn: &mut PgConnection,
    event: &OutboxEvent,
) -> Result<Option<Uuid>, sqlx::Error> {
    let kind = serde_json::to_value(event.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "custom".to_owned());
    let fields: Map<String, Value> = event
        .fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String(v.clone())))
        .collect();
    let id: Option<Uuid> = sqlx::query_scalar(
        "insert into notifications (id, kind, chain_id, recipient_emails, fields, dedupe_key)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (dedupe_key) do nothing
         returning id",
    )
    .bind(Uuid::now_v7())
    .bind(kind)
    .bind(event.chain_id)
    .bind(&event.recipients)
    .bind(Value::Object(fields))
    .bind(event.dedupe_key.as_deref())
    .fetch_optional(conn)
    .await?;
    Ok(id)
}
