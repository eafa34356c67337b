//! The movie catalogue: every chain may show any movie; a movie is edited only by the staff
//! of the chain that created it (`chain_id`), a platform movie (no chain) only by admins.

use crate::domain::types::ReleaseStatus;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{AdminUser, ApiJson, ApiPath, ApiQuery, Problems, StaffUser, require_member};
use super::page::{Page, PageRequest};
use super::{ApiError, Problem};
use crate::db::chains;
use crate::db::movies::{self, Movie, MovieFields, MovieFilter};
use crate::domain::types::{Role, User};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/movies", get(list_movies).post(create_movie))
        .route(
            "/movies/{id}",
            get(get_movie).patch(update_movie).delete(delete_movie),
        )
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
    title: Option<String>,
    description: Option<String>,
    cast: Option<Vec<String>>,
    director: Option<String>,
    trailer_url: Option<String>,
    /// `YYYY-MM-DD`.
    release_date: Option<String>,
    /// `coming_soon` or `released`.
    release_status: Option<String>,
    languages: Option<Vec<String>>,
    runtime_minutes: Option<i64>,
    certificate: Option<String>,
    /// Create only: the chain that owns the movie and alone may edit it. Required for chain
    /// staff (a chain they are a member of); admins omit it for a platform movie that only
    /// admins edit. It cannot be changed afterwards (422 on `PATCH` when it differs).
    #[schema(value_type = Option<String>, format = Uuid)]
    chain_id: Option<Uuid>,
}

impl MovieBody {
    /// Overlays these fields on `base` (an existing movie, or nothing for a create) and
    /// validates the result; `check` adds the caller's own problems to the same answer.
    fn into_fields(
        self,
        base: Option<MovieFields>,
        check: impl FnOnce(&mut Problems),
    ) -> Result<MovieFields, ApiError> {
        let mut p = Problems::default();
        check(&mut p);
        let creating = base.is_none();
        let mut need = |name: &str, present: bool| {
            if creating && !present {
                p.add(name, "is required");
            }
        };
        need("title", self.title.is_some());
        need("description", self.description.is_some());
        need("cast", self.cast.is_some());
        need("director", self.director.is_some());
        need("trailer_url", self.trailer_url.is_some());
        need("release_date", self.release_date.is_some());
        need("release_status", self.release_status.is_some());
        need("languages", self.languages.is_some());
        need("runtime_minutes", self.runtime_minutes.is_some());
        let text = |p: &mut Problems, field: &str, v: Option<String>, max: usize| {
            v.map(|v| v.trim().to_owned()).filter(|v| {
                let ok = !v.is_empty() && v.chars().count() <= max;
                if !ok {
                    p.add(field, format!("must be 1 to {max} characters"));
                }
                ok
            })
        };
        let title = text(&mut p, "title", self.title, 200);
        let description = text(&mut p, "description", self.description, 5000);
        let director = text(&mut p, "director", self.director, 200);
        let list = |p: &mut Problems, field: &str, v: Option<Vec<String>>| {
            v.map(|v| {
                v.into_iter()
                    .map(|s| s.trim().to_owned())
                    .collect::<Vec<_>>()
            })
            .filter(|v| {
                let ok = !v.is_empty()
                    && v.len() <= 100
                    && v.iter().all(|s| !s.is_empty() && s.len() <= 200);
                if !ok {
                    p.add(field, "must be a list of 1 to 100 non-empty names");
                }
                ok
            })
        };
        let cast = list(&mut p, "cast", self.cast);
        let languages = list(&mut p, "languages", self.languages);
        let trailer_url = self.trailer_url.map(|u| u.trim().to_owned()).filter(|u| {
            let ok = (u.starts_with("https://") || u.starts_with("http://"))
                && u.len() > 10
                && u.len() <= 2000
                && !u.chars().any(char::is_whitespace);
            if !ok {
                p.add("trailer_url", "must be an http(s) URL");
            }
            ok
        });
        let release_date = self.release_date.and_then(|d| {
            p.check(
                "release_date",
                NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map_err(|_| "must be a date like 2026-01-15"),
            )
        });
        let release_status = self.release_status.and_then(|s| {
            let parsed = ReleaseStatus::parse(&s);
            if parsed.is_none() {
                p.add("release_status", "must be `coming_soon` or `released`");
            }
            parsed
        });
        let runtime_minutes = self.runtime_minutes.and_then(|m| {
            if (1..=600).contains(&m) {
                i32::try_from(m).ok()
            } else {
                p.add("runtime_minutes", "must be between 1 and 600");
                None
            }
        });
        let certificate = self.certificate.map(|c| c.trim().to_owned());
        if certificate
            .as_ref()
            .is_some_and(|c| c.is_empty() || c.len() > 20)
        {
            p.add("certificate", "must be 1 to 20 characters");
        }
        p.finish()?;
        let base = base.unwrap_or(MovieFields {
            title: String::new(),
            description: String::new(),
            cast_members: Vec::new(),
            director: String::new(),
            trailer_url: String::new(),
            release_date: NaiveDate::MIN,
            // A new movie always names its status (`need` above); this is never read.
            release_status: ReleaseStatus::ComingSoon,
            languages: Vec::new(),
            runtime_minutes: 0,
            certificate: None,
        });
        Ok(MovieFields {
            title: title.unwrap_or(base.title),
            description: description.unwrap_or(base.description),
            cast_members: cast.unwrap_or(base.cast_members),
            director: director.unwrap_or(base.director),
            trailer_url: trailer_url.unwrap_or(base.trailer_url),
            release_date: release_date.unwrap_or(base.release_date),
            release_status: release_status.unwrap_or(base.release_status),
            languages: languages.unwrap_or(base.languages),
            runtime_minutes: runtime_minutes.unwrap_or(base.runtime_minutes),
            certificate: certificate.or(base.certificate),
        })
    }
}

fn fields_of(m: &Movie) -> MovieFields {
    MovieFields {
        title: m.title.clone(),
        description: m.description.clone(),
        cast_members: m.cast_members.clone(),
        director: m.director.clone(),
        trailer_url: m.trailer_url.clone(),
        release_date: m.release_date,
        release_status: m.release_status,
        languages: m.languages.clone(),
        runtime_minutes: m.runtime_minutes,
        certificate: m.certificate.clone(),
    }
}

/// Adds a movie to the catalogue.
#[utoipa::path(post, path = "/api/v1/movies", tag = "catalogue", request_body = MovieBody,
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
    let chain_id = body.chain_id;
    let fields = body.into_fields(None, |p| {
        if chain_id.is_none() && user.role != Role::Admin {
            p.add(
                "chain_id",
                "is required: the chain of yours that owns (and alone may edit) the movie",
            );
        }
    })?;
    if let Some(chain) = chain_id {
        // As `POST /theatres`: a chain the caller is not staff of is not found.
        let mut conn = state.db.acquire().await?;
        chains::find(&mut conn, chain)
            .await?
            .ok_or_else(|| ApiError::not_found("no such chain"))?;
        drop(conn);
        require_member(&state, &user, chain).await?;
    }
    let mut conn = state.db.acquire().await?;
    let movie = movies::insert(&mut conn, chain_id, &fields).await?;
    Ok((StatusCode::CREATED, Json(movie.into())))
}

/// Whether `user` may edit `movie`: admins every movie, chain staff their chain's movies.
async fn may_edit(state: &AppState, user: &User, movie: &Movie) -> Result<bool, ApiError> {
    if user.role == Role::Admin {
        return Ok(true);
    }
    let Some(chain) = movie.chain_id else {
        return Ok(false);
    };
    let mut conn = state.db.acquire().await?;
    Ok(chains::is_member(&mut conn, chain, user.id).await?)
}

/// Movie filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(super) struct MovieQuery {
    /// Case-insensitive substring of the title.
    q: Option<String>,
    /// `coming_soon` or `released`.
    release_status: Option<String>,
    /// A language the movie is in.
    language: Option<String>,
    limit: Option<u32>,
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
    let mut conn = state.db.acquire().await?;
    let rows = movies::list(&mut conn, &filter, page.after, page.fetch()).await?;
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
    let mut conn = state.db.acquire().await?;
    let movie = movies::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such movie"))?;
    Ok(Json(movie.into()))
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
    let mut conn = state.db.acquire().await?;
    let existing = movies::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such movie"))?;
    drop(conn);
    // Another chain's movie, or a platform movie for chain staff: as for every other chain's
    // resource, not found rather than forbidden.
    if !may_edit(&state, &user, &existing).await? {
        return Err(ApiError::not_found("no such movie"));
    }
    let owner = existing.chain_id;
    let moved = body.chain_id.is_some_and(|c| Some(c) != owner);
    let fields = body.into_fields(Some(fields_of(&existing)), |p| {
        if moved {
            p.add(
                "chain_id",
                "cannot be changed: it names the chain that owns the movie",
            );
        }
    })?;
    let mut tx = state.db.begin().await?;
    let movie = movies::update(&mut tx, id, &fields)
        .await?
        .ok_or_else(|| ApiError::not_found("no such movie"))?;
    tx.commit().await?;
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
    _admin: AdminUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let mut conn = state.db.acquire().await?;
    let deleted = movies::delete(&mut conn, id).await.map_err(|e| {
        ApiError::on_constraint(
            e,
            &[(
                "shows_movie_fkey",
                StatusCode::CONFLICT,
                "in_use",
                "shows of this movie exist",
            )],
        )
    })?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("no such movie"))
    }
}
