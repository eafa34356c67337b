//! Tables `tickets` and `checkin_scans` (migration 0018): one ticket per confirmed seat, and
//! every scan with its answer. The keys that sign them: [`super::ticket_keys`].

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use tracing::instrument;
use uuid::Uuid;

use crate::domain::types::TicketStatus;

/// A ticket as stored.
#[derive(Debug, Clone)]
pub struct Ticket {
    /// Id.
    pub id: Uuid,
    /// Chain.
    pub chain_id: Uuid,
    /// Booking.
    pub booking_id: Uuid,
    /// Show.
    pub show_id: Uuid,
    /// Seat.
    pub seat_id: String,
    /// The key that signed it.
    pub key_id: String,
    /// Its signed code.
    pub code: String,
    /// Valid, void or used.
    pub status: TicketStatus,
    /// First successful scan.
    pub checked_in_at: Option<DateTime<Utc>>,
    /// Its gate.
    pub checked_in_gate: Option<String>,
}

/// A ticket to store.
#[derive(Debug, Clone)]
pub struct NewTicket {
    /// Id (the code carries it).
    pub id: Uuid,
    /// Seat.
    pub seat_id: String,
    /// Its signed code.
    pub code: String,
}

/// Stores tickets of a booking (a seat that has one already keeps it) and answers all of the
/// booking's tickets, in one statement: the ones inserted, and the ones that were there (read
/// at the statement's snapshot; the caller holds the booking's row lock, so no other issue of
/// its tickets can commit unseen meanwhile), by id.
#[instrument(skip_all, fields(%chain, %booking, n = tickets.len()))]
pub async fn insert_tickets(
    conn: &mut PgConnection,
    (chain, booking, show): (Uuid, Uuid, Uuid),
    key_id: &str,
    tickets: &[NewTicket],
) -> sqlx::Result<Vec<Ticket>> {
    let ids: Vec<Uuid> = tickets.iter().map(|t| t.id).collect();
    let seats: Vec<String> = tickets.iter().map(|t| t.seat_id.clone()).collect();
    let codes: Vec<String> = tickets.iter().map(|t| t.code.clone()).collect();
    sqlx::query_as!(
        Ticket,
        r#"with i as (
              insert into tickets (id, chain_id, booking_id, show_id, seat_id, key_id, code)
              select id, $1, $2, $3, seat, $4, code
              from unnest($5::uuid[], $6::text[], $7::text[]) as t(id, seat, code)
              on conflict (booking_id, seat_id) do nothing
              returning id, chain_id, booking_id, show_id, seat_id, key_id, code, status,
                        checked_in_at, checked_in_gate)
           select id as "id!", chain_id as "chain_id!", booking_id as "booking_id!",
                  show_id as "show_id!", seat_id as "seat_id!", key_id as "key_id!",
                  code as "code!", status as "status!: TicketStatus", checked_in_at,
                  checked_in_gate
           from (select * from i
                 union all
                 select id, chain_id, booking_id, show_id, seat_id, key_id, code, status,
                        checked_in_at, checked_in_gate
                 from tickets where chain_id = $1 and booking_id = $2) t
           order by id"#,
        chain,
        booking,
        show,
        key_id,
        &ids,
        &seats,
        &codes,
    )
    .fetch_all(conn)
    .await
}

/// The booking's tickets, in seat order of issue.
#[instrument(skip_all, fields(%chain, %booking))]
pub async fn of_booking(
    conn: &mut PgConnection,
    chain: Uuid,
    booking: Uuid,
) -> sqlx::Result<Vec<Ticket>> {
    sqlx::query_as!(
        Ticket,
        r#"select id, chain_id, booking_id, show_id, seat_id, key_id, code,
                  status as "status: TicketStatus", checked_in_at, checked_in_gate
           from tickets where chain_id = $1 and booking_id = $2 order by id"#,
        chain,
        booking
    )
    .fetch_all(conn)
    .await
}

/// A ticket by id, of whichever chain (the caller decides who may see it).
#[instrument(skip_all, fields(%id))]
pub async fn find(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Ticket>> {
    sqlx::query_as!(
        Ticket,
        r#"select id, chain_id, booking_id, show_id, seat_id, key_id, code,
                  status as "status: TicketStatus", checked_in_at, checked_in_gate
           from tickets where id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// A ticket of the chain with its show's end, for a scan.
#[instrument(skip_all, fields(%chain, %id))]
pub async fn for_scan(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
    at: Option<DateTime<Utc>>,
) -> sqlx::Result<Option<(Ticket, bool)>> {
    // "Ended" when the ticket was scanned: an offline scanner's upload after the show still
    // admits what it admitted at the door.
    let row = sqlx::query!(
        r#"select t.id, t.chain_id, t.booking_id, t.show_id, t.seat_id, t.key_id, t.code,
                  t.status as "status: TicketStatus", t.checked_in_at, t.checked_in_gate,
                  (s.ends_at <= coalesce($3, statement_timestamp())) as "ended!"
           from tickets t join shows s on s.id = t.show_id and s.chain_id = t.chain_id
           where t.chain_id = $1 and t.id = $2"#,
        chain,
        id,
        at
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| {
        let ended = r.ended;
        let t = Ticket {
            id: r.id,
            chain_id: r.chain_id,
            booking_id: r.booking_id,
            show_id: r.show_id,
            seat_id: r.seat_id,
            key_id: r.key_id,
            code: r.code,
            status: r.status,
            checked_in_at: r.checked_in_at,
            checked_in_gate: r.checked_in_gate,
        };
        (t, ended)
    }))
}

/// Voids the booking's valid tickets for `seats` (all of its seats with `None`).
#[instrument(skip_all, fields(%chain, %booking))]
pub async fn void(
    conn: &mut PgConnection,
    chain: Uuid,
    booking: Uuid,
    seats: Option<&[String]>,
) -> sqlx::Result<u64> {
    let all = seats.is_none();
    let seats = seats.unwrap_or_default();
    let done = sqlx::query!(
        r#"update tickets set status = 'void', voided_at = statement_timestamp()
           where chain_id = $1 and booking_id = $2 and status = 'valid'
             and ($3 or seat_id = any($4::text[]))"#,
        chain,
        booking,
        all,
        seats,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Marks a valid ticket used at `at` (none: the statement's time): when, or `None` when it
/// was not valid any more (the row lock makes two scans at once one winner and one `None`).
#[instrument(skip_all, fields(%chain, %id))]
pub async fn check_in(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
    at: Option<DateTime<Utc>>,
    gate: Option<&str>,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar!(
        r#"update tickets set status = 'used',
               checked_in_at = coalesce($3, statement_timestamp()), checked_in_gate = $4
           where chain_id = $1 and id = $2 and status = 'valid'
           returning checked_in_at as "at!""#,
        chain,
        id,
        at,
        gate
    )
    .fetch_optional(conn)
    .await
}

/// A show's door: its sold tickets (valid or used), how many are used, and the used ones per
/// gate (no gate: `""`).
#[derive(Debug, Clone)]
pub struct DoorCounts {
    /// Valid or used.
    pub sold: i64,
    /// Used.
    pub used: i64,
    /// Used, per gate of the first scan.
    pub by_gate: Vec<(String, i64)>,
}

/// The door counts of a show.
#[instrument(skip_all, fields(%chain, %show))]
pub async fn summary(conn: &mut PgConnection, chain: Uuid, show: Uuid) -> sqlx::Result<DoorCounts> {
    let totals = sqlx::query!(
        r#"select count(*) filter (where status in ('valid', 'used')) as "sold!",
                  count(*) filter (where status = 'used') as "used!"
           from tickets where chain_id = $1 and show_id = $2"#,
        chain,
        show
    )
    .fetch_one(&mut *conn)
    .await?;
    let gates = sqlx::query!(
        r#"select coalesce(checked_in_gate, '') as "gate!", count(*) as "n!"
           from tickets where chain_id = $1 and show_id = $2 and status = 'used'
           group by 1 order by 1"#,
        chain,
        show
    )
    .fetch_all(conn)
    .await?;
    Ok(DoorCounts {
        sold: totals.sold,
        used: totals.used,
        by_gate: gates.into_iter().map(|g| (g.gate, g.n)).collect(),
    })
}

/// A scan to record.
pub struct NewScan<'a> {
    /// Chain.
    pub chain: Uuid,
    /// The scanner's id for it.
    pub scan_id: &'a str,
    /// Gate.
    pub gate: Option<&'a str>,
    /// When the scanner says it scanned.
    pub scanned_at: Option<DateTime<Utc>>,
    /// Who uploaded it.
    pub user: Uuid,
}

/// Records a scan before it is answered; `false` when the chain has this `scan_id` already
/// (a concurrent duplicate waits here for the first to commit).
#[instrument(skip_all, fields(chain = %scan.chain))]
pub async fn insert_scan(conn: &mut PgConnection, scan: &NewScan<'_>) -> sqlx::Result<bool> {
    let inserted = sqlx::query_scalar!(
        r#"insert into checkin_scans (id, chain_id, scan_id, gate, scanned_at, user_id)
           values ($1, $2, $3, $4, $5, $6)
           on conflict (chain_id, scan_id) do nothing returning id"#,
        Uuid::now_v7(),
        scan.chain,
        scan.scan_id,
        scan.gate,
        scan.scanned_at,
        scan.user,
    )
    .fetch_optional(conn)
    .await?;
    Ok(inserted.is_some())
}

/// The stored answer of a scan.
#[instrument(skip_all, fields(%chain))]
pub async fn scan_answer(
    conn: &mut PgConnection,
    chain: Uuid,
    scan_id: &str,
) -> sqlx::Result<Option<serde_json::Value>> {
    Ok(sqlx::query_scalar!(
        "select answer from checkin_scans where chain_id = $1 and scan_id = $2",
        chain,
        scan_id
    )
    .fetch_optional(conn)
    .await?
    .flatten())
}

/// Stores a scan's answer.
#[instrument(skip_all, fields(%chain, result))]
pub async fn answer_scan(
    conn: &mut PgConnection,
    (chain, scan_id): (Uuid, &str),
    ticket: Option<Uuid>,
    result: &str,
    answer: &serde_json::Value,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"update checkin_scans set ticket_id = $3, result = $4, answer = $5
           where chain_id = $1 and scan_id = $2"#,
        chain,
        scan_id,
        ticket,
        result,
        answer
    )
    .execute(conn)
    .await?;
    Ok(())
}
