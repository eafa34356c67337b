//! A booking's audit trail and its chain's.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::Actor;
use crate::domain::bookings;
use crate::domain::types::{BookingId, ChainId};
use crate::http::extract::{ApiPath, ApiQuery, AuthUser};
use crate::http::page::{Page, PageRequest};
use crate::http::{ApiError, Problem};
use crate::state::AppState;

/// An audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub(in crate::http) struct AuditView {
    /// The booking (null for a refused hold).
    booking_id: Option<Uuid>,
    show_id: Uuid,
    at: DateTime<Utc>,
    /// `state` or `decision`.
    kind: String,
    from_status: Option<String>,
    to_status: Option<String>,
    actor_id: Option<Uuid>,
    /// Hook consulted (decisions).
    hook: Option<String>,
    /// sha256 of the component that decided.
    component_id: Option<String>,
    fuel_used: Option<i64>,
    duration_us: Option<i64>,
    #[schema(value_type = Object)]
    detail: serde_json::Value,
}

/// A booking's audit trail (its chain's staff and admins).
#[derive(Debug, Serialize, ToSchema)]
pub(in crate::http) struct AuditList {
    items: Vec<AuditView>,
    next_cursor: Option<String>,
}

/// Every state change and component decision of a booking, oldest first.
#[utoipa::path(get, path = "/api/v1/bookings/{id}/audit", tag = "bookings",
    params(("id" = Uuid, Path, description = "Booking id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The trail", body = AuditList),
        (status = 404, description = "No such booking (or not your chain's)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn booking_audit(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<BookingId>,
) -> Result<Json<AuditList>, ApiError> {
    let items = state
        .bookings
        .audit_of_booking(&Actor::new(user), id)
        .await?
        .into_iter()
        .map(AuditView::from)
        .collect();
    Ok(Json(AuditList {
        items,
        next_cursor: None,
    }))
}

impl From<bookings::AuditEntry> for AuditView {
    fn from(e: bookings::AuditEntry) -> Self {
        AuditView {
            booking_id: e.booking_id,
            show_id: e.show_id,
            at: e.at,
            kind: e.kind,
            from_status: e.from_status,
            to_status: e.to_status,
            actor_id: e.actor_id,
            hook: e.hook,
            component_id: e.component_id,
            fuel_used: e.fuel_used,
            duration_us: e.duration_us,
            detail: e.detail,
        }
    }
}

/// Audit page parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct AuditQuery {
    #[param(schema_with = crate::http::schema::page_limit)]
    limit: Option<u32>,
    #[param(schema_with = crate::http::schema::page_cursor)]
    cursor: Option<String>,
}

/// The chain's audit trail: every booking state change and component decision, including
/// refused holds (chain staff and admins).
#[utoipa::path(get, path = "/api/v1/chains/{id}/audit", tag = "bookings",
    params(("id" = Uuid, Path, description = "Chain id"), AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of entries, oldest first", body = Page<AuditView>),
        (status = 403, description = "Not chain staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a chain of yours", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn chain_audit(
    State(state): State<AppState>,
    crate::http::extract::StaffUser(user): crate::http::extract::StaffUser,
    ApiPath(id): ApiPath<ChainId>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Page<AuditView>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .bookings
        .audit_of_chain(&Actor::new(user), id, page.after, page.fetch())
        .await?;
    Ok(Json(
        Page::from_rows(rows, page, |e| e.id).map(AuditView::from),
    ))
}

/// One component decision behind a booking.
#[derive(Debug, Serialize, ToSchema)]
pub(in crate::http) struct ReceiptDecisionView {
    hook: String,
    /// `check-hold`, `quote`, `pick-seats` or `cancel`.
    function: String,
    /// sha256 of the component that decided.
    component_id: String,
    /// sha256 (hex) of `input` as compact JSON with its keys sorted.
    input_sha256: String,
    /// The exact input, as in dry runs: `cineflow component run --hook H --wasm C --input`
    /// on it reproduces `output`.
    #[schema(value_type = Object)]
    input: serde_json::Value,
    /// `{"ok": ...}` or `{"err": "reason"}`.
    #[schema(value_type = Object)]
    output: serde_json::Value,
    /// Served by the binding's canary.
    canary: bool,
    at: DateTime<Utc>,
}

/// A booking's receipt: what each component was given and answered.
#[derive(Debug, Serialize, ToSchema)]
pub(in crate::http) struct ReceiptView {
    booking_id: Uuid,
    /// Oldest first: the seats picked (if the picker chose), the rules, the price, and any
    /// refund.
    decisions: Vec<ReceiptDecisionView>,
}

/// The component decisions behind a booking (rules, price, seats, refund), each with the
/// exact input, its sha256 and the output, so that anyone holding the component's bytes can
/// reproduce them (the booking's customer, its chain's staff and admins).
#[utoipa::path(get, path = "/api/v1/bookings/{id}/receipt", tag = "bookings",
    params(("id" = Uuid, Path, description = "Booking id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The receipt", body = ReceiptView),
        (status = 404, description = "No such booking (or not yours to see)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn booking_receipt(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<BookingId>,
) -> Result<Json<ReceiptView>, ApiError> {
    let (booking, decisions) = state.bookings.receipt(&Actor::new(user), id).await?;
    Ok(Json(ReceiptView {
        booking_id: booking.id,
        decisions: decisions
            .into_iter()
            .map(|d| ReceiptDecisionView {
                hook: d.hook,
                function: d.function,
                component_id: d.component_id,
                input_sha256: d.input_sha256,
                input: d.input,
                output: d.output,
                canary: d.canary,
                at: d.at,
            })
            .collect(),
    }))
}
