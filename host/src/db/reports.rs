//! Reads for the chain reports (`GET /chains/{id}/reports/...`): a chain's shows with their
//! occupancy and takings, and its sales per day. They change nothing. What each figure means
//! is defined in docs/API.md ("Reports"); the domain (`domain::reports`) decides the windows.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::types::ShowStatus;

/// One show of the shows report.
#[derive(Debug, Clone)]
pub struct ShowFigures {
    /// The show.
    pub show_id: Uuid,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// Scheduled or cancelled.
    pub status: ShowStatus,
    /// Its theatre.
    pub theatre_id: Uuid,
    /// The theatre's name.
    pub theatre_name: String,
    /// Its screen.
    pub screen_id: Uuid,
    /// The screen's name.
    pub screen_name: String,
    /// Its movie.
    pub movie_id: Uuid,
    /// The movie's title.
    pub movie_title: String,
    /// Seats of the screen that can be sold (not blocked).
    pub capacity: i64,
    /// Seats of confirmed bookings (after partial cancellations).
    pub seats_sold: i64,
    /// Seats of holds that have not run out.
    pub seats_held: i64,
    /// Tickets checked in.
    pub checked_in: i64,
    /// Paid for the show's bookings less what was refunded of it.
    pub revenue_minor: i64,
    /// The show's currency.
    pub currency: String,
}

/// The chain's shows starting in `[from, to)`, ordered by theatre name, screen name and start
/// (then id, so that equal names keep one order), at most `limit`. Every figure is read at the
/// statement's instant: a hold counts while `booking_is_live` says so.
#[tracing::instrument(skip_all)]
pub async fn shows(
    conn: &mut PgConnection,
    chain: Uuid,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    limit: i64,
) -> Result<Vec<ShowFigures>, sqlx::Error> {
    sqlx::query_as!(
        ShowFigures,
        r#"select s.id as show_id, s.starts_at, s.status as "status: ShowStatus",
                  t.id as theatre_id, t.name as theatre_name,
                  sc.id as screen_id, sc.name as screen_name,
                  m.id as movie_id, m.title as movie_title,
                  (select count(*) from seats st
                    where st.screen_id = s.screen_id and not st.blocked) as "capacity!",
                  coalesce(b.sold, 0) as "seats_sold!",
                  coalesce(b.held, 0) as "seats_held!",
                  (select count(*) from tickets tk
                    where tk.show_id = s.id and tk.status = 'used') as "checked_in!",
                  (select coalesce(sum(p.amount_minor - p.refunded_minor), 0)::bigint
                     from bookings pb join payments p on p.booking_id = pb.id
                    where pb.show_id = s.id) as "revenue_minor!",
                  s.currency
           from shows s
           join theatres t on t.id = s.theatre_id
           join screens sc on sc.id = s.screen_id
           join movies m on m.id = s.movie_id
           left join lateral (
             select sum(cardinality(bk.seats)) filter (where bk.status = 'confirmed')::bigint as sold,
                    sum(cardinality(bk.seats)) filter (where bk.status = 'held'
                        and booking_is_live(bk.status, bk.expires_at))::bigint as held
               from bookings bk
              where bk.show_id = s.id and bk.status in ('held', 'confirmed')) b on true
           where s.chain_id = $1 and s.starts_at >= $2 and s.starts_at < $3
           order by t.name, sc.name, s.starts_at, s.id
           limit $4"#,
        chain,
        from,
        to,
        limit,
    )
    .fetch_all(conn)
    .await
}

/// One day of the sales report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayFigures {
    /// Payments made (each confirms one booking).
    pub bookings: i64,
    /// Seats those bookings were confirmed with.
    pub seats: i64,
    /// What those payments took, gift card parts included.
    pub revenue_minor: i64,
    /// The gift cards' part of `revenue_minor`.
    pub gift_card_minor: i64,
    /// Refunds made that day, whenever the booking was paid.
    pub refunds_minor: i64,
}

/// The chain's sales in each window `[starts[i], starts[i + 1])`: one entry per window, in
/// order (so `starts.len() - 1` entries; none when fewer than two bounds are given). `starts`
/// must ascend. Each payment and refund falls in one window (`width_bucket` on the bounds), so
/// the statement reads the period's rows once whatever the number of days. The seats of a
/// booking are its tickets, issued one per seat at payment and kept (void) when seats are
/// cancelled later; a booking with fewer tickets than seats (from before tickets) counts its
/// seats.
#[tracing::instrument(skip_all)]
pub async fn sales(
    conn: &mut PgConnection,
    chain: Uuid,
    starts: &[DateTime<Utc>],
) -> Result<Vec<DayFigures>, sqlx::Error> {
    let (Some(first), Some(last)) = (starts.first(), starts.last()) else {
        return Ok(Vec::new());
    };
    if starts.len() < 2 {
        return Ok(Vec::new());
    }
    let rows = sqlx::query!(
        r#"with paid as (
             select width_bucket(p.created_at, $2::timestamptz[]) as n,
                    count(*) as bookings,
                    sum(greatest(cardinality(b.seats),
                                 (select count(*) from tickets tk
                                   where tk.booking_id = p.booking_id))) as seats,
                    sum(p.amount_minor) as revenue,
                    sum(p.gift_card_minor) as gift_card
               from payments p join bookings b on b.id = p.booking_id
              where p.chain_id = $1 and p.created_at >= $3 and p.created_at < $4
              group by 1),
           refunded as (
             select width_bucket(r.created_at, $2::timestamptz[]) as n,
                    sum(r.amount_minor) as refunds
               from payment_refunds r
              where r.chain_id = $1 and r.created_at >= $3 and r.created_at < $4
              group by 1)
         select coalesce(paid.bookings, 0) as "bookings!",
                coalesce(paid.seats, 0)::bigint as "seats!",
                coalesce(paid.revenue, 0)::bigint as "revenue_minor!",
                coalesce(paid.gift_card, 0)::bigint as "gift_card_minor!",
                coalesce(refunded.refunds, 0)::bigint as "refunds_minor!"
           from generate_series(1, cardinality($2::timestamptz[]) - 1) as g(n)
           left join paid on paid.n = g.n
           left join refunded on refunded.n = g.n
          order by g.n"#,
        chain,
        starts,
        first,
        last,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DayFigures {
            bookings: r.bookings,
            seats: r.seats,
            revenue_minor: r.revenue_minor,
            gift_card_minor: r.gift_card_minor,
            refunds_minor: r.refunds_minor,
        })
        .collect())
}
