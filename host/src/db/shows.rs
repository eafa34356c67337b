//! Table `shows`.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::hook_io::SeatClass;
use crate::domain::types::ShowStatus;

/// Prices per seat class in minor units (`{"standard": 25000}`).
pub type Prices = std::collections::BTreeMap<SeatClass, i64>;

/// A show.
#[derive(Debug, Clone)]
pub struct Show {
    /// Id.
    pub id: Uuid,
    /// Chain.
    pub chain_id: Uuid,
    /// Theatre.
    pub theatre_id: Uuid,
    /// Screen.
    pub screen_id: Uuid,
    /// Movie.
    pub movie_id: Uuid,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End of the movie.
    pub ends_at: DateTime<Utc>,
    /// `2D`, `3D` or `IMAX`.
    pub format: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Prices per class.
    pub prices: Json<Prices>,
    /// Whether it still sells.
    pub status: ShowStatus,
    /// Sellable seats not in a live booking; `None` where the query does not count them
    /// (the booking paths, which never read it).
    pub seats_available: Option<i64>,
}

/// A new show.
#[derive(Debug, Clone)]
pub struct NewShow {
    /// Chain.
    pub chain_id: Uuid,
    /// Theatre.
    pub theatre_id: Uuid,
    /// Screen.
    pub screen_id: Uuid,
    /// Movie.
    pub movie_id: Uuid,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End of the movie.
    pub ends_at: DateTime<Utc>,
    /// End plus cleaning buffer.
    pub busy_until: DateTime<Utc>,
    /// Format.
    pub format: String,
    /// Currency.
    pub currency: String,
    /// Prices.
    pub prices: Prices,
}

/// Inserts a show; `shows_screen_busy` is violated when it overlaps another on the screen.
#[tracing::instrument(skip_all)]
pub async fn insert(conn: &mut PgConnection, id: Uuid, s: &NewShow) -> Result<Show, sqlx::Error> {
    write(&mut *conn, id, s, OnConflict::Raise).await?;
    find(conn, s.chain_id, id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// Inserts a show unless it would overlap another on its screen (demo data).
#[tracing::instrument(skip_all)]
pub async fn insert_if_free(
    conn: &mut PgConnection,
    id: Uuid,
    s: &NewShow,
) -> Result<bool, sqlx::Error> {
    Ok(write(conn, id, s, OnConflict::Skip).await? == 1)
}

async fn write(
    conn: &mut PgConnection,
    id: Uuid,
    s: &NewShow,
    on_conflict: OnConflict,
) -> Result<u64, sqlx::Error> {
    // One statement, two endings: the macro needs its SQL as literals, joined by `+`.
    macro_rules! insert_show {
        ($ending:literal) => {
            sqlx::query!(
                "insert into shows (id, chain_id, theatre_id, screen_id, movie_id, starts_at,
                    ends_at, busy_until, format, currency, prices)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                    + $ending,
                id,
                s.chain_id,
                s.theatre_id,
                s.screen_id,
                s.movie_id,
                s.starts_at,
                s.ends_at,
                s.busy_until,
                &s.format,
                &s.currency,
                Json(&s.prices) as _,
            )
        };
    }
    let done = match on_conflict {
        OnConflict::Raise => insert_show!("").execute(conn).await?,
        OnConflict::Skip => {
            insert_show!(" on conflict do nothing")
                .execute(conn)
                .await?
        }
    };
    Ok(done.rows_affected())
}

/// What an insert does when the row conflicts with a constraint.
#[derive(Debug, Clone, Copy)]
enum OnConflict {
    /// The statement fails with the violation (the caller translates it).
    Raise,
    /// Nothing is written.
    Skip,
}

/// One show of a chain.
#[tracing::instrument(skip_all)]
pub async fn find(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
) -> Result<Option<Show>, sqlx::Error> {
    sqlx::query_as!(
        Show,
        r#"select sh.id, sh.chain_id, sh.theatre_id, sh.screen_id, sh.movie_id,
    sh.starts_at, sh.ends_at, sh.format, sh.currency, sh.prices as "prices: Json<Prices>",
           sh.status as "status: ShowStatus",
           (select count(*) from seats x where x.screen_id = sh.screen_id and not x.blocked)
      - (select count(*) from booking_seats bs where bs.show_id = sh.id
           and bs.taken_until > statement_timestamp())
      as seats_available from shows sh where sh.id = $1 and sh.chain_id = $2"#,
        id,
        chain,
    )
    .fetch_optional(conn)
    .await
}

/// One show by id alone: the entry lookup for a URL that names only the show (its chain is
/// learned here and passed to every later statement), as `db::bookings::find`.
#[tracing::instrument(skip_all)]
pub async fn find_by_id(conn: &mut PgConnection, id: Uuid) -> Result<Option<Show>, sqlx::Error> {
    sqlx::query_as!(
        Show,
        r#"select sh.id, sh.chain_id, sh.theatre_id, sh.screen_id, sh.movie_id,
    sh.starts_at, sh.ends_at, sh.format, sh.currency, sh.prices as "prices: Json<Prices>",
           sh.status as "status: ShowStatus",
           (select count(*) from seats x where x.screen_id = sh.screen_id and not x.blocked)
      - (select count(*) from booking_seats bs where bs.show_id = sh.id
           and bs.taken_until > statement_timestamp())
      as seats_available from shows sh where sh.id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// What a seat map needs of its show besides the seats.
pub struct SeatMapMeta {
    /// Chain.
    pub chain_id: Uuid,
    /// Screen.
    pub screen_id: Uuid,
    /// Prices per class.
    pub prices: Json<Prices>,
}

/// The chain, screen and prices of show `id` (any chain's: a public read naming only the show).
#[tracing::instrument(skip_all)]
pub async fn seat_map_meta(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<SeatMapMeta>, sqlx::Error> {
    sqlx::query_as!(
        SeatMapMeta,
        r#"select chain_id, screen_id, prices as "prices: Json<Prices>" from shows where id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// A show's new time, prices and format.
#[derive(Debug)]
pub struct ShowUpdate<'a> {
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End of the movie.
    pub ends_at: DateTime<Utc>,
    /// End plus the cleaning buffer.
    pub busy_until: DateTime<Utc>,
    /// `2D`, `3D` or `IMAX`.
    pub format: &'a str,
    /// Prices per class.
    pub prices: &'a Prices,
}

/// Changes time, prices or format of a show of a chain.
#[tracing::instrument(skip_all)]
pub async fn update(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
    u: &ShowUpdate<'_>,
) -> Result<Option<Show>, sqlx::Error> {
    let done = sqlx::query!(
        r#"update shows set starts_at = $2, ends_at = $3, busy_until = $4, format = $5, prices = $6
         where id = $1 and chain_id = $7"#,
        id,
        u.starts_at,
        u.ends_at,
        u.busy_until,
        u.format,
        Json(u.prices) as _,
        chain,
    )
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    find(conn, chain, id).await
}

/// Deletes a show of a chain.
#[tracing::instrument(skip_all)]
pub async fn delete(conn: &mut PgConnection, chain: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"delete from shows where id = $1 and chain_id = $2"#,
        id,
        chain,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Show list filters.
#[derive(Debug, Default)]
pub struct ShowFilter {
    /// Theatre.
    pub theatre_id: Option<Uuid>,
    /// Movie.
    pub movie_id: Option<Uuid>,
    /// City of the theatre, case-insensitive.
    pub city: Option<String>,
    /// Starting at or after.
    pub from: Option<DateTime<Utc>>,
    /// Starting before.
    pub to: Option<DateTime<Utc>>,
}

/// A page of shows.
#[tracing::instrument(skip_all)]
pub async fn list(
    conn: &mut PgConnection,
    f: &ShowFilter,
    after: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Show>, sqlx::Error> {
    sqlx::query_as!(
        Show,
        r#"select sh.id, sh.chain_id, sh.theatre_id, sh.screen_id, sh.movie_id,
    sh.starts_at, sh.ends_at, sh.format, sh.currency, sh.prices as "prices: Json<Prices>",
           sh.status as "status: ShowStatus",
           (select count(*) from seats x where x.screen_id = sh.screen_id and not x.blocked)
      - (select count(*) from booking_seats bs where bs.show_id = sh.id
           and bs.taken_until > statement_timestamp())
      as seats_available from shows sh
         where ($1::uuid is null or sh.theatre_id = $1)
           and ($2::uuid is null or sh.movie_id = $2)
           and ($3::text is null or exists (select 1 from theatres t where t.id = sh.theatre_id and lower(t.city) = lower($3)))
           and ($4::timestamptz is null or sh.starts_at >= $4)
           and ($5::timestamptz is null or sh.starts_at < $5)
           and ($6::uuid is null or sh.id > $6)
         order by sh.id limit $7"#,
        f.theatre_id,
        f.movie_id,
        f.city.as_deref(),
        f.from,
        f.to,
        after,
        fetch,
    )
    .fetch_all(conn)
    .await
}

/// A show with the names components and emails need.
#[derive(Debug, Clone)]
pub struct ShowContext {
    /// The show.
    pub show: Show,
    /// Theatre name.
    pub theatre_name: String,
    /// Movie title.
    pub movie_title: String,
    /// Screen name.
    pub screen_name: String,
    /// The chain's time zone.
    pub timezone: String,
    /// The show row's `updated_at` when read: a hold checks it inside its insert
    /// (`show_hold_check`), so a cached context is never decided on after a change.
    pub version: DateTime<Utc>,
    /// The chain row's `updated_at` when read (its time zone), checked likewise.
    pub chain_version: DateTime<Utc>,
}

/// A show and its names, optionally locked (`for share` keeps it from being cancelled or
/// moved while a hold is written).
#[tracing::instrument(skip_all)]
pub async fn context(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ShowContext>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select sh.id, sh.chain_id, sh.theatre_id, sh.screen_id, sh.movie_id,
                  sh.starts_at, sh.ends_at, sh.format, sh.currency,
                  sh.prices as "prices: Json<Prices>", sh.status as "status: ShowStatus",
                  t.name as theatre_name, m.title as movie_title, sc.name as screen_name,
                  c.timezone, sh.updated_at as version, c.updated_at as chain_version
         from shows sh
         join theatres t on t.id = sh.theatre_id
         join movies m on m.id = sh.movie_id
         join screens sc on sc.id = sh.screen_id
         join chains c on c.id = sh.chain_id
         where sh.id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| ShowContext {
        show: Show {
            id: r.id,
            chain_id: r.chain_id,
            theatre_id: r.theatre_id,
            screen_id: r.screen_id,
            movie_id: r.movie_id,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            format: r.format,
            currency: r.currency,
            prices: r.prices,
            status: r.status,
            seats_available: None,
        },
        theatre_name: r.theatre_name,
        movie_title: r.movie_title,
        screen_name: r.screen_name,
        timezone: r.timezone,
        version: r.version,
        chain_version: r.chain_version,
    }))
}

/// Marks a show cancelled (locking it).
#[tracing::instrument(skip_all)]
pub async fn mark_cancelled(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"update shows set status = 'cancelled'
         where chain_id = $1 and id = $2 and status = 'scheduled'"#,
        chain,
        id,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The show as a hold's transaction sees it, after [`lock_for_hold`]'s lock.
#[derive(Debug, Clone, Copy)]
pub struct HoldShow {
    /// Its status.
    pub status: ShowStatus,
    /// The show row's `updated_at` ([`ShowContext::version`]).
    pub version: DateTime<Utc>,
    /// The chain row's `updated_at` ([`ShowContext::chain_version`]).
    pub chain_version: DateTime<Utc>,
}

impl HoldShow {
    /// Still selling, and the context a hold was decided on is this show's current one.
    pub fn sells_as(&self, ctx: &ShowContext) -> bool {
        self.status == ShowStatus::Scheduled
            && self.version == ctx.version
            && self.chain_version == ctx.chain_version
    }
}

/// Holds of a show take this lock shared and cancelling the show takes it exclusive, so a
/// hold is either in before the cancellation (and cancelled with the rest) or sees the show
/// cancelled. A transaction-scoped advisory lock, not `FOR SHARE` on the show row: hundreds
/// of concurrent share lockers of one hot row turn into MultiXact churn. One statement:
/// `show_hold_check` (migration 0021) reads the show with a snapshot taken after the lock.
/// `None`: no such show of the chain, or it has started.
#[tracing::instrument(skip_all)]
pub async fn lock_for_hold(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
) -> Result<Option<HoldShow>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select status as "status!: ShowStatus", version as "version!",
                  chain_version as "chain_version!"
         from show_hold_check($1, $2)"#,
        chain,
        id,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| HoldShow {
        status: r.status,
        version: r.version,
        chain_version: r.chain_version,
    }))
}

/// Waits for holds of the show in flight and keeps new ones out until the transaction ends.
#[tracing::instrument(skip_all)]
pub async fn lock_for_cancel(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"select pg_advisory_xact_lock(hashtextextended($1::uuid::text, 7))"#,
        id,
    )
    .execute(conn)
    .await?;
    Ok(())
}
