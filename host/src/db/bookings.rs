//! Tables `bookings` and `booking_seats`.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::postgres::PgDatabaseError;
use sqlx::types::Json;
use uuid::Uuid;

use super::audit::{Columns, NewEntry};
use crate::domain::hook_io::LineItem;
use crate::domain::types::BookingStatus;

pub use super::booking_reads::{
    BookingFilter, HoldInputs, confirmed_count, hold_inputs, list, show_has_live,
};
pub use super::booking_seats::{taken_among, taken_seats};

/// A booking row.
#[derive(Debug, Clone)]
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
    /// The voucher the booking redeems (its promo code matched it).
    pub voucher_id: Option<Uuid>,
    /// That voucher's code, as the voucher spells it.
    pub voucher_code: Option<String>,
    /// What the voucher took off the price (0 without one); `total_minor` is after it.
    pub discount_minor: i64,
}

impl Booking {
    /// Held and not yet expired, or confirmed: its seats are taken.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.status.is_live(self.expires_at, now)
    }
}

// One clock for bookings. Every statement reads "now" as `statement_timestamp()`: one
// instant for the whole statement (not `clock_timestamp()`, which moves from row to row),
// taken when the statement starts, just before its snapshot; and every time a statement writes
// (`created_at`, `expires_at`, `taken_from`, `cancelled_at`, ...) is that same instant. So a
// statement that says a seat is taken or free, or a hold live or lapsed, says it about one
// moment, the one whose committed rows it sees. Rust's clock decides nothing here.
//
// Two predicates recur, written out in each query because `sqlx::query!` checks literal SQL:
// - a booking row is live: `booking_is_live(status, expires_at)`, migration 0009's function,
//   the one statement of "live" in SQL (`BookingStatus::is_live` is the Rust one);
// - a seat row (of `booking_seats`) is taken: `taken_until > statement_timestamp()`: its
//   interval has not ended. Every interval starts when its statement ran, before any later
//   statement's snapshot could see it.

/// A new hold.
pub struct NewHold<'a> {
    /// The booking's id, chosen before its components run (their run records name it).
    pub id: Uuid,
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
    /// The voucher it redeems, locked and counted in this transaction (`vouchers::lock`).
    pub voucher_id: Option<Uuid>,
    /// What the voucher took off.
    pub discount_minor: i64,
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
    let id = h.id;
    let booking: Booking = sqlx::query_as!(
        Booking,
        r#"insert into bookings (id, chain_id, show_id, user_id, status, seats, items, total_minor,
            currency, promo_code, created_at, expires_at, voucher_id, discount_minor)
         values ($1, $2, $3, $4, 'held', $5, $6, $7, $8, $9,
            statement_timestamp(), statement_timestamp() + make_interval(secs => $10), $11, $12)
         returning id, chain_id, show_id, user_id, status as "status: BookingStatus", seats,
                items as "items: Json<Vec<LineItem>>", total_minor, currency, promo_code,
                expires_at, refund_minor, created_at, voucher_id, booking_voucher_code(voucher_id) as voucher_code, discount_minor"#,
        id,
        h.chain_id,
        h.show_id,
        h.user_id,
        h.seats,
        Json(h.items) as _,
        h.total_minor,
        h.currency,
        h.promo_code,
        f64::from(h.hold_seconds),
        h.voucher_id,
        h.discount_minor,
    )
    .fetch_one(&mut *conn)
    .await?;
    let inserted: Vec<String> = sqlx::query_scalar!(
        r#"insert into booking_seats (chain_id, booking_id, show_id, seat_id, taken_from, taken_until)
         select $1, $2, $3, s, $5, $6 from unnest($4::text[]) s order by s
         on conflict do nothing
         returning seat_id"#,
        h.chain_id,
        id,
        h.show_id,
        h.seats,
        booking.created_at,
        booking.expires_at,
    )
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

/// [`insert_hold`] and the show's check in one statement (one round trip): `show_hold_check`
/// (migration 0021) takes the show's shared lock and reads it with a fresh snapshot; the
/// booking goes in only if the show is still scheduled, not started, and at `versions` (the
/// `updated_at` of the show and of its chain the caller's context was read at), then its seats
/// as [`insert_hold`] inserts them. `None`: nothing was inserted, because the show no longer
/// sells or changed since `versions` (the caller tells which with `shows::lock_for_hold`).
/// With the outcome, whether the chain has a live webhook endpoint for `booking.held` at the
/// statement's instant (without one, the hold needs no statement for its deliveries).
#[tracing::instrument(skip_all)]
pub async fn insert_checked_hold(
    conn: &mut PgConnection,
    h: &NewHold<'_>,
    versions: (DateTime<Utc>, DateTime<Utc>),
) -> Result<Option<(HoldOutcome, bool)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"with st as (
            select status, version, chain_version from show_hold_check($2, $3)
         ), b as (
            insert into bookings (id, chain_id, show_id, user_id, status, seats, items, total_minor,
                currency, promo_code, created_at, expires_at, voucher_id, discount_minor)
            select $1, $2, $3, $4, 'held', $5, $6, $7, $8, $9,
                statement_timestamp(), statement_timestamp() + make_interval(secs => $10), $11, $12
            from st where st.status = 'scheduled' and st.version = $13 and st.chain_version = $14
            returning id, chain_id, show_id, user_id, status, seats, items, total_minor, currency,
                promo_code, expires_at, refund_minor, created_at, voucher_id, discount_minor
         ), s as (
            insert into booking_seats (chain_id, booking_id, show_id, seat_id, taken_from, taken_until)
            select b.chain_id, b.id, b.show_id, x, b.created_at, b.expires_at
            from b, unnest($5::text[]) x order by x
            on conflict do nothing
            returning seat_id
         )
         select id, chain_id, show_id, user_id, status as "status: BookingStatus", seats,
                items as "items: Json<Vec<LineItem>>", total_minor, currency, promo_code,
                expires_at, refund_minor, created_at, voucher_id,
                booking_voucher_code(voucher_id) as voucher_code, discount_minor,
                array(select seat_id from s) as "inserted!",
                exists(select 1 from webhook_endpoints e
                       where e.chain_id = $2 and 'booking.held' = any(e.events)
                         and e.deleted_at is null) as "webhooks!"
         from b"#,
        h.id,
        h.chain_id,
        h.show_id,
        h.user_id,
        h.seats,
        Json(h.items) as _,
        h.total_minor,
        h.currency,
        h.promo_code,
        f64::from(h.hold_seconds),
        h.voucher_id,
        h.discount_minor,
        versions.0,
        versions.1,
    )
    .fetch_optional(conn)
    .await?;
    let Some(r) = row else {
        return Ok(None);
    };
    let webhooks = r.webhooks;
    if r.inserted.len() == h.seats.len() {
        let held = HoldOutcome::Held(Box::new(Booking {
            id: r.id,
            chain_id: r.chain_id,
            show_id: r.show_id,
            user_id: r.user_id,
            status: r.status,
            seats: r.seats,
            items: r.items,
            total_minor: r.total_minor,
            currency: r.currency,
            promo_code: r.promo_code,
            expires_at: r.expires_at,
            refund_minor: r.refund_minor,
            created_at: r.created_at,
            voucher_id: r.voucher_id,
            voucher_code: r.voucher_code,
            discount_minor: r.discount_minor,
        }));
        return Ok(Some((held, webhooks)));
    }
    let mut taken: Vec<String> = h
        .seats
        .iter()
        .filter(|s| !r.inserted.contains(s))
        .cloned()
        .collect();
    taken.sort();
    Ok(Some((HoldOutcome::Taken(taken), webhooks)))
}

/// What [`insert_hold_at_once`] did.
#[derive(Debug)]
pub enum AtOnce {
    /// The hold, its seats and its audit are committed.
    Held(Box<Booking>),
    /// These seats (sorted) were taken: nothing was written.
    Taken(Vec<String>),
    /// Nothing was written: the show no longer sells, or changed since `versions`.
    NotWritten,
    /// Nothing was written: the chain has a webhook endpoint for `booking.held`, so the hold
    /// needs a transaction with its deliveries ([`insert_checked_hold`]).
    Endpoints,
}

/// A whole hold in ONE statement, its own transaction (one round trip, no BEGIN or COMMIT):
/// [`insert_checked_hold`]'s show check, booking and seats, and the audit `entries`. Only some
/// of the seats in, or a webhook endpoint for the event: `hold_at_once_check` (migration 0021)
/// fails the statement, so nothing of it stays, and the outcome says why.
#[tracing::instrument(skip_all)]
pub async fn insert_hold_at_once(
    conn: &mut PgConnection,
    h: &NewHold<'_>,
    versions: (DateTime<Utc>, DateTime<Utc>),
    entries: &[NewEntry],
) -> Result<AtOnce, sqlx::Error> {
    let c = Columns::of(entries);
    let row = sqlx::query!(
        r#"with st as (
            select status, version, chain_version from show_hold_check($2, $3)
         ), b as (
            insert into bookings (id, chain_id, show_id, user_id, status, seats, items, total_minor,
                currency, promo_code, created_at, expires_at, voucher_id, discount_minor)
            select $1, $2, $3, $4, 'held', $5, $6, $7, $8, $9,
                statement_timestamp(), statement_timestamp() + make_interval(secs => $10), $11, $12
            from st where st.status = 'scheduled' and st.version = $13 and st.chain_version = $14
            returning id, chain_id, show_id, user_id, status, seats, items, total_minor, currency,
                promo_code, expires_at, refund_minor, created_at, voucher_id, discount_minor
         ), s as (
            insert into booking_seats (chain_id, booking_id, show_id, seat_id, taken_from, taken_until)
            select b.chain_id, b.id, b.show_id, x, b.created_at, b.expires_at
            from b, unnest($5::text[]) x order by x
            on conflict do nothing
            returning seat_id
         ), a as (
            insert into booking_audit (id, chain_id, show_id, booking_id, kind, from_status,
                to_status, actor_id, hook, component_id, fuel_used, duration_us, detail, function,
                input, input_sha256, output, canary)
            select e.id, b.chain_id, b.show_id, b.id, e.kind, e.from_status, e.to_status,
                   e.actor_id, e.hook, e.component_id, e.fuel_used, e.duration_us, e.detail,
                   e.function, e.input, e.input_sha256, e.output, e.canary
            from b, unnest($15::uuid[], $16::text[], $17::text[], $18::text[], $19::uuid[],
                           $20::text[], $21::text[], $22::bigint[], $23::bigint[], $24::jsonb[],
                           $25::text[], $26::jsonb[], $27::text[], $28::jsonb[], $29::bool[])
              as e(id, kind, from_status, to_status, actor_id, hook, component_id, fuel_used,
                   duration_us, detail, function, input, input_sha256, output, canary)
         )
         select id, chain_id, show_id, user_id, status as "status: BookingStatus", seats,
                items as "items: Json<Vec<LineItem>>", total_minor, currency, promo_code,
                expires_at, refund_minor, created_at, voucher_id,
                booking_voucher_code(voucher_id) as voucher_code, discount_minor,
                hold_at_once_check(true, array(select seat_id from s), $5,
                    exists(select 1 from webhook_endpoints e
                           where e.chain_id = $2 and 'booking.held' = any(e.events)
                             and e.deleted_at is null)) as "checked!"
         from b"#,
        h.id,
        h.chain_id,
        h.show_id,
        h.user_id,
        h.seats,
        Json(h.items) as _,
        h.total_minor,
        h.currency,
        h.promo_code,
        f64::from(h.hold_seconds),
        h.voucher_id,
        h.discount_minor,
        versions.0,
        versions.1,
        &c.ids,
        &c.kinds as &[&str],
        &c.from as &[Option<&str>],
        &c.to as &[Option<&str>],
        &c.actors as &[Option<Uuid>],
        &c.hooks as &[Option<&str>],
        &c.components as &[Option<&str>],
        &c.fuel as &[Option<i64>],
        &c.durations as &[Option<i64>],
        &c.details as &[&serde_json::Value],
        &c.functions as &[Option<&str>],
        &c.inputs as &[Option<&serde_json::Value>],
        &c.hashes as &[Option<&str>],
        &c.outputs as &[Option<&serde_json::Value>],
        &c.canaries,
    )
    .fetch_optional(conn)
    .await;
    let row = match row {
        Ok(Some(r)) => r,
        Ok(None) => return Ok(AtOnce::NotWritten),
        Err(e) => {
            let code = e.as_database_error().and_then(|d| d.code());
            return match code.as_deref() {
                Some("CF101") => Ok(AtOnce::Endpoints),
                Some("CF409") => {
                    let detail = e
                        .as_database_error()
                        .and_then(|d| d.try_downcast_ref::<PgDatabaseError>())
                        .and_then(PgDatabaseError::detail)
                        .unwrap_or("[]");
                    let mut taken: Vec<String> = serde_json::from_str(detail).unwrap_or_default();
                    if taken.is_empty() {
                        // Never so (the check raises only for missing seats); all, to be safe.
                        taken = h.seats.to_vec();
                    }
                    taken.sort();
                    Ok(AtOnce::Taken(taken))
                }
                _ => Err(e),
            };
        }
    };
    Ok(AtOnce::Held(Box::new(Booking {
        id: row.id,
        chain_id: row.chain_id,
        show_id: row.show_id,
        user_id: row.user_id,
        status: row.status,
        seats: row.seats,
        items: row.items,
        total_minor: row.total_minor,
        currency: row.currency,
        promo_code: row.promo_code,
        expires_at: row.expires_at,
        refund_minor: row.refund_minor,
        created_at: row.created_at,
        voucher_id: row.voucher_id,
        voucher_code: row.voucher_code,
        discount_minor: row.discount_minor,
    })))
}

/// One booking of any chain by id, locked until the end of the transaction, and whether it is
/// live at the statement's instant: a payment's first statement (it learns the chain here, so
/// it needs no separate [`find`] first). On a cluster distributed by chain this, like
/// [`find`], asks every shard.
#[tracing::instrument(skip_all)]
pub async fn lock_by_id(conn: &mut PgConnection, id: Uuid) -> Result<Option<Locked>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select id, chain_id, show_id, user_id, status as "status: BookingStatus", seats,
                  items as "items: Json<Vec<LineItem>>", total_minor, currency, promo_code,
                  expires_at, refund_minor, created_at,
                  voucher_id, booking_voucher_code(voucher_id) as voucher_code, discount_minor,
                  booking_is_live(status, expires_at) as "live!"
         from bookings where id = $1 for update"#,
        id,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Locked {
        live: r.live,
        booking: Booking {
            id: r.id,
            chain_id: r.chain_id,
            show_id: r.show_id,
            user_id: r.user_id,
            status: r.status,
            seats: r.seats,
            items: r.items,
            total_minor: r.total_minor,
            currency: r.currency,
            promo_code: r.promo_code,
            expires_at: r.expires_at,
            refund_minor: r.refund_minor,
            created_at: r.created_at,
            voucher_id: r.voucher_id,
            voucher_code: r.voucher_code,
            discount_minor: r.discount_minor,
        },
    }))
}

/// One booking, by id alone: the entry point of every request that names a booking (its
/// chain is learnt here; every later statement carries it). On a cluster distributed by chain
/// this is the one lookup that asks every shard.
#[tracing::instrument(skip_all)]
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<Booking>, sqlx::Error> {
    sqlx::query_as!(
        Booking,
        r#"select id, chain_id, show_id, user_id, status as "status: BookingStatus", seats,
                 items as "items: Json<Vec<LineItem>>", total_minor, currency, promo_code,
                 expires_at, refund_minor, created_at,
                 voucher_id, booking_voucher_code(voucher_id) as voucher_code, discount_minor from bookings where id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// A booking locked until the end of the transaction, and whether it is live at the
/// statement's instant.
#[derive(Debug)]
pub struct Locked {
    /// The booking.
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
    let row = sqlx::query!(
        r#"select id, chain_id, show_id, user_id, status as "status: BookingStatus", seats,
                  items as "items: Json<Vec<LineItem>>", total_minor, currency, promo_code,
                  expires_at, refund_minor, created_at,
                  voucher_id, booking_voucher_code(voucher_id) as voucher_code, discount_minor,
                  booking_is_live(status, expires_at) as "live!"
         from bookings where chain_id = $1 and id = $2 for update"#,
        chain,
        id,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Locked {
        live: r.live,
        booking: Booking {
            id: r.id,
            chain_id: r.chain_id,
            show_id: r.show_id,
            user_id: r.user_id,
            status: r.status,
            seats: r.seats,
            items: r.items,
            total_minor: r.total_minor,
            currency: r.currency,
            promo_code: r.promo_code,
            expires_at: r.expires_at,
            refund_minor: r.refund_minor,
            created_at: r.created_at,
            voucher_id: r.voucher_id,
            voucher_code: r.voucher_code,
            discount_minor: r.discount_minor,
        },
    }))
}

/// What [`confirm`] answers.
#[derive(Debug)]
pub struct Confirmed {
    /// The booking, confirmed.
    pub booking: Booking,
    /// `updated_at` of its show and of the show's chain.
    pub show_versions: (DateTime<Utc>, DateTime<Utc>),
    /// The chain has a live endpoint for one of the payment's two events.
    pub webhooks: bool,
}

/// Confirms a held booking whose hold has not run out at the statement's instant: the booking
/// and its seats change in one statement, taken for good. `None` when the hold has lapsed.
/// Violates `booking_seats_live_key` if someone else took a seat after the hold ran out.
/// Also answers the `updated_at` of the booking's show and of its chain (the versions of a
/// `ShowContext`), so a caller with a cached context knows whether it is current, and whether
/// the chain has a live webhook endpoint for `booking.confirmed` or `payment.succeeded`.
#[tracing::instrument(skip_all)]
pub async fn confirm(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
) -> Result<Option<Confirmed>, sqlx::Error> {
    let row = sqlx::query!(
        r#"with b as (
            update bookings set status = 'confirmed', confirmed_at = statement_timestamp()
            where chain_id = $1 and id = $2 and status = 'held'
              and booking_is_live(status, expires_at)
            returning id, chain_id, show_id, user_id, status, seats, items, total_minor, currency,
                   promo_code, expires_at, refund_minor, created_at, voucher_id, discount_minor),
         s as (
            update booking_seats set taken_until = 'infinity'
            where chain_id = $1 and booking_id = (select id from b))
         select b.id, b.chain_id, b.show_id, b.user_id, b.status as "status: BookingStatus",
                b.seats, b.items as "items: Json<Vec<LineItem>>", b.total_minor, b.currency,
                b.promo_code, b.expires_at, b.refund_minor, b.created_at, b.voucher_id,
                booking_voucher_code(b.voucher_id) as voucher_code, b.discount_minor,
                sh.updated_at as show_version, c.updated_at as chain_version,
                exists(select 1 from webhook_endpoints e
                       where e.chain_id = $1 and e.deleted_at is null
                         and e.events && array['booking.confirmed', 'payment.succeeded'])
                  as "webhooks!"
         from b join shows sh on sh.id = b.show_id join chains c on c.id = b.chain_id"#,
        chain,
        id,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| Confirmed {
        booking: Booking {
            id: r.id,
            chain_id: r.chain_id,
            show_id: r.show_id,
            user_id: r.user_id,
            status: r.status,
            seats: r.seats,
            items: r.items,
            total_minor: r.total_minor,
            currency: r.currency,
            promo_code: r.promo_code,
            expires_at: r.expires_at,
            refund_minor: r.refund_minor,
            created_at: r.created_at,
            voucher_id: r.voucher_id,
            voucher_code: r.voucher_code,
            discount_minor: r.discount_minor,
        },
        show_versions: (r.show_version, r.chain_version),
        webhooks: r.webhooks,
    }))
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
    sqlx::query_as!(
        Booking,
        r#"with s as (
            update booking_seats
            set taken_until = greatest(taken_from, least(taken_until, statement_timestamp()))
            where chain_id = $3 and booking_id = $1)
         update bookings set status = 'cancelled', cancelled_at = statement_timestamp(),
            refund_minor = coalesce(refund_minor, 0) + $2
         where chain_id = $3 and id = $1 returning id, chain_id, show_id, user_id,
                status as "status: BookingStatus", seats, items as "items: Json<Vec<LineItem>>",
                total_minor, currency, promo_code, expires_at, refund_minor, created_at,
                voucher_id, booking_voucher_code(voucher_id) as voucher_code, discount_minor"#,
        id,
        refund_minor,
        chain,
    )
    .fetch_one(conn)
    .await
}

/// Cancels `cancelled` of a confirmed booking's seats: their seats are free from this
/// statement on, the booking keeps `kept` with `items` and `total_minor`, and the refund adds
/// to the booking's. `None` when the booking is no longer confirmed.
#[tracing::instrument(skip_all)]
pub async fn cancel_seats(
    conn: &mut PgConnection,
    (chain, id): (Uuid, Uuid),
    cancelled: &[String],
    kept: (&[String], &[LineItem], i64),
    refund_minor: i64,
) -> Result<Option<Booking>, sqlx::Error> {
    let (kept_seats, items, total_minor) = kept;
    sqlx::query_as!(
        Booking,
        r#"with s as (
            update booking_seats
            set taken_until = greatest(taken_from, least(taken_until, statement_timestamp()))
            where chain_id = $2 and booking_id = $1 and seat_id = any($3))
         update bookings set seats = $4, items = $5, total_minor = $6,
            refund_minor = coalesce(refund_minor, 0) + $7
         where chain_id = $2 and id = $1 and status = 'confirmed'
         returning id, chain_id, show_id, user_id,
                status as "status: BookingStatus", seats, items as "items: Json<Vec<LineItem>>",
                total_minor, currency, promo_code, expires_at, refund_minor, created_at,
                voucher_id, booking_voucher_code(voucher_id) as voucher_code, discount_minor"#,
        id,
        chain,
        cancelled,
        kept_seats,
        Json(items) as _,
        total_minor,
        refund_minor,
    )
    .fetch_optional(conn)
    .await
}

/// Marks up to `limit` holds whose time ran out as expired (their seats are already free)
/// and returns them; concurrent sweepers skip each other's rows. `expires_at <=
/// statement_timestamp()` restates what `booking_is_live` says so that it becomes the index
/// condition on `bookings_due_idx`: without it the scan walks every live hold too when fewer
/// than `limit` are due (20 000 live holds: 45 ms instead of 6, issue 18).
#[tracing::instrument(skip_all)]
pub async fn expire_due(conn: &mut PgConnection, limit: i64) -> Result<Vec<Booking>, sqlx::Error> {
    sqlx::query_as!(
        Booking,
        r#"update bookings set status = 'expired', expired_at = statement_timestamp()
         where id in (select id from bookings
                      where status = 'held' and expires_at <= statement_timestamp()
                        and not booking_is_live(status, expires_at)
                      order by expires_at limit $1 for update skip locked)
         returning id, chain_id, show_id, user_id, status as "status: BookingStatus", seats,
                items as "items: Json<Vec<LineItem>>", total_minor, currency, promo_code,
                expires_at, refund_minor, created_at, voucher_id, booking_voucher_code(voucher_id) as voucher_code, discount_minor"#,
        limit,
    )
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
    sqlx::query_as!(
        Booking,
        r#"select id, chain_id, show_id, user_id, status as "status: BookingStatus", seats,
                 items as "items: Json<Vec<LineItem>>", total_minor, currency, promo_code,
                 expires_at, refund_minor,
                 created_at, voucher_id, booking_voucher_code(voucher_id) as voucher_code, discount_minor from bookings where chain_id = $1 and show_id = $2 and booking_is_live(status,
                 expires_at)
         order by id for update"#,
        chain,
        show,
    )
    .fetch_all(conn)
    .await
}
