//! The demo data's own SQL (`crate::demo`): the past, which no use case can write (the
//! booking service sells only shows that have not started, and stamps everything `now()`),
//! and the questions the loader asks to stay idempotent.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::hook_io::LineItem;

/// A sale of the past, written as the booking service would have left it.
#[derive(Debug)]
pub struct PastSale<'a> {
    /// Booking id (fixed, so that loading again writes nothing).
    pub id: Uuid,
    /// Payment id (fixed too).
    pub payment_id: Uuid,
    /// Chain.
    pub chain_id: Uuid,
    /// The show (of the past).
    pub show_id: Uuid,
    /// Customer.
    pub user_id: Uuid,
    /// Seat ids.
    pub seats: &'a [String],
    /// Priced line items.
    pub items: &'a [LineItem],
    /// Total in minor units.
    pub total_minor: i64,
    /// Currency.
    pub currency: &'a str,
    /// When it was held and paid.
    pub paid_at: DateTime<Utc>,
    /// When it was cancelled in full (and refunded in full), if it was.
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// Writes a past sale (booking, its seats taken for good or until the cancellation, its
/// payment) unless its booking exists; true when it wrote it.
pub async fn insert_past_sale(
    conn: &mut PgConnection,
    s: &PastSale<'_>,
) -> Result<bool, sqlx::Error> {
    let status = if s.cancelled_at.is_some() {
        "cancelled"
    } else {
        "confirmed"
    };
    let payment_status = if s.cancelled_at.is_some() {
        "refunded"
    } else {
        "succeeded"
    };
    let refund = s.cancelled_at.map(|_| s.total_minor);
    let written = sqlx::query_scalar!(
        r#"with b as (
               insert into bookings (id, chain_id, show_id, user_id, status, seats, items,
                   total_minor, currency, expires_at, refund_minor, created_at, updated_at,
                   confirmed_at, cancelled_at)
               values ($1, $2, $3, $4, $5::text, $6::text[], $7, $8, $9,
                   $10::timestamptz + interval '10 minutes', $11::bigint, $10::timestamptz,
                   coalesce($12::timestamptz, $10::timestamptz), $10::timestamptz,
                   $12::timestamptz)
               on conflict do nothing
               returning id
           ), s as (
               insert into booking_seats (chain_id, booking_id, show_id, seat_id, taken_from,
                   taken_until)
               select $2, b.id, $3, seat, $10::timestamptz,
                   coalesce($12::timestamptz, 'infinity')
               from b, unnest($6::text[]) as seat
           ), p as (
               insert into payments (id, chain_id, booking_id, user_id, amount_minor, currency,
                   status, provider_ref, refunded_minor, created_at, updated_at)
               select $13, $2, b.id, $4, $8, $9, $14::text, 'demo-history',
                   coalesce($11::bigint, 0), $10::timestamptz,
                   coalesce($12::timestamptz, $10::timestamptz)
               from b
           )
           select count(*) as "n!" from b"#,
        s.id,
        s.chain_id,
        s.show_id,
        s.user_id,
        status,
        s.seats,
        Json(s.items) as _,
        s.total_minor,
        s.currency,
        s.paid_at,
        refund,
        s.cancelled_at,
        s.payment_id,
        payment_status,
    )
    .fetch_one(conn)
    .await?;
    Ok(written == 1)
}

/// Whether the show exists (a past slot the demo wanted may be taken by another show).
pub async fn show_exists(conn: &mut PgConnection, show: Uuid) -> Result<bool, sqlx::Error> {
    let found = sqlx::query_scalar!(
        r#"select exists(select 1 from shows where id = $1) as "e!""#,
        show
    )
    .fetch_one(conn)
    .await?;
    Ok(found)
}

/// Live (held or confirmed) bookings of `users` on the chain's shows that have not started:
/// the marker of the coming week's scenario.
pub async fn upcoming_bookings_of(
    conn: &mut PgConnection,
    chain: Uuid,
    users: &[Uuid],
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from bookings b join shows s on s.id = b.show_id
           where b.chain_id = $1 and b.user_id = any($2) and b.status in ('held', 'confirmed')
             and s.starts_at > now()"#,
        chain,
        users,
    )
    .fetch_one(conn)
    .await
}

/// The chain's scheduled shows that start after `after`, soonest first: (id, screen, start).
pub async fn upcoming_shows(
    conn: &mut PgConnection,
    chain: Uuid,
    after: DateTime<Utc>,
) -> Result<Vec<(Uuid, Uuid, DateTime<Utc>)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select id, screen_id, starts_at from shows
           where chain_id = $1 and status = 'scheduled' and starts_at > $2
           order by starts_at, screen_id"#,
        chain,
        after,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.screen_id, r.starts_at))
        .collect())
}

/// How many gift cards the chain has.
pub async fn gift_card_count(conn: &mut PgConnection, chain: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from gift_cards where chain_id = $1"#,
        chain
    )
    .fetch_one(conn)
    .await
}
