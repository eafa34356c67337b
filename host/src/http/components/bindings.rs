//! Which component serves each hook of a chain: the list with policies and breakers, bind and
//! unbind.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::access;
use super::parse_hook;
use crate::domain::components::{CanaryRequest, HookBinding};
use crate::http::extract::{ApiJson, ApiPath, StaffUser, validation};
use crate::http::{ApiError, Problem};
use crate::plugins::ChainUsage;
use crate::plugins::OnFailure;
use crate::state::AppState;

/// A hook of the chain and the component serving it.
#[derive(Debug, Serialize, ToSchema)]
pub(in crate::http) struct BindingView {
    hook: &'static str,
    /// The component that serves the hook now: the bound one, or the platform default
    /// (no binding, or the breaker is open).
    component_id: Option<String>,
    /// The chain's bound component, if any.
    bound_component_id: Option<String>,
    /// The platform default.
    default_component_id: Option<String>,
    /// What a failure of the bound component leads to: `reject` or `fallback`.
    on_failure: &'static str,
    bound_at: Option<DateTime<Utc>>,
    bound_by: Option<Uuid>,
    /// The breaker: `closed`, or `open` (the default serves until the hook is bound again).
    breaker: BreakerView,
    /// The binding's canary: a stable share of the customers served by a candidate, with its
    /// own breaker (a trip removes the canary); null when there is none.
    canary: Option<CanaryView>,
}

/// A binding's canary and its record (every replica, from the run log).
#[derive(Debug, Serialize, ToSchema)]
pub(in crate::http) struct CanaryView {
    component_id: String,
    /// The share of the chain's customers it serves, 1..99.
    percent: u8,
    since: DateTime<Utc>,
    /// Calls it served since `since`.
    calls: i64,
    /// Of which failed (a failed canary call is answered by the stable component).
    failures: i64,
    /// `closed` (a tripped canary breaker removes the canary, so it is never seen open).
    breaker: &'static str,
}

/// A binding's breaker.
#[derive(Debug, Serialize, ToSchema)]
pub(in crate::http) struct BreakerView {
    /// `closed` or `open`.
    state: &'static str,
    /// When it opened.
    tripped_at: Option<DateTime<Utc>>,
    /// Why.
    reason: Option<String>,
}

/// Every hook of the chain.
#[derive(Debug, Serialize, ToSchema)]
pub(in crate::http) struct BindingList {
    /// One per hook.
    items: Vec<BindingView>,
    /// Always null.
    next_cursor: Option<String>,
    /// The chain's fair share of this replica's component calls, and how much of it is in
    /// use (every hook together, bound and default components alike).
    usage: ChainUsage,
}

fn binding_view(b: &HookBinding) -> BindingView {
    let row = b.binding.as_ref();
    let tripped = b.tripped();
    BindingView {
        hook: b.hook.as_str(),
        component_id: b.serving().map(str::to_owned),
        bound_component_id: row.map(|r| r.component_id.clone()),
        default_component_id: b.default_component.clone(),
        on_failure: b.on_failure().as_str(),
        bound_at: row.map(|r| r.bound_at),
        bound_by: row.and_then(|r| r.bound_by),
        breaker: BreakerView {
            state: if tripped { "open" } else { "closed" },
            tripped_at: row.and_then(|r| r.tripped_at),
            reason: row.and_then(|r| r.trip_reason.clone()),
        },
        canary: b.canary.as_ref().map(|c| CanaryView {
            component_id: c.component_id.clone(),
            percent: c.percent,
            since: c.since,
            calls: c.calls,
            failures: c.failures,
            breaker: "closed",
        }),
    }
}

/// Lists every hook of the chain with the component serving it, its policy and breaker.
#[utoipa::path(get, path = "/api/v1/chains/{id}/bindings", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One entry per hook", body = BindingList),
        (status = 404, description = "Not a chain of yours", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn list_bindings(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(chain): ApiPath<Uuid>,
) -> Result<Json<BindingList>, ApiError> {
    let access = access(&state, user, chain).await?;
    let (hooks, usage) = state.chain_components.bindings(&access).await?;
    Ok(Json(BindingList {
        items: hooks.iter().map(binding_view).collect(),
        next_cursor: None,
        usage,
    }))
}

/// A binding request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct BindRequest {
    /// One of the chain's components for this hook.
    component_id: String,
    /// `reject` (default for booking-rules and pricing) or `fallback` (default for
    /// notify-templates).
    #[schema(schema_with = crate::http::schema::on_failure)]
    on_failure: Option<String>,
    /// A candidate serving a stable share of the customers (absent or null: no canary).
    canary: Option<CanaryBody>,
}

/// A canary to set with the binding.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct CanaryBody {
    /// One of the chain's components for this hook, not the bound one.
    component_id: String,
    /// The share of customers it serves.
    #[schema(minimum = 1, maximum = 99)]
    percent: u32,
}

/// Binds the hook to one of the chain's components (closing any open breaker). In force on
/// this replica when the response is sent and on every other within a second.
#[utoipa::path(put, path = "/api/v1/chains/{id}/bindings/{hook}", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), ("hook" = crate::http::schema::HookName, Path, description = "Hook")),
    request_body = BindRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Bound", body = BindingView),
        (status = 404, description = "Not a chain of yours", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown hook, not one of the chain's components for this hook, or a bad policy", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn bind_hook(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, hook)): ApiPath<(Uuid, String)>,
    ApiJson(body): ApiJson<BindRequest>,
) -> Result<Json<BindingView>, ApiError> {
    let access = access(&state, user, chain).await?;
    let hook = parse_hook(&hook)?;
    let on_failure = match body.on_failure.as_deref() {
        None => None,
        Some(raw) => Some(
            OnFailure::parse(raw)
                .ok_or_else(|| validation([("on_failure", "must be reject or fallback")]))?,
        ),
    };
    let canary = match body.canary {
        None => None,
        Some(c) => Some(CanaryRequest {
            percent: u8::try_from(c.percent)
                .ok()
                .filter(|p| (1..=99).contains(p))
                .ok_or_else(|| validation([("canary.percent", "must be between 1 and 99")]))?,
            component_id: c.component_id,
        }),
    };
    let binding = state
        .chain_components
        .bind(
            &access,
            hook,
            &body.component_id,
            on_failure,
            canary.as_ref(),
        )
        .await?;
    Ok(Json(binding_view(&binding)))
}

/// Unbinds the hook: the chain gets the platform default again (its components stay, for a
/// later rebind).
#[utoipa::path(delete, path = "/api/v1/chains/{id}/bindings/{hook}", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), ("hook" = crate::http::schema::HookName, Path, description = "Hook")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Back to the platform default"),
        (status = 404, description = "Not a chain of yours, or the hook is not bound", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown hook", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn unbind_hook(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, hook)): ApiPath<(Uuid, String)>,
) -> Result<StatusCode, ApiError> {
    let access = access(&state, user, chain).await?;
    let hook = parse_hook(&hook)?;
    state.chain_components.unbind(&access, hook).await?;
    Ok(StatusCode::NO_CONTENT)
}
