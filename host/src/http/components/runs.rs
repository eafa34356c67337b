//! The run log of the chain's production component calls and replays of a candidate over it
//! (API.md, "Run logs, replay, shadow, canary, receipts"); shadows are in `shadows`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{access, parse_hook};
use crate::domain::runs::{Replay, ReplayRequest, Run, RunDetail, RunFilter};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, StaffUser};
use crate::http::page::{Page, PageRequest};
use crate::http::{ApiError, Problem};
use crate::state::AppState;

/// One production call.
#[derive(Debug, Serialize, ToSchema)]
pub(in crate::http) struct RunView {
    id: Uuid,
    at: DateTime<Utc>,
    hook: String,
    /// `quote`, `check-hold`, `cancel`, `pick-seats` or `render`.
    function: String,
    component_id: String,
    booking_id: Option<Uuid>,
    notification_id: Option<Uuid>,
    /// `ok`, `refused`, or a failure kind: `trap`, `out_of_fuel`, `timeout`, `memory`,
    /// `bad_output`, `unavailable`.
    outcome: String,
    /// Served by the binding's canary.
    canary: bool,
    fuel_used: i64,
    duration_us: i64,
    memory_bytes: i64,
}

impl From<Run> for RunView {
    fn from(r: Run) -> Self {
        Self {
            id: r.id,
            at: r.at,
            hook: r.hook,
            function: r.function,
            component_id: r.component_id,
            booking_id: r.booking_id,
            notification_id: r.notification_id,
            outcome: r.outcome,
            canary: r.canary,
            fuel_used: r.fuel_used,
            duration_us: r.duration_us,
            memory_bytes: r.memory_bytes,
        }
    }
}

/// One production call with what it was given and answered.
#[derive(Debug, Serialize, ToSchema)]
pub(in crate::http) struct RunDetailView {
    #[serde(flatten)]
    run: RunView,
    /// The input as in dry runs; customer e-mail addresses are pseudonyms.
    #[schema(value_type = Object)]
    input: Value,
    /// `{"ok": ...}` or `{"err": "reason"}`; null when the call failed.
    #[schema(value_type = Option<Object>)]
    output: Option<Value>,
    /// When it failed, the failure's report: the kind and cause, the guest's panic message,
    /// its backtrace and the tail of its log (as in upload refusals and dry runs).
    error: Option<String>,
    /// What the guest printed (capped at 4 KiB).
    log: String,
}

impl From<RunDetail> for RunDetailView {
    fn from(d: RunDetail) -> Self {
        Self {
            run: d.run.into(),
            input: d.input,
            output: d.output,
            error: d.error,
            log: d.log,
        }
    }
}

/// Run-log filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct RunQuery {
    #[param(schema_with = crate::http::schema::hook)]
    hook: Option<String>,
    component_id: Option<String>,
    #[param(schema_with = crate::http::schema::run_outcome)]
    outcome: Option<String>,
    /// Runs at or after (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Runs before (RFC 3339).
    to: Option<DateTime<Utc>>,
    #[param(schema_with = crate::http::schema::page_limit)]
    limit: Option<u32>,
    #[param(schema_with = crate::http::schema::page_cursor)]
    cursor: Option<String>,
}

/// The chain's production component calls, newest first.
#[utoipa::path(get, path = "/api/v1/chains/{id}/runs", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), RunQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of runs, newest first", body = Page<RunView>),
        (status = 404, description = "Not a chain of yours", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn list_runs(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(chain): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<RunQuery>,
) -> Result<Json<Page<RunView>>, ApiError> {
    let access = access(&state, user, chain).await?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let hook = q.hook.as_deref().map(parse_hook).transpose()?;
    let filter = RunFilter {
        hook: hook.map(|h| h.as_str().to_owned()),
        component_id: q.component_id,
        outcome: q.outcome,
        from: q.from,
        to: q.to,
    };
    let rows = state
        .runs
        .list(&access, &filter, page.after, page.fetch())
        .await?;
    Ok(Json(
        Page::from_rows(rows, page, |r| r.id).map(RunView::from),
    ))
}

/// One production call with its input, output and log.
#[utoipa::path(get, path = "/api/v1/chains/{id}/runs/{run_id}", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), ("run_id" = Uuid, Path, description = "Run id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The run", body = RunDetailView),
        (status = 404, description = "Not a chain or run of yours", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn get_run(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, run)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<RunDetailView>, ApiError> {
    let access = access(&state, user, chain).await?;
    Ok(Json(state.runs.find(&access, run).await?.into()))
}

/// A replay to start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct ReplayBody {
    /// The candidate: one of the chain's stored components implementing `hook`.
    component_id: String,
    #[schema(schema_with = crate::http::schema::hook)]
    hook: String,
    /// Recorded at or after (RFC 3339); absent: from the first run kept.
    from: Option<DateTime<Utc>>,
    /// Recorded before; absent: up to now.
    to: Option<DateTime<Utc>>,
    /// At most this many runs, the oldest first (default 100 000).
    #[schema(minimum = 1, maximum = 1_000_000)]
    limit: Option<u32>,
}

/// A replay and its report (complete when `status` is `done`).
#[derive(Debug, Serialize, ToSchema)]
pub(in crate::http) struct ReplayView {
    id: Uuid,
    /// `queued`, `running`, `done` or `failed`.
    status: String,
    component_id: String,
    hook: String,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    progress: Progress,
    /// Runs replayed: `same + changed + Σ failures`.
    runs: i32,
    same: i32,
    changed: i32,
    /// Answered before, refused by the candidate.
    newly_refused: i32,
    /// Refused before, answered by the candidate.
    newly_allowed: i32,
    /// Seat-picker runs in which the candidate chose other seats.
    seats_changed: i32,
    /// Candidate failures by kind.
    #[schema(value_type = Object)]
    failures: std::collections::BTreeMap<String, i64>,
    /// Sum of the quoted totals before (pricing).
    revenue_before_minor: i64,
    /// Sum of the candidate's quoted totals.
    revenue_after_minor: i64,
    /// Sum of the refunds before (booking-rules `cancel`).
    refunds_before_minor: i64,
    /// Sum of the candidate's refunds.
    refunds_after_minor: i64,
    /// Up to 20 runs answered differently: `{run_id, before, after}`.
    #[schema(value_type = Vec<Object>)]
    examples: Value,
    /// Why a failed replay failed.
    error: Option<String>,
}

/// How far a replay is.
#[derive(Debug, Serialize, ToSchema)]
pub(in crate::http) struct Progress {
    done: i32,
    total: i32,
}

impl From<Replay> for ReplayView {
    fn from(r: Replay) -> Self {
        Self {
            id: r.id,
            status: r.status,
            component_id: r.component_id,
            hook: r.hook,
            from: r.from_at,
            to: r.to_at,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            progress: Progress {
                done: r.done,
                total: r.total,
            },
            runs: r.done,
            same: r.same,
            changed: r.changed,
            newly_refused: r.newly_refused,
            newly_allowed: r.newly_allowed,
            seats_changed: r.seats_changed,
            failures: r.failures.0,
            revenue_before_minor: r.revenue_before_minor,
            revenue_after_minor: r.revenue_after_minor,
            refunds_before_minor: r.refunds_before_minor,
            refunds_after_minor: r.refunds_after_minor,
            examples: r.examples,
            error: r.error,
        }
    }
}

/// Queues a replay of a candidate over the chain's recorded inputs of a hook; it runs in the
/// background on whichever replica claims it, under the sandbox's limits and the chain's
/// fair share (the chain's live calls come first).
#[utoipa::path(post, path = "/api/v1/chains/{id}/replays", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id")),
    request_body = ReplayBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Queued", body = ReplayView),
        (status = 404, description = "Not a chain or component of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`quota_exceeded`: the chain already has 3 replays queued or running", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown hook, a component of another hook, or a bad window or limit", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn start_replay(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(chain): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ReplayBody>,
) -> Result<(StatusCode, Json<ReplayView>), ApiError> {
    let access = access(&state, user, chain).await?;
    let req = ReplayRequest {
        hook: parse_hook(&body.hook)?,
        component_id: body.component_id,
        from: body.from,
        to: body.to,
        limit: body.limit,
    };
    let replay = state.runs.start_replay(&access, &req).await?;
    Ok((StatusCode::CREATED, Json(replay.into())))
}

/// The chain's replays, newest first.
#[utoipa::path(get, path = "/api/v1/chains/{id}/replays", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), super::dry_run::AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of replays", body = Page<ReplayView>),
        (status = 404, description = "Not a chain of yours", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn list_replays(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(chain): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<super::dry_run::AuditQuery>,
) -> Result<Json<Page<ReplayView>>, ApiError> {
    let access = access(&state, user, chain).await?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .runs
        .replays(&access, page.after, page.fetch())
        .await?;
    Ok(Json(
        Page::from_rows(rows, page, |r| r.id).map(ReplayView::from),
    ))
}

/// A replay: its progress while it runs, its report when done.
#[utoipa::path(get, path = "/api/v1/chains/{id}/replays/{replay_id}", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), ("replay_id" = Uuid, Path, description = "Replay id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The replay", body = ReplayView),
        (status = 404, description = "Not a chain or replay of yours", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn get_replay(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, replay)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<ReplayView>, ApiError> {
    let access = access(&state, user, chain).await?;
    Ok(Json(state.runs.replay(&access, replay).await?.into()))
}
