//! Table `booking_seats` as the seat map reads it: which seats of a show are taken right now.
//! (Rows are written with their booking, in `bookings`.)

use sqlx::PgConnection;
use uuid::Uuid;

/// Seats of the show taken right now, by state (`held` or `sold`).
#[tracing::instrument(skip_all)]
pub async fn taken_seats(
    conn: &mut PgConnection,
    show: Uuid,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    // A confirmed booking's seats are taken until 'infinity', so no join to `bookings` is
    // needed to tell sold from held.
    // "Taken" as `db::bookings` states it.
    let rows = sqlx::query!(
        r#"select seat_id,
                  case when taken_until = 'infinity' then 'sold' else 'held' end as "state!"
         from booking_seats where show_id = $1 and taken_until > statement_timestamp()"#,
        show,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.seat_id, r.state)).collect())
}

/// How many seats of the show are taken right now, and which of `among` are.
#[tracing::instrument(skip_all)]
pub async fn taken_among(
    conn: &mut PgConnection,
    show: Uuid,
    among: &[&str],
) -> Result<(i64, Vec<String>), sqlx::Error> {
    // One pass over the show's live seats; only the few the caller asks about come back,
    // not the whole map of a busy show.
    let row = sqlx::query!(
        r#"select count(*) as "count!",
                  coalesce(array_agg(seat_id) filter (where seat_id = any($2)), '{}') as "taken!"
         from booking_seats where show_id = $1 and taken_until > statement_timestamp()"#,
        show,
        among as &[&str],
    )
    .fetch_one(conn)
    .await?;
    Ok((row.count, row.taken))
}

/// A live row of `booking_seats`, as the live seat maps hold it (times in epoch milliseconds,
/// `until_ms` `None` for 'infinity': sold).
pub struct LiveSeatRow {
    /// Seat.
    pub seat_id: String,
    /// Booking.
    pub booking_id: Uuid,
    /// Taken since.
    pub from_ms: i64,
    /// Taken until.
    pub until_ms: Option<i64>,
}

/// The rows of the show's seats taken right now, in the form migration 0020 announces them.
#[tracing::instrument(skip_all)]
pub async fn live_rows(
    conn: &mut PgConnection,
    show: Uuid,
) -> Result<Vec<LiveSeatRow>, sqlx::Error> {
    // "Taken" as `db::bookings` states it.
    sqlx::query_as!(
        LiveSeatRow,
        r#"select seat_id, booking_id,
                  floor(extract(epoch from taken_from) * 1000)::bigint as "from_ms!",
                  case when taken_until = 'infinity' then null
                       else floor(extract(epoch from taken_until) * 1000)::bigint end as until_ms
         from booking_seats where show_id = $1 and taken_until > statement_timestamp()"#,
        show,
    )
    .fetch_all(conn)
    .await
}
