//! Cancelling a booking, whole or some of its seats.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{BookingView, field};
use crate::domain::Actor;
use crate::domain::bookings;
use crate::domain::types::BookingId;
use crate::http::ApiError;
use crate::http::Problem;
use crate::http::extract::{ApiPath, AuthUser, OptionalJson, validation};
use crate::state::AppState;

/// A cancellation: nothing (or `{}`) cancels the whole booking; `seat_ids` cancels those seats
/// of a confirmed booking (all of them: the whole booking).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct CancelBody {
    /// Seats of the booking to cancel; the booking keeps the others.
    #[schema(schema_with = field::seat_ids)]
    seat_ids: Option<Vec<String>>,
}

/// Cancels a booking, or some seats of a confirmed one; the chain's rules decide the refund.
/// Empty body, `{}` or `{"seat_ids": [...]}`.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/cancel", tag = "bookings",
    request_body(content = Option<CancelBody>, description = "Optional: `seat_ids` to cancel only those seats"),
    params(("id" = Uuid, Path, description = "Booking id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Cancelled: the booking (with the seats it keeps after a partial cancellation) and `refund_minor`, this cancellation's refund when `seat_ids` was given", body = BookingView),
        (status = 404, description = "No such booking (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state`: not live, or `seat_ids` on a booking that is not confirmed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (seats not of this booking, duplicates) or `rule_violation`: the rules refuse (e.g. too close to the show)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`plugin_unavailable`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn cancel_booking(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<BookingId>,
    OptionalJson(body): OptionalJson<CancelBody>,
) -> Result<Json<BookingView>, ApiError> {
    let actor = Actor::new(user);
    let Some(raw) = body.seat_ids else {
        let booking = state.bookings.cancel(&actor, id).await?;
        return Ok(Json(booking.into()));
    };
    let seats = bookings::parse_seat_ids(&raw).map_err(|m| validation([("seat_ids", m)]))?;
    let done = state.bookings.cancel_seats(&actor, id, seats).await?;
    let mut view = BookingView::from(done.booking);
    view.refund_minor = Some(done.refund_minor);
    Ok(Json(view))
}

/// An empty object.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct EmptyBody {}
