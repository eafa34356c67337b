//! Table `payments`.

use crate::domain::types::PaymentStatus;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A payment.
#[derive(Debug, Clone)]
pub struct Payment {
    /// Id.
    pub id: Uuid,
    /// Chain.
    pub chain_id: Uuid,
    /// Booking paid.
    pub booking_id: Uuid,
    /// Payer.
    pub user_id: Uuid,
    /// Amount.
    pub amount_minor: i64,
    /// Currency.
    pub currency: String,
    /// Charged or refunded.
    pub status: PaymentStatus,
    /// The gateway's reference.
    pub provider_ref: String,
    /// Refunded so far.
    pub refunded_minor: i64,
    /// The gift card that paid `gift_card_minor` of `amount_minor`, if any.
    pub gift_card_id: Option<Uuid>,
    /// Paid by the gift card (0 without one); the card token paid the rest.
    pub gift_card_minor: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// A payment to record.
#[derive(Debug, Clone, Copy)]
pub struct NewPayment<'a> {
    /// Its id, chosen before the charge (a gift card's movement refers to it).
    pub id: Uuid,
    /// Chain.
    pub chain: Uuid,
    /// Booking paid.
    pub booking: Uuid,
    /// Payer.
    pub user: Uuid,
    /// The whole amount (gift card part included).
    pub amount_minor: i64,
    /// Currency.
    pub currency: &'a str,
    /// The gateway's reference.
    pub provider_ref: &'a str,
    /// The gift card that paid part of it, and how much.
    pub gift_card: Option<(Uuid, i64)>,
}

/// Records a successful payment; `payments_booking_key` makes a second one impossible.
#[tracing::instrument(skip_all)]
pub async fn insert(conn: &mut PgConnection, p: NewPayment<'_>) -> Result<Payment, sqlx::Error> {
    sqlx::query_as!(
        Payment,
        r#"insert into payments (id, chain_id, booking_id, user_id, amount_minor, currency,
                                provider_ref, gift_card_id, gift_card_minor)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id, chain_id, booking_id, user_id,
                amount_minor, currency, status as "status: PaymentStatus", provider_ref,
                refunded_minor, gift_card_id, gift_card_minor, created_at"#,
        p.id,
        p.chain,
        p.booking,
        p.user,
        p.amount_minor,
        p.currency,
        p.provider_ref,
        p.gift_card.map(|(card, _)| card),
        p.gift_card.map_or(0, |(_, minor)| minor),
    )
    .fetch_one(conn)
    .await
}

/// Adds a refund to a booking's payment (if it was paid): refunds add up, and
/// `payments_refund_check` keeps their sum within what was paid. A refund of more than nothing
/// is also written to the ledger `payment_refunds` with its time, in the same statement, so
/// that reports can say which day it belongs to.
#[tracing::instrument(skip_all)]
pub async fn refund(
    conn: &mut PgConnection,
    chain: Uuid,
    booking: Uuid,
    amount_minor: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"with paid as (
             update payments set refunded_minor = refunded_minor + $2,
                 status = case when refunded_minor + $2::bigint = 0 then status
                               when refunded_minor + $2 = amount_minor then 'refunded'
                               else 'partially_refunded' end
              where chain_id = $3 and booking_id = $1
              returning id, chain_id, booking_id)
         insert into payment_refunds (id, chain_id, payment_id, booking_id, amount_minor)
         select $4, chain_id, id, booking_id, $2 from paid where $2 > 0"#,
        booking,
        amount_minor,
        chain,
        Uuid::now_v7(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One payment.
#[tracing::instrument(skip_all)]
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<Payment>, sqlx::Error> {
    sqlx::query_as!(
        Payment,
        r#"select id, chain_id, booking_id, user_id, amount_minor, currency,
                 status as "status: PaymentStatus", provider_ref, refunded_minor,
                 gift_card_id, gift_card_minor, created_at from payments where id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// A page of payments, optionally only one user's or one chain's.
#[tracing::instrument(skip_all)]
pub async fn list(
    conn: &mut PgConnection,
    user: Option<Uuid>,
    chain: Option<Uuid>,
    after: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Payment>, sqlx::Error> {
    sqlx::query_as!(
        Payment,
        r#"select id, chain_id, booking_id, user_id, amount_minor, currency,
                 status as "status: PaymentStatus", provider_ref, refunded_minor,
                 gift_card_id, gift_card_minor, created_at from payments
         where ($1::uuid is null or user_id = $1) and ($2::uuid is null or chain_id = $2)
           and ($3::uuid is null or id > $3)
         order by id limit $4"#,
        user,
        chain,
        after,
        fetch,
    )
    .fetch_all(conn)
    .await
}
