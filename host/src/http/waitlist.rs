//! Waiting lists (API.md, "Box office"): join a sold-out show's list, read your entries, leave,
//! and the chain's view of a show's queue.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath, ApiQuery, AuthUser, validation};
use super::page::{Page, PageRequest};
use super::{ApiError, Problem};
use crate::domain::Actor;
use crate::domain::bookings::MAX_PICK;
use crate::domain::hook_io::SeatClass;
use crate::domain::types::ShowId;
use crate::domain::waitlist::{JoinCommand, SeenEntry, WaitlistStatus};
use crate::state::AppState;

/// The routes of this module, each declared once: its path and method come from the
/// handler's `#[utoipa::path]`, which also puts it in the OpenAPI document.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(join_waitlist, show_waitlist))
        .routes(routes!(list_waitlist))
        .routes(routes!(leave_waitlist))
}

/// A waiting-list entry.
#[derive(Debug, Serialize, ToSchema)]
struct EntryView {
    id: Uuid,
    show_id: Uuid,
    chain_id: Uuid,
    user_id: Uuid,
    seat_count: i32,
    /// Only seats of this class, if given.
    seat_class: Option<SeatClass>,
    /// `waiting`, `offered` (seats held for you: pay `booking_id` before `offer_expires_at`),
    /// `booked`, `expired` (an offer past its expiry, or a show that started or was cancelled
    /// first, reads `expired` at once) or `left`.
    status: WaitlistStatus,
    /// 1 + the waiting entries ahead; `null` unless waiting.
    position: Option<i64>,
    /// The offer's hold (a `held` booking of yours), once offered.
    booking_id: Option<Uuid>,
    /// When the offer's hold runs out.
    offer_expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<SeenEntry> for EntryView {
    fn from(s: SeenEntry) -> Self {
        let e = s.entry;
        Self {
            id: e.id,
            show_id: e.show_id,
            chain_id: e.chain_id,
            user_id: e.user_id,
            seat_count: e.seat_count,
            seat_class: e.seat_class,
            status: e.status,
            position: s.position,
            booking_id: e.booking_id,
            offer_expires_at: e.offer_expires_at,
            created_at: e.created_at,
        }
    }
}

/// Joining a waiting list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct JoinBody {
    /// How many seats you want.
    #[schema(schema_with = seat_count)]
    seat_count: i64,
    /// Only seats of this class.
    seat_class: Option<SeatClass>,
}

fn seat_count() -> utoipa::openapi::schema::ObjectBuilder {
    crate::http::schema::integer(1, i64::from(MAX_PICK))
}

/// Joins a sold-out show's waiting list. When seats free up, they are offered in queue order:
/// a hold of yours is created (the chain's seat-picker chooses the seats), the entry becomes
/// `offered` and you get an email; pay the booking before the offer runs out. The chain's
/// booking rules may refuse (by default, at most 3 active entries per customer per chain) and
/// say how long an offer lasts (by default 900 s).
#[utoipa::path(post, path = "/api/v1/shows/{id}/waitlist", tag = "bookings",
    params(("id" = Uuid, Path, description = "Show id")),
    request_body = JoinBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "On the list (`status` is `waiting`)", body = EntryView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not an approved customer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such show", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`seats_available` (not sold out: book instead), `already_waiting` or `show_closed`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`, or `rule_violation` (the chain's booking rules' reason)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`plugin_unavailable` or `plugin_busy`", body = Problem, content_type = "application/problem+json"),
    ))]
async fn join_waitlist(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<ShowId>,
    ApiJson(body): ApiJson<JoinBody>,
) -> Result<(StatusCode, Json<EntryView>), ApiError> {
    let seat_count = u32::try_from(body.seat_count)
        .ok()
        .filter(|n| (1..=MAX_PICK).contains(n))
        .ok_or_else(|| validation([("seat_count", format!("must be between 1 and {MAX_PICK}"))]))?;
    let cmd = JoinCommand {
        show_id: id,
        seat_count,
        seat_class: body.seat_class,
    };
    let entry = state.waitlist.join(&Actor::new(user), cmd).await?;
    Ok((StatusCode::CREATED, Json(entry.into())))
}

/// Page parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    #[param(schema_with = crate::http::schema::page_limit)]
    limit: Option<u32>,
    #[param(schema_with = crate::http::schema::page_cursor)]
    cursor: Option<String>,
}

/// Your waiting-list entries, oldest first, with their status as of now.
#[utoipa::path(get, path = "/api/v1/waitlist", tag = "bookings", params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of your entries", body = Page<EntryView>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_waitlist(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<EntryView>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .waitlist
        .list_mine(&Actor::new(user), page.after, page.fetch())
        .await?;
    Ok(Json(
        Page::from_rows(rows, page, |e| e.entry.id).map(EntryView::from),
    ))
}

/// Leaves a waiting list (the entry's customer only). An open offer's hold is released and
/// its seats are offered to the next entries.
#[utoipa::path(delete, path = "/api/v1/waitlist/{entry_id}", tag = "bookings",
    params(("entry_id" = Uuid, Path, description = "Waiting-list entry id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Left"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entry (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state`: the entry is no longer active (booked, expired or left)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn leave_waitlist(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(entry_id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.waitlist.leave(&Actor::new(user), entry_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A show's queue: its waiting and offered entries in order (the show's chain's members and
/// admins).
#[utoipa::path(get, path = "/api/v1/shows/{id}/waitlist", tag = "bookings",
    params(("id" = Uuid, Path, description = "Show id"), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the queue, first in line first", body = Page<EntryView>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such show (or not your chain's)", body = Problem, content_type = "application/problem+json"),
    ))]
async fn show_waitlist(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<ShowId>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<EntryView>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .waitlist
        .queue(&Actor::new(user), id, page.after, page.fetch())
        .await?;
    Ok(Json(
        Page::from_rows(rows, page, |e| e.entry.id).map(EntryView::from),
    ))
}
