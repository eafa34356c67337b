//! A chain's webhooks (API.md, "Webhooks"; docs/webhooks.md): endpoints, their secret, their
//! deliveries and redelivery. The bodies sent are documented as `WebhookEvent` and one schema
//! per event's `data` ([`EventSchemas`]).

mod schemas;

pub(super) use schemas::EventSchemas;

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath, ApiQuery, Problems, StaffUser};
use super::page::{Page, PageRequest};
use super::{ApiError, Problem};
use crate::domain::webhooks::{
    CreatedEndpoint, Delivery, Endpoint, EventKind, MAX_DESCRIPTION, NewEndpoint,
};
use crate::domain::{Actor, ChainAccess};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(delete_webhook))
        .routes(routes!(rotate_secret))
        .routes(routes!(list_deliveries))
        .routes(routes!(redeliver))
}

/// An endpoint (its secret is shown only when created or rotated).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct WebhookView {
    id: Uuid,
    url: String,
    events: Vec<String>,
    description: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<Endpoint> for WebhookView {
    fn from(e: Endpoint) -> Self {
        Self {
            id: e.id,
            url: e.url,
            events: e.events,
            description: e.description,
            created_at: e.created_at,
        }
    }
}

/// A new endpoint and its signing secret: store it now, it is not shown again.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct CreatedWebhookView {
    #[serde(flatten)]
    webhook: WebhookView,
    /// `whsec_…`: the HMAC-SHA256 key of `Cineflow-Webhook-Signature`.
    secret: String,
}

/// A new signing secret (the old one stops signing at once).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SecretView {
    secret: String,
}

/// New endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateWebhook {
    /// `http` or `https`, with a host, no user or password, at most 2048 characters; a host
    /// that is or resolves to a private, loopback, link-local or reserved address is refused
    /// with `url_not_allowed`.
    #[schema(max_length = 2048)]
    url: String,
    /// The kinds to receive: at least one, none twice.
    #[schema(min_items = 1)]
    events: Vec<String>,
    /// At most 200 characters.
    #[schema(max_length = 200)]
    description: Option<String>,
}

impl CreateWebhook {
    fn into_command(self) -> Result<NewEndpoint, ApiError> {
        let mut p = Problems::default();
        if let Err(e) = crate::webhook_client::parse_url(&self.url) {
            p.add("url", crate::webhook_client::refusal_text(&e));
        }
        if self.events.is_empty() {
            p.add("events", "name at least one event kind");
        }
        let mut events = Vec::new();
        for (i, raw) in self.events.iter().enumerate() {
            match EventKind::parse(raw) {
                Some(k) => events.push(k),
                None => p.add(
                    format!("events[{i}]"),
                    format!("unknown event kind {raw:?}"),
                ),
            }
        }
        if self.events.iter().collect::<BTreeSet<_>>().len() != self.events.len() {
            p.add("events", "lists a kind twice");
        }
        if let Some(d) = &self.description
            && d.chars().count() > MAX_DESCRIPTION
        {
            p.add(
                "description",
                format!("at most {MAX_DESCRIPTION} characters"),
            );
        }
        p.finish()?;
        Ok(NewEndpoint {
            url: self.url,
            events,
            description: self.description,
        })
    }
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum DeliveryStatus {
    /// Due, in flight, or waiting for its next attempt.
    Pending,
    /// An attempt got a 2xx.
    Sent,
    /// The last attempt failed (or the endpoint was deleted first).
    Failed,
}

impl DeliveryStatus {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
        }
    }
}

/// A delivery of an event to the endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct DeliveryView {
    id: Uuid,
    /// The event's kind.
    event: String,
    /// `Cineflow-Webhook-Id`: the same in every attempt.
    event_id: Uuid,
    /// `pending`, `sent` or `failed`.
    status: String,
    /// Attempts so far (redeliveries keep counting).
    attempts: i32,
    last_status_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    next_attempt_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            event: d.kind,
            event_id: d.event_id,
            status: d.status,
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
        }
    }
}

/// Paging and the status filter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct DeliveryQuery {
    #[param(schema_with = crate::http::schema::page_limit)]
    limit: Option<u32>,
    #[param(schema_with = crate::http::schema::page_cursor)]
    cursor: Option<String>,
    /// Only deliveries in this status.
    #[param(inline)]
    status: Option<DeliveryStatus>,
}

async fn access(
    state: &AppState,
    user: crate::domain::types::User,
    chain: Uuid,
) -> Result<ChainAccess, ApiError> {
    Ok(state.accounts.member_of(&Actor::new(user), chain).await?)
}

/// Registers an endpoint for some of the chain's events.
#[utoipa::path(post, path = "/api/v1/chains/{id}/webhooks", tag = "chains", request_body = CreateWebhook,
    params(("id" = Uuid, Path, description = "Chain id")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `secret` is shown only here", body = CreatedWebhookView),
        (status = 403, description = "`forbidden`: not chain staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such chain (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`quota_exceeded`: the chain has 20 endpoints", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`, or `url_not_allowed`: the host is or resolves to a private or reserved address", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_webhook(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(chain): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CreateWebhook>,
) -> Result<(StatusCode, Json<CreatedWebhookView>), ApiError> {
    let access = access(&state, user, chain).await?;
    let cmd = body.into_command()?;
    let CreatedEndpoint { endpoint, secret } = state.webhooks.create(&access, cmd).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhookView {
            webhook: endpoint.into(),
            secret,
        }),
    ))
}

/// The chain's endpoints (without secrets).
#[utoipa::path(get, path = "/api/v1/chains/{id}/webhooks", tag = "chains",
    params(("id" = Uuid, Path, description = "Chain id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The endpoints, oldest first", body = Vec<WebhookView>),
        (status = 403, description = "`forbidden`: not chain staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such chain (or not yours)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_webhooks(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(chain): ApiPath<Uuid>,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    let access = access(&state, user, chain).await?;
    let list = state.webhooks.list(&access).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Deletes an endpoint; its pending deliveries are not sent.
#[utoipa::path(delete, path = "/api/v1/chains/{id}/webhooks/{webhook_id}", tag = "chains",
    params(("id" = Uuid, Path, description = "Chain id"), ("webhook_id" = Uuid, Path, description = "Endpoint id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "`forbidden`: not chain staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint (or not your chain's)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn delete_webhook(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, id)): ApiPath<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    let access = access(&state, user, chain).await?;
    state.webhooks.delete(&access, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives an endpoint a new signing secret.
#[utoipa::path(post, path = "/api/v1/chains/{id}/webhooks/{webhook_id}/secret", tag = "chains",
    params(("id" = Uuid, Path, description = "Chain id"), ("webhook_id" = Uuid, Path, description = "Endpoint id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new secret, shown only here", body = SecretView),
        (status = 403, description = "`forbidden`: not chain staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint (or not your chain's)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn rotate_secret(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<SecretView>, ApiError> {
    let access = access(&state, user, chain).await?;
    let secret = state.webhooks.rotate_secret(&access, id).await?;
    Ok(Json(SecretView { secret }))
}

/// An endpoint's deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/chains/{id}/webhooks/{webhook_id}/deliveries", tag = "chains",
    params(("id" = Uuid, Path, description = "Chain id"), ("webhook_id" = Uuid, Path, description = "Endpoint id"), DeliveryQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of deliveries, newest first", body = Page<DeliveryView>),
        (status = 403, description = "`forbidden`: not chain staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint (or not your chain's)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_deliveries(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(q): ApiQuery<DeliveryQuery>,
) -> Result<Json<Page<DeliveryView>>, ApiError> {
    let access = access(&state, user, chain).await?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let status = q.status.map(DeliveryStatus::as_str);
    let rows = state
        .webhooks
        .deliveries(&access, id, status, page.after, page.fetch())
        .await?;
    Ok(Json(
        Page::from_rows(rows, page, |d| d.id).map(DeliveryView::from),
    ))
}

/// Sends a delivery again now, with a fresh budget of attempts.
#[utoipa::path(post, path = "/api/v1/chains/{id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", tag = "chains",
    params(("id" = Uuid, Path, description = "Chain id"), ("webhook_id" = Uuid, Path, description = "Endpoint id"), ("delivery_id" = Uuid, Path, description = "Delivery id")),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued"),
        (status = 403, description = "`forbidden`: not chain staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such delivery (or not your chain's)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn redeliver(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, id, delivery)): ApiPath<(Uuid, Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    let access = access(&state, user, chain).await?;
    state.webhooks.redeliver(&access, id, delivery).await?;
    Ok(StatusCode::ACCEPTED)
}
