//! Bookings: holds, payments, cancellation, listings and the audit trail.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub(super) mod audit;
mod cancel;
mod pay;

pub(super) use cancel::EmptyBody;
use cancel::{__path_cancel_booking, cancel_booking};
use pay::{__path_pay_booking, pay_booking};

use super::extract::{ApiJson, ApiPath, ApiQuery, AuthUser, validation};
use super::idempotency::{self, IdempotencyKey};
use super::page::{Page, PageRequest};
use super::{ApiError, Problem};
use crate::domain::Actor;
use crate::domain::bookings::{
    self, Booking, BookingListFilter, HoldCommand, Payment, PickCommand, SeatRequest,
};
use crate::domain::hook_io::{LineItem, SeatClass};
use crate::domain::types::{BookingId, BookingStatus, Email, PaymentStatus, SeatId};
use crate::state::AppState;

/// The routes of this module, each declared once: its path and method come from the
/// handler's `#[utoipa::path]`, which also puts it in the OpenAPI document.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_bookings, create_booking))
        .routes(routes!(get_booking))
        .routes(routes!(pay_booking))
        .routes(routes!(cancel_booking))
        .routes(routes!(audit::booking_audit))
        .routes(routes!(audit::booking_receipt))
        .routes(routes!(audit::chain_audit))
}

/// A booking.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct BookingView {
    id: Uuid,
    /// `held`, `confirmed`, `cancelled` or `expired` (a hold past `expires_at` shows as
    /// `expired` at once, before the expiry job records it).
    status: BookingStatus,
    show_id: Uuid,
    chain_id: Uuid,
    user_id: Uuid,
    /// Seat ids.
    seats: Vec<String>,
    items: Vec<LineItem>,
    total_minor: i64,
    currency: String,
    promo_code: Option<String>,
    /// The code of the chain's voucher the promo code redeemed, as the voucher spells it.
    voucher_code: Option<String>,
    /// What the voucher took off the price (0 without one); `total_minor` is after it.
    discount_minor: i64,
    /// End of the hold.
    expires_at: DateTime<Utc>,
    /// Refunded: every refund of the booking so far (a cancellation's answer with
    /// `seat_ids` shows that cancellation's refund).
    refund_minor: Option<i64>,
    created_at: DateTime<Utc>,
}

impl From<Booking> for BookingView {
    fn from(b: Booking) -> Self {
        let status = b.status.as_seen(b.expires_at, Utc::now());
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
            voucher_code: b.voucher_code,
            discount_minor: b.discount_minor,
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
    status: PaymentStatus,
    refunded_minor: i64,
    /// Paid by gift card (0 without one); the card token paid the rest of `amount_minor`.
    gift_card_minor: i64,
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
            gift_card_minor: p.gift_card_minor,
            created_at: p.created_at,
        }
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(v).map_err(ApiError::internal)
}

/// New hold: name the seats (`seat_ids`) or ask for a number of them (`seat_count`, with an
/// optional class and accessibility need) and let the chain's seat-picker choose; exactly one
/// of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateBooking {
    show_id: Uuid,
    /// Seat ids like `A-7` (no duplicates). Send `seat_ids` or `seat_count`, not both.
    #[schema(schema_with = field::seat_ids)]
    seat_ids: Option<Vec<String>>,
    /// How many seats the chain's seat-picker should choose.
    #[schema(schema_with = field::seat_count)]
    seat_count: Option<i64>,
    /// With `seat_count`: only seats of this class.
    seat_class: Option<SeatClass>,
    /// With `seat_count`: a wheelchair space and companion seats beside it.
    accessible: Option<bool>,
    /// Trimmed; empty is the same as none. A code of one of the chain's vouchers (in any
    /// case) redeems it; any other code goes to the chain's pricing component.
    #[schema(schema_with = field::promo_code)]
    promo_code: Option<String>,
}

/// Longest promo code, in bytes after trimming.
const MAX_PROMO_CODE: usize = 64;

/// The booking bodies' field schemas, from the limits their parsers check.
pub(super) mod field {
    use crate::domain::bookings::{MAX_PICK, MAX_SEAT_ID_LEN, MAX_SEAT_IDS};
    use crate::http::schema::{integer, nullable, text, trimmed_text};
    use utoipa::openapi::schema::{ArrayBuilder, OneOfBuilder};

    pub(super) fn seat_ids() -> OneOfBuilder {
        nullable(
            ArrayBuilder::new()
                .items(trimmed_text(MAX_SEAT_ID_LEN))
                .min_items(Some(1))
                .max_items(Some(MAX_SEAT_IDS))
                .unique_items(true),
        )
    }
    pub(super) fn seat_count() -> OneOfBuilder {
        nullable(integer(1, i64::from(MAX_PICK)))
    }
    pub(super) fn promo_code() -> OneOfBuilder {
        nullable(text(0, super::MAX_PROMO_CODE))
    }
}

/// `POST /bookings`'s body: [`CreateBooking`] and the one rule its field schemas cannot say,
/// the two shapes [`CreateBooking::seats`] accepts (any other mix is 422): named seats
/// (`seat_ids`, without `seat_count`, `seat_class` or `accessible`), or a count (`seat_count`,
/// optionally `seat_class` and `accessible`, without `seat_ids`). Absent and `null` are alike.
pub(super) struct HoldBody;

impl utoipa::PartialSchema for HoldBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, OneOfBuilder, Type};
        let null = || ObjectBuilder::new().schema_type(Type::Null);
        let named = ObjectBuilder::new()
            .required("seat_ids")
            .property("seat_ids", ObjectBuilder::new().schema_type(Type::Array))
            .property("seat_count", null())
            .property("seat_class", null())
            .property("accessible", null());
        let counted = ObjectBuilder::new()
            .required("seat_count")
            .property(
                "seat_count",
                ObjectBuilder::new().schema_type(Type::Integer),
            )
            .property("seat_ids", null());
        AllOfBuilder::new()
            .item(<CreateBooking as utoipa::PartialSchema>::schema())
            .item(OneOfBuilder::new().item(named).item(counted))
            .description(Some(
                "Either `seat_ids`, or `seat_count` with optional `seat_class` and `accessible`",
            ))
            .into()
    }
}

impl utoipa::ToSchema for HoldBody {}

impl CreateBooking {
    /// The seats asked for, or the fields that make the request unclear.
    fn seats(&self) -> Result<SeatRequest, ApiError> {
        let by_count = self.seat_class.is_some() || self.accessible.is_some();
        match (&self.seat_ids, self.seat_count) {
            (Some(ids), None) if !by_count => bookings::parse_seat_ids(ids)
                .map(SeatRequest::Named)
                .map_err(|m| validation([("seat_ids", m)])),
            (Some(_), None) => Err(validation([(
                "seat_ids",
                "`seat_class` and `accessible` go with `seat_count`, not with `seat_ids`",
            )])),
            (None, Some(count)) => {
                PickCommand::new(count, self.seat_class, self.accessible.unwrap_or(false))
                    .map(SeatRequest::Count)
                    .map_err(|m| validation([("seat_count", m)]))
            }
            (Some(_), Some(_)) => Err(validation([(
                "seat_ids",
                "send either `seat_ids` or `seat_count`, not both",
            )])),
            (None, None) => Err(validation([(
                "seat_ids",
                "send `seat_ids` (the seats) or `seat_count` (how many)",
            )])),
        }
    }
}

/// Holds seats: the chain's booking rules decide, its pricing quotes, the database takes the
/// seats atomically. Accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/bookings", tag = "bookings", request_body = inline(HoldBody),
    params(("Idempotency-Key" = Option<crate::http::schema::IdempotencyKeyHeader>, Header, description = "Replays the first response for 24 h")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Held", body = BookingView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: the account is not approved", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such show", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`seat_unavailable` (with `seats`), `show_closed` or `idempotency_conflict`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`rule_violation` (the component's reason) or `validation_failed`; for `promo_code`: `voucher_exhausted` (every redemption is held or confirmed), `voucher_expired` (outside its validity window, or switched off), `voucher_not_applicable` (not for this show), `voucher_unknown` (no voucher of the chain has the code and the chain's pricing refused it, with its reason)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`plugin_unavailable`: a component failed; `plugin_busy` (with `Retry-After`): the chain is over its fair share of component calls on this replica", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_booking(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    key: IdempotencyKey,
    ApiJson(body): ApiJson<CreateBooking>,
) -> Result<Response, ApiError> {
    let seats = body.seats()?;
    let promo_code = body
        .promo_code
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty());
    if promo_code
        .as_ref()
        .is_some_and(|p| p.len() > MAX_PROMO_CODE)
    {
        return Err(validation([(
            "promo_code",
            "must be at most 64 characters",
        )]));
    }
    // The key's fingerprint includes the request's content: reusing a key for other seats is
    // a client bug (422), not a replay.
    let asked = match &seats {
        SeatRequest::Named(ids) => ids.iter().map(SeatId::as_str).collect::<Vec<_>>().join(","),
        SeatRequest::Count(p) => format!(
            "count={} class={} accessible={}",
            p.count,
            p.class.map_or("", SeatClass::as_str),
            p.accessible
        ),
    };
    let request = format!(
        "POST /api/v1/bookings {} {asked} {}",
        body.show_id,
        promo_code.as_deref().unwrap_or("")
    );
    let cmd = HoldCommand {
        show_id: body.show_id.into(),
        seats,
        promo_code,
    };
    let actor = Actor::new(user);
    idempotency::run(&state, actor.id(), key, &request, || async {
        let booking = state.bookings.hold(&actor, cmd).await?;
        Ok((StatusCode::CREATED, to_json(&BookingView::from(booking))?))
    })
    .await
}

/// Booking filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct BookingQuery {
    /// Admins: one customer's bookings.
    user_id: Option<Uuid>,
    /// Chain staff: the chain's bookings.
    chain_id: Option<Uuid>,
    #[param(schema_with = crate::http::schema::booking_status)]
    status: Option<String>,
    /// Admins, and chain staff with `chain_id`: the bookings of the customer with this email
    /// (exact, ignoring case). Anyone else giving it: 422.
    #[param(schema_with = crate::http::schema::email)]
    email: Option<String>,
    /// Only this show's bookings.
    show_id: Option<Uuid>,
    #[param(schema_with = crate::http::schema::page_limit)]
    limit: Option<u32>,
    #[param(schema_with = crate::http::schema::page_cursor)]
    cursor: Option<String>,
}

/// Lists bookings: your own; with `chain_id`, a chain's (its staff); admins see all. Filters
/// `status`, `show_id` and (staff and admins) `email` narrow the list; the cursor pages
/// through the filtered list in id order.
#[utoipa::path(get, path = "/api/v1/bookings", tag = "bookings", params(BookingQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of bookings", body = Page<BookingView>),
        (status = 404, description = "Not a chain of yours", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: an unknown `status`, an `email` that is not an address, or `email` without `chain_id` from someone not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_bookings(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiQuery(q): ApiQuery<BookingQuery>,
) -> Result<Json<Page<BookingView>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(BookingStatus::parse(s).ok_or_else(|| {
            validation([("status", "must be held, confirmed, cancelled or expired")])
        })?),
    };
    let email = q
        .email
        .as_deref()
        .map(Email::parse)
        .transpose()
        .map_err(|e| validation([("email", e)]))?;
    let wanted = BookingListFilter {
        user_id: q.user_id,
        chain_id: q.chain_id,
        status,
        email,
        show_id: q.show_id,
    };
    let rows = state
        .bookings
        .list(&Actor::new(user), wanted, page.after, page.fetch())
        .await?;
    Ok(Json(
        Page::from_rows(rows, page, |b| b.id).map(BookingView::from),
    ))
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
    ApiPath(id): ApiPath<BookingId>,
) -> Result<Json<BookingView>, ApiError> {
    Ok(Json(
        state.bookings.visible(&Actor::new(user), id).await?.into(),
    ))
}
