//! The notification API (the original NotificationService's endpoints, inside the host):
//! admins and other services (with the service token) queue free-form emails; admins watch
//! the queue. Delivery is the sweeper's job (`crate::mail`).

use crate::domain::types::NotificationStatus;
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{AdminUser, ApiJson, ApiPath, ApiQuery, AuthUser, Problems, validation};
use super::idempotency::IdempotencyKey;
use super::page::{Page, PageRequest};
use super::{ApiError, Problem};
use crate::domain::Actor;
use crate::domain::notifications::{CustomEmail, Notification, Sender};
use crate::domain::types::Email;
use crate::state::AppState;

/// The routes of this module, each declared once: its path and method come from the
/// handler's `#[utoipa::path]`, which also puts it in the OpenAPI document.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications, create_notification))
        .routes(routes!(get_notification))
        .routes(routes!(retry_notification))
}

/// Longest subject (one line).
const MAX_SUBJECT: usize = 200;
/// Largest body.
const MAX_CONTENT: usize = 100 * 1024;
/// Most recipients of one notification.
const MAX_RECIPIENTS: usize = 50;

/// A queued email and how its delivery is going.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct NotificationView {
    id: Uuid,
    /// `custom` for mail queued here; otherwise the event (`booking-confirmed`, ...).
    kind: String,
    /// `pending`, `sending`, `sent` or `failed`.
    status: NotificationStatus,
    /// Send attempts so far.
    attempts: i32,
    /// Why the last attempt failed.
    last_error: Option<String>,
    /// When the next attempt is due (while `pending`), or when the current claim runs out.
    next_attempt_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
    recipient_emails: Vec<String>,
    /// The given subject, or for events the subject as last rendered (null until then).
    subject: Option<String>,
    /// The email's `Message-ID` header (stable across attempts).
    message_id: String,
    chain_id: Option<Uuid>,
    created_at: DateTime<Utc>,
}

fn view(n: Notification, state: &AppState) -> NotificationView {
    NotificationView {
        message_id: crate::mail::smtp::message_id(n.id, &state.mail_domain),
        id: n.id,
        kind: n.kind,
        status: n.status,
        attempts: n.attempts,
        last_error: n.last_error,
        next_attempt_at: n.next_attempt_at,
        sent_at: n.sent_at,
        recipient_emails: n.recipient_emails,
        subject: n.subject,
        chain_id: n.chain_id,
        created_at: n.created_at,
    }
}

/// Who may queue an email: an admin, or another service presenting the service token.
pub(super) struct NotificationSender(Sender);

impl FromRequestParts<AppState> for NotificationSender {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(expected) = &state.service_token {
            let presented = parts
                .headers
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|h| h.to_str().ok())
                .and_then(|h| {
                    h.strip_prefix("Bearer ")
                        .or_else(|| h.strip_prefix("bearer "))
                })
                .map(str::trim);
            // Compare digests: equal-length inputs, so the time taken says nothing about
            // how much of the token was right.
            if let Some(token) = presented
                && Sha256::digest(token.as_bytes()) == Sha256::digest(expected.as_bytes())
            {
                return Ok(NotificationSender(Sender::Service));
            }
        }
        let AdminUser(admin) = AdminUser::from_request_parts(parts, state).await?;
        Ok(NotificationSender(Sender::Admin(admin.id)))
    }
}

/// A free-form email.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateNotification {
    /// One line without control characters, trimmed.
    #[schema(schema_with = subject_schema)]
    subject: String,
    /// Plain text, not blank.
    #[schema(schema_with = content_schema)]
    content: String,
    /// Duplicates are sent once.
    #[schema(schema_with = recipients_schema)]
    recipient_emails: Vec<String>,
}

fn subject_schema() -> utoipa::openapi::Object {
    super::schema::trimmed_text(MAX_SUBJECT)
        .pattern(Some(
            r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$",
        ))
        .build()
}

fn content_schema() -> utoipa::openapi::Object {
    super::schema::text(1, MAX_CONTENT)
        .pattern(Some(r"\S"))
        .description(Some(format!(
            "At most {} KiB (UTF-8 bytes)",
            MAX_CONTENT / 1024
        )))
        .build()
}

fn recipients_schema() -> utoipa::openapi::schema::ArrayBuilder {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(super::schema::email())
        .min_items(Some(1))
        .max_items(Some(MAX_RECIPIENTS))
}

/// Queues an email (admins, or services with `CINEFLOW_SERVICE_TOKEN`). With an
/// `Idempotency-Key`, the same key again returns the first notification (200) instead of
/// queueing a second email.
#[utoipa::path(post, path = "/api/v1/notifications", tag = "notifications",
    request_body = CreateNotification,
    params(("Idempotency-Key" = Option<crate::http::schema::IdempotencyKeyHeader>, Header, description = "Queues the email once per key")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Queued", body = NotificationView),
        (status = 200, description = "Queued before with this Idempotency-Key", body = NotificationView),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "Malformed JSON or unknown fields", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`, or `idempotency_key_reused` for a key used with a different notification", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_notification(
    State(state): State<AppState>,
    sender: NotificationSender,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(body): ApiJson<CreateNotification>,
) -> Result<(StatusCode, Json<NotificationView>), ApiError> {
    let mut problems = Problems::default();
    let subject = body.subject.trim();
    if subject.is_empty() {
        problems.add("subject", "must not be empty");
    } else if subject.chars().count() > MAX_SUBJECT {
        problems.add(
            "subject",
            format!("must be at most {MAX_SUBJECT} characters"),
        );
    } else if subject.chars().any(char::is_control) {
        problems.add("subject", "must be one line without control characters");
    }
    if body.content.trim().is_empty() {
        problems.add("content", "must not be empty");
    } else if body.content.len() > MAX_CONTENT {
        problems.add(
            "content",
            format!("must be at most {} KiB", MAX_CONTENT / 1024),
        );
    } else if body.content.contains('\0') {
        problems.add("content", "must not contain NUL characters");
    }
    let mut recipients: Vec<String> = Vec::with_capacity(body.recipient_emails.len());
    if body.recipient_emails.is_empty() || body.recipient_emails.len() > MAX_RECIPIENTS {
        problems.add(
            "recipient_emails",
            format!("must list 1 to {MAX_RECIPIENTS} addresses"),
        );
    }
    for (i, address) in body.recipient_emails.iter().enumerate() {
        if let Some(email) =
            problems.check(&format!("recipient_emails[{i}]"), Email::parse(address))
        {
            let email = email.as_str().to_owned();
            if !recipients.contains(&email) {
                recipients.push(email);
            }
        }
    }
    problems.finish()?;
    let email = CustomEmail {
        subject: subject.to_owned(),
        content: body.content,
        recipients,
    };
    let (row, created) = state
        .notifications
        .queue(sender.0, key.as_deref(), &email)
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view(row, &state))))
}

/// Notification filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct NotificationQuery {
    /// `pending`, `sending`, `sent` or `failed`.
    #[param(schema_with = crate::http::schema::notification_status)]
    status: Option<String>,
    /// One chain's emails: its staff may ask (admins without it see every chain's and the
    /// platform's).
    chain_id: Option<Uuid>,
    #[param(schema_with = crate::http::schema::page_limit)]
    limit: Option<u32>,
    #[param(schema_with = crate::http::schema::page_cursor)]
    cursor: Option<String>,
}

/// Lists notifications in queue order, optionally of one status: every one for admins, one
/// chain's (`chain_id`) for its staff.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications",
    params(NotificationQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of notifications", body = Page<NotificationView>),
        (status = 400, description = "Unknown query parameter or bad cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin (without `chain_id`), or not chain staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`chain_id` names a chain the caller does not run", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown status", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_notifications(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiQuery(q): ApiQuery<NotificationQuery>,
) -> Result<Json<Page<NotificationView>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let status =
        match q.status.as_deref() {
            None => None,
            Some(s) => Some(NotificationStatus::parse(s).ok_or_else(|| {
                validation([("status", "must be pending, sending, sent or failed")])
            })?),
        };
    let actor = Actor::new(user);
    let rows = match q.chain_id {
        Some(chain) if actor.is_staff() => {
            state
                .notifications
                .list_of_chain(&actor, chain, status, page.after, page.fetch())
                .await?
        }
        None if actor.is_admin() => {
            state
                .notifications
                .list(status, page.after, page.fetch())
                .await?
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                crate::http::code::Code::Forbidden,
                "this needs an admin, or chain staff asking for their chain_id",
            ));
        }
    };
    Ok(Json(
        Page::from_rows(rows, page, |n| n.id).map(|n| view(n, &state)),
    ))
}

/// One notification with its delivery state (admins).
#[utoipa::path(get, path = "/api/v1/notifications/{id}", tag = "notifications",
    params(("id" = Uuid, Path, description = "Notification id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The notification", body = NotificationView),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such notification", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn get_notification(
    State(state): State<AppState>,
    _admin: AdminUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<NotificationView>, ApiError> {
    let row = state.notifications.find(id).await?;
    Ok(Json(view(row, &state)))
}

/// Sends a failed email again: it becomes `pending`, due at once, with `attempts` back to 0
/// (`last_error` keeps what failed until the next attempt). Admins, and the staff of the
/// notification's chain.
#[utoipa::path(post, path = "/api/v1/notifications/{id}/retry", tag = "notifications",
    params(("id" = Uuid, Path, description = "Notification id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Pending again", body = NotificationView),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such notification, or not one of your chain's (platform mail is the admins')", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`notification_not_failed`: it is pending, sending or sent", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn retry_notification(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<NotificationView>, ApiError> {
    let row = state.notifications.retry(&Actor::new(user), id).await?;
    Ok(Json(view(row, &state)))
}
