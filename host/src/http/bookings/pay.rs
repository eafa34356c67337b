//! Paying a booking.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{PaymentView, to_json};
use crate::domain::bookings::PayCommand;
use crate::domain::gift_cards::{GiftCardCode, MAX_CODE_INPUT_LEN};
use crate::domain::types::BookingId;
use crate::domain::{Actor, DomainError};
use crate::http::extract::{ApiJson, ApiPath, AuthUser, Problems};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::{ApiError, Problem};
use crate::state::AppState;

/// Longest card token, in bytes after trimming.
const MAX_CARD_TOKEN: usize = 200;

fn card_token_schema() -> utoipa::openapi::schema::OneOfBuilder {
    crate::http::schema::nullable(crate::http::schema::trimmed_text(MAX_CARD_TOKEN))
}

/// Payment: by card token, by gift card, or by gift card first and card token for the rest.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct PayBody {
    /// Must equal the booking's `total_minor`.
    amount_minor: i64,
    /// Must equal the booking's currency.
    currency: String,
    /// Test gateway: any `tok_*`; `tok_declined` declines. Charged what the gift card does not
    /// cover; required without `gift_card_code`, may be left out when the card covers the
    /// total.
    #[schema(schema_with = card_token_schema)]
    card_token: Option<String>,
    /// A gift card of the booking's chain and currency, spent first (up to the total). Case,
    /// spaces and dashes do not matter; empty is the same as none.
    #[schema(schema_with = gift_card_code_schema)]
    gift_card_code: Option<String>,
}

fn gift_card_code_schema() -> utoipa::openapi::schema::OneOfBuilder {
    crate::http::schema::nullable(crate::http::schema::text(0, MAX_CODE_INPUT_LEN))
}

/// Pays a held booking: confirmation, gift card debit, payment and confirmation email commit
/// together. With `gift_card_code` the card pays first and `card_token` is charged the rest;
/// when the card covers the total no card is charged. Accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/bookings/{id}/payments", tag = "bookings", request_body = PayBody,
    params(("id" = Uuid, Path, description = "Booking id"), ("Idempotency-Key" = Option<crate::http::schema::IdempotencyKeyHeader>, Header, description = "Replays the first response for 24 h")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Paid; the booking is confirmed", body = PaymentView),
        (status = 402, description = "`payment_declined`; the hold stays and the gift card is not debited", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_paid`, `invalid_state` or `idempotency_conflict`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`hold_expired`; nothing was charged", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`amount_mismatch`; `gift_card_invalid` (unknown code, another chain's or currency's card, or not enough on it without a `card_token`); `validation_failed` (no `card_token` and no gift card)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn pay_booking(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<BookingId>,
    key: IdempotencyKey,
    ApiJson(body): ApiJson<PayBody>,
) -> Result<Response, ApiError> {
    let mut problems = Problems::default();
    let token = body.card_token.map(|t| t.trim().to_owned());
    if token
        .as_ref()
        .is_some_and(|t| t.is_empty() || t.len() > MAX_CARD_TOKEN)
    {
        problems.add("card_token", "must be 1 to 200 characters");
    }
    let code = body.gift_card_code.filter(|c| !c.trim().is_empty());
    if code
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_CODE_INPUT_LEN)
    {
        problems.add("gift_card_code", "must be at most 64 characters");
    }
    if token.is_none() && code.is_none() {
        problems.add("card_token", "is required without a gift_card_code");
    }
    problems.finish()?;
    let gift_card = code
        .map(|c| {
            GiftCardCode::parse(&c).ok_or_else(|| {
                ApiError::from(DomainError::GiftCardInvalid(
                    "no gift card has this code".into(),
                ))
            })
        })
        .transpose()?;
    // The key's fingerprint covers every field: the same key with another card is a reuse.
    // (Without a gift card it is the one used before gift cards existed.)
    let request = match &gift_card {
        None => format!(
            "POST /api/v1/bookings/{id}/payments {} {} {}",
            body.amount_minor,
            body.currency,
            token.as_deref().unwrap_or_default()
        ),
        Some(card) => format!(
            "POST /api/v1/bookings/{id}/payments {} {} card_token={:?} gift_card={}",
            body.amount_minor,
            body.currency,
            token,
            card.display()
        ),
    };
    let cmd = PayCommand {
        amount_minor: body.amount_minor,
        currency: body.currency,
        card_token: token,
        gift_card,
    };
    let actor = Actor::new(user);
    idempotency::run(&state, actor.id(), key, &request, || async {
        let payment = state.bookings.pay(&actor, id, cmd).await?;
        Ok((StatusCode::CREATED, to_json(&PaymentView::from(payment))?))
    })
    .await
}
