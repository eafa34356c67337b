//! Seat suggestions: the chain's seat-picker's choice for "n seats", without holding them.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{ApiPath, ApiQuery, validation};
use super::{ApiError, Problem};
use crate::domain::bookings::PickCommand;
use crate::domain::hook_io::SeatClass;
use crate::domain::types::ShowId;
use crate::state::AppState;

/// The routes of this module, each declared once: its path and method come from the
/// handler's `#[utoipa::path]`, which also puts it in the OpenAPI document.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(suggest_seats))
}

/// What to suggest.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct SuggestionQuery {
    /// How many seats.
    #[param(inline, value_type = crate::http::schema::PickCount)]
    count: i64,
    /// Only seats of this class.
    class: Option<SeatClass>,
    /// A wheelchair space and companion seats beside it.
    accessible: Option<bool>,
}

/// The seats the chain's seat-picker would choose.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Suggestion {
    show_id: Uuid,
    /// In seat order; hold them with `POST /bookings` and `seat_ids` (they are not held yet).
    seat_ids: Vec<String>,
}

/// Asks the show's chain's seat-picker which seats it would give `count` customers now,
/// without holding them.
#[utoipa::path(get, path = "/api/v1/shows/{id}/seats/suggestion", tag = "catalogue",
    params(("id" = Uuid, Path, description = "Show id"), SuggestionQuery),
    responses(
        (status = 200, description = "The picker's choice", body = Suggestion),
        (status = 404, description = "No such show", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`seat_unavailable` (nothing fits; `seats` is empty) or `show_closed`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: count out of range or unknown class", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`plugin_unavailable` or `plugin_busy`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn suggest_seats(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<ShowId>,
    ApiQuery(q): ApiQuery<SuggestionQuery>,
) -> Result<Json<Suggestion>, ApiError> {
    let pick = PickCommand::new(q.count, q.class, q.accessible.unwrap_or(false))
        .map_err(|m| validation([("count", m)]))?;
    let seat_ids = state.bookings.suggest(id, pick).await?;
    Ok(Json(Suggestion {
        show_id: id.as_uuid(),
        seat_ids,
    }))
}
