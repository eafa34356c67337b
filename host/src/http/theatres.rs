//! Theatres and their now-showing lists.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath, ApiQuery, Problems, StaffUser, require_member, validation};
use super::movies::MovieView;
use super::page::{Page, PageRequest};
use super::{ApiError, Problem};
use crate::db::outbox::{self, OutboxEvent};
use crate::db::theatres::{self, Theatre, TheatreFields, TheatreFilter};
use crate::db::{chains, movies};
use crate::domain::hook_io::EventKind;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/theatres", get(list_theatres).post(create_theatre))
        .route(
            "/theatres/{id}",
            get(get_theatre)
                .patch(update_theatre)
                .delete(delete_theatre),
        )
        .route(
            "/theatres/{id}/movies",
            get(list_now_showing).post(add_now_showing),
        )
        .route(
            "/theatres/{id}/movies/{movie_id}",
            get(check_now_showing).delete(remove_now_showing),
        )
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
    name: String,
    description: String,
    city: String,
    /// A string: postal codes can have letters and leading zeros.
    pin_code: String,
    address: String,
}

/// Theatre changes (the chain is fixed).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateTheatre {
    name: Option<String>,
    description: Option<String>,
    city: Option<String>,
    pin_code: Option<String>,
    address: Option<String>,
}

fn validate(fields: TheatreFields) -> Result<TheatreFields, ApiError> {
    let mut p = Problems::default();
    let trimmed = TheatreFields {
        name: fields.name.trim().to_owned(),
        description: fields.description.trim().to_owned(),
        city: fields.city.trim().to_owned(),
        pin_code: fields.pin_code.trim().to_owned(),
        address: fields.address.trim().to_owned(),
    };
    for (field, value, max) in [
        ("name", &trimmed.name, 200),
        ("description", &trimmed.description, 5000),
        ("city", &trimmed.city, 100),
        ("address", &trimmed.address, 500),
    ] {
        if value.is_empty() || value.chars().count() > max {
            p.add(field, format!("must be 1 to {max} characters"));
        }
    }
    let pin = &trimmed.pin_code;
    if !(3..=12).contains(&pin.len())
        || !pin
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
    {
        p.add(
            "pin_code",
            "must be 3 to 12 letters, digits, spaces or dashes",
        );
    }
    p.finish()?;
    Ok(trimmed)
}

/// Loads a theatre the caller may manage; another chain's theatre is 404.
pub(super) async fn managed_theatre(
    state: &AppState,
    user: &crate::domain::types::User,
    id: Uuid,
) -> Result<Theatre, ApiError> {
    let mut conn = state.db.acquire().await?;
    let theatre = theatres::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such theatre"))?;
    drop(conn);
    require_member(state, user, theatre.chain_id).await?;
    Ok(theatre)
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
    let fields = validate(TheatreFields {
        name: body.name,
        description: body.description,
        city: body.city,
        pin_code: body.pin_code,
        address: body.address,
    })?;
    let mut conn = state.db.acquire().await?;
    chains::find(&mut conn, body.chain_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such chain"))?;
    drop(conn);
    require_member(&state, &user, body.chain_id).await?;
    let mut tx = state.db.begin().await?;
    let theatre = theatres::insert(&mut tx, None, body.chain_id, &fields).await?;
    outbox::enqueue(
        &mut tx,
        &OutboxEvent {
            kind: EventKind::TheatreCreated,
            chain_id: Some(theatre.chain_id),
            recipients: vec![user.email.clone()],
            fields: vec![
                ("name", user.name.clone()),
                ("theatre-name", theatre.name.clone()),
                ("city", theatre.city.clone()),
            ],
            dedupe_key: Some(format!("theatre-created:{}", theatre.id)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(theatre.into())))
}

/// Theatre filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
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
    limit: Option<u32>,
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
    let mut conn = state.db.acquire().await?;
    let rows = theatres::list(&mut conn, &filter, page.after, page.fetch()).await?;
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
    let mut conn = state.db.acquire().await?;
    let t = theatres::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such theatre"))?;
    Ok(Json(t.into()))
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
    let t = managed_theatre(&state, &user, id).await?;
    let fields = validate(TheatreFields {
        name: body.name.unwrap_or(t.name),
        description: body.description.unwrap_or(t.description),
        city: body.city.unwrap_or(t.city),
        pin_code: body.pin_code.unwrap_or(t.pin_code),
        address: body.address.unwrap_or(t.address),
    })?;
    let mut conn = state.db.acquire().await?;
    let t = theatres::update(&mut conn, id, &fields)
        .await?
        .ok_or_else(|| ApiError::not_found("no such theatre"))?;
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
    managed_theatre(&state, &user, id).await?;
    let mut conn = state.db.acquire().await?;
    theatres::delete(&mut conn, id).await.map_err(|e| {
        ApiError::on_constraint(
            e,
            &[(
                "bookings_show_fkey",
                StatusCode::CONFLICT,
                "in_use",
                "shows of this theatre have bookings",
            )],
        )
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Paging parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(super) struct PageQuery {
    limit: Option<u32>,
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
    let mut conn = state.db.acquire().await?;
    theatres::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such theatre"))?;
    let rows = movies::now_showing(&mut conn, id, page.after, page.fetch()).await?;
    Ok(Json(
        Page::from_rows(rows, page, |m| m.id).map(MovieView::from),
    ))
}

/// Movies to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AddMovies {
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
    let theatre = managed_theatre(&state, &user, id).await?;
    if body.movie_ids.is_empty() || body.movie_ids.len() > 200 {
        return Err(validation([("movie_ids", "must list 1 to 200 movie ids")]));
    }
    let mut tx = state.db.begin().await?;
    let missing = movies::missing(&mut tx, &body.movie_ids).await?;
    if !missing.is_empty() {
        let ids: Vec<String> = missing.iter().map(Uuid::to_string).collect();
        return Err(validation([(
            "movie_ids",
            format!("unknown movies: {}", ids.join(", ")),
        )]));
    }
    theatres::add_movies(&mut tx, theatre.chain_id, id, &body.movie_ids).await?;
    let page = PageRequest::parse(Some(super::page::MAX_LIMIT), None)?;
    let rows = movies::now_showing(&mut tx, id, None, page.fetch()).await?;
    tx.commit().await?;
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
    let mut conn = state.db.acquire().await?;
    if !theatres::is_showing(&mut conn, id, movie_id).await? {
        return Err(ApiError::not_found(
            "this movie is not showing at this theatre",
        ));
    }
    let movie = movies::find(&mut conn, movie_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such movie"))?;
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
    managed_theatre(&state, &user, id).await?;
    let mut conn = state.db.acquire().await?;
    if theatres::remove_movie(&mut conn, id, movie_id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(
            "this movie is not showing at this theatre",
        ))
    }
}
