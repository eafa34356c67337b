//! Gift cards: a chain's staff issue and read them; whoever holds a code reads its balance.
//! Paying with one is `POST /bookings/{id}/payments` (`gift_card_code`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath, ApiQuery, Problems, StaffUser, header_text, validation};
use super::page::{Page, PageRequest};
use super::ratelimit::ClientAddr;
use super::{ApiError, Problem};
use crate::domain::Actor;
use crate::domain::gift_cards::{
    GiftCard, GiftCardLedger, MAX_AMOUNT_MINOR, MAX_CODE_INPUT_LEN, Movement,
};
use crate::domain::types::{Currency, Money};
use crate::state::AppState;

/// The routes of this module, each declared once: its path and method come from the
/// handler's `#[utoipa::path]`, which also puts it in the OpenAPI document.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_gift_cards, issue_gift_card))
        .routes(routes!(get_gift_card))
        .routes(routes!(gift_card_balance))
}

/// The header that carries a code to `GET /gift-cards/balance` (a header, not the path or
/// query, so that it stays out of access logs).
const CODE_HEADER: &str = "gift-card-code";

/// A new gift card.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct IssueGiftCard {
    /// What the card is worth, in minor units.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    amount_minor: i64,
    /// An ISO 4217 code: three uppercase letters. Only bookings in this currency can spend it.
    #[schema(pattern = "^[A-Z]{3}$")]
    currency: String,
}

/// A card just issued, with its code: the only time the code is shown.
#[derive(Debug, Serialize, ToSchema)]
struct IssuedGiftCardView {
    id: Uuid,
    /// `GC-` and four groups of five characters; give it to the card's holder. It is stored
    /// only as a digest and never shown again.
    code: String,
    balance_minor: i64,
    currency: String,
    created_at: DateTime<Utc>,
}

/// A gift card as its chain's staff see it (never its code).
#[derive(Debug, Serialize, ToSchema)]
struct GiftCardView {
    id: Uuid,
    chain_id: Uuid,
    /// The code's last four characters, to tell cards apart.
    hint: String,
    balance_minor: i64,
    /// Issued with.
    initial_minor: i64,
    currency: String,
    /// The staff member who issued it.
    created_by: Uuid,
    created_at: DateTime<Utc>,
}

impl From<GiftCard> for GiftCardView {
    fn from(c: GiftCard) -> Self {
        Self {
            id: c.id,
            chain_id: c.chain_id,
            hint: c.hint,
            balance_minor: c.balance_minor,
            initial_minor: c.initial_minor,
            currency: c.currency,
            created_by: c.created_by,
            created_at: c.created_at,
        }
    }
}

/// One change of a card's balance, as the chain's staff see it.
#[derive(Debug, Serialize, ToSchema)]
struct MovementView {
    id: Uuid,
    /// `issue`, `spend` or `refund`.
    #[schema(pattern = "^(issue|spend|refund)$")]
    kind: String,
    /// Signed: a spend is negative.
    amount_minor: i64,
    /// The card's balance after this movement.
    balance_after_minor: i64,
    /// The booking paid or refunded.
    booking_id: Option<Uuid>,
    /// Its payment.
    payment_id: Option<Uuid>,
    /// Who caused it (the issuer, the payer, whoever cancelled).
    actor_id: Option<Uuid>,
    created_at: DateTime<Utc>,
}

impl From<Movement> for MovementView {
    fn from(m: Movement) -> Self {
        Self {
            id: m.id,
            kind: m.kind,
            amount_minor: m.amount_minor,
            balance_after_minor: m.balance_after_minor,
            booking_id: m.booking_id,
            payment_id: m.payment_id,
            actor_id: m.actor_id,
            created_at: m.created_at,
        }
    }
}

/// A card with its movements, for its chain's staff.
#[derive(Debug, Serialize, ToSchema)]
struct GiftCardLedgerView {
    #[serde(flatten)]
    card: GiftCardView,
    /// The latest 200 movements, oldest first. The balance is their sum (all of them).
    movements: Vec<MovementView>,
}

/// One change of a card's balance, as its holder sees it.
#[derive(Debug, Serialize, ToSchema)]
struct HolderMovementView {
    /// `issue`, `spend` or `refund`.
    #[schema(pattern = "^(issue|spend|refund)$")]
    kind: String,
    /// Signed: a spend is negative.
    amount_minor: i64,
    /// The card's balance after this movement.
    balance_after_minor: i64,
    created_at: DateTime<Utc>,
}

/// A card's balance, for whoever holds its code.
#[derive(Debug, Serialize, ToSchema)]
struct BalanceView {
    balance_minor: i64,
    currency: String,
    /// The latest 200 movements, oldest first.
    movements: Vec<HolderMovementView>,
}

impl From<GiftCardLedger> for BalanceView {
    fn from(l: GiftCardLedger) -> Self {
        Self {
            balance_minor: l.card.balance_minor,
            currency: l.card.currency,
            movements: l
                .movements
                .into_iter()
                .map(|m| HolderMovementView {
                    kind: m.kind,
                    amount_minor: m.amount_minor,
                    balance_after_minor: m.balance_after_minor,
                    created_at: m.created_at,
                })
                .collect(),
        }
    }
}

/// Issues a gift card; the answer holds its code, shown only this once.
#[utoipa::path(post, path = "/api/v1/chains/{id}/gift-cards", tag = "gift-cards", request_body = IssueGiftCard,
    params(("id" = Uuid, Path, description = "Chain id")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Issued, with its `code` (shown only here)", body = IssuedGiftCardView),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such chain (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn issue_gift_card(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(chain): ApiPath<Uuid>,
    ApiJson(body): ApiJson<IssueGiftCard>,
) -> Result<(StatusCode, Json<IssuedGiftCardView>), ApiError> {
    let mut problems = Problems::default();
    if !(1..=MAX_AMOUNT_MINOR).contains(&body.amount_minor) {
        problems.add("amount_minor", format!("must be 1 to {MAX_AMOUNT_MINOR}"));
    }
    let currency = problems.check("currency", Currency::parse(&body.currency));
    problems.finish()?;
    let Some(currency) = currency else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let issued = state
        .gift_cards
        .issue(
            &Actor::new(user),
            chain,
            Money::new(body.amount_minor, currency),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedGiftCardView {
            id: issued.card.id,
            code: issued.code.display(),
            balance_minor: issued.card.balance_minor,
            currency: issued.card.currency,
            created_at: issued.card.created_at,
        }),
    ))
}

/// Paging parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    #[param(schema_with = crate::http::schema::page_limit)]
    limit: Option<u32>,
    #[param(schema_with = crate::http::schema::page_cursor)]
    cursor: Option<String>,
}

/// Lists the chain's gift cards (without codes), oldest first.
#[utoipa::path(get, path = "/api/v1/chains/{id}/gift-cards", tag = "gift-cards",
    params(("id" = Uuid, Path, description = "Chain id"), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of gift cards", body = Page<GiftCardView>),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such chain (or not yours)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_gift_cards(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(chain): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<GiftCardView>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .gift_cards
        .list(&Actor::new(user), chain, page.after, page.fetch())
        .await?;
    Ok(Json(
        Page::from_rows(rows, page, |c| c.id).map(GiftCardView::from),
    ))
}

/// One gift card of the chain with its movements (without its code).
#[utoipa::path(get, path = "/api/v1/chains/{id}/gift-cards/{card_id}", tag = "gift-cards",
    params(("id" = Uuid, Path, description = "Chain id"), ("card_id" = Uuid, Path, description = "Gift card id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The card and its latest movements", body = GiftCardLedgerView),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such chain or card (or not yours)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_gift_card(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, card)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<GiftCardLedgerView>, ApiError> {
    let ledger = state.gift_cards.get(&Actor::new(user), chain, card).await?;
    Ok(Json(GiftCardLedgerView {
        card: ledger.card.into(),
        movements: ledger.movements.into_iter().map(Into::into).collect(),
    }))
}

/// The `Gift-Card-Code` header's schema.
struct GiftCardCodeHeader;

impl utoipa::PartialSchema for GiftCardCodeHeader {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::http::schema::trimmed_text(MAX_CODE_INPUT_LEN)
            .description(Some(
                "A gift card code such as `GC-7M3QD-K2X9V-8PTRA-4WZ1N`; case, spaces and dashes do not matter",
            ))
            .build()
            .into()
    }
}

impl ToSchema for GiftCardCodeHeader {}

/// A gift card's balance and movements, for whoever holds its code (no account needed).
/// Failed lookups are limited per client address.
#[utoipa::path(get, path = "/api/v1/gift-cards/balance", tag = "gift-cards",
    params(("Gift-Card-Code" = inline(GiftCardCodeHeader), Header, description = "The card's code")),
    responses(
        (status = 200, description = "The balance and the latest movements", body = BalanceView),
        (status = 404, description = "`not_found`: no gift card has this code", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: no `Gift-Card-Code` header, or a blank or overlong one", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`rate_limited`: too many unknown codes from this address, with Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
async fn gift_card_balance(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
) -> Result<Json<BalanceView>, ApiError> {
    let code = header_text(&headers, CODE_HEADER)?
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| validation([("Gift-Card-Code", "send the card's code in this header")]))?;
    if code.chars().count() > MAX_CODE_INPUT_LEN {
        return Err(validation([(
            "Gift-Card-Code",
            format!("must be at most {MAX_CODE_INPUT_LEN} characters"),
        )]));
    }
    let ledger = state.gift_cards.by_code(&client.key(), code).await?;
    Ok(Json(ledger.into()))
}
