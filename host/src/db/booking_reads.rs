//! Reads of table `bookings` that change nothing: what a hold's components are told, how many
//! bookings a customer has, a page of bookings, whether a show has live ones. (Re-exported by `bookings`.)

use sqlx::PgConnection;
use uuid::Uuid;

use super::bookings::Booking;
use crate::domain::hook_io::LineItem;
use crate::domain::types::BookingStatus;
use sqlx::types::Json;

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
    /// Only the bookings of the customer with this email (compared without case, as
    /// `users.email` is `citext`).
    pub email: Option<String>,
    /// Only this show's.
    pub show_id: Option<Uuid>,
}

/// A page of bookings in id order. An email filter becomes the one user it names (the unique
/// index on `users.email`), so `bookings_user_idx` pages it; a show filter pages on
/// `bookings_show_id_idx`.
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
           and ($6::text is null
                or user_id = (select u.id from users u where u.email = $6::text::citext))
           and ($7::uuid is null or show_id = $7)
         order by id limit $5"#,
        f.user_id,
        f.chain_id,
        f.status.map(|s| s.as_str()),
        after,
        fetch,
        f.email.as_deref(),
        f.show_id,
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

/// What a hold's components are told, read in one statement (one round trip, one instant):
/// how many seats of the show are taken and which of `among` (the seats of the rows the hold
/// touches), the customer's confirmed bookings with the chain, and the seats they hold right
/// now (held, unpaid, unexpired) of the show and of the chain. The same predicates as
/// `taken_among` and [`confirmed_count`].
#[derive(Debug, Clone)]
pub struct HoldInputs {
    /// Seats of the show taken now.
    pub taken_count: i64,
    /// Which of `among` are taken.
    pub taken_among: Vec<String>,
    /// The customer's confirmed bookings with the chain.
    pub confirmed: i64,
    /// Seats the customer holds (live, unpaid) of this show.
    pub held_show: i64,
    /// Seats the customer holds of every show of the chain.
    pub held_chain: i64,
}

/// See [`HoldInputs`].
#[tracing::instrument(skip_all)]
pub async fn hold_inputs(
    conn: &mut PgConnection,
    (user, show, chain): (Uuid, Uuid, Uuid),
    among: &[&str],
) -> Result<HoldInputs, sqlx::Error> {
    let r = sqlx::query!(
        r#"select t.count as "taken_count!", t.taken as "taken!", c.count as "confirmed!",
                  h.show as "held_show!", h.chain as "held_chain!"
         from (select count(*) as count,
                      coalesce(array_agg(seat_id) filter (where seat_id = any($2)), '{}') as taken
               from booking_seats where show_id = $1 and taken_until > statement_timestamp()) t,
              (select count(*) as count from bookings
               where user_id = $3 and chain_id = $4 and status = 'confirmed') c,
              (select coalesce(sum(cardinality(seats)) filter (where show_id = $1), 0)::bigint as show,
                      coalesce(sum(cardinality(seats)), 0)::bigint as chain
               from bookings
               where user_id = $3 and chain_id = $4 and status = 'held'
                 and booking_is_live(status, expires_at)) h"#,
        show,
        among as &[&str],
        user,
        chain,
    )
    .fetch_one(conn)
    .await?;
    Ok(HoldInputs {
        taken_count: r.taken_count,
        taken_among: r.taken,
        confirmed: r.confirmed,
        held_show: r.held_show,
        held_chain: r.held_chain,
    })
}
