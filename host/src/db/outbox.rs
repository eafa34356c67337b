//! Table `notifications`: the transactional outbox for emails. Producers call [`enqueue`]
//! inside the transaction of the change they announce, so an email exists if and only if the
//! change committed. Sending is the sweeper's job.

use crate::domain::types::NotificationStatus;
use std::time::Duration;

use chrono::{DateTime, Utc};
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
    let id: Option<Uuid> = sqlx::query_scalar!(
        r#"insert into notifications (id, kind, chain_id, recipient_emails, fields, dedupe_key)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (dedupe_key) do nothing
         returning id"#,
        Uuid::now_v7(),
        kind,
        event.chain_id,
        &event.recipients,
        Value::Object(fields),
        event.dedupe_key.as_deref(),
    )
    .fetch_optional(conn)
    .await?;
    Ok(id)
}

/// A notification as stored.
#[derive(Debug, Clone)]
pub struct Notification {
    /// Id (also the local part of the email's Message-ID).
    pub id: Uuid,
    /// Event kind (`custom` for mail queued through the API).
    pub kind: String,
    /// Chain whose templates render it.
    pub chain_id: Option<Uuid>,
    /// Recipients.
    pub recipient_emails: Vec<String>,
    /// Recipient language (BCP 47).
    pub locale: String,
    /// Template fields.
    pub fields: Value,
    /// Where it is in delivery.
    pub status: NotificationStatus,
    /// Send attempts started so far.
    pub attempts: i32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When the next attempt is due (or the current lease ends).
    pub next_attempt_at: DateTime<Utc>,
    /// When it was delivered.
    pub sent_at: Option<DateTime<Utc>>,
    /// Subject (given, or as last rendered).
    pub subject: Option<String>,
    /// Queued at.
    pub created_at: DateTime<Utc>,
}

/// A row a sweeper claimed: it may send it while `token` holds.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The row as claimed (`attempts` already counts this attempt).
    pub notification: Notification,
    /// Proof of the claim for recording the result.
    pub token: Uuid,
}

/// Claims up to `batch` due rows: pending ones whose time has come and `sending` ones whose
/// lease ran out (their sweeper died). Each claimed row is `sending` until `now + lease` and
/// counts one more attempt, so a row that crashes its sender every time still ends `failed`.
/// `SKIP LOCKED` lets any number of sweepers claim side by side without waiting or sharing.
#[tracing::instrument(skip_all)]
pub async fn claim(
    conn: &mut PgConnection,
    batch: i64,
    lease: Duration,
) -> Result<Vec<Claimed>, sqlx::Error> {
    let token = Uuid::now_v7();
    // `next_attempt_at` moves to the lease's end too, so one index (next_attempt_at, for
    // pending and sending rows) finds both new work and abandoned claims.
    let rows: Vec<Notification> = sqlx::query_as!(
        Notification,
        r#"with due as (
             select id as due_id from notifications
             where status in ('pending', 'sending') and next_attempt_at <= now()
             order by next_attempt_at
             limit $1
             for update skip locked)
         update notifications
            set status = 'sending', attempts = attempts + 1, claim_token = $2,
                locked_until = now() + make_interval(secs => $3),
                next_attempt_at = now() + make_interval(secs => $3)
           from due where id = due_id
         returning id, kind, chain_id, recipient_emails, locale, fields,
                status as "status: NotificationStatus", attempts,
    last_error, next_attempt_at, sent_at, subject, created_at"#,
        batch,
        token,
        lease.as_secs_f64(),
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|notification| Claimed {
            notification,
            token,
        })
        .collect())
}

/// Records a delivery; `false` when the claim was lost (another sweeper owns the row now).
#[tracing::instrument(skip_all)]
pub async fn mark_sent(
    conn: &mut PgConnection,
    claim: &Claimed,
    subject: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"update notifications
            set status = 'sent', sent_at = now(), subject = $3, last_error = null,
                locked_until = null, claim_token = null
          where id = $1 and status = 'sending' and claim_token = $2"#,
        claim.notification.id,
        claim.token,
        subject,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failed attempt: due again at `retry_at`, or `failed` for good when `retry_at`
/// is `None`. `false` when the claim was lost.
#[tracing::instrument(skip_all)]
pub async fn mark_failed(
    conn: &mut PgConnection,
    claim: &Claimed,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"update notifications
            set status = case when $4::timestamptz is null then 'failed' else 'pending' end,
                next_attempt_at = coalesce($4, next_attempt_at),
                last_error = $3, locked_until = null, claim_token = null
          where id = $1 and status = 'sending' and claim_token = $2"#,
        claim.notification.id,
        claim.token,
        error,
        retry_at,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Queues a free-form email (the notification API). With a dedupe key that was used
/// before, nothing is inserted and the earlier row is returned with `false`.
#[tracing::instrument(skip_all)]
pub async fn insert_custom(
    conn: &mut PgConnection,
    subject: &str,
    content: &str,
    recipients: &[String],
    dedupe_key: Option<&str>,
) -> Result<(Notification, bool), sqlx::Error> {
    let inserted: Option<Notification> = sqlx::query_as!(
        Notification,
        r#"insert into notifications (id, kind, recipient_emails, fields, subject, dedupe_key)
         values ($1, 'custom', $2, jsonb_build_object('subject', $3::text, 'content', $4::text),
                 $3, $5)
         on conflict (dedupe_key) do nothing
         returning id, kind, chain_id, recipient_emails, locale, fields,
                status as "status: NotificationStatus", attempts,
    last_error, next_attempt_at, sent_at, subject, created_at"#,
        Uuid::now_v7(),
        recipients,
        subject,
        content,
        dedupe_key,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = inserted {
        return Ok((row, true));
    }
    let earlier: Notification = sqlx::query_as!(
        Notification,
        r#"select id, kind, chain_id, recipient_emails, locale, fields,
                 status as "status: NotificationStatus", attempts,
    last_error, next_attempt_at, sent_at, subject, created_at from notifications where dedupe_key = $1"#,
        dedupe_key,
    )
    .fetch_one(conn)
    .await?;
    Ok((earlier, false))
}

/// One notification.
#[tracing::instrument(skip_all)]
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<Notification>, sqlx::Error> {
    sqlx::query_as!(
        Notification,
        r#"select id, kind, chain_id, recipient_emails, locale, fields,
                 status as "status: NotificationStatus", attempts,
    last_error, next_attempt_at, sent_at, subject, created_at from notifications where id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// Sends a failed notification again: `pending`, due now, with a fresh budget of attempts
/// (`attempts` back to 0). `last_error` stays until the next attempt's outcome replaces it, so
/// that what failed remains visible. `None` when the row is not `failed` (any more). Wakes
/// the sweepers when the caller's transaction commits.
#[tracing::instrument(skip_all)]
pub async fn retry_failed(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<Notification>, sqlx::Error> {
    let row = sqlx::query_as!(
        Notification,
        r#"update notifications
            set status = 'pending', attempts = 0, next_attempt_at = now(),
                locked_until = null, claim_token = null
          where id = $1 and status = 'failed'
          returning id, kind, chain_id, recipient_emails, locale, fields,
                status as "status: NotificationStatus", attempts,
    last_error, next_attempt_at, sent_at, subject, created_at"#,
        id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if row.is_some() {
        super::notify(conn, OUTBOX_CHANNEL, "").await?;
    }
    Ok(row)
}

/// The channel the sweepers listen on (`mail::sweeper::CHANNEL`; migration 0005 notifies it on
/// every insert).
const OUTBOX_CHANNEL: &str = "cineflow_outbox";

/// Notifications in id (queue) order, optionally of one status.
#[tracing::instrument(skip_all)]
pub async fn list(
    conn: &mut PgConnection,
    status: Option<NotificationStatus>,
    chain: Option<Uuid>,
    after: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Notification>, sqlx::Error> {
    sqlx::query_as!(
        Notification,
        r#"select id, kind, chain_id, recipient_emails, locale, fields,
                 status as "status: NotificationStatus", attempts,
    last_error, next_attempt_at, sent_at, subject, created_at from notifications
         where ($1::text is null or status = $1::text) and ($2::uuid is null or id > $2)
           and ($4::uuid is null or chain_id = $4)
         order by id limit $3"#,
        status.map(|s| s.as_str()),
        after,
        fetch,
        chain,
    )
    .fetch_all(conn)
    .await
}

/// How many notifications are still to be sent (pending, or claimed and sending): from the
/// partial index of due rows, so it stays cheap however many were sent before.
#[tracing::instrument(skip_all)]
pub async fn unsent_count(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "count!" from notifications
         where status in ('pending', 'sending')"#,
    )
    .fetch_one(conn)
    .await
}
