//! The movie catalogue: every chain may show any movie; a movie is edited only by the staff
//! of the chain that created it (`chain_id`), a platform movie (no chain) only by admins.

use crate::domain::types::ReleaseStatus;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{AdminUser, ApiJson, ApiPath, ApiQuery, StaffUser};
use super::page::{Page, PageRequest};
use super::{ApiError, Problem};
use crate::domain::Actor;
use crate::domain::catalogue::{Movie, MovieFilter, MovieInput};
use crate::state::AppState;

/// The routes of this module, each declared once: its path and method come from the
/// handler's `#[utoipa::path]`, which also puts it in the OpenAPI document.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_movies, create_movie))
        .routes(routes!(get_movie, update_movie, delete_movie))
}

/// A movie.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MovieView {
    id: Uuid,
    title: String,
    description: String,
    cast: Vec<String>,
    director: String,
    trailer_url: String,
    release_date: NaiveDate,
    /// `coming_soon` or `released`.
    release_status: ReleaseStatus,
    languages: Vec<String>,
    runtime_minutes: i32,
    certificate: Option<String>,
    /// The chain that owns the movie and alone (with admins) may edit it; `null` for a
    /// platform movie, which only admins edit. Every chain may show any movie.
    chain_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Movie> for MovieView {
    fn from(m: Movie) -> Self {
        Self {
            id: m.id,
            title: m.title,
            description: m.description,
            cast: m.cast_members,
            director: m.director,
            trailer_url: m.trailer_url,
            release_date: m.release_date,
            release_status: m.release_status,
            languages: m.languages,
            runtime_minutes: m.runtime_minutes,
            certificate: m.certificate,
            chain_id: m.chain_id,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A movie's fields; every one required on create, any subset on update.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct MovieBody {
    #[schema(schema_with = field::title)]
    title: Option<String>,
    #[schema(schema_with = field::description)]
    description: Option<String>,
    #[schema(schema_with = field::names)]
    cast: Option<Vec<String>>,
    #[schema(schema_with = field::director)]
    director: Option<String>,
    /// An `http://` or `https://` URL without whitespace.
    #[schema(schema_with = field::trailer_url)]
    trailer_url: Option<String>,
    /// `YYYY-MM-DD`.
    #[schema(schema_with = field::release_date)]
    release_date: Option<String>,
    /// `coming_soon` or `released`.
    #[schema(schema_with = field::release_status)]
    release_status: Option<String>,
    #[schema(schema_with = field::names)]
    languages: Option<Vec<String>>,
    #[schema(schema_with = field::runtime_minutes)]
    runtime_minutes: Option<i64>,
    #[schema(schema_with = field::certificate)]
    certificate: Option<String>,
    /// Create only: the chain that owns the movie and alone may edit it. Required for chain
    /// staff (a chain they are a member of); admins omit it for a platform movie that only
    /// admins edit. It cannot be changed afterwards (422 on `PATCH` when it differs).
    #[schema(value_type = Option<String>, format = Uuid)]
    chain_id: Option<Uuid>,
}

/// `POST /movies`'s body: [`MovieBody`] with the fields a create must send
/// ([`REQUIRED_ON_CREATE`](crate::domain::catalogue::movie_limits::REQUIRED_ON_CREATE)) marked
/// required. `PATCH` takes [`MovieBody`] itself, every field optional.
pub(super) struct NewMovieBody;

impl utoipa::PartialSchema for NewMovieBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::Schema;
        let mut schema = <MovieBody as utoipa::PartialSchema>::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            object.description = Some("A new movie.".into());
            object.required = Vec::new();
            for field in crate::domain::catalogue::movie_limits::REQUIRED_ON_CREATE {
                object.required.push(field.to_owned());
                // A required field may not be null either (null is "not sent": 422).
                if let Some(RefOr::T(Schema::OneOf(one_of))) = object.properties.get_mut(field)
                    && let Some(first) = one_of.items.first().cloned()
                {
                    object.properties.insert(field.to_owned(), first);
                }
            }
        }
        schema
    }
}

impl utoipa::ToSchema for NewMovieBody {}

/// The movie fields' schemas, from the limits the catalogue checks
/// ([`movie_limits`](crate::domain::catalogue::movie_limits)). Each may be null (the same as
/// leaving it out); on create every field but `certificate` and `chain_id` is required (422
/// `is required`), which the one body type shared with `PATCH` cannot say.
mod field {
    use crate::domain::catalogue::movie_limits as limits;
    use crate::http::schema::{integer, nullable, text, trimmed_text};
    use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, OneOfBuilder, SchemaFormat};

    pub(super) fn title() -> OneOfBuilder {
        nullable(trimmed_text(limits::TITLE))
    }
    pub(super) fn description() -> OneOfBuilder {
        nullable(trimmed_text(limits::DESCRIPTION))
    }
    pub(super) fn director() -> OneOfBuilder {
        nullable(trimmed_text(limits::DIRECTOR))
    }
    /// `cast` and `languages`: names of at most [`limits::LIST_ITEM_BYTES`] bytes.
    pub(super) fn names() -> OneOfBuilder {
        nullable(
            ArrayBuilder::new()
                .items(
                    trimmed_text(limits::LIST_ITEM_BYTES).description(Some(format!(
                        "At most {} bytes in UTF-8",
                        limits::LIST_ITEM_BYTES
                    ))),
                )
                .min_items(Some(1))
                .max_items(Some(limits::LIST_ITEMS)),
        )
    }
    pub(super) fn trailer_url() -> OneOfBuilder {
        let (min, max) = (*limits::TRAILER_URL.start(), *limits::TRAILER_URL.end());
        nullable(
            text(min, max)
                .pattern(Some(r"^https?://\S+$"))
                .format(Some(SchemaFormat::Custom("uri".into()))),
        )
    }
    pub(super) fn release_date() -> OneOfBuilder {
        nullable(
            text(10, 10)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
                .pattern(Some(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")),
        )
    }
    pub(super) fn release_status() -> OneOfBuilder {
        nullable(crate::http::schema::release_status())
    }
    pub(super) fn runtime_minutes() -> OneOfBuilder {
        let range = &limits::RUNTIME_MINUTES;
        nullable(integer(*range.start(), *range.end()))
    }
    pub(super) fn certificate() -> OneOfBuilder {
        nullable(
            trimmed_text(limits::CERTIFICATE_BYTES).description(Some(format!(
                "At most {} bytes in UTF-8",
                limits::CERTIFICATE_BYTES
            ))),
        )
    }
}

impl From<MovieBody> for MovieInput {
    fn from(b: MovieBody) -> Self {
        Self {
            title: b.title,
            description: b.description,
            cast: b.cast,
            director: b.director,
            trailer_url: b.trailer_url,
            release_date: b.release_date,
            release_status: b.release_status,
            languages: b.languages,
            runtime_minutes: b.runtime_minutes,
            certificate: b.certificate,
            chain_id: b.chain_id,
        }
    }
}

/// Adds a movie to the catalogue.
#[utoipa::path(post, path = "/api/v1/movies", tag = "catalogue", request_body = inline(NewMovieBody),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = MovieView),
        (status = 400, description = "Malformed JSON or unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not approved chain staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`: no such chain, or chain staff naming a chain they are not a member of", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (chain staff without `chain_id` included)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_movie(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiJson(body): ApiJson<MovieBody>,
) -> Result<(StatusCode, Json<MovieView>), ApiError> {
    let movie = state
        .catalogue
        .create_movie(&Actor::new(user), body.into())
        .await?;
    Ok((StatusCode::CREATED, Json(movie.into())))
}

/// Movie filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct MovieQuery {
    /// Case-insensitive substring of the title.
    q: Option<String>,
    /// `coming_soon` or `released`.
    #[param(schema_with = crate::http::schema::release_status)]
    release_status: Option<String>,
    /// A language the movie is in.
    language: Option<String>,
    #[param(schema_with = crate::http::schema::page_limit)]
    limit: Option<u32>,
    #[param(schema_with = crate::http::schema::page_cursor)]
    cursor: Option<String>,
}

/// Lists movies.
#[utoipa::path(get, path = "/api/v1/movies", tag = "catalogue", params(MovieQuery),
    responses((status = 200, description = "A page of movies", body = Page<MovieView>)))]
pub(super) async fn list_movies(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<MovieQuery>,
) -> Result<Json<Page<MovieView>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = MovieFilter {
        q: q.q,
        release_status: q.release_status,
        language: q.language,
    };
    let rows = state
        .catalogue
        .list_movies(&filter, page.after, page.fetch())
        .await?;
    Ok(Json(
        Page::from_rows(rows, page, |m| m.id).map(MovieView::from),
    ))
}

/// One movie.
#[utoipa::path(get, path = "/api/v1/movies/{id}", tag = "catalogue",
    params(("id" = Uuid, Path, description = "Movie id")),
    responses(
        (status = 200, description = "The movie", body = MovieView),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such movie", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn get_movie(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<MovieView>, ApiError> {
    Ok(Json(state.catalogue.movie(id).await?.into()))
}

/// Changes any of a movie's fields.
#[utoipa::path(patch, path = "/api/v1/movies/{id}", tag = "catalogue", request_body = MovieBody,
    params(("id" = Uuid, Path, description = "Movie id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = MovieView),
        (status = 404, description = "No such movie, or not one the caller may edit: another chain's movie, or a platform movie for chain staff", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (a `chain_id` other than the movie's included)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn update_movie(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<MovieBody>,
) -> Result<Json<MovieView>, ApiError> {
    let movie = state
        .catalogue
        .update_movie(&Actor::new(user), id, body.into())
        .await?;
    Ok(Json(movie.into()))
}

/// Removes a movie (admins only); refused while shows of it exist.
#[utoipa::path(delete, path = "/api/v1/movies/{id}", tag = "catalogue",
    params(("id" = Uuid, Path, description = "Movie id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such movie", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`in_use`: shows of it exist", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn delete_movie(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.catalogue.delete_movie(&Actor::new(admin), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
