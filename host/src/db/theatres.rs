//! Tables `theatres` and `theatre_movies` (the now-showing list).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A theatre.
#[derive(Debug, Clone)]
pub struct Theatre {
    /// Id.
    pub id: Uuid,
    /// Owning chain.
    pub chain_id: Uuid,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// City.
    pub city: String,
    /// Postal code.
    pub pin_code: String,
    /// Street address.
    pub address: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// Writable fields (the chain is fixed at creation).
#[derive(Debug, Clone)]
pub struct TheatreFields {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// City.
    pub city: String,
    /// Postal code.
    pub pin_code: String,
    /// Street address.
    pub address: String,
}

/// Inserts a theatre of `chain` (with `id` if given, doing nothing if it exists).
#[tracing::instrument(skip_all)]
pub async fn insert(
    conn: &mut PgConnection,
    id: Option<Uuid>,
    chain: Uuid,
    t: &TheatreFields,
) -> Result<Theatre, sqlx::Error> {
    let id = id.unwrap_or_else(Uuid::now_v7);
    sqlx::query!(
        r#"insert into theatres (id, chain_id, name, description, city, pin_code, address)
         values ($1, $2, $3, $4, $5, $6, $7) on conflict (id) do nothing"#,
        id,
        chain,
        &t.name,
        &t.description,
        &t.city,
        &t.pin_code,
        &t.address,
    )
    .execute(&mut *conn)
    .await?;
    find(conn, id).await?.ok_or(sqlx::Error::RowNotFound)
}

/// One theatre by id alone: the entry lookup for a URL that names only the theatre (its chain
/// is learned here and passed to every later statement), as `db::bookings::find`.
#[tracing::instrument(skip_all)]
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<Theatre>, sqlx::Error> {
    sqlx::query_as!(
        Theatre,
        r#"select id, chain_id, name, description, city, pin_code, address, created_at,
                 updated_at from theatres where id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// Replaces the writable fields.
#[tracing::instrument(skip_all)]
pub async fn update(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
    t: &TheatreFields,
) -> Result<Option<Theatre>, sqlx::Error> {
    sqlx::query_as!(
        Theatre,
        r#"update theatres set name = $2, description = $3, city = $4, pin_code = $5, address = $6
         where id = $1 and chain_id = $7 returning id, chain_id, name, description, city,
                pin_code, address, created_at, updated_at"#,
        id,
        &t.name,
        &t.description,
        &t.city,
        &t.pin_code,
        &t.address,
        chain,
    )
    .fetch_optional(conn)
    .await
}

/// Deletes a theatre with its screens, seats and shows (bookings, once they exist, block it).
#[tracing::instrument(skip_all)]
pub async fn delete(conn: &mut PgConnection, chain: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"delete from theatres where id = $1 and chain_id = $2"#,
        id,
        chain,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Theatre list filters.
#[derive(Debug, Default)]
pub struct TheatreFilter {
    /// City, case-insensitive.
    pub city: Option<String>,
    /// Postal code.
    pub pin_code: Option<String>,
    /// Chain.
    pub chain_id: Option<Uuid>,
    /// Now showing this movie.
    pub movie_id: Option<Uuid>,
    /// Substring of name, city or address, case-insensitive.
    pub q: Option<String>,
}

/// A page of theatres.
#[tracing::instrument(skip_all)]
pub async fn list(
    conn: &mut PgConnection,
    f: &TheatreFilter,
    after: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Theatre>, sqlx::Error> {
    sqlx::query_as!(
        Theatre,
        r#"select id, chain_id, name, description, city, pin_code, address, created_at,
                 updated_at from theatres t
         where ($1::text is null or lower(city) = lower($1))
           and ($2::text is null or pin_code = $2)
           and ($3::uuid is null or chain_id = $3)
           and ($4::uuid is null or exists (select 1 from theatre_movies tm where tm.theatre_id = t.id and tm.movie_id = $4))
           and ($5::text is null or strpos(lower(name), lower($5)) > 0 or strpos(lower(city), lower($5)) > 0 or strpos(lower(address), lower($5)) > 0)
           and ($6::uuid is null or id > $6)
         order by id limit $7"#,
        f.city.as_deref(),
        f.pin_code.as_deref(),
        f.chain_id,
        f.movie_id,
        f.q.as_deref(),
        after,
        fetch,
    )
    .fetch_all(conn)
    .await
}

/// Adds movies to the now-showing list (idempotent).
#[tracing::instrument(skip_all)]
pub async fn add_movies(
    conn: &mut PgConnection,
    chain: Uuid,
    theatre: Uuid,
    movies: &[Uuid],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into theatre_movies (chain_id, theatre_id, movie_id)
         select $1, $2, m from unnest($3::uuid[]) m on conflict do nothing"#,
        chain,
        theatre,
        movies,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes a movie from the now-showing list; false if it was not on it.
#[tracing::instrument(skip_all)]
pub async fn remove_movie(
    conn: &mut PgConnection,
    chain: Uuid,
    theatre: Uuid,
    movie: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"delete from theatre_movies where theatre_id = $1 and movie_id = $2 and chain_id = $3"#,
        theatre,
        movie,
        chain,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether the movie is on the theatre's now-showing list.
#[tracing::instrument(skip_all)]
pub async fn is_showing(
    conn: &mut PgConnection,
    theatre: Uuid,
    movie: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from theatre_movies where theatre_id = $1 and movie_id = $2) as "v!""#,
        theatre,
        movie,
    )
    .fetch_one(conn)
    .await
}
