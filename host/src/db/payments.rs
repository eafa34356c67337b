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
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Records a successful payment; `payments_booking_key` makes a second one impossible.
#[tracing::instrument(skip_all)]
pub async fn insert(
    conn: &mut PgConnection,
    chain: Uuid,
    booking: Uuid,
    user: Uuid,
    amount_minor: i64,
    currency: &str,
    provider_ref: &str,
) -> Result<Payment, sqlx::Error> {
    sqlx::query_as!(
        Payment,
        r#"insert into payments (id, chain_id, booking_id, user_id, amount_minor, currency, provider_ref)
         values ($1, $2, $3, $4, $5, $6, $7) returning id, chain_id, booking_id, user_id,
                amount_minor, currency, status as "status: PaymentStatus", provider_ref,
                refunded_minor, created_at"#,
        Uuid::now_v7(),
        chain,
        booking,
        user,
        amount_minor,
        currency,
        provider_ref,
    )
    .fetch_one(conn)
    .await
}

/// Adds a refund to a booking's payment (if it was paid): refunds add up, and
/// `payments_refund_check` keeps their sum within what was paid.
#[tracing::instrument(skip_all)]
pub async fn refund(
    conn: &mut PgConnection,
    chain: Uuid,
    booking: Uuid,
    amount_minor: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update payments set refunded_minor = refunded_minor + $2,
            status = case when refunded_minor + $2::bigint = 0 then status
                          when refunded_minor + $2 = amount_minor then 'refunded'
                          else 'partially_refunded' end
         where chain_id = $3 and booking_id = $1"#,
        booking,
        amount_minor,
        chain,
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
                 created_at from payments where id = $1"#,
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
                 created_at from payments
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
