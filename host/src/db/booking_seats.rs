//! Table `booking_seats` as the seat map reads it: which seats of a show are taken right now.
//! (Rows are written with their booking, in `bookings`.)

use sqlx::PgConnection;
use uuid::Uuid;

use super::bookings::SEAT_TAKEN;

/// Seats of the show taken right now, by state (`held` or `sold`).
#[tracing::instrument(skip_all)]
pub async fn taken_seats(
    conn: &mut PgConnection,
    show: Uuid,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    // A confirmed booking's seats are taken until 'infinity', so no join to `bookings` is
    // needed to tell sold from held.
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select seat_id, case when taken_until = 'infinity' then 'sold' else 'held' end
         from booking_seats where show_id = $1 and {SEAT_TAKEN}"
    )))
    .bind(show)
    .fetch_all(conn)
    .await
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
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select count(*), coalesce(array_agg(seat_id) filter (where seat_id = any($2)), '{{}}')
         from booking_seats where show_id = $1 and {SEAT_TAKEN}"
    )))
    .bind(show)
    .bind(among)
    .fetch_one(conn)
    .await
}
