//! Table `movies`: one catalogue every chain may show, each movie edited only by the chain
//! that created it (`chain_id`) or, for a platform movie (no chain), by admins.

use crate::domain::types::ReleaseStatus;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A movie.
#[derive(Debug, Clone)]
pub struct Movie {
    /// Id.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// Synopsis.
    pub description: String,
    /// Cast, at least one.
    pub cast_members: Vec<String>,
    /// Director.
    pub director: String,
    /// Trailer URL.
    pub trailer_url: String,
    /// Release date.
    pub release_date: NaiveDate,
    /// Announced or out.
    pub release_status: ReleaseStatus,
    /// Languages, at least one.
    pub languages: Vec<String>,
    /// Runtime.
    pub runtime_minutes: i32,
    /// Certificate (U, UA, A, PG-13, ...).
    pub certificate: Option<String>,
    /// The chain that owns the movie and alone may edit it; `None` for a platform movie,
    /// which only admins edit.
    pub chain_id: Option<Uuid>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// The writable fields of a movie.
#[derive(Debug, Clone)]
pub struct MovieFields {
    /// Title.
    pub title: String,
    /// Synopsis.
    pub description: String,
    /// Cast.
    pub cast_members: Vec<String>,
    /// Director.
    pub director: String,
    /// Trailer URL.
    pub trailer_url: String,
    /// Release date.
    pub release_date: NaiveDate,
    /// Announced or out.
    pub release_status: ReleaseStatus,
    /// Languages.
    pub languages: Vec<String>,
    /// Runtime.
    pub runtime_minutes: i32,
    /// Certificate.
    pub certificate: Option<String>,
}

/// Inserts a movie owned by `chain` (`None`: a platform movie).
#[tracing::instrument(skip_all)]
pub async fn insert(
    conn: &mut PgConnection,
    chain: Option<Uuid>,
    m: &MovieFields,
) -> Result<Movie, sqlx::Error> {
    insert_with_id(conn, Uuid::now_v7(), chain, m).await
}

/// Inserts a movie with a chosen id (demo data); does nothing if it exists, except giving a
/// platform movie to `chain` (demo data loaded before movies had owners).
#[tracing::instrument(skip_all)]
pub async fn insert_with_id(
    conn: &mut PgConnection,
    id: Uuid,
    chain: Option<Uuid>,
    m: &MovieFields,
) -> Result<Movie, sqlx::Error> {
    sqlx::query!(
        r#"insert into movies (id, title, description, cast_members, director, trailer_url,
            release_date, release_status, languages, runtime_minutes, certificate, chain_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         on conflict (id) do update set chain_id = excluded.chain_id
            where movies.chain_id is null and excluded.chain_id is not null"#,
        id,
        &m.title,
        &m.description,
        &m.cast_members,
        &m.director,
        &m.trailer_url,
        m.release_date,
        m.release_status.as_str(),
        &m.languages,
        m.runtime_minutes,
        m.certificate.as_deref(),
        chain,
    )
    .execute(&mut *conn)
    .await?;
    find(conn, id).await?.ok_or(sqlx::Error::RowNotFound)
}

/// One movie.
#[tracing::instrument(skip_all)]
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<Movie>, sqlx::Error> {
    sqlx::query_as!(
        Movie,
        r#"select id, title, description, cast_members, director, trailer_url, release_date,
                 release_status as "release_status: ReleaseStatus", languages, runtime_minutes,
                 certificate, chain_id, created_at, updated_at from movies where id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// Replaces the writable fields.
#[tracing::instrument(skip_all)]
pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    m: &MovieFields,
) -> Result<Option<Movie>, sqlx::Error> {
    sqlx::query_as!(
        Movie,
        r#"update movies set title = $2, description = $3, cast_members = $4, director = $5,
            trailer_url = $6, release_date = $7, release_status = $8, languages = $9,
            runtime_minutes = $10, certificate = $11
         where id = $1 returning id, title, description, cast_members, director, trailer_url,
                release_date, release_status as "release_status: ReleaseStatus", languages,
                runtime_minutes, certificate, chain_id, created_at, updated_at"#,
        id,
        &m.title,
        &m.description,
        &m.cast_members,
        &m.director,
        &m.trailer_url,
        m.release_date,
        m.release_status.as_str(),
        &m.languages,
        m.runtime_minutes,
        m.certificate.as_deref(),
    )
    .fetch_optional(conn)
    .await
}

/// Deletes a movie; fails on `shows_movie_fkey` while shows of it exist.
#[tracing::instrument(skip_all)]
pub async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(r#"delete from movies where id = $1"#, id,)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Movie list filters.
#[derive(Debug, Default)]
pub struct MovieFilter {
    /// Case-insensitive substring of the title.
    pub q: Option<String>,
    /// `coming_soon` or `released`.
    pub release_status: Option<String>,
    /// Spoken in this language (case-insensitive).
    pub language: Option<String>,
}

/// A page of movies.
#[tracing::instrument(skip_all)]
pub async fn list(
    conn: &mut PgConnection,
    f: &MovieFilter,
    after: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Movie>, sqlx::Error> {
    sqlx::query_as!(
        Movie,
        r#"select id, title, description, cast_members, director, trailer_url, release_date,
                 release_status as "release_status: ReleaseStatus", languages, runtime_minutes,
                 certificate, chain_id, created_at, updated_at from movies
         where ($1::text is null or strpos(lower(title), lower($1)) > 0)
           and ($2::text is null or release_status = $2)
           and ($3::text is null or exists (select 1 from unnest(languages) l where lower(l) = lower($3)))
           and ($4::uuid is null or id > $4)
         order by id limit $5"#,
        f.q.as_deref(),
        f.release_status.as_deref(),
        f.language.as_deref(),
        after,
        fetch,
    )
    .fetch_all(conn)
    .await
}

/// A page of the movies now showing at a theatre.
#[tracing::instrument(skip_all)]
pub async fn now_showing(
    conn: &mut PgConnection,
    theatre: Uuid,
    after: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Movie>, sqlx::Error> {
    sqlx::query_as!(
        Movie,
        r#"select id, title, description, cast_members, director, trailer_url, release_date,
                 release_status as "release_status: ReleaseStatus", languages, runtime_minutes,
                 certificate, chain_id, created_at, updated_at from movies
         where id in (select movie_id from theatre_movies where theatre_id = $1)
           and ($2::uuid is null or id > $2)
         order by id limit $3"#,
        theatre,
        after,
        fetch,
    )
    .fetch_all(conn)
    .await
}

/// Ids among `ids` that are not movies.
#[tracing::instrument(skip_all)]
pub async fn missing(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select i as "i!" from unnest($1::uuid[]) i where not exists (select 1 from movies m where m.id = i)"#,
        ids,
    )
    .fetch_all(conn)
    .await
}
