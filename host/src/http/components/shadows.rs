//! Shadows of a candidate beside the component serving a chain's hook, on live traffic
//! (API.md, "Run logs, replay, shadow, canary, receipts").

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{access, parse_hook};
use crate::domain::runs::Shadow;
use crate::http::extract::{ApiJson, ApiPath, StaffUser};
use crate::http::{ApiError, Problem};
use crate::state::AppState;

/// A shadow to start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct ShadowBody {
    /// The candidate: one of the chain's stored components implementing the hook.
    component_id: String,
    /// The share of live calls shadowed (default 100).
    #[schema(minimum = 1, maximum = 100)]
    sample_percent: Option<u32>,
}

/// A shadow and its running diff (every replica's calls together).
#[derive(Debug, Serialize, ToSchema)]
pub(in crate::http) struct ShadowView {
    hook: String,
    component_id: String,
    since: DateTime<Utc>,
    sample_percent: i32,
    /// Shadow calls made: `same + changed + Σ failures`.
    runs: i64,
    same: i64,
    changed: i64,
    /// Candidate failures by kind.
    #[schema(value_type = Object)]
    failures: std::collections::BTreeMap<String, i64>,
    /// The candidate's quoted totals minus the served ones (pricing).
    revenue_delta_minor: i64,
    /// Up to 10 calls answered differently: `{before, after}`.
    #[schema(value_type = Vec<Object>)]
    examples: Value,
}

impl From<Shadow> for ShadowView {
    fn from(s: Shadow) -> Self {
        Self {
            hook: s.hook,
            component_id: s.component_id,
            since: s.since,
            sample_percent: s.sample_percent,
            runs: s.runs,
            same: s.same,
            changed: s.changed,
            failures: s.failures.0,
            revenue_delta_minor: s.revenue_delta_minor,
            examples: s.examples,
        }
    }
}

/// Runs a candidate beside the component serving the hook, on a sample of live calls, after
/// each answer and off its path: it never changes an answer. Replaces a running shadow.
#[utoipa::path(put, path = "/api/v1/chains/{id}/shadows/{hook}", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), ("hook" = crate::http::schema::HookName, Path, description = "Hook")),
    request_body = ShadowBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Shadowing", body = ShadowView),
        (status = 404, description = "Not a chain or component of yours", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown hook, a component of another hook, or a bad sample", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn put_shadow(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, hook)): ApiPath<(Uuid, String)>,
    ApiJson(body): ApiJson<ShadowBody>,
) -> Result<Json<ShadowView>, ApiError> {
    let access = access(&state, user, chain).await?;
    let hook = parse_hook(&hook)?;
    let sample = body.sample_percent.unwrap_or(100);
    let sample = u8::try_from(sample)
        .ok()
        .filter(|s| (1..=100).contains(s))
        .ok_or_else(|| {
            crate::http::extract::validation([("sample_percent", "must be between 1 and 100")])
        })?;
    let shadow = state
        .runs
        .start_shadow(&access, hook, &body.component_id, sample)
        .await?;
    Ok(Json(shadow.into()))
}

/// The hook's shadow and its running diff.
#[utoipa::path(get, path = "/api/v1/chains/{id}/shadows/{hook}", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), ("hook" = crate::http::schema::HookName, Path, description = "Hook")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The shadow", body = ShadowView),
        (status = 404, description = "Not a chain of yours, or no shadow runs for the hook", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown hook", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn get_shadow(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, hook)): ApiPath<(Uuid, String)>,
) -> Result<Json<ShadowView>, ApiError> {
    let access = access(&state, user, chain).await?;
    let hook = parse_hook(&hook)?;
    Ok(Json(state.runs.shadow(&access, hook).await?.into()))
}

/// Stops the hook's shadow.
#[utoipa::path(delete, path = "/api/v1/chains/{id}/shadows/{hook}", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), ("hook" = crate::http::schema::HookName, Path, description = "Hook")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Stopped"),
        (status = 404, description = "Not a chain of yours, or no shadow runs for the hook", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown hook", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn delete_shadow(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, hook)): ApiPath<(Uuid, String)>,
) -> Result<StatusCode, ApiError> {
    let access = access(&state, user, chain).await?;
    let hook = parse_hook(&hook)?;
    state.runs.stop_shadow(&access, hook).await?;
    Ok(StatusCode::NO_CONTENT)
}
