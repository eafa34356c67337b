//! A chain's reports (API.md, "Reports"): its shows of a period with occupancy and takings,
//! and its sales per local day. Read by the operator console's day page; staff of the chain
//! and admins.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{ApiPath, ApiQuery, StaffUser};
use super::{ApiError, Problem};
use crate::domain::reports::{
    DEFAULT_SALES_DAYS, MAX_SALES_DAYS, MAX_SHOW_ROWS, MAX_SHOW_WINDOW_DAYS, SalesPeriod,
    SalesReport, ShowFigures, ShowWindow, ShowsReport,
};
use crate::domain::types::ShowStatus;
use crate::domain::{Actor, ChainAccess};
use crate::state::AppState;

/// The routes of this module, each declared once: its path and method come from the
/// handler's `#[utoipa::path]`, which also puts it in the OpenAPI document.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(shows_report))
        .routes(routes!(sales_report))
}

/// A theatre or a screen: its id and name.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct NamedRef {
    id: Uuid,
    name: String,
}

/// A movie: its id and title.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct MovieRef {
    id: Uuid,
    title: String,
}

/// One show and how it is selling.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ShowReportItem {
    show_id: Uuid,
    starts_at: DateTime<Utc>,
    /// `scheduled` or `cancelled`.
    status: ShowStatus,
    theatre: NamedRef,
    screen: NamedRef,
    movie: MovieRef,
    /// Seats of the screen's layout that can be sold (blocked seats are not).
    capacity: i64,
    /// Seats of confirmed bookings (a partial cancellation's seats no longer count).
    seats_sold: i64,
    /// Seats of holds that have not run out.
    seats_held: i64,
    /// Tickets checked in at the door.
    checked_in: i64,
    /// What was paid for the show's bookings (gift card parts included) less every refund
    /// of them, in minor units of `currency`.
    revenue_minor: i64,
    currency: String,
}

impl From<ShowFigures> for ShowReportItem {
    fn from(f: ShowFigures) -> Self {
        Self {
            show_id: f.show_id,
            starts_at: f.starts_at,
            status: f.status,
            theatre: NamedRef {
                id: f.theatre_id,
                name: f.theatre_name,
            },
            screen: NamedRef {
                id: f.screen_id,
                name: f.screen_name,
            },
            movie: MovieRef {
                id: f.movie_id,
                title: f.movie_title,
            },
            capacity: f.capacity,
            seats_sold: f.seats_sold,
            seats_held: f.seats_held,
            checked_in: f.checked_in,
            revenue_minor: f.revenue_minor,
            currency: f.currency,
        }
    }
}

/// The chain's shows of a period.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ShowsReportView {
    /// By theatre name, screen name and start time; at most 1000.
    items: Vec<ShowReportItem>,
    /// `true` when more than 1000 shows matched and the rest were left out: ask for a
    /// shorter period.
    truncated: bool,
}

impl From<ShowsReport> for ShowsReportView {
    fn from(r: ShowsReport) -> Self {
        Self {
            items: r.items.into_iter().map(Into::into).collect(),
            truncated: r.truncated,
        }
    }
}

/// The period of the shows report.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct ShowsReportQuery {
    /// Shows starting at or after (RFC 3339 with an offset). Required.
    #[param(required = true)]
    from: Option<DateTime<Utc>>,
    /// Shows starting before (RFC 3339), after `from` and at most 14 days after it. Required.
    #[param(required = true)]
    to: Option<DateTime<Utc>>,
}

/// The chain's shows starting in `[from, to)` with occupancy, check-ins and takings.
#[utoipa::path(get, path = "/api/v1/chains/{id}/reports/shows", tag = "chains",
    params(("id" = Uuid, Path, description = "Chain id"), ShowsReportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The shows, at most 1000 (`truncated` says whether more matched)", body = ShowsReportView),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such chain (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `from` or `to` missing, `to` not after `from`, or more than 14 days apart", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn shows_report(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(chain): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<ShowsReportQuery>,
) -> Result<Json<ShowsReportView>, ApiError> {
    let access = access(&state, user, chain).await?;
    let window = ShowWindow::new(q.from, q.to)?;
    Ok(Json(state.reports.shows(&access, window).await?.into()))
}

/// One local day's sales.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SalesDayView {
    /// The local date (`YYYY-MM-DD`) in the report's `tz`.
    #[schema(value_type = String, format = Date)]
    date: NaiveDate,
    /// Bookings confirmed (paid) that day.
    bookings: i64,
    /// Seats those bookings were confirmed with (seats cancelled later included).
    seats: i64,
    /// What those payments took, gift card parts included.
    revenue_minor: i64,
    /// The part of `revenue_minor` gift cards paid.
    gift_card_minor: i64,
    /// Refunds made that day, of bookings paid on any day.
    refunds_minor: i64,
}

/// Sales per local day.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SalesReportView {
    /// The chain's currency: every amount's.
    currency: String,
    /// The IANA zone whose days these are.
    tz: String,
    /// Every day of the period, oldest first, today last; days without sales are zeros.
    days: Vec<SalesDayView>,
}

impl From<SalesReport> for SalesReportView {
    fn from(r: SalesReport) -> Self {
        Self {
            currency: r.currency,
            tz: r.tz.name().to_owned(),
            days: r
                .days
                .into_iter()
                .map(|d| SalesDayView {
                    date: d.date,
                    bookings: d.figures.bookings,
                    seats: d.figures.seats,
                    revenue_minor: d.figures.revenue_minor,
                    gift_card_minor: d.figures.gift_card_minor,
                    refunds_minor: d.figures.refunds_minor,
                })
                .collect(),
        }
    }
}

/// The period of the sales report.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct SalesReportQuery {
    /// How many days, today included: 1 to 90 (default 30).
    #[param(schema_with = days_schema)]
    days: Option<i64>,
    /// IANA time zone whose local days are reported, e.g. `Asia/Kolkata` (default `UTC`).
    #[param(schema_with = tz_schema)]
    tz: Option<String>,
}

fn days_schema() -> utoipa::openapi::Object {
    super::schema::integer(1, i64::from(MAX_SALES_DAYS))
        .default(Some(DEFAULT_SALES_DAYS.into()))
        .build()
}

/// Any zone name chrono-tz knows (the IANA database); the list is too long for an enum.
fn tz_schema() -> utoipa::openapi::Object {
    super::schema::text(1, 64)
        .pattern(Some(r"^[A-Za-z0-9_+/-]+$"))
        .default(Some("UTC".into()))
        .build()
}

/// The chain's sales per local day for the last `days` days, today included.
#[utoipa::path(get, path = "/api/v1/chains/{id}/reports/sales", tag = "chains",
    params(("id" = Uuid, Path, description = "Chain id"), SalesReportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One entry per day, oldest first", body = SalesReportView),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such chain (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `days` outside 1 to 90, or `tz` not an IANA time zone", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn sales_report(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(chain): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<SalesReportQuery>,
) -> Result<Json<SalesReportView>, ApiError> {
    let access = access(&state, user, chain).await?;
    let period = SalesPeriod::parse(q.days, q.tz.as_deref())?;
    let report = state.reports.sales(&access, period, Utc::now()).await?;
    Ok(Json(report.into()))
}

/// The actor's access to the chain, asked first: another chain's reports are "not found"
/// whatever else is wrong with the request (as for every chain sub-resource).
async fn access(
    state: &AppState,
    user: crate::domain::types::User,
    chain: Uuid,
) -> Result<ChainAccess, ApiError> {
    Ok(state.accounts.member_of(&Actor::new(user), chain).await?)
}

// The limits the descriptions above spell out, checked against the domain's.
const _: () = assert!(MAX_SHOW_ROWS == 1000 && MAX_SHOW_WINDOW_DAYS == 14 && MAX_SALES_DAYS == 90);
