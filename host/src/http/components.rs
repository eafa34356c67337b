//! A chain's own components: upload (checked, then run against the hook's fixtures), list,
//! bind / unbind per hook, dry runs, statistics and the trail of changes. Every route is
//! for the chain's staff and admins; another chain's components are 404.

use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath, ApiQuery, StaffUser, require_member, validation};
use super::page::{Page, PageRequest};
use super::{ApiError, Problem};
use crate::db::bindings::{self as db, ChainComponent};
use crate::plugins::fixtures::FixtureError;
use crate::plugins::stats::StatsView;
use crate::plugins::{ChainUsage, FailureKind, Hook, LoadError, Tenant};
use crate::plugins::{OnFailure, fixtures, invoke};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/chains/{id}/components",
            post(upload_component).get(list_components),
        )
        .route(
            "/chains/{id}/components/{component_id}/invoke",
            post(invoke_component),
        )
        .route(
            "/chains/{id}/components/{component_id}/stats",
            get(component_stats),
        )
        .route("/chains/{id}/bindings", get(list_bindings))
        .route(
            "/chains/{id}/bindings/{hook}",
            put(bind_hook).delete(unbind_hook),
        )
        .route("/chains/{id}/component-audit", get(component_audit))
}

fn invalid(reason: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_component",
        reason.into(),
    )
}

fn parse_hook(raw: &str) -> Result<Hook, ApiError> {
    raw.parse::<Hook>()
        .map_err(|_| validation([("hook", "must be booking-rules, pricing or notify-templates")]))
}

/// A component of the chain.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ComponentView {
    /// Lowercase hex sha256 of the bytes.
    id: String,
    /// The hook (WIT world) it implements.
    hook: String,
    size_bytes: i32,
    /// When this chain first uploaded it.
    uploaded_at: DateTime<Utc>,
    uploaded_by: Option<Uuid>,
    /// The hook's fixtures it passed at upload.
    fixtures: FixturesView,
    /// True when one of the chain's hooks is bound to it.
    bound: bool,
}

/// Fixture results.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct FixturesView {
    /// Fixtures passed (all of the hook's).
    passed: i32,
    /// Most fuel one fixture used.
    fuel_max: i64,
}

fn component_view(c: ChainComponent, bound: bool) -> ComponentView {
    ComponentView {
        id: c.component_id,
        hook: c.hook,
        size_bytes: c.size_bytes,
        uploaded_at: c.uploaded_at,
        uploaded_by: c.uploaded_by,
        fixtures: FixturesView {
            passed: c.fixtures_passed,
            fuel_max: c.fuel_max,
        },
        bound,
    }
}

/// Upload query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(super) struct UploadQuery {
    /// `booking-rules`, `pricing` or `notify-templates`.
    hook: String,
}

/// Uploads a component (`Content-Type: application/wasm`). It must be a component (not a
/// core module) implementing the hook's world with no imports beyond the empty WASI the host
/// links, fit the size cap, and pass every fixture of the hook within the limits. The same
/// bytes again → 200 with the same record.
#[utoipa::path(post, path = "/api/v1/chains/{id}/components", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/wasm"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Stored and checked", body = ComponentView),
        (status = 200, description = "This chain already has these bytes", body = ComponentView),
        (status = 404, description = "Not a chain of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`quota_exceeded`: the chain stores as many components (or bytes) as it may", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`component_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/wasm`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`plugin_busy` (with `Retry-After`): the chain is over its fair share, or already compiling a component", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_component` with the reason, or `validation_failed` for the hook", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn upload_component(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(chain): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<ComponentView>), ApiError> {
    require_member(&state, &user, chain).await?;
    let hook = parse_hook(&q.hook)?;
    let is_wasm = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/wasm"));
    if !is_wasm {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the component's bytes with Content-Type: application/wasm",
        ));
    }
    let cap = state.plugins.limits(hook).max_component_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "component_too_large",
            format!("a component may be at most {cap} bytes"),
        )
    };
    let read_cap = usize::try_from(cap).unwrap_or(usize::MAX).saturating_add(1);
    let bytes = to_bytes(body, read_cap).await.map_err(|_| too_large())?;
    if bytes.len() as u64 > cap {
        return Err(too_large());
    }
    if bytes.is_empty() {
        return Err(invalid("the body is empty"));
    }
    let quota = state.components.settings().quota;
    let quota_exceeded = |why: String| ApiError::new(StatusCode::CONFLICT, "quota_exceeded", why);
    let sha = crate::plugins::sha256_hex(&bytes);
    // Checked before compiling, so a chain at its quota costs the replica nothing; checked
    // again under a lock in the transaction below, where it is the guarantee.
    {
        let mut conn = state.db.acquire().await?;
        let known = db::component(&mut conn, chain, &sha).await?.is_some();
        let (count, stored) = db::stored_usage(&mut conn, chain, false).await?;
        if !known && let Some(why) = quota.refuses(count, stored, bytes.len() as u64) {
            return Err(quota_exceeded(why));
        }
    }
    let component = match state
        .plugins
        .load_for(Tenant::Chain(chain), hook, &bytes)
        .await
    {
        Ok(c) => c,
        Err(LoadError::TooLarge { .. }) => return Err(too_large()),
        Err(LoadError::Busy(why)) => {
            return Err(ApiError::plugin_busy(
                why,
                std::time::Duration::from_secs(1),
            ));
        }
        Err(e) => return Err(invalid(e.to_string())),
    };
    let report = match fixtures::run(&state.plugins, Tenant::Chain(chain), &component).await {
        Ok(r) => r,
        Err(FixtureError::Failed(reason)) => {
            // Keep refused components out of this replica's memory.
            state.plugins.forget(&component.id, hook);
            return Err(invalid(reason));
        }
        Err(FixtureError::Busy {
            message,
            retry_after,
        }) => return Err(ApiError::plugin_busy(message, retry_after)),
    };
    let mut tx = state.db.begin().await?;
    let (count, stored) = db::stored_usage(&mut tx, chain, true).await?;
    if db::component(&mut tx, chain, &component.id)
        .await?
        .is_none()
        && let Some(why) = quota.refuses(count, stored, bytes.len() as u64)
    {
        return Err(quota_exceeded(why));
    }
    crate::db::components::insert_if_absent(&mut tx, &component.id, &bytes).await?;
    let created = db::add_component(
        &mut tx,
        &db::NewChainComponent {
            chain_id: chain,
            component_id: &component.id,
            hook: hook.as_str(),
            uploaded_by: user.id,
            fixtures_passed: i32::try_from(report.passed).unwrap_or(i32::MAX),
            fuel_max: i64::try_from(report.fuel_max).unwrap_or(i64::MAX),
        },
    )
    .await?;
    let record = db::component(&mut tx, chain, &component.id)
        .await?
        .ok_or_else(|| ApiError::internal("the component vanished while being stored"))?;
    if record.hook != hook.as_str() {
        return Err(invalid(format!(
            "these bytes were uploaded as a {} component",
            record.hook
        )));
    }
    if created {
        // Other replicas compile it now, not when a binding reaches them.
        sqlx::query("select pg_notify($1, $2)")
            .bind(crate::plugins::registry::UPLOADS_CHANNEL)
            .bind(format!("{hook}:{}", component.id))
            .execute(&mut *tx)
            .await?;
        db::audit(
            &mut tx,
            chain,
            "uploaded",
            hook.as_str(),
            Some(&component.id),
            Some(user.id),
            json!({ "size_bytes": bytes.len(), "fixtures_passed": report.passed, "fuel_max": report.fuel_max }),
        )
        .await?;
    }
    tx.commit().await?;
    let bound = is_bound(&state, chain, &component.id).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(component_view(record, bound))))
}

async fn is_bound(state: &AppState, chain: Uuid, component: &str) -> Result<bool, ApiError> {
    let mut conn = state.db.acquire().await?;
    Ok(db::bindings(&mut conn, chain)
        .await?
        .iter()
        .any(|b| b.component_id == component))
}

/// The chain's components.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ComponentList {
    /// Newest first.
    items: Vec<ComponentView>,
    /// Always null: the list is complete.
    next_cursor: Option<String>,
}

/// Lists the chain's uploaded components.
#[utoipa::path(get, path = "/api/v1/chains/{id}/components", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The chain's components", body = ComponentList),
        (status = 404, description = "Not a chain of yours", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_components(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(chain): ApiPath<Uuid>,
) -> Result<Json<ComponentList>, ApiError> {
    require_member(&state, &user, chain).await?;
    let mut conn = state.db.acquire().await?;
    let bound: Vec<String> = db::bindings(&mut conn, chain)
        .await?
        .into_iter()
        .map(|b| b.component_id)
        .collect();
    let items = db::components(&mut conn, chain)
        .await?
        .into_iter()
        .map(|c| {
            let is_bound = bound.contains(&c.component_id);
            component_view(c, is_bound)
        })
        .collect();
    Ok(Json(ComponentList {
        items,
        next_cursor: None,
    }))
}

/// A hook of the chain and the component serving it.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct BindingView {
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
}

/// A binding's breaker.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct BreakerView {
    /// `closed` or `open`.
    state: &'static str,
    /// When it opened.
    tripped_at: Option<DateTime<Utc>>,
    /// Why.
    reason: Option<String>,
}

/// Every hook of the chain.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct BindingList {
    /// One per hook.
    items: Vec<BindingView>,
    /// Always null.
    next_cursor: Option<String>,
    /// The chain's fair share of this replica's component calls, and how much of it is in
    /// use (every hook together, bound and default components alike).
    usage: ChainUsage,
}

fn binding_view(state: &AppState, hook: Hook, row: Option<&db::Binding>) -> BindingView {
    let default = state.defaults.get(hook).map(|d| d.id.clone());
    let tripped = row.is_some_and(|b| b.tripped_at.is_some());
    BindingView {
        hook: hook.as_str(),
        component_id: match row {
            Some(b) if !tripped => Some(b.component_id.clone()),
            _ => default.clone(),
        },
        bound_component_id: row.map(|b| b.component_id.clone()),
        default_component_id: default,
        on_failure: row
            .and_then(|b| OnFailure::parse(&b.on_failure))
            .unwrap_or(OnFailure::default_for(hook))
            .as_str(),
        bound_at: row.map(|b| b.bound_at),
        bound_by: row.and_then(|b| b.bound_by),
        breaker: BreakerView {
            state: if tripped { "open" } else { "closed" },
            tripped_at: row.and_then(|b| b.tripped_at),
            reason: row.and_then(|b| b.trip_reason.clone()),
        },
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
pub(super) async fn list_bindings(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(chain): ApiPath<Uuid>,
) -> Result<Json<BindingList>, ApiError> {
    require_member(&state, &user, chain).await?;
    let mut conn = state.db.acquire().await?;
    let rows = db::bindings(&mut conn, chain).await?;
    drop(conn);
    let items = Hook::ALL
        .into_iter()
        .map(|hook| {
            let row = rows.iter().find(|b| b.hook == hook.as_str());
            binding_view(&state, hook, row)
        })
        .collect();
    Ok(Json(BindingList {
        items,
        next_cursor: None,
        usage: state.plugins.share().usage(chain),
    }))
}

/// A binding request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct BindRequest {
    /// One of the chain's components for this hook.
    component_id: String,
    /// `reject` (default for booking-rules and pricing) or `fallback` (default for
    /// notify-templates).
    on_failure: Option<String>,
}

/// Binds the hook to one of the chain's components (closing any open breaker). In force on
/// this replica when the response is sent and on every other within a second.
#[utoipa::path(put, path = "/api/v1/chains/{id}/bindings/{hook}", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), ("hook" = String, Path, description = "Hook")),
    request_body = BindRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Bound", body = BindingView),
        (status = 404, description = "Not a chain of yours", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown hook, not one of the chain's components for this hook, or a bad policy", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn bind_hook(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, hook)): ApiPath<(Uuid, String)>,
    ApiJson(body): ApiJson<BindRequest>,
) -> Result<Json<BindingView>, ApiError> {
    require_member(&state, &user, chain).await?;
    let hook = parse_hook(&hook)?;
    let on_failure = match body.on_failure.as_deref() {
        None => OnFailure::default_for(hook),
        Some(raw) => OnFailure::parse(raw)
            .ok_or_else(|| validation([("on_failure", "must be reject or fallback")]))?,
    };
    let mut tx = state.db.begin().await?;
    let known = db::component(&mut tx, chain, &body.component_id)
        .await?
        .filter(|c| c.hook == hook.as_str());
    if known.is_none() {
        return Err(validation([(
            "component_id",
            format!("not one of this chain's {hook} components (upload it first)"),
        )]));
    }
    let (binding, previous) = db::bind(
        &mut tx,
        chain,
        hook.as_str(),
        &body.component_id,
        on_failure.as_str(),
        user.id,
    )
    .await?;
    db::audit(
        &mut tx,
        chain,
        "bound",
        hook.as_str(),
        Some(&body.component_id),
        Some(user.id),
        json!({ "previous": previous, "on_failure": on_failure.as_str() }),
    )
    .await?;
    tx.commit().await?;
    state.components.reload_chain(chain).await.map_err(|e| {
        ApiError::internal(format!("the binding is stored but not loaded here: {e}"))
    })?;
    Ok(Json(binding_view(&state, hook, Some(&binding))))
}

/// Unbinds the hook: the chain gets the platform default again (its components stay, for a
/// later rebind).
#[utoipa::path(delete, path = "/api/v1/chains/{id}/bindings/{hook}", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), ("hook" = String, Path, description = "Hook")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Back to the platform default"),
        (status = 404, description = "Not a chain of yours, or the hook is not bound", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown hook", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn unbind_hook(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, hook)): ApiPath<(Uuid, String)>,
) -> Result<StatusCode, ApiError> {
    require_member(&state, &user, chain).await?;
    let hook = parse_hook(&hook)?;
    let mut tx = state.db.begin().await?;
    let Some(previous) = db::unbind(&mut tx, chain, hook.as_str()).await? else {
        return Err(ApiError::not_found("this hook is not bound"));
    };
    db::audit(
        &mut tx,
        chain,
        "unbound",
        hook.as_str(),
        Some(&previous),
        Some(user.id),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    state.components.reload_chain(chain).await.map_err(|e| {
        ApiError::internal(format!("the change is stored but not loaded here: {e}"))
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// A dry run.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct InvokeRequest {
    /// The hook's input record as JSON (booking-rules adds `"function": "check-hold"` or
    /// `"cancel"`); see docs/components.md.
    input: Value,
}

/// What a dry run produced.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct InvokeResult {
    /// `{"ok": ...}` or `{"err": "reason"}`; absent when the call failed.
    #[schema(value_type = Option<Object>)]
    output: Option<Value>,
    /// `{"kind": "trap" | "out_of_fuel" | ..., "message": ...}` when the call failed.
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
pub(super) async fn invoke_component(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, component_id)): ApiPath<(Uuid, String)>,
    ApiJson(body): ApiJson<InvokeRequest>,
) -> Result<Json<InvokeResult>, ApiError> {
    require_member(&state, &user, chain).await?;
    let mut conn = state.db.acquire().await?;
    let record = db::component(&mut conn, chain, &component_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such component"))?;
    let hook = parse_hook(&record.hook)?;
    let component = match state.plugins.cached(&record.component_id, hook) {
        Some(c) => c,
        None => {
            let bytes = db::bytes(&mut conn, &record.component_id)
                .await?
                .ok_or_else(|| ApiError::not_found("no such component"))?;
            match state
                .plugins
                .load_for(Tenant::Chain(chain), hook, &bytes)
                .await
            {
                Ok(c) => c,
                Err(LoadError::Busy(why)) => {
                    return Err(ApiError::plugin_busy(
                        why,
                        std::time::Duration::from_secs(1),
                    ));
                }
                Err(e) => return Err(invalid(e.to_string())),
            }
        }
    };
    drop(conn);
    let invocation = invoke::invoke(&state.plugins, Tenant::Chain(chain), &component, body.input)
        .await
        .map_err(|reason| validation([("input", reason)]))?;
    // Over its share, a dry run is answered like the chain's bookings: 503 and when to retry.
    if let Err(e) = &invocation.outcome
        && e.kind == FailureKind::Busy
    {
        return Err(ApiError::plugin_busy(
            e.message.clone(),
            e.retry_after.unwrap_or(std::time::Duration::from_secs(1)),
        ));
    }
    let micros = u64::try_from(invocation.stats.duration.as_micros()).unwrap_or(u64::MAX);
    let (output, error) = match &invocation.outcome {
        Ok(Ok(v)) => (Some(json!({ "ok": v })), None),
        Ok(Err(reason)) => (Some(json!({ "err": reason })), None),
        Err(e) => (
            None,
            Some(json!({ "kind": e.kind.as_str(), "message": e.message })),
        ),
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

/// Call statistics of one of the chain's components, as served by this replica.
#[utoipa::path(get, path = "/api/v1/chains/{id}/components/{component_id}/stats", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), ("component_id" = String, Path, description = "Component sha256")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Calls, failures by kind, fuel and duration percentiles", body = StatsView),
        (status = 404, description = "Not a chain or component of yours", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn component_stats(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, component_id)): ApiPath<(Uuid, String)>,
) -> Result<Json<StatsView>, ApiError> {
    require_member(&state, &user, chain).await?;
    let mut conn = state.db.acquire().await?;
    db::component(&mut conn, chain, &component_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such component"))?;
    Ok(Json(state.components.stats.view(chain, &component_id)))
}

/// An entry of the chain's component trail.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ComponentAuditView {
    id: Uuid,
    /// `uploaded`, `bound`, `unbound` or `breaker-tripped`.
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
#[serde(deny_unknown_fields)]
pub(super) struct AuditQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

/// Every upload, binding change and breaker trip of the chain, oldest first.
#[utoipa::path(get, path = "/api/v1/chains/{id}/component-audit", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the trail", body = Page<ComponentAuditView>),
        (status = 404, description = "Not a chain of yours", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn component_audit(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(chain): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Page<ComponentAuditView>>, ApiError> {
    require_member(&state, &user, chain).await?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let mut conn = state.db.acquire().await?;
    let rows = db::audit_trail(&mut conn, chain, page.after, page.fetch()).await?;
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
