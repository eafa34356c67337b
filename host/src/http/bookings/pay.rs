//! Paying a booking.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{PaymentView, to_json};
use crate::domain::Actor;
use crate::domain::bookings::PayCommand;
use crate::domain::types::BookingId;
use crate::http::extract::{ApiJson, ApiPath, AuthUser, validation};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::{ApiError, Problem};
use crate::state::AppState;

/// Longest card token, in bytes after trimming.
const MAX_CARD_TOKEN: usize = 200;

fn card_token_schema() -> utoipa::openapi::schema::Object {
    crate::http::schema::trimmed_text(MAX_CARD_TOKEN).build()
}

/// Payment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct PayBody {
    /// Must equal the booking's `total_minor`.
    amount_minor: i64,
    /// Must equal the booking's currency.
    currency: String,
    /// Test gateway: any `tok_*`; `tok_declined` declines.
    #[schema(schema_with = card_token_schema)]
    card_token: String,
}

/// Pays a held booking: confirmation, payment and confirmation email commit together.
/// Accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/payments", tag = "bookings", request_body = PayBody,
    params(("id" = Uuid, Path, description = "Booking id"), ("Idempotency-Key" = Option<crate::http::schema::IdempotencyKeyHeader>, Header, description = "Replays the first response for 24 h")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Paid; the booking is confirmed", body = PaymentView),
        (status = 402, description = "`payment_declined`; the hold stays", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_paid`, `invalid_state` or `idempotency_conflict`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`hold_expired`; nothing was charged", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`amount_mismatch`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn pay_booking(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<BookingId>,
    key: IdempotencyKey,
    ApiJson(body): ApiJson<PayBody>,
) -> Result<Response, ApiError> {
    let token = body.card_token.trim().to_owned();
    if token.is_empty() || token.len() > MAX_CARD_TOKEN {
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
    let actor = Actor::new(user);
    idempotency::run(&state, actor.id(), key, &request, || async {
        let payment = state.bookings.pay(&actor, id, cmd).await?;
        Ok((StatusCode::CREATED, to_json(&PaymentView::from(payment))?))
    })
    .await
}
