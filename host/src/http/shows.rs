//! Shows: a movie on a screen at a time, with prices per seat class.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath, ApiQuery, Problems, StaffUser, require_member, validation};
use super::page::{Page, PageRequest};
use super::{ApiError, Problem};
use crate::db::shows::{self, NewShow, Prices, Show, ShowFilter};
use crate::db::{chains, movies, screens, theatres};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/shows", get(list_shows).post(create_show))
        .route(
            "/shows/{id}",
            get(get_show).patch(update_show).delete(delete_show),
        )
        .route("/shows/{id}/seats", get(show_seats))
        .route("/shows/{id}/cancel", axum::routing::post(cancel_show))
}

const FORMATS: [&str; 3] = ["2D", "3D", "IMAX"];

/// A show.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ShowView {
    id: Uuid,
    chain_id: Uuid,
    theatre_id: Uuid,
    screen_id: Uuid,
    movie_id: Uuid,
    starts_at: DateTime<Utc>,
    /// When the movie ends (the screen is then cleaned).
    ends_at: DateTime<Utc>,
    /// `2D`, `3D` or `IMAX`.
    format: String,
    currency: String,
    /// Price of one seat per class, in minor units.
    prices: BTreeMap<crate::domain::hook_io::SeatClass, i64>,
    /// `scheduled` or `cancelled`.
    status: crate::domain::types::ShowStatus,
    /// Seats that can still be booked.
    seats_available: i64,
}

impl From<Show> for ShowView {
    fn from(s: Show) -> Self {
        Self {
            id: s.id,
            chain_id: s.chain_id,
            theatre_id: s.theatre_id,
            screen_id: s.screen_id,
            movie_id: s.movie_id,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            format: s.format,
            currency: s.currency,
            prices: s.prices.0,
            status: s.status,
            seats_available: s.seats_available.unwrap_or(0),
        }
    }
}

/// New show.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateShow {
    screen_id: Uuid,
    movie_id: Uuid,
    /// RFC 3339, in the future.
    starts_at: String,
    /// Minor units per seat class; every class of the screen's seats needs a price.
    prices: BTreeMap<String, i64>,
    /// `2D` (default), `3D` or `IMAX`.
    format: Option<String>,
}

/// Show changes; movie and screen are fixed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateShow {
    starts_at: Option<String>,
    prices: Option<BTreeMap<String, i64>>,
    format: Option<String>,
}

fn parse_start(p: &mut Problems, raw: &str) -> Option<DateTime<Utc>> {
    let at = p.check(
        "starts_at",
        DateTime::parse_from_rfc3339(raw).map_err(|_| "must be an RFC 3339 time with offset"),
    )?;
    let at = at.with_timezone(&Utc);
    if at <= Utc::now() {
        p.add("starts_at", "must be in the future");
        return None;
    }
    Some(at)
}

/// The prices of the request, keyed by class once every key is known to be one.
fn check_prices(
    p: &mut Problems,
    raw: &BTreeMap<String, i64>,
    needed: &[crate::domain::hook_io::SeatClass],
) -> Prices {
    let mut prices = Prices::new();
    for (key, amount) in raw {
        let Some(class) = crate::domain::hook_io::SeatClass::parse(key) else {
            p.add(format!("prices.{key}"), "is not a seat class");
            continue;
        };
        if !(0..=100_000_000_000).contains(amount) {
            p.add(
                format!("prices.{key}"),
                "must be between 0 and 100000000000 minor units",
            );
        }
        prices.insert(class, *amount);
    }
    for class in needed {
        if !prices.contains_key(class) {
            p.add(
                format!("prices.{class}"),
                "the screen has seats of this class; give them a price",
            );
        }
    }
    prices
}

fn check_format(p: &mut Problems, format: &str) {
    if !FORMATS.contains(&format) {
        p.add("format", "must be `2D`, `3D` or `IMAX`");
    }
}

fn busy_error(e: sqlx::Error) -> ApiError {
    ApiError::on_constraint(
        e,
        &[(
            "shows_screen_busy",
            StatusCode::CONFLICT,
            "screen_busy",
            "another show overlaps this time on this screen (runtime plus cleaning buffer)",
        )],
    )
}

/// Schedules a show on a screen of the caller's chain.
#[utoipa::path(post, path = "/api/v1/shows", tag = "catalogue", request_body = CreateShow,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = ShowView),
        (status = 404, description = "No such screen (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`screen_busy`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`movie_not_showing` or `validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_show(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiJson(body): ApiJson<CreateShow>,
) -> Result<(StatusCode, Json<ShowView>), ApiError> {
    let mut conn = state.db.acquire().await?;
    let screen = screens::find(&mut conn, body.screen_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such screen"))?;
    drop(conn);
    require_member(&state, &user, screen.chain_id).await?;
    let mut conn = state.db.acquire().await?;
    let mut p = Problems::default();
    let starts_at = parse_start(&mut p, &body.starts_at);
    let needed = screens::classes(&mut conn, screen.id).await?;
    let prices = check_prices(&mut p, &body.prices, &needed);
    let format = body.format.unwrap_or_else(|| "2D".to_owned());
    check_format(&mut p, &format);
    let movie = movies::find(&mut conn, body.movie_id).await?;
    if movie.is_none() {
        p.add("movie_id", "no such movie");
    }
    p.finish()?;
    let (Some(starts_at), Some(movie)) = (starts_at, movie) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    if !theatres::is_showing(&mut conn, screen.theatre_id, movie.id).await? {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "movie_not_showing",
            "the movie is not on this theatre's now-showing list",
        ));
    }
    let chain = chains::find(&mut conn, screen.chain_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such chain"))?;
    let ends_at = starts_at + chrono::Duration::minutes(i64::from(movie.runtime_minutes));
    let busy_until = ends_at + state.catalogue.cleaning_buffer;
    let new = NewShow {
        chain_id: screen.chain_id,
        theatre_id: screen.theatre_id,
        screen_id: screen.id,
        movie_id: movie.id,
        starts_at,
        ends_at,
        busy_until,
        format,
        currency: chain.currency,
        prices,
    };
    let show = shows::insert(&mut conn, Uuid::now_v7(), &new)
        .await
        .map_err(busy_error)?;
    Ok((StatusCode::CREATED, Json(show.into())))
}

/// Show filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(super) struct ShowQuery {
    theatre_id: Option<Uuid>,
    movie_id: Option<Uuid>,
    /// City of the theatre (case-insensitive).
    city: Option<String>,
    /// Shows starting at or after (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Shows starting before (RFC 3339).
    to: Option<DateTime<Utc>>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// Lists shows.
#[utoipa::path(get, path = "/api/v1/shows", tag = "catalogue", params(ShowQuery),
    responses((status = 200, description = "A page of shows", body = Page<ShowView>)))]
pub(super) async fn list_shows(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ShowQuery>,
) -> Result<Json<Page<ShowView>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = ShowFilter {
        theatre_id: q.theatre_id,
        movie_id: q.movie_id,
        city: q.city,
        from: q.from,
        to: q.to,
    };
    let mut conn = state.db.acquire().await?;
    let rows = shows::list(&mut conn, &filter, page.after, page.fetch()).await?;
    Ok(Json(
        Page::from_rows(rows, page, |s| s.id).map(ShowView::from),
    ))
}

/// One show.
#[utoipa::path(get, path = "/api/v1/shows/{id}", tag = "catalogue",
    params(("id" = Uuid, Path, description = "Show id")),
    responses(
        (status = 200, description = "The show", body = ShowView),
        (status = 404, description = "No such show", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn get_show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ShowView>, ApiError> {
    let mut conn = state.db.acquire().await?;
    let show = shows::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such show"))?;
    Ok(Json(show.into()))
}

/// A seat of a show. Borrowed from the cached seat map: a 500-seat answer would otherwise
/// clone a thousand strings only to serialise and drop them.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ShowSeat<'a> {
    id: &'a str,
    row: &'a str,
    number: i32,
    class: crate::domain::hook_io::SeatClass,
    /// `available`, `held`, `sold` or `blocked`.
    state: &'static str,
    /// Price of this seat, in minor units.
    price_minor: Option<i64>,
}

/// The seat map of a show.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ShowSeats<'a> {
    show_id: Uuid,
    items: Vec<ShowSeat<'a>>,
}

/// Every seat of the show with its class, state and price.
#[utoipa::path(get, path = "/api/v1/shows/{id}/seats", tag = "catalogue",
    params(("id" = Uuid, Path, description = "Show id")),
    responses(
        (status = 200, description = "The seat map", body = ShowSeats),
        (status = 404, description = "No such show", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn show_seats(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let mut conn = state.db.acquire().await?;
    let show = shows::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such show"))?;
    let seats = state.seat_maps.get(&mut conn, show.screen_id).await?;
    let taken: std::collections::HashMap<String, String> =
        crate::db::bookings::taken_seats(&mut conn, id)
            .await?
            .into_iter()
            .collect();
    drop(conn);
    let items = seats
        .iter()
        .map(|s| ShowSeat {
            price_minor: show.prices.0.get(&s.class).copied(),
            state: match taken.get(&s.id).map(String::as_str) {
                _ if s.blocked => "blocked",
                Some("sold") => "sold",
                Some(_) => "held",
                None => "available",
            },
            id: &s.id,
            row: &s.row_label,
            number: s.number,
            class: s.class,
        })
        .collect();
    // Serialised here, while the borrowed seat map is alive.
    Ok(Json(ShowSeats { show_id: id, items }).into_response())
}

/// Loads a show the caller may manage; another chain's show is 404.
async fn managed_show(
    state: &AppState,
    user: &crate::domain::types::User,
    id: Uuid,
) -> Result<Show, ApiError> {
    let mut conn = state.db.acquire().await?;
    let show = shows::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such show"))?;
    drop(conn);
    require_member(state, user, show.chain_id).await?;
    Ok(show)
}

/// Moves a show, or changes its prices or format.
#[utoipa::path(patch, path = "/api/v1/shows/{id}", tag = "catalogue", request_body = UpdateShow,
    params(("id" = Uuid, Path, description = "Show id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = ShowView),
        (status = 400, description = "Unknown field (`movie_id`, `screen_id` cannot change)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such show (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`screen_busy`, or `in_use`: live bookings exist (only `format` may change)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn update_show(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UpdateShow>,
) -> Result<Json<ShowView>, ApiError> {
    let show = managed_show(&state, &user, id).await?;
    if body.starts_at.is_none() && body.prices.is_none() && body.format.is_none() {
        return Err(validation([(
            "body",
            "send `starts_at`, `prices` or `format`",
        )]));
    }
    let mut conn = state.db.acquire().await?;
    // Customers bought seats at this time and price: once there are live bookings only the
    // format may change (cancel the show instead).
    if (body.starts_at.is_some() || body.prices.is_some())
        && crate::db::bookings::show_has_live(&mut conn, id).await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "in_use",
            "the show has live bookings; only its format can change",
        ));
    }
    let mut p = Problems::default();
    let starts_at = match &body.starts_at {
        Some(raw) => parse_start(&mut p, raw),
        None => Some(show.starts_at),
    };
    let needed = screens::classes(&mut conn, show.screen_id).await?;
    let prices = match &body.prices {
        Some(raw) => check_prices(&mut p, raw, &needed),
        None => show.prices.0.clone(),
    };
    let format = body.format.unwrap_or(show.format.clone());
    check_format(&mut p, &format);
    p.finish()?;
    let starts_at = starts_at.ok_or_else(|| ApiError::internal("validated start missing"))?;
    let runtime = show.ends_at - show.starts_at;
    let ends_at = starts_at + runtime;
    let busy_until = ends_at + state.catalogue.cleaning_buffer;
    let updated = shows::update(
        &mut conn, id, starts_at, ends_at, busy_until, &format, &prices,
    )
    .await
    .map_err(busy_error)?
    .ok_or_else(|| ApiError::not_found("no such show"))?;
    Ok(Json(updated.into()))
}

/// Deletes a show.
#[utoipa::path(delete, path = "/api/v1/shows/{id}", tag = "catalogue",
    params(("id" = Uuid, Path, description = "Show id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such show (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`in_use`: it has bookings (their history is kept; cancel the show instead)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn delete_show(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    managed_show(&state, &user, id).await?;
    let mut conn = state.db.acquire().await?;
    shows::delete(&mut conn, id).await.map_err(|e| {
        ApiError::on_constraint(
            e,
            &[(
                "bookings_show_fkey",
                StatusCode::CONFLICT,
                "in_use",
                "this show has bookings",
            )],
        )
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cancels a show: every live booking is cancelled with a full refund and an email. Body
/// empty or `{}`.
#[utoipa::path(post, path = "/api/v1/shows/{id}/cancel", tag = "catalogue",
    params(("id" = Uuid, Path, description = "Show id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Cancelled", body = crate::domain::bookings::ShowCancellation),
        (status = 404, description = "No such show (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state`: already cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn cancel_show(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(id): ApiPath<Uuid>,
    _body: super::extract::OptionalJson<super::bookings::EmptyBody>,
) -> Result<Json<crate::domain::bookings::ShowCancellation>, ApiError> {
    managed_show(&state, &user, id).await?;
    let actor = crate::domain::Actor::new(user);
    Ok(Json(state.bookings.cancel_show(&actor, id).await?))
}
