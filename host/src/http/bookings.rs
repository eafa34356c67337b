//! Bookings: holds, payments, cancellation, listings and the audit trail.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{
    ApiJson, ApiPath, ApiQuery, AuthUser, OptionalJson, require_member, validation,
};
use super::idempotency::{self, IdempotencyKey};
use super::page::{Page, PageRequest};
use super::{ApiError, Problem};
use crate::bookings::{self, BookingError, HoldCommand, PayCommand};
use crate::db::bookings::{Booking, BookingFilter};
use crate::db::payments::Payment;
use crate::db::users::{Status, User};
use crate::domain::access;
use crate::domain::hook_io::LineItem;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/bookings", get(list_bookings).post(create_booking))
        .route("/bookings/{id}", get(get_booking))
        .route("/bookings/{id}/payments", post(pay_booking))
        .route("/bookings/{id}/cancel", post(cancel_booking))
        .route("/bookings/{id}/audit", get(booking_audit))
        .route("/chains/{id}/audit", get(chain_audit))
}

impl From<BookingError> for ApiError {
    fn from(e: BookingError) -> Self {
        let detail = e.to_string();
        match e {
            BookingError::NotFound => ApiError::not_found(detail),
            BookingError::ShowNotFound => ApiError::not_found(detail),
            BookingError::ShowClosed => ApiError::new(StatusCode::CONFLICT, "show_closed", detail),
            BookingError::InvalidSeats(m) => validation([("seat_ids", m)]),
            BookingError::SeatUnavailable(seats) => {
                ApiError::new(StatusCode::CONFLICT, "seat_unavailable", detail)
                    .with_extra("seats", serde_json::json!(seats))
            }
            BookingError::RuleViolation(reason) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "rule_violation", reason)
            }
            BookingError::PluginUnavailable(m) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "plugin_unavailable", m)
            }
            BookingError::PluginBusy {
                message,
                retry_after,
            } => ApiError::plugin_busy(message, retry_after),
            BookingError::AmountMismatch(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "amount_mismatch", m)
            }
            BookingError::HoldExpired => ApiError::new(StatusCode::GONE, "hold_expired", detail),
            BookingError::AlreadyPaid => {
                ApiError::new(StatusCode::CONFLICT, "already_paid", detail)
            }
            BookingError::InvalidState(m) => {
                ApiError::new(StatusCode::CONFLICT, "invalid_state", m)
            }
            BookingError::PaymentDeclined => {
                ApiError::new(StatusCode::PAYMENT_REQUIRED, "payment_declined", detail)
            }
            BookingError::PaymentUnavailable(m) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "payment_unavailable", m)
            }
            BookingError::Db(e) => ApiError::from(e),
        }
    }
}

/// A booking.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct BookingView {
    id: Uuid,
    /// `held`, `confirmed`, `cancelled` or `expired` (a hold past `expires_at` shows as
    /// `expired` at once, before the expiry job records it).
    status: String,
    show_id: Uuid,
    chain_id: Uuid,
    user_id: Uuid,
    /// Seat ids.
    seats: Vec<String>,
    items: Vec<LineItem>,
    total_minor: i64,
    currency: String,
    promo_code: Option<String>,
    /// End of the hold.
    expires_at: DateTime<Utc>,
    /// Refunded on cancellation.
    refund_minor: Option<i64>,
    created_at: DateTime<Utc>,
}

impl From<Booking> for BookingView {
    fn from(b: Booking) -> Self {
        let status = if b.status == "held" && b.expires_at <= Utc::now() {
            "expired".to_owned()
        } else {
            b.status
        };
        Self {
            id: b.id,
            status,
            show_id: b.show_id,
            chain_id: b.chain_id,
            user_id: b.user_id,
            seats: b.seats,
            items: b.items.0,
            total_minor: b.total_minor,
            currency: b.currency,
            promo_code: b.promo_code,
            expires_at: b.expires_at,
            refund_minor: b.refund_minor,
            created_at: b.created_at,
        }
    }
}

/// A payment.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct PaymentView {
    id: Uuid,
    booking_id: Uuid,
    chain_id: Uuid,
    user_id: Uuid,
    amount_minor: i64,
    currency: String,
    /// `succeeded`, `refunded` or `partially_refunded`.
    status: String,
    refunded_minor: i64,
    created_at: DateTime<Utc>,
}

impl From<Payment> for PaymentView {
    fn from(p: Payment) -> Self {
        Self {
            id: p.id,
            booking_id: p.booking_id,
            chain_id: p.chain_id,
            user_id: p.user_id,
            amount_minor: p.amount_minor,
            currency: p.currency,
            status: p.status,
            refunded_minor: p.refunded_minor,
            created_at: p.created_at,
        }
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(v).map_err(ApiError::internal)
}

fn require_approved(user: &User) -> Result<(), ApiError> {
    if user.status == Status::Approved {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your account is not approved",
        ))
    }
}

/// New hold.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateBooking {
    show_id: Uuid,
    /// Seat ids like `A-7`.
    seat_ids: Vec<String>,
    promo_code: Option<String>,
}

/// Holds seats: the chain's booking rules decide, its pricing quotes, the database takes the
/// seats atomically. Accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/bookings", tag = "bookings", request_body = CreateBooking,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for 24 h")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Held", body = BookingView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: the account is not approved", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such show", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`seat_unavailable` (with `seats`), `show_closed` or `idempotency_conflict`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`rule_violation` (the component's reason) or `validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`plugin_unavailable`: a component failed; `plugin_busy` (with `Retry-After`): the chain is over its fair share of component calls on this replica", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_booking(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    key: IdempotencyKey,
    ApiJson(body): ApiJson<CreateBooking>,
) -> Result<Response, ApiError> {
    require_approved(&user)?;
    let seat_ids =
        bookings::parse_seat_ids(&body.seat_ids).map_err(|m| validation([("seat_ids", m)]))?;
    let promo_code = body
        .promo_code
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty());
    if promo_code.as_ref().is_some_and(|p| p.len() > 64) {
        return Err(validation([(
            "promo_code",
            "must be at most 64 characters",
        )]));
    }
    // The key's fingerprint includes the request's content: reusing a key for other seats is
    // a client bug (422), not a replay.
    let request = format!(
        "POST /api/v1/bookings {} {} {}",
        body.show_id,
        seat_ids.join(","),
        promo_code.as_deref().unwrap_or("")
    );
    let cmd = HoldCommand {
        show_id: body.show_id,
        seat_ids,
        promo_code,
    };
    idempotency::run(&state, user.id, key, &request, || async {
        let booking = bookings::hold(&state, &user, cmd).await?;
        Ok((StatusCode::CREATED, to_json(&BookingView::from(booking))?))
    })
    .await
}

/// Booking filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(super) struct BookingQuery {
    /// Admins: one customer's bookings.
    user_id: Option<Uuid>,
    /// Chain staff: the chain's bookings.
    chain_id: Option<Uuid>,
    status: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// Lists bookings: your own; with `chain_id`, a chain's (its staff); admins see all.
#[utoipa::path(get, path = "/api/v1/bookings", tag = "bookings", params(BookingQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of bookings", body = Page<BookingView>),
        (status = 404, description = "Not a chain of yours", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_bookings(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiQuery(q): ApiQuery<BookingQuery>,
) -> Result<Json<Page<BookingView>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    if let Some(s) = &q.status
        && !["held", "confirmed", "cancelled", "expired"].contains(&s.as_str())
    {
        return Err(validation([(
            "status",
            "must be held, confirmed, cancelled or expired",
        )]));
    }
    let filter = if access::is_admin(&user) {
        BookingFilter {
            user_id: q.user_id,
            chain_id: q.chain_id,
            status: q.status,
        }
    } else if let Some(chain) = q.chain_id {
        if !access::is_owner(&user) {
            return Err(ApiError::not_found("no such chain"));
        }
        require_member(&state, &user, chain).await?;
        BookingFilter {
            user_id: q.user_id,
            chain_id: Some(chain),
            status: q.status,
        }
    } else {
        BookingFilter {
            user_id: Some(user.id),
            chain_id: None,
            status: q.status,
        }
    };
    let mut conn = state.db.acquire().await?;
    let rows = crate::db::bookings::list(&mut conn, &filter, page.after, page.fetch()).await?;
    Ok(Json(
        Page::from_rows(rows, page, |b| b.id).map(BookingView::from),
    ))
}

async fn visible_booking(state: &AppState, user: &User, id: Uuid) -> Result<Booking, ApiError> {
    let mut conn = state.db.acquire().await?;
    let booking = crate::db::bookings::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such booking"))?;
    drop(conn);
    if bookings::may_manage(state, user, &booking).await? {
        Ok(booking)
    } else {
        Err(ApiError::not_found("no such booking"))
    }
}

/// One booking (its customer, its chain's staff, admins).
#[utoipa::path(get, path = "/api/v1/bookings/{id}", tag = "bookings",
    params(("id" = Uuid, Path, description = "Booking id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The booking", body = BookingView),
        (status = 404, description = "No such booking (or not yours)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn get_booking(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<BookingView>, ApiError> {
    Ok(Json(visible_booking(&state, &user, id).await?.into()))
}

/// Payment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PayBody {
    /// Must equal the booking's `total_minor`.
    amount_minor: i64,
    /// Must equal the booking's currency.
    currency: String,
    /// Test gateway: any `tok_*`; `tok_declined` declines.
    card_token: String,
}

/// Pays a held booking: confirmation, payment and confirmation email commit together.
/// Accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/payments", tag = "bookings", request_body = PayBody,
    params(("id" = Uuid, Path, description = "Booking id"), ("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for 24 h")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Paid; the booking is confirmed", body = PaymentView),
        (status = 402, description = "`payment_declined`; the hold stays", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_paid`, `invalid_state` or `idempotency_conflict`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`hold_expired`; nothing was charged", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`amount_mismatch`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn pay_booking(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    key: IdempotencyKey,
    ApiJson(body): ApiJson<PayBody>,
) -> Result<Response, ApiError> {
    let token = body.card_token.trim().to_owned();
    if token.is_empty() || token.len() > 200 {
        return Err(validation([("card_token", "must be 1 to 200 characters")]));
    }
    let cmd = PayCommand {
        amount_minor: body.amount_minor,
        currency: body.currency,
        card_token: token,
    };
    let request = format!(
        "POST /api/v1/bookings/{id}/payments {} {} {}",
        cmd.amount_minor, cmd.currency, cmd.card_token
    );
    idempotency::run(&state, user.id, key, &request, || async {
        let payment = bookings::pay(&state, state.gateway.as_ref(), &user, id, cmd).await?;
        Ok((StatusCode::CREATED, to_json(&PaymentView::from(payment))?))
    })
    .await
}

/// Cancels a booking; the chain's rules decide the refund. Empty body or `{}`.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/cancel", tag = "bookings",
    params(("id" = Uuid, Path, description = "Booking id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Cancelled, with `refund_minor`", body = BookingView),
        (status = 404, description = "No such booking (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`rule_violation`: the rules refuse (e.g. too close to the show)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`plugin_unavailable`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn cancel_booking(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    _body: OptionalJson<EmptyBody>,
) -> Result<Json<BookingView>, ApiError> {
    let booking = bookings::cancel(&state, &user, id).await?;
    Ok(Json(booking.into()))
}

/// An empty object.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EmptyBody {}

/// An audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct AuditView {
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
pub(super) struct AuditList {
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
pub(super) async fn booking_audit(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<AuditList>, ApiError> {
    let mut conn = state.db.acquire().await?;
    let booking = crate::db::bookings::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such booking"))?;
    drop(conn);
    if !access::is_staff(&user) {
        return Err(ApiError::not_found("no such booking"));
    }
    require_member(&state, &user, booking.chain_id).await?;
    let mut conn = state.db.acquire().await?;
    let items = crate::db::audit::of_booking(&mut conn, id)
        .await?
        .into_iter()
        .map(AuditView::from)
        .collect();
    Ok(Json(AuditList {
        items,
        next_cursor: None,
    }))
}

impl From<crate::db::audit::AuditEntry> for AuditView {
    fn from(e: crate::db::audit::AuditEntry) -> Self {
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
#[serde(deny_unknown_fields)]
pub(super) struct AuditQuery {
    limit: Option<u32>,
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
pub(super) async fn chain_audit(
    State(state): State<AppState>,
    super::extract::StaffUser(user): super::extract::StaffUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Page<AuditView>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    require_member(&state, &user, id).await?;
    let mut conn = state.db.acquire().await?;
    let rows = crate::db::audit::of_chain(&mut conn, id, page.after, page.fetch()).await?;
    Ok(Json(
        Page::from_rows(rows, page, |e| e.id).map(AuditView::from),
    ))
}
