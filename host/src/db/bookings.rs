//! Tables `bookings` and `booking_seats`.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::hook_io::LineItem;

/// A booking row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Booking {
    /// Id.
    pub id: Uuid,
    /// Chain of the show.
    pub chain_id: Uuid,
    /// Show.
    pub show_id: Uuid,
    /// Customer.
    pub user_id: Uuid,
    /// `held`, `confirmed`, `cancelled` or `expired`.
    pub status: String,
    /// Seat ids.
    pub seats: Vec<String>,
    /// Priced line items.
    pub items: Json<Vec<LineItem>>,
    /// Total in minor units.
    pub total_minor: i64,
    /// Currency.
    pub currency: String,
    /// Promo code the customer gave.
    pub promo_code: Option<String>,
    /// End of the hold.
    pub expires_at: DateTime<Utc>,
    /// Refund on cancellation.
    pub refund_minor: Option<i64>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl Booking {
    /// Held and not yet expired, or confirmed: its seats are taken.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.status == "confirmed" || (self.status == "held" && self.expires_at > now)
    }
}

const COLUMNS: &str = "id, chain_id, show_id, user_id, status, seats, items, total_minor, currency, promo_code, expires_at, refund_minor, created_at";

/// A new hold.
pub struct NewHold<'a> {
    /// Chain.
    pub chain_id: Uuid,
    /// Show.
    pub show_id: Uuid,
    /// Customer.
    pub user_id: Uuid,
    /// Seats.
    pub seats: &'a [String],
    /// Items.
    pub items: &'a [LineItem],
    /// Total.
    pub total_minor: i64,
    /// Currency.
    pub currency: &'a str,
    /// Promo code.
    pub promo_code: Option<&'a str>,
    /// Hold length.
    pub hold_seconds: u32,
}

/// Inserts a held booking and takes its seats until it expires. Violates
/// `booking_seats_live_key` when a seat is taken. Seats are inserted in sorted order so two
/// holds racing for overlapping seats wait on each other in the same order instead of
/// deadlocking.
pub async fn insert_hold(conn: &mut PgConnection, h: &NewHold<'_>) -> Result<Booking, sqlx::Error> {
    let id = Uuid::now_v7();
    let booking: Booking = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into bookings (id, chain_id, show_id, user_id, status, seats, items, total_minor,
            currency, promo_code, expires_at)
         values ($1, $2, $3, $4, 'held', $5, $6, $7, $8, $9,
            clock_timestamp() + make_interval(secs => $10))
         returning {COLUMNS}"
    )))
    .bind(id)
    .bind(h.chain_id)
    .bind(h.show_id)
    .bind(h.user_id)
    .bind(h.seats)
    .bind(Json(h.items))
    .bind(h.total_minor)
    .bind(h.currency)
    .bind(h.promo_code)
    .bind(f64::from(h.hold_seconds))
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "insert into booking_seats (chain_id, booking_id, show_id, seat_id, taken_from, taken_until)
         select $1, $2, $3, s, clock_timestamp(), $5 from unnest($4::text[]) s order by s",
    )
    .bind(h.chain_id)
    .bind(id)
    .bind(h.show_id)
    .bind(h.seats)
    .bind(booking.expires_at)
    .execute(conn)
    .await?;
    Ok(booking)
}

/// One booking.
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<Booking>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from bookings where id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// One booking, locked until the end of the transaction.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<Option<Booking>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from bookings where id = $1 for update"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Confirms a held booking: its seats become taken for good. Violates
/// `booking_seats_live_key` if the hold expired and someone else took a seat meanwhile.
pub async fn confirm(conn: &mut PgConnection, id: Uuid) -> Result<Booking, sqlx::Error> {
    sqlx::query("update booking_seats set taken_until = 'infinity' where booking_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update bookings set status = 'confirmed', confirmed_at = now() where id = $1 returning {COLUMNS}"
    )))
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Cancels a booking with a refund; its seats are free from this moment.
pub async fn cancel(
    conn: &mut PgConnection,
    id: Uuid,
    refund_minor: i64,
) -> Result<Booking, sqlx::Error> {
    sqlx::query(
        "update booking_seats set taken_until = greatest(taken_from, least(taken_until, clock_timestamp()))
         where booking_id = $1",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update bookings set status = 'cancelled', cancelled_at = now(), refund_minor = $2
         where id = $1 returning {COLUMNS}"
    )))
    .bind(id)
    .bind(refund_minor)
    .fetch_one(conn)
    .await
}

/// Marks up to `limit` holds whose time ran out as expired (their seats are already free)
/// and returns them; concurrent sweepers skip each other's rows.
pub async fn expire_due(conn: &mut PgConnection, limit: i64) -> Result<Vec<Booking>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update bookings set status = 'expired', expired_at = now()
         where id in (select id from bookings where status = 'held' and expires_at <= clock_timestamp()
                      order by expires_at limit $1 for update skip locked)
         returning {COLUMNS}"
    )))
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Live bookings of a show, locked (for cancelling the show).
pub async fn lock_live_of_show(
    conn: &mut PgConnection,
    show: Uuid,
) -> Result<Vec<Booking>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from bookings
         where show_id = $1 and (status = 'confirmed' or (status = 'held' and expires_at > clock_timestamp()))
         order by id for update"
    )))
    .bind(show)
    .fetch_all(conn)
    .await
}

/// Seats of the show taken right now, by state (`held` or `sold`).
pub async fn taken_seats(
    conn: &mut PgConnection,
    show: Uuid,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    // A confirmed booking's seats are taken until 'infinity', so no join to `bookings` is
    // needed to tell sold from held.
    sqlx::query_as(
        "select seat_id, case when taken_until = 'infinity' then 'sold' else 'held' end
         from booking_seats
         where show_id = $1 and taken_from <= clock_timestamp() and taken_until > clock_timestamp()",
    )
    .bind(show)
    .fetch_all(conn)
    .await
}

/// How many seats of the show are taken right now, and which of `among` are.
pub async fn taken_among(
    conn: &mut PgConnection,
    show: Uuid,
    among: &[&str],
) -> Result<(i64, Vec<String>), sqlx::Error> {
    // One pass over the show's live seats; only the few the caller asks about come back,
    // not the whole map of a busy show.
    sqlx::query_as(
        "select count(*), coalesce(array_agg(seat_id) filter (where seat_id = any($2)), '{}')
         from booking_seats
         where show_id = $1 and taken_from <= clock_timestamp() and taken_until > clock_timestamp()",
    )
    .bind(show)
    .bind(among)
    .fetch_one(conn)
    .await
}

/// Which of `seats` are taken for the show right now.
pub async fn which_taken(
    conn: &mut PgConnection,
    show: Uuid,
    seats: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select distinct seat_id from booking_seats
         where show_id = $1 and seat_id = any($2) and taken_until > clock_timestamp()
         order by seat_id",
    )
    .bind(show)
    .bind(seats)
    .fetch_all(conn)
    .await
}

/// How many confirmed bookings the user has with the chain.
pub async fn confirmed_count(
    conn: &mut PgConnection,
    user: Uuid,
    chain: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "select count(*) from bookings where user_id = $1 and chain_id = $2 and status = 'confirmed'",
    )
    .bind(user)
    .bind(chain)
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
    /// Only this status.
    pub status: Option<String>,
}

/// A page of bookings.
pub async fn list(
    conn: &mut PgConnection,
    f: &BookingFilter,
    after: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Booking>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from bookings
         where ($1::uuid is null or user_id = $1) and ($2::uuid is null or chain_id = $2)
           and ($3::text is null or status = $3) and ($4::uuid is null or id > $4)
         order by id limit $5"
    )))
    .bind(f.user_id)
    .bind(f.chain_id)
    .bind(&f.status)
    .bind(after)
    .bind(fetch)
    .fetch_all(conn)
    .await
}

/// Whether the show has live bookings (held and unexpired, or confirmed).
pub async fn show_has_live(conn: &mut PgConnection, show: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from bookings where show_id = $1
            and (status = 'confirmed' or (status = 'held' and expires_at > clock_timestamp())))",
    )
    .bind(show)
    .fetch_one(conn)
    .await
}
