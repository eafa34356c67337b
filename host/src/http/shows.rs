//! Shows: a movie on a screen at a time, with prices per seat class.

use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath, ApiQuery, StaffUser};
use super::page::{Page, PageRequest};
use super::{ApiError, Problem};
use crate::domain::Actor;
use crate::domain::catalogue::{NewShowCommand, Show, ShowChanges, ShowFilter};
use crate::domain::types::ShowId;
use crate::state::AppState;

/// The routes of this module, each declared once: its path and method come from the
/// handler's `#[utoipa::path]`, which also puts it in the OpenAPI document.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_shows, create_show))
        .routes(routes!(get_show, update_show, delete_show))
        .routes(routes!(cancel_show))
}

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
    /// RFC 3339 with an offset, in the future.
    #[schema(format = DateTime)]
    starts_at: String,
    /// Minor units per seat class; every class of the screen's seats needs a price.
    #[schema(schema_with = field::prices)]
    prices: BTreeMap<String, i64>,
    /// `2D` (default), `3D` or `IMAX`.
    #[schema(schema_with = field::format_or_null)]
    format: Option<String>,
}

/// Show changes; movie and screen are fixed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateShow {
    /// RFC 3339 with an offset, in the future.
    #[schema(format = DateTime)]
    starts_at: Option<String>,
    /// Minor units per seat class; every class of the screen's seats needs a price.
    #[schema(schema_with = field::prices_or_null)]
    prices: Option<BTreeMap<String, i64>>,
    #[schema(schema_with = field::format_or_null)]
    format: Option<String>,
}

/// The show fields' schemas, from the limits the catalogue checks
/// ([`show_limits`](crate::domain::catalogue::show_limits)).
mod field {
    use crate::domain::catalogue::show_limits::{FORMATS, MAX_PRICE_MINOR};
    use crate::domain::hook_io::SeatClass;
    use crate::http::schema::{integer, nullable, one_of};
    use utoipa::openapi::schema::{
        AdditionalProperties, Object, ObjectBuilder, OneOfBuilder, Type,
    };

    /// An object keyed by seat class (another key is 422), each a price in minor units.
    pub(super) fn prices() -> Object {
        SeatClass::ALL
            .iter()
            .fold(
                ObjectBuilder::new().schema_type(Type::Object),
                |o, class| o.property(class.as_str(), integer(0, MAX_PRICE_MINOR)),
            )
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .build()
    }
    pub(super) fn prices_or_null() -> OneOfBuilder {
        nullable(prices())
    }
    pub(super) fn format_or_null() -> OneOfBuilder {
        nullable(one_of(FORMATS))
    }
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
    let cmd = NewShowCommand {
        screen_id: body.screen_id,
        movie_id: body.movie_id,
        starts_at: body.starts_at,
        prices: body.prices,
        format: body.format,
    };
    let show = state.catalogue.create_show(&Actor::new(user), cmd).await?;
    Ok((StatusCode::CREATED, Json(show.into())))
}

/// Show filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
    #[param(schema_with = crate::http::schema::page_limit)]
    limit: Option<u32>,
    #[param(schema_with = crate::http::schema::page_cursor)]
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
    let rows = state
        .catalogue
        .list_shows(&filter, page.after, page.fetch())
        .await?;
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
    Ok(Json(state.catalogue.show(id).await?.into()))
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
    let changes = ShowChanges {
        starts_at: body.starts_at,
        prices: body.prices,
        format: body.format,
    };
    let updated = state
        .catalogue
        .update_show(&Actor::new(user), id, changes)
        .await?;
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
    state.catalogue.delete_show(&Actor::new(user), id).await?;
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
    ApiPath(id): ApiPath<ShowId>,
    _body: super::extract::OptionalJson<super::bookings::EmptyBody>,
) -> Result<Json<crate::domain::bookings::ShowCancellation>, ApiError> {
    let actor = Actor::new(user);
    // Another chain's show is not found, before the bookings service is asked.
    state.catalogue.managed_show(&actor, id.as_uuid()).await?;
    Ok(Json(state.bookings.cancel_show(&actor, id).await?))
}
