//! Theatres and their now-showing lists.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath, ApiQuery, StaffUser};
use super::movies::MovieView;
use super::page::{Page, PageRequest};
use super::{ApiError, Problem};
use crate::domain::Actor;
use crate::domain::catalogue::{NewTheatreCommand, Theatre, TheatreChanges, TheatreFilter};
use crate::state::AppState;

/// The routes of this module, each declared once: its path and method come from the
/// handler's `#[utoipa::path]`, which also puts it in the OpenAPI document.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_theatres, create_theatre))
        .routes(routes!(get_theatre, update_theatre, delete_theatre))
        .routes(routes!(list_now_showing, add_now_showing))
        .routes(routes!(check_now_showing, remove_now_showing))
}

/// A theatre.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TheatreView {
    id: Uuid,
    chain_id: Uuid,
    name: String,
    description: String,
    city: String,
    pin_code: String,
    address: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Theatre> for TheatreView {
    fn from(t: Theatre) -> Self {
        Self {
            id: t.id,
            chain_id: t.chain_id,
            name: t.name,
            description: t.description,
            city: t.city,
            pin_code: t.pin_code,
            address: t.address,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// New theatre.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateTheatre {
    chain_id: Uuid,
    #[schema(schema_with = field::name)]
    name: String,
    #[schema(schema_with = field::description)]
    description: String,
    #[schema(schema_with = field::city)]
    city: String,
    /// A string: postal codes can have letters and leading zeros.
    #[schema(schema_with = field::pin_code)]
    pin_code: String,
    #[schema(schema_with = field::address)]
    address: String,
}

/// Theatre changes (the chain is fixed).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateTheatre {
    #[schema(schema_with = field::name_or_null)]
    name: Option<String>,
    #[schema(schema_with = field::description_or_null)]
    description: Option<String>,
    #[schema(schema_with = field::city_or_null)]
    city: Option<String>,
    #[schema(schema_with = field::pin_code_or_null)]
    pin_code: Option<String>,
    #[schema(schema_with = field::address_or_null)]
    address: Option<String>,
}

/// The theatre fields' schemas, from the limits the catalogue checks
/// ([`theatre_limits`](crate::domain::catalogue::theatre_limits)).
mod field {
    use crate::domain::catalogue::theatre_limits as limits;
    use crate::http::schema::{nullable, trimmed_text};
    use utoipa::openapi::schema::{Object, OneOfBuilder};

    pub(super) fn name() -> Object {
        trimmed_text(limits::NAME).build()
    }
    pub(super) fn description() -> Object {
        trimmed_text(limits::DESCRIPTION).build()
    }
    pub(super) fn city() -> Object {
        trimmed_text(limits::CITY).build()
    }
    pub(super) fn address() -> Object {
        trimmed_text(limits::ADDRESS).build()
    }
    pub(super) fn pin_code() -> Object {
        let (min, max) = (*limits::PIN_CODE.start(), *limits::PIN_CODE.end());
        crate::http::schema::text(min, max)
            .pattern(Some(format!(
                "^[A-Za-z0-9-][A-Za-z0-9 -]{{{},{}}}[A-Za-z0-9-]$",
                min - 2,
                max - 2
            )))
            .description(Some(format!(
                "{min} to {max} letters, digits, spaces or dashes"
            )))
            .build()
    }
    pub(super) fn name_or_null() -> OneOfBuilder {
        nullable(name())
    }
    pub(super) fn description_or_null() -> OneOfBuilder {
        nullable(description())
    }
    pub(super) fn city_or_null() -> OneOfBuilder {
        nullable(city())
    }
    pub(super) fn pin_code_or_null() -> OneOfBuilder {
        nullable(pin_code())
    }
    pub(super) fn address_or_null() -> OneOfBuilder {
        nullable(address())
    }
    pub(super) fn movie_ids() -> utoipa::openapi::schema::ArrayBuilder {
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(crate::http::schema::uuid())
            .min_items(Some(1))
            .max_items(Some(limits::MAX_ADD))
    }
}

/// Creates a theatre of one of the caller's chains and emails the creator.
#[utoipa::path(post, path = "/api/v1/theatres", tag = "catalogue", request_body = CreateTheatre,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = TheatreView),
        (status = 403, description = "Not approved chain staff", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such chain (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_theatre(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiJson(body): ApiJson<CreateTheatre>,
) -> Result<(StatusCode, Json<TheatreView>), ApiError> {
    let cmd = NewTheatreCommand {
        chain_id: body.chain_id,
        name: body.name,
        description: body.description,
        city: body.city,
        pin_code: body.pin_code,
        address: body.address,
    };
    let theatre = state
        .catalogue
        .create_theatre(&Actor::new(user), cmd)
        .await?;
    Ok((StatusCode::CREATED, Json(theatre.into())))
}

/// Theatre filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct TheatreQuery {
    /// City (case-insensitive).
    city: Option<String>,
    pin_code: Option<String>,
    chain_id: Option<Uuid>,
    /// Theatres now showing this movie.
    movie_id: Option<Uuid>,
    /// Matches name, city or address (case-insensitive substring).
    q: Option<String>,
    #[param(schema_with = crate::http::schema::page_limit)]
    limit: Option<u32>,
    #[param(schema_with = crate::http::schema::page_cursor)]
    cursor: Option<String>,
}

/// Lists theatres.
#[utoipa::path(get, path = "/api/v1/theatres", tag = "catalogue", params(TheatreQuery),
    responses((status = 200, description = "A page of theatres", body = Page<TheatreView>)))]
pub(super) async fn list_theatres(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<TheatreQuery>,
) -> Result<Json<Page<TheatreView>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = TheatreFilter {
        city: q.city,
        pin_code: q.pin_code,
        chain_id: q.chain_id,
        movie_id: q.movie_id,
        q: q.q,
    };
    let rows = state
        .catalogue
        .list_theatres(&filter, page.after, page.fetch())
        .await?;
    Ok(Json(
        Page::from_rows(rows, page, |t| t.id).map(TheatreView::from),
    ))
}

/// One theatre.
#[utoipa::path(get, path = "/api/v1/theatres/{id}", tag = "catalogue",
    params(("id" = Uuid, Path, description = "Theatre id")),
    responses(
        (status = 200, description = "The theatre", body = TheatreView),
        (status = 404, description = "No such theatre", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn get_theatre(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TheatreView>, ApiError> {
    Ok(Json(state.catalogue.theatre(id).await?.into()))
}

/// Changes a theatre of the caller's chain.
#[utoipa::path(patch, path = "/api/v1/theatres/{id}", tag = "catalogue", request_body = UpdateTheatre,
    params(("id" = Uuid, Path, description = "Theatre id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = TheatreView),
        (status = 400, description = "Unknown field (e.g. `chain_id`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such theatre (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn update_theatre(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateTheatre>,
) -> Result<Json<TheatreView>, ApiError> {
    let changes = TheatreChanges {
        name: body.name,
        description: body.description,
        city: body.city,
        pin_code: body.pin_code,
        address: body.address,
    };
    let t = state
        .catalogue
        .update_theatre(&Actor::new(user), id, changes)
        .await?;
    Ok(Json(t.into()))
}

/// Deletes a theatre with its screens and shows.
#[utoipa::path(delete, path = "/api/v1/theatres/{id}", tag = "catalogue",
    params(("id" = Uuid, Path, description = "Theatre id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such theatre (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`in_use`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn delete_theatre(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state
        .catalogue
        .delete_theatre(&Actor::new(user), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Paging parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct PageQuery {
    #[param(schema_with = crate::http::schema::page_limit)]
    limit: Option<u32>,
    #[param(schema_with = crate::http::schema::page_cursor)]
    cursor: Option<String>,
}

/// The theatre's now-showing list.
#[utoipa::path(get, path = "/api/v1/theatres/{id}/movies", tag = "catalogue",
    params(("id" = Uuid, Path, description = "Theatre id"), PageQuery),
    responses(
        (status = 200, description = "A page of movies", body = Page<MovieView>),
        (status = 404, description = "No such theatre", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_now_showing(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<MovieView>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .catalogue
        .now_showing(id, page.after, page.fetch())
        .await?;
    Ok(Json(
        Page::from_rows(rows, page, |m| m.id).map(MovieView::from),
    ))
}

/// Movies to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AddMovies {
    #[schema(schema_with = field::movie_ids)]
    movie_ids: Vec<Uuid>,
}

/// Adds movies to the now-showing list; answers with the list.
#[utoipa::path(post, path = "/api/v1/theatres/{id}/movies", tag = "catalogue", request_body = AddMovies,
    params(("id" = Uuid, Path, description = "Theatre id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The now-showing list", body = Page<MovieView>),
        (status = 404, description = "No such theatre (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown movie ids", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn add_now_showing(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<AddMovies>,
) -> Result<Json<Page<MovieView>>, ApiError> {
    let page = PageRequest::parse(Some(super::page::MAX_LIMIT), None)?;
    let rows = state
        .catalogue
        .add_now_showing(&Actor::new(user), id, &body.movie_ids, page.fetch())
        .await?;
    Ok(Json(
        Page::from_rows(rows, page, |m| m.id).map(MovieView::from),
    ))
}

/// Whether a movie is now showing: 200 with the movie, else 404.
#[utoipa::path(get, path = "/api/v1/theatres/{id}/movies/{movie_id}", tag = "catalogue",
    params(("id" = Uuid, Path, description = "Theatre id"), ("movie_id" = Uuid, Path, description = "Movie id")),
    responses(
        (status = 200, description = "Now showing", body = MovieView),
        (status = 404, description = "Not showing (or no such theatre/movie)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn check_now_showing(
    State(state): State<AppState>,
    ApiPath((id, movie_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<MovieView>, ApiError> {
    let movie = state.catalogue.showing_movie(id, movie_id).await?;
    Ok(Json(movie.into()))
}

/// Removes a movie from the now-showing list.
#[utoipa::path(delete, path = "/api/v1/theatres/{id}/movies/{movie_id}", tag = "catalogue",
    params(("id" = Uuid, Path, description = "Theatre id"), ("movie_id" = Uuid, Path, description = "Movie id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "Not on the list (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn remove_now_showing(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((id, movie_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    state
        .catalogue
        .remove_now_showing(&Actor::new(user), id, movie_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
