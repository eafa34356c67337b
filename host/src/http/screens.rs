//! Screens and their seat maps.

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
use super::page::{Page, PageRequest};
use super::{ApiError, Problem};
use crate::domain::Actor;
use crate::domain::catalogue::{Screen, ScreenWithSeats, SeatRow};
use crate::domain::types::seat_layout::RowSpec;
use crate::state::AppState;

/// The routes of this module, each declared once: its path and method come from the
/// handler's `#[utoipa::path]`, which also puts it in the OpenAPI document.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_screens, create_screen))
        .routes(routes!(get_screen))
}

/// A seat of a screen.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SeatView {
    /// `A-7`.
    id: String,
    row: String,
    number: i32,
    /// `standard`, `premium`, `vip` or `accessible`.
    class: crate::domain::hook_io::SeatClass,
    /// Not for sale.
    blocked: bool,
}

impl From<SeatRow> for SeatView {
    fn from(s: SeatRow) -> Self {
        Self {
            id: s.id,
            row: s.row_label,
            number: s.number,
            class: s.class,
            blocked: s.blocked,
        }
    }
}

/// A screen; `seats` only when one screen is asked for.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ScreenView {
    id: Uuid,
    chain_id: Uuid,
    theatre_id: Uuid,
    name: String,
    /// Seats that can be sold (blocked ones excluded).
    capacity: i64,
    created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seats: Option<Vec<SeatView>>,
}

impl From<ScreenWithSeats> for ScreenView {
    fn from(s: ScreenWithSeats) -> Self {
        Self::new(s.screen, Some(s.seats))
    }
}

impl ScreenView {
    fn new(s: Screen, seats: Option<Vec<SeatRow>>) -> Self {
        Self {
            id: s.id,
            chain_id: s.chain_id,
            theatre_id: s.theatre_id,
            name: s.name,
            capacity: s.capacity,
            created_at: s.created_at,
            seats: seats.map(|v| v.into_iter().map(SeatView::from).collect()),
        }
    }
}

/// New screen.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateScreen {
    /// Trimmed; unique in the theatre.
    #[schema(schema_with = screen_name)]
    name: String,
    /// Rows with unique labels; at least one seat must be for sale.
    #[schema(schema_with = screen_rows)]
    rows: Vec<RowSpec>,
}

fn screen_name() -> utoipa::openapi::Object {
    super::schema::trimmed_text(crate::domain::catalogue::MAX_SCREEN_NAME).build()
}

/// 1 to [`MAX_ROWS`](crate::domain::types::seat_layout::MAX_ROWS) rows, each a `RowBody`.
fn screen_rows() -> utoipa::openapi::schema::ArrayBuilder {
    use utoipa::ToSchema;
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(utoipa::openapi::Ref::from_schema_name(RowSpec::name()))
        .min_items(Some(1))
        .max_items(Some(crate::domain::types::seat_layout::MAX_ROWS))
}

/// Adds a screen, built from a compact row description, to a theatre of the caller's chain.
#[utoipa::path(post, path = "/api/v1/theatres/{id}/screens", tag = "catalogue", request_body = CreateScreen,
    params(("id" = Uuid, Path, description = "Theatre id")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created, with its seats", body = ScreenView),
        (status = 404, description = "No such theatre (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`screen_name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (per row field)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_screen(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CreateScreen>,
) -> Result<(StatusCode, Json<ScreenView>), ApiError> {
    let screen = state
        .catalogue
        .create_screen(&Actor::new(user), id, &body.name, &body.rows)
        .await?;
    Ok((StatusCode::CREATED, Json(screen.into())))
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

/// A theatre's screens (without their seats).
#[utoipa::path(get, path = "/api/v1/theatres/{id}/screens", tag = "catalogue",
    params(("id" = Uuid, Path, description = "Theatre id"), PageQuery),
    responses(
        (status = 200, description = "A page of screens", body = Page<ScreenView>),
        (status = 404, description = "No such theatre", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_screens(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<ScreenView>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .catalogue
        .list_screens(id, page.after, page.fetch())
        .await?;
    Ok(Json(
        Page::from_rows(rows, page, |s| s.id).map(|s| ScreenView::new(s, None)),
    ))
}

/// One screen with its seat map.
#[utoipa::path(get, path = "/api/v1/screens/{id}", tag = "catalogue",
    params(("id" = Uuid, Path, description = "Screen id")),
    responses(
        (status = 200, description = "The screen and its seats", body = ScreenView),
        (status = 404, description = "No such screen", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn get_screen(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ScreenView>, ApiError> {
    Ok(Json(state.catalogue.screen(id).await?.into()))
}
