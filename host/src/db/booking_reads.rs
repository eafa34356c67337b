//! Reads of table `bookings` that change nothing: what a customer holds, how many bookings
//! they have, a page of bookings, whether a show has live ones. (Re-exported by `bookings`.)

use sqlx::PgConnection;
use uuid::Uuid;

use super::bookings::Booking;
use crate::domain::hook_io::LineItem;
use crate::domain::types::BookingStatus;
use sqlx::types::Json;

/// Seats the user holds right now (held, unpaid, unexpired): for the show, and for every
/// show of the chain.
#[tracing::instrument(skip_all)]
pub async fn held_seats(
    conn: &mut PgConnection,
    user: Uuid,
    show: Uuid,
    chain: Uuid,
) -> Result<(i64, i64), sqlx::Error> {
    let held = sqlx::query!(
        r#"select coalesce(sum(cardinality(seats)) filter (where show_id = $2),
                 0)::bigint as "show!",
                coalesce(sum(cardinality(seats)), 0)::bigint as "chain!"
         from bookings
         where user_id = $1 and chain_id = $3 and status = 'held'
           and booking_is_live(status, expires_at)"#,
        user,
        show,
        chain,
    )
    .fetch_one(conn)
    .await?;
    Ok((held.show, held.chain))
}

/// How many confirmed bookings the user has with the chain.
#[tracing::instrument(skip_all)]
pub async fn confirmed_count(
    conn: &mut PgConnection,
    user: Uuid,
    chain: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "v!" from bookings where user_id = $1 and chain_id = $2 and status = 'confirmed'"#,
        user,
        chain,
    )
    .fetch_one(conn)
    .await
}

/// Who may see which bookings.
#[derive(Debug, Default)]
pub struct BookingFilter {
    /// Only this customer's.
    pub user_id: Option<Uuid>,
    /// Only this chain's.
    pub chain_id: Option<Uuid>,
    /// Only this status (as recorded).
    pub status: Option<BookingStatus>,
}

/// A page of bookings.
#[tracing::instrument(skip_all)]
pub async fn list(
    conn: &mut PgConnection,
    f: &BookingFilter,
    after: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Booking>, sqlx::Error> {
    sqlx::query_as!(
        Booking,
        r#"select id, chain_id, show_id, user_id, status as "status: BookingStatus", seats,
                 items as "items: Json<Vec<LineItem>>", total_minor, currency, promo_code,
                 expires_at, refund_minor, created_at,
                 voucher_id, booking_voucher_code(voucher_id) as voucher_code, discount_minor from bookings
         where ($1::uuid is null or user_id = $1) and ($2::uuid is null or chain_id = $2)
           and ($3::text is null or status = $3::text) and ($4::uuid is null or id > $4)
         order by id limit $5"#,
        f.user_id,
        f.chain_id,
        f.status.map(|s| s.as_str()),
        after,
        fetch,
    )
    .fetch_all(conn)
    .await
}

/// Whether the show has live bookings (held and unexpired, or confirmed).
#[tracing::instrument(skip_all)]
pub async fn show_has_live(conn: &mut PgConnection, show: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from bookings where show_id = $1 and booking_is_live(status,
                 expires_at)) as "v!""#,
        show,
    )
    .fetch_one(conn)
    .await
}
