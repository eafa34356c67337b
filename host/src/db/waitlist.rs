//! Table `waitlist_entries`: the waiting list of each show (migration 0016).
//!
//! The database decides what the code could get wrong across replicas: one active entry per
//! customer and show (`waitlist_entries_active_key`), an entry offered once (the guarded
//! `update ... where status = 'waiting'` of [`mark_offered`]), an offer following its hold
//! (the trigger `bookings_waitlist`), and which status a reader sees (the database's clock,
//! as for bookings).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::hook_io::SeatClass;
use crate::domain::waitlist::WaitlistStatus;

/// An entry as stored.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Id.
    pub id: Uuid,
    /// Chain of the show.
    pub chain_id: Uuid,
    /// Show.
    pub show_id: Uuid,
    /// Customer.
    pub user_id: Uuid,
    /// Seats asked for.
    pub seat_count: i32,
    /// Only seats of this class.
    pub seat_class: Option<SeatClass>,
    /// As recorded.
    pub status: WaitlistStatus,
    /// The offer's hold.
    pub booking_id: Option<Uuid>,
    /// How long an offer lasts.
    pub offer_seconds: i32,
    /// When the offer's hold runs out.
    pub offer_expires_at: Option<DateTime<Utc>>,
    /// Joined (the database's clock; the queue's order with `id`).
    pub created_at: DateTime<Utc>,
}

/// An entry as a reader sees it: `offered` whose hold ran out reads `expired`, `waiting` for a
/// show that started reads `expired`, at the statement's instant; `position` for waiting ones.
#[derive(Debug, Clone)]
pub struct SeenEntry {
    /// The entry (its `status` is the seen one).
    pub entry: Entry,
    /// 1 + the waiting entries ahead; `None` unless waiting.
    pub position: Option<i64>,
}

/// A new entry.
pub struct NewEntry {
    /// Id (v7).
    pub id: Uuid,
    /// Chain.
    pub chain_id: Uuid,
    /// Show.
    pub show_id: Uuid,
    /// Customer.
    pub user_id: Uuid,
    /// Seats, 1..10.
    pub seat_count: i32,
    /// Class.
    pub seat_class: Option<SeatClass>,
    /// Offer length.
    pub offer_seconds: i32,
}

/// Serialises the offer passes of one show across replicas until the transaction ends. Holds
/// never take it, so it cannot be part of a lock cycle with them (seed 16; holds and show
/// cancellation use seed 7 of the same hash).
#[tracing::instrument(skip_all, fields(show = %show))]
pub async fn lock_queue(conn: &mut PgConnection, show: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"select pg_advisory_xact_lock(hashtextextended($1::uuid::text, 16))"#,
        show
    )
    .fetch_one(conn)
    .await?;
    Ok(())
}

/// Inserts a waiting entry. Violates `waitlist_entries_active_key` when the customer already
/// has an active entry for the show.
#[tracing::instrument(skip_all, fields(show = %e.show_id))]
pub async fn insert(conn: &mut PgConnection, e: &NewEntry) -> Result<Entry, sqlx::Error> {
    sqlx::query_as!(
        Entry,
        r#"insert into waitlist_entries (id, chain_id, show_id, user_id, seat_count, seat_class,
                offer_seconds)
         values ($1, $2, $3, $4, $5, $6, $7)
         returning id, chain_id, show_id, user_id, seat_count,
                seat_class as "seat_class: SeatClass", status as "status: WaitlistStatus",
                booking_id, offer_seconds, offer_expires_at, created_at"#,
        e.id,
        e.chain_id,
        e.show_id,
        e.user_id,
        e.seat_count,
        e.seat_class as _,
        e.offer_seconds,
    )
    .fetch_one(conn)
    .await
}

/// Active entries the customer has for the chain's shows, as seen now: waiting for a show
/// that still sells, or offered with the hold still live (a finished one does not count).
#[tracing::instrument(skip_all)]
pub async fn active_of_customer(
    conn: &mut PgConnection,
    chain: Uuid,
    user: Uuid,
) -> Result<i64, sqlx::Error> {
    let n = sqlx::query_scalar!(
        r#"select count(*) as "n!" from waitlist_entries e
         join shows sh on sh.id = e.show_id
         left join bookings b on b.id = e.booking_id
         where e.chain_id = $1 and e.user_id = $2
           and ((e.status = 'waiting' and sh.status = 'scheduled'
                 and sh.starts_at > statement_timestamp())
                or (e.status = 'offered' and booking_is_live(b.status, b.expires_at)))"#,
        chain,
        user,
    )
    .fetch_one(conn)
    .await?;
    Ok(n)
}

/// Seats of the show that are free at the statement's instant, by class: not blocked, not in
/// any live booking (an expired hold's seats are free).
#[tracing::instrument(skip_all, fields(show = %show))]
pub async fn free_seats(
    conn: &mut PgConnection,
    show: Uuid,
) -> Result<Vec<(SeatClass, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select x.class as "class!: SeatClass", count(*) as "n!"
         from shows sh join seats x on x.screen_id = sh.screen_id and not x.blocked
         where sh.id = $1
           and not exists (select 1 from booking_seats bs
                           where bs.show_id = sh.id and bs.seat_id = x.id
                             and bs.taken_until > statement_timestamp())
         group by x.class"#,
        show,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.class, r.n)).collect())
}

/// The waiting entries of a show in queue order (created, then id), at most `limit`.
#[tracing::instrument(skip_all, fields(show = %show))]
pub async fn waiting_of_show(
    conn: &mut PgConnection,
    show: Uuid,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    sqlx::query_as!(
        Entry,
        r#"select id, chain_id, show_id, user_id, seat_count,
                seat_class as "seat_class: SeatClass", status as "status: WaitlistStatus",
                booking_id, offer_seconds, offer_expires_at, created_at
         from waitlist_entries where show_id = $1 and status = 'waiting'
         order by created_at, id limit $2"#,
        show,
        limit,
    )
    .fetch_all(conn)
    .await
}

/// Marks a waiting entry offered with its hold; false when it is no longer waiting (another
/// pass offered it, or the customer left): the caller rolls its hold back.
#[tracing::instrument(skip_all, fields(entry = %id))]
pub async fn mark_offered(
    conn: &mut PgConnection,
    id: Uuid,
    booking: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"update waitlist_entries set status = 'offered', booking_id = $2, offer_expires_at = $3
         where id = $1 and status = 'waiting'"#,
        id,
        booking,
        expires_at,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records up to `limit` offers whose hold ran out unpaid as expired (of one show, or of all)
/// and returns them; concurrent sweeps skip each other's rows, and an offer paid meanwhile is
/// `booked` by then and not taken.
#[tracing::instrument(skip_all)]
pub async fn expire_lapsed_offers(
    conn: &mut PgConnection,
    show: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    sqlx::query_as!(
        Entry,
        r#"update waitlist_entries set status = 'expired'
         where id in (select e.id from waitlist_entries e join bookings b on b.id = e.booking_id
                      where e.status = 'offered' and ($1::uuid is null or e.show_id = $1)
                        and b.status in ('held', 'expired')
                        and not booking_is_live(b.status, b.expires_at)
                      order by e.offer_expires_at limit $2 for update of e skip locked)
           and status = 'offered'
         returning id, chain_id, show_id, user_id, seat_count,
                seat_class as "seat_class: SeatClass", status as "status: WaitlistStatus",
                booking_id, offer_seconds, offer_expires_at, created_at"#,
        show,
        limit,
    )
    .fetch_all(conn)
    .await
}

/// Shows that sell, have waiting entries and at least one free seat: where an offer pass
/// may have something to offer.
#[tracing::instrument(skip_all)]
pub async fn shows_to_offer(conn: &mut PgConnection, limit: i64) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select sh.id as "id!" from shows sh
         where sh.status = 'scheduled' and sh.starts_at > statement_timestamp()
           and exists (select 1 from waitlist_entries e
                       where e.show_id = sh.id and e.status = 'waiting')
           and exists (select 1 from seats x
                       where x.screen_id = sh.screen_id and not x.blocked
                         and not exists (select 1 from booking_seats bs
                                         where bs.show_id = sh.id and bs.seat_id = x.id
                                           and bs.taken_until > statement_timestamp()))
         limit $1"#,
        limit,
    )
    .fetch_all(conn)
    .await
}

/// One entry, locked until the end of the transaction.
#[tracing::instrument(skip_all, fields(entry = %id))]
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<Option<Entry>, sqlx::Error> {
    sqlx::query_as!(
        Entry,
        r#"select id, chain_id, show_id, user_id, seat_count,
                seat_class as "seat_class: SeatClass", status as "status: WaitlistStatus",
                booking_id, offer_seconds, offer_expires_at, created_at
         from waitlist_entries where id = $1 for update"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// One entry as stored, unlocked.
#[tracing::instrument(skip_all, fields(entry = %id))]
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<Entry>, sqlx::Error> {
    sqlx::query_as!(
        Entry,
        r#"select id, chain_id, show_id, user_id, seat_count,
                seat_class as "seat_class: SeatClass", status as "status: WaitlistStatus",
                booking_id, offer_seconds, offer_expires_at, created_at
         from waitlist_entries where id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// Whether the booking is a waiting-list offer's hold (its expiry has an email of its own).
#[tracing::instrument(skip_all)]
pub async fn is_offer(
    conn: &mut PgConnection,
    chain: Uuid,
    booking: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists(select 1 from waitlist_entries where chain_id = $1 and booking_id = $2) as "offer!""#,
        chain,
        booking,
    )
    .fetch_one(conn)
    .await
}

/// The customer leaves: an active entry becomes `left`; false when it was not active.
#[tracing::instrument(skip_all, fields(entry = %id))]
pub async fn mark_left(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"update waitlist_entries set status = 'left'
         where id = $1 and status in ('waiting', 'offered')"#,
        id,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A page of the customer's entries (by id), as seen now.
#[tracing::instrument(skip_all)]
pub async fn list_of_user(
    conn: &mut PgConnection,
    user: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<SeenEntry>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select e.id, e.chain_id, e.show_id, e.user_id, e.seat_count,
                e.seat_class as "seat_class: SeatClass", e.booking_id, e.offer_seconds,
                e.offer_expires_at, e.created_at,
                (case when e.status = 'offered'
                           and not booking_is_live(b.status, b.expires_at) then 'expired'
                      when e.status = 'waiting'
                           and (sh.status <> 'scheduled'
                                or sh.starts_at <= statement_timestamp()) then 'expired'
                      else e.status end) as "status!: WaitlistStatus",
                (case when e.status = 'waiting' then
                    1 + (select count(*) from waitlist_entries w
                         where w.show_id = e.show_id and w.status = 'waiting'
                           and (w.created_at, w.id) < (e.created_at, e.id))
                 end) as "position"
         from waitlist_entries e
         join shows sh on sh.id = e.show_id
         left join bookings b on b.id = e.booking_id
         where e.user_id = $1 and ($2::uuid is null or e.id > $2)
         order by e.id limit $3"#,
        user,
        after,
        limit,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SeenEntry {
            entry: Entry {
                id: r.id,
                chain_id: r.chain_id,
                show_id: r.show_id,
                user_id: r.user_id,
                seat_count: r.seat_count,
                seat_class: r.seat_class,
                status: r.status,
                booking_id: r.booking_id,
                offer_seconds: r.offer_seconds,
                offer_expires_at: r.offer_expires_at,
                created_at: r.created_at,
            },
            position: r.position,
        })
        .collect())
}

/// A page of a show's queue: its active entries in queue order (created, then id), as seen
/// now; `after` is the last entry of the previous page.
#[tracing::instrument(skip_all, fields(show = %show))]
pub async fn queue_of_show(
    conn: &mut PgConnection,
    chain: Uuid,
    show: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<SeenEntry>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select e.id, e.chain_id, e.show_id, e.user_id, e.seat_count,
                e.seat_class as "seat_class: SeatClass", e.booking_id, e.offer_seconds,
                e.offer_expires_at, e.created_at,
                (case when e.status = 'offered'
                           and not booking_is_live(b.status, b.expires_at) then 'expired'
                      else e.status end) as "status!: WaitlistStatus",
                (case when e.status = 'waiting' then
                    1 + (select count(*) from waitlist_entries w
                         where w.show_id = e.show_id and w.status = 'waiting'
                           and (w.created_at, w.id) < (e.created_at, e.id))
                 end) as "position"
         from waitlist_entries e
         left join bookings b on b.id = e.booking_id
         where e.chain_id = $1 and e.show_id = $2 and e.status in ('waiting', 'offered')
           and ($3::uuid is null
                or (e.created_at, e.id) > (select a.created_at, a.id from waitlist_entries a
                                           where a.id = $3))
         order by e.created_at, e.id limit $4"#,
        chain,
        show,
        after,
        limit,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SeenEntry {
            entry: Entry {
                id: r.id,
                chain_id: r.chain_id,
                show_id: r.show_id,
                user_id: r.user_id,
                seat_count: r.seat_count,
                seat_class: r.seat_class,
                status: r.status,
                booking_id: r.booking_id,
                offer_seconds: r.offer_seconds,
                offer_expires_at: r.offer_expires_at,
                created_at: r.created_at,
            },
            position: r.position,
        })
        .collect())
}

/// 1 + the waiting entries ahead of entry `id` in its show's queue.
#[tracing::instrument(skip_all, fields(entry = %id))]
pub async fn position(conn: &mut PgConnection, id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select 1 + count(w.id) as "n!" from waitlist_entries e
         left join waitlist_entries w on w.show_id = e.show_id and w.status = 'waiting'
              and (w.created_at, w.id) < (e.created_at, e.id)
         where e.id = $1
         group by e.id"#,
        id,
    )
    .fetch_one(conn)
    .await
}
