//! Dry runs of a chain's components, their call statistics and the chain's trail of changes.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::access;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, StaffUser};
use crate::http::page::{Page, PageRequest};
use crate::http::{ApiError, Problem};
use crate::plugins::stats::StatsView;
use crate::state::AppState;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A dry run.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct InvokeRequest {
    /// The hook's input record as JSON (booking-rules adds `"function": "check-hold"` or
    /// `"cancel"`); see docs/components.md.
    input: Value,
}

/// What a dry run produced.
#[derive(Debug, Serialize, ToSchema)]
pub(in crate::http) struct InvokeResult {
    /// `{"ok": ...}` or `{"err": "reason"}`; absent when the call failed.
    #[schema(value_type = Option<Object>)]
    output: Option<Value>,
    /// When the call failed: `{"kind": "trap" | "out_of_fuel" | ..., "message": the cause,
    /// "panic": the guest's panic message or null, "backtrace": the guest's stack (function
    /// names where it ships a name section) or null, "report": all of it with the tail of the
    /// guest's log, for people}`.
    #[schema(value_type = Option<Object>)]
    error: Option<Value>,
    fuel_used: u64,
    duration_us: u64,
    memory_bytes: u64,
    /// What the component printed (capped).
    log: String,
}

/// Runs one of the chain's components on an input, under the same sandbox and limits as a
/// real call, touching no data.
#[utoipa::path(post, path = "/api/v1/chains/{id}/components/{component_id}/invoke", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), ("component_id" = String, Path, description = "Component sha256")),
    request_body = InvokeRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The answer or the failure, with its cost", body = InvokeResult),
        (status = 404, description = "Not a chain or component of yours", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The input does not fit the hook", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn invoke_component(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, component_id)): ApiPath<(Uuid, String)>,
    ApiJson(body): ApiJson<InvokeRequest>,
) -> Result<Json<InvokeResult>, ApiError> {
    let access = access(&state, user, chain).await?;
    let invocation = state
        .chain_components
        .dry_run(&access, &component_id, body.input)
        .await?;
    let micros = u64::try_from(invocation.stats.duration.as_micros()).unwrap_or(u64::MAX);
    let (output, error) = match &invocation.outcome {
        Ok(Ok(v)) => (Some(json!({ "ok": v })), None),
        Ok(Err(reason)) => (Some(json!({ "err": reason })), None),
        Err(e) => (None, Some(crate::plugins::invoke::error_json(e))),
    };
    Ok(Json(InvokeResult {
        output,
        error,
        fuel_used: invocation.stats.fuel_used,
        duration_us: micros,
        memory_bytes: invocation.stats.peak_memory_bytes,
        log: invocation.log,
    }))
}

/// Call statistics of one of the chain's components.
#[derive(Debug, Serialize, ToSchema)]
pub(in crate::http) struct ComponentStatsView {
    /// Production calls of every replica, from the run log (this replica's own calls are
    /// written before the answer); this replica's count when the run log is off.
    calls: u64,
    /// Of which the component refused.
    refused: u64,
    /// Failed calls by kind (`trap`, `out_of_fuel`, `timeout`, `memory`, `bad_output`,
    /// `unavailable`).
    #[schema(value_type = Object)]
    failures: BTreeMap<String, u64>,
    fuel_p50: u64,
    fuel_p99: u64,
    duration_us_p50: u64,
    duration_us_p99: u64,
    /// Calls the percentiles are computed over.
    window: u64,
    /// The oldest call counted.
    since: DateTime<Utc>,
    /// `all-replicas` (the run log) or `this-replica` (the run log is off).
    scope: &'static str,
    /// What the replica that answered counted in memory since it started.
    replica: StatsView,
}

/// Call statistics of one of the chain's components: every replica's calls from the run log,
/// and this replica's own count.
#[utoipa::path(get, path = "/api/v1/chains/{id}/components/{component_id}/stats", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), ("component_id" = String, Path, description = "Component sha256")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Calls, failures by kind, fuel and duration percentiles", body = ComponentStatsView),
        (status = 404, description = "Not a chain or component of yours", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn component_stats(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, component_id)): ApiPath<(Uuid, String)>,
) -> Result<Json<ComponentStatsView>, ApiError> {
    let access = access(&state, user, chain).await?;
    let (all, replica) = state.runs.stats(&access, &component_id).await?;
    let n = |v: Option<f64>| v.map_or(0, |v| v.max(0.0).round() as u64);
    let count = |v: i64| u64::try_from(v).unwrap_or(0);
    let view = if state.runs.settings().enabled {
        ComponentStatsView {
            calls: count(all.calls),
            refused: count(all.refused),
            failures: all
                .failures
                .0
                .iter()
                .map(|(k, v)| (k.clone(), count(*v)))
                .collect(),
            fuel_p50: n(all.fuel_p50),
            fuel_p99: n(all.fuel_p99),
            duration_us_p50: n(all.duration_p50_us),
            duration_us_p99: n(all.duration_p99_us),
            window: count(all.calls),
            since: all.since.unwrap_or_else(Utc::now),
            scope: "all-replicas",
            replica,
        }
    } else {
        ComponentStatsView {
            calls: replica.calls,
            refused: 0,
            failures: replica.failures.clone(),
            fuel_p50: replica.fuel_p50,
            fuel_p99: replica.fuel_p99,
            duration_us_p50: replica.duration_us_p50,
            duration_us_p99: replica.duration_us_p99,
            window: replica.window as u64,
            since: replica.since,
            scope: "this-replica",
            replica,
        }
    };
    Ok(Json(view))
}

/// An entry of the chain's component trail.
#[derive(Debug, Serialize, ToSchema)]
pub(in crate::http) struct ComponentAuditView {
    id: Uuid,
    /// `uploaded`, `bound`, `unbound`, `breaker-tripped`, `canary-set`, `canary-removed`,
    /// `canary-tripped`, `shadow-started`, `shadow-stopped` or `replay-requested`.
    kind: String,
    hook: Option<String>,
    component_id: Option<String>,
    /// Who (null for the breaker).
    actor_id: Option<Uuid>,
    /// Previous component, policy, reason, fixtures.
    #[schema(value_type = Object)]
    detail: Value,
    at: DateTime<Utc>,
}

/// Audit query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct AuditQuery {
    #[param(schema_with = crate::http::schema::page_limit)]
    pub(super) limit: Option<u32>,
    #[param(schema_with = crate::http::schema::page_cursor)]
    pub(super) cursor: Option<String>,
}

/// Every upload, binding change, breaker trip, canary, shadow and replay request of the chain,
/// oldest first.
#[utoipa::path(get, path = "/api/v1/chains/{id}/component-audit", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the trail", body = Page<ComponentAuditView>),
        (status = 404, description = "Not a chain of yours", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn component_audit(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(chain): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Page<ComponentAuditView>>, ApiError> {
    let access = access(&state, user, chain).await?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .chain_components
        .audit(&access, page.after, page.fetch())
        .await?;
    Ok(Json(Page::from_rows(rows, page, |e| e.id).map(|e| {
        ComponentAuditView {
            id: e.id,
            kind: e.kind,
            hook: e.hook,
            component_id: e.component_id,
            actor_id: e.actor_id,
            detail: e.detail,
            at: e.at,
        }
    })))
}
