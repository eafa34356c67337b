//! Tables `bookings` and `booking_seats`.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::hook_io::LineItem;
use crate::domain::types::BookingStatus;

pub use super::booking_seats::{taken_among, taken_seats};

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
    /// As recorded: a `held` row may have run out (see [`Booking::is_live`]).
    pub status: BookingStatus,
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
        self.status.is_live(self.expires_at, now)
    }
}

const COLUMNS: &str = "id, chain_id, show_id, user_id, status, seats, items, total_minor, currency, promo_code, expires_at, refund_minor, created_at";

// One clock for bookings. Every statement reads "now" as `statement_timestamp()`: one
// instant for the whole statement (not `clock_timestamp()`, which moves from row to row),
// taken when the statement starts, just before its snapshot; and every time a statement writes
// (`created_at`, `expires_at`, `taken_from`, `cancelled_at`, ...) is that same instant. So a
// statement that says a seat is taken or free, or a hold live or lapsed, says it about one
// moment, the one whose committed rows it sees. Rust's clock decides nothing here.

/// A booking row (of `bookings`) is live: held and unexpired, or confirmed.
/// The SQL function is migration 0009's, the one statement of "live" in SQL.
pub const LIVE: &str = "booking_is_live(status, expires_at)";

/// A seat row (of `booking_seats`) is taken: its interval has not ended. Every interval
/// starts when its statement ran, before any later statement's snapshot could see it.
pub const SEAT_TAKEN: &str = "taken_until > statement_timestamp()";

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

/// What [`insert_hold`] did.
#[derive(Debug)]
pub enum HoldOutcome {
    /// The booking is in and every seat is taken until it expires.
    Held(Box<Booking>),
    /// These seats (sorted) conflicted with a committed live booking's seats: the caller must
    /// roll the transaction back.
    Taken(Vec<String>),
}

/// Inserts a held booking and takes its seats from one instant, the booking's `created_at`
/// (the statement's `statement_timestamp()`), until `expires_at`, so a hold's interval starts
/// when the hold was taken, however long the seats' insert then waits on other holds.
///
/// The seats are inserted with `on conflict do nothing`, which makes
/// `booking_seats_live_key` the arbiter: PostgreSQL checks each seat against the
/// constraint, waits for a conflicting hold still in flight to commit or roll back, and skips
/// only the seats that conflict with a committed live row. Those skipped seats are exactly
/// what conflicted, read from the constraint itself at the moment of the check, never from a
/// second read at another instant; and a hold that rolled back never counts. (A plain insert
/// raises on the first conflict only, and two holds inserting the same seat at once can
/// deadlock inside the constraint check instead.) Seats go in sorted order so two holds
/// racing for overlapping seats wait on each other in the same order.
#[tracing::instrument(skip_all)]
pub async fn insert_hold(
    conn: &mut PgConnection,
    h: &NewHold<'_>,
) -> Result<HoldOutcome, sqlx::Error> {
    let id = Uuid::now_v7();
    let booking: Booking = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into bookings (id, chain_id, show_id, user_id, status, seats, items, total_minor,
            currency, promo_code, created_at, expires_at)
         values ($1, $2, $3, $4, 'held', $5, $6, $7, $8, $9,
            statement_timestamp(), statement_timestamp() + make_interval(secs => $10))
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
    let inserted: Vec<String> = sqlx::query_scalar(
        "insert into booking_seats (chain_id, booking_id, show_id, seat_id, taken_from, taken_until)
         select $1, $2, $3, s, $5, $6 from unnest($4::text[]) s order by s
         on conflict do nothing
         returning seat_id",
    )
    .bind(h.chain_id)
    .bind(id)
    .bind(h.show_id)
    .bind(h.seats)
    .bind(booking.created_at)
    .bind(booking.expires_at)
    .fetch_all(conn)
    .await?;
    if inserted.len() == h.seats.len() {
        return Ok(HoldOutcome::Held(Box::new(booking)));
    }
    let mut taken: Vec<String> = h
        .seats
        .iter()
        .filter(|s| !inserted.contains(s))
        .cloned()
        .collect();
    taken.sort();
    Ok(HoldOutcome::Taken(taken))
}

/// One booking, by id alone: the entry point of every request that names a booking (its
/// chain is learnt here; every later statement carries it). On a cluster distributed by chain
/// this is the one lookup that asks every shard.
#[tracing::instrument(skip_all)]
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<Booking>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from bookings where id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A booking locked until the end of the transaction, and whether it is live at the
/// statement's instant.
#[derive(Debug, sqlx::FromRow)]
pub struct Locked {
    /// The booking.
    #[sqlx(flatten)]
    pub booking: Booking,
    /// Held and unexpired, or confirmed, at the database's `statement_timestamp()`.
    pub live: bool,
}

/// One booking of the chain, locked until the end of the transaction.
#[tracing::instrument(skip_all)]
pub async fn lock(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
) -> Result<Option<Locked>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS}, {LIVE} as live from bookings where chain_id = $1 and id = $2 for update"
    )))
    .bind(chain)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Confirms a held booking whose hold has not run out at the statement's instant: the booking
/// and its seats change in one statement, taken for good. `None` when the hold has lapsed.
/// Violates `booking_seats_live_key` if someone else took a seat after the hold ran out.
#[tracing::instrument(skip_all)]
pub async fn confirm(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
) -> Result<Option<Booking>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "with b as (
            update bookings set status = 'confirmed', confirmed_at = statement_timestamp()
            where chain_id = $1 and id = $2 and status = 'held'
              and booking_is_live(status, expires_at)
            returning {COLUMNS}),
         s as (
            update booking_seats set taken_until = 'infinity'
            where chain_id = $1 and booking_id = (select id from b))
         select * from b"
    )))
    .bind(chain)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Cancels a booking with a refund; its seats are free from this moment, the booking's
/// `cancelled_at` (one statement, one instant).
#[tracing::instrument(skip_all)]
pub async fn cancel(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
    refund_minor: i64,
) -> Result<Booking, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "with s as (
            update booking_seats
            set taken_until = greatest(taken_from, least(taken_until, statement_timestamp()))
            where chain_id = $3 and booking_id = $1)
         update bookings set status = 'cancelled', cancelled_at = statement_timestamp(),
            refund_minor = $2
         where chain_id = $3 and id = $1 returning {COLUMNS}"
    )))
    .bind(id)
    .bind(refund_minor)
    .bind(chain)
    .fetch_one(conn)
    .await
}

/// Marks up to `limit` holds whose time ran out as expired (their seats are already free)
/// and returns them; concurrent sweepers skip each other's rows.
#[tracing::instrument(skip_all)]
pub async fn expire_due(conn: &mut PgConnection, limit: i64) -> Result<Vec<Booking>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update bookings set status = 'expired', expired_at = statement_timestamp()
         where id in (select id from bookings
                      where status = 'held' and not booking_is_live(status, expires_at)
                      order by expires_at limit $1 for update skip locked)
         returning {COLUMNS}"
    )))
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Live bookings of a show, locked (for cancelling the show).
#[tracing::instrument(skip_all)]
pub async fn lock_live_of_show(
    conn: &mut PgConnection,
    chain: Uuid,
    show: Uuid,
) -> Result<Vec<Booking>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from bookings where chain_id = $1 and show_id = $2 and {LIVE}
         order by id for update"
    )))
    .bind(chain)
    .bind(show)
    .fetch_all(conn)
    .await
}

/// Seats the user holds right now (held, unpaid, unexpired): for the show, and for every
/// show of the chain.
#[tracing::instrument(skip_all)]
pub async fn held_seats(
    conn: &mut PgConnection,
    user: Uuid,
    show: Uuid,
    chain: Uuid,
) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "select coalesce(sum(cardinality(seats)) filter (where show_id = $2), 0)::bigint,
                coalesce(sum(cardinality(seats)), 0)::bigint
         from bookings
         where user_id = $1 and chain_id = $3 and status = 'held'
           and booking_is_live(status, expires_at)",
    )
    .bind(user)
    .bind(show)
    .bind(chain)
    .fetch_one(conn)
    .await
}

/// How many confirmed bookings the user has with the chain.
#[tracing::instrument(skip_all)]
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
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from bookings
         where ($1::uuid is null or user_id = $1) and ($2::uuid is null or chain_id = $2)
           and ($3::text is null or status = $3::text) and ($4::uuid is null or id > $4)
         order by id limit $5"
    )))
    .bind(f.user_id)
    .bind(f.chain_id)
    .bind(f.status)
    .bind(after)
    .bind(fetch)
    .fetch_all(conn)
    .await
}

/// Whether the show has live bookings (held and unexpired, or confirmed).
#[tracing::instrument(skip_all)]
pub async fn show_has_live(conn: &mut PgConnection, show: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select exists (select 1 from bookings where show_id = $1 and {LIVE})"
    )))
    .bind(show)
    .fetch_one(conn)
    .await
}
