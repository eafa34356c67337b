//! Tables `screens` and `seats`.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::hook_io::SeatClass;
use crate::domain::types::seat_layout::LaidSeat;

/// A screen.
#[derive(Debug, Clone)]
pub struct Screen {
    /// Id.
    pub id: Uuid,
    /// Chain.
    pub chain_id: Uuid,
    /// Theatre.
    pub theatre_id: Uuid,
    /// Name, unique within the theatre.
    pub name: String,
    /// Seats that can be sold.
    pub capacity: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// A seat of a screen.
#[derive(Debug, Clone)]
pub struct SeatRow {
    /// `A-7`.
    pub id: String,
    /// `A`.
    pub row_label: String,
    /// 7.
    pub number: i32,
    /// Class.
    pub class: SeatClass,
    /// Not for sale.
    pub blocked: bool,
}

/// Inserts a screen and its seats (with `id` if given; nothing happens if the theatre already
/// has a screen of that name and the same id).
#[tracing::instrument(skip_all)]
pub async fn insert(
    conn: &mut PgConnection,
    id: Option<Uuid>,
    chain: Uuid,
    theatre: Uuid,
    name: &str,
    seats: &[LaidSeat],
) -> Result<Screen, sqlx::Error> {
    let id = id.unwrap_or_else(Uuid::now_v7);
    let inserted = sqlx::query!(
        r#"insert into screens (id, chain_id, theatre_id, name) values ($1, $2, $3, $4)
         on conflict (id) do nothing"#,
        id,
        chain,
        theatre,
        name,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        let ids: Vec<&str> = seats.iter().map(|s| s.id.as_str()).collect();
        let rows: Vec<&str> = seats.iter().map(|s| s.row.as_str()).collect();
        let numbers: Vec<i32> = seats.iter().map(|s| s.number as i32).collect();
        let classes: Vec<&str> = seats.iter().map(|s| s.class.as_str()).collect();
        let blocked: Vec<bool> = seats.iter().map(|s| s.blocked).collect();
        sqlx::query!(
            r#"insert into seats (chain_id, screen_id, id, row_label, number, class, blocked, position)
             select $1, $2, s.id, s.row_label, s.number, s.class as "class: SeatClass", s.blocked,
                    s.position::int
             from unnest($3::text[], $4::text[], $5::int[], $6::text[], $7::bool[])
                with ordinality as s(id, row_label, number, class, blocked, position)"#,
            chain,
            id,
            &ids as &[&str],
            &rows as &[&str],
            &numbers,
            &classes as &[&str],
            &blocked,
        )
        .execute(&mut *conn)
        .await?;
    }
    find(conn, chain, id).await?.ok_or(sqlx::Error::RowNotFound)
}

/// One screen by id alone: the entry lookup for a request that names only the screen (its
/// chain is learned here and passed to every later statement), as `db::bookings::find`.
#[tracing::instrument(skip_all)]
pub async fn find_by_id(conn: &mut PgConnection, id: Uuid) -> Result<Option<Screen>, sqlx::Error> {
    sqlx::query_as!(
        Screen,
        r#"select s.id, s.chain_id, s.theatre_id, s.name, s.created_at,
    (select count(*) from seats x where x.screen_id = s.id and not x.blocked) as "capacity!" from screens s where s.id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// One screen of a chain.
#[tracing::instrument(skip_all)]
pub async fn find(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
) -> Result<Option<Screen>, sqlx::Error> {
    sqlx::query_as!(
        Screen,
        r#"select s.id, s.chain_id, s.theatre_id, s.name, s.created_at,
    (select count(*) from seats x where x.screen_id = s.id and not x.blocked) as "capacity!" from screens s where s.id = $1 and s.chain_id = $2"#,
        id,
        chain,
    )
    .fetch_optional(conn)
    .await
}

/// A page of a theatre's screens.
#[tracing::instrument(skip_all)]
pub async fn list(
    conn: &mut PgConnection,
    theatre: Uuid,
    after: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Screen>, sqlx::Error> {
    sqlx::query_as!(
        Screen,
        r#"select s.id, s.chain_id, s.theatre_id, s.name, s.created_at,
    (select count(*) from seats x where x.screen_id = s.id and not x.blocked) as "capacity!" from screens s where s.theatre_id = $1 and ($2::uuid is null or s.id > $2)
         order by s.id limit $3"#,
        theatre,
        after,
        fetch,
    )
    .fetch_all(conn)
    .await
}

/// Every seat of a screen in display order.
#[tracing::instrument(skip_all)]
pub async fn seats(
    conn: &mut PgConnection,
    chain: Uuid,
    screen: Uuid,
) -> Result<Vec<SeatRow>, sqlx::Error> {
    sqlx::query_as!(
        SeatRow,
        r#"select id, row_label, number, class as "class: SeatClass", blocked from seats
         where screen_id = $1 and chain_id = $2 order by position"#,
        screen,
        chain,
    )
    .fetch_all(conn)
    .await
}

/// The classes of the screen's sellable seats.
#[tracing::instrument(skip_all)]
pub async fn classes(conn: &mut PgConnection, screen: Uuid) -> Result<Vec<SeatClass>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select distinct class as "class: SeatClass" from seats where screen_id = $1 and not blocked order by class"#,
        screen,
    )
    .fetch_all(conn)
    .await
}
