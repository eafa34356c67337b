//! A chain's own components: upload (checked, then run against the hook's fixtures), list,
//! bind / unbind per hook, dry runs, statistics and the trail of changes. Every route is
//! for the chain's staff and admins; another chain's components are 404.

use crate::http::code::Code;
use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub(super) mod bindings;
pub(super) mod dry_run;
mod runs;
mod shadows;
pub(super) mod test_cases;

use super::extract::{ApiPath, ApiQuery, StaffUser, validation};
use super::{ApiError, Problem};
use crate::domain::components::ChainComponent;
use crate::domain::{Actor, ChainAccess, DomainError};
use crate::plugins::Hook;
use crate::state::AppState;

/// The routes of this module, each declared once: its path and method come from the
/// handler's `#[utoipa::path]`, which also puts it in the OpenAPI document.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_component, list_components))
        .routes(routes!(dry_run::invoke_component))
        .routes(routes!(dry_run::component_stats))
        .routes(routes!(bindings::list_bindings))
        .routes(routes!(bindings::bind_hook, bindings::unbind_hook))
        .routes(routes!(dry_run::component_audit))
        .routes(routes!(runs::list_runs))
        .routes(routes!(runs::get_run))
        .routes(routes!(runs::start_replay, runs::list_replays))
        .routes(routes!(runs::get_replay))
        .routes(routes!(
            shadows::put_shadow,
            shadows::get_shadow,
            shadows::delete_shadow
        ))
        .routes(routes!(
            test_cases::put_test_cases,
            test_cases::get_test_cases,
            test_cases::delete_test_cases
        ))
}

pub(in crate::http) fn parse_hook(raw: &str) -> Result<Hook, ApiError> {
    raw.parse::<Hook>().map_err(|_| {
        let names: Vec<&str> = Hook::ALL.iter().map(|h| h.as_str()).collect();
        validation([("hook", format!("must be one of {}", names.join(", ")))])
    })
}

/// The actor's access to the chain, asked first: another chain's components are "not found"
/// whatever else is wrong with the request.
pub(in crate::http) async fn access(
    state: &AppState,
    user: crate::domain::types::User,
    chain: Uuid,
) -> Result<ChainAccess, ApiError> {
    Ok(state.accounts.member_of(&Actor::new(user), chain).await?)
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
    /// In upload answers: the chain's own test cases for the hook that this upload passed
    /// (all of them; 0 when the chain has none). Null in lists: cases can change after an
    /// upload.
    cases_passed: Option<usize>,
}

fn component_view(c: ChainComponent, bound: bool, cases_passed: Option<usize>) -> ComponentView {
    ComponentView {
        id: c.component_id,
        hook: c.hook,
        size_bytes: c.size_bytes,
        uploaded_at: c.uploaded_at,
        uploaded_by: c.uploaded_by,
        fixtures: FixturesView {
            passed: c.fixtures_passed,
            fuel_max: c.fuel_max,
            cases_passed,
        },
        bound,
    }
}

/// Upload query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct UploadQuery {
    /// The hook the component implements.
    #[param(inline, value_type = crate::http::schema::HookName)]
    hook: String,
}

/// Uploads a component (`Content-Type: application/wasm`). It must be a component (not a
/// core module) implementing the hook's world with no imports beyond the empty WASI the host
/// links, fit the size cap, pass every fixture of the hook within the limits, and then every
/// one of the chain's own test cases for the hook (`PUT /chains/{id}/test-cases/{hook}`). A
/// refusal's detail names the fixture or case, and for a failure carries the guest's panic
/// message, backtrace and log. The same bytes again → 200 with the same record.
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
    let access = access(&state, user, chain).await?;
    let hook = parse_hook(&q.hook)?;
    let is_wasm = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/wasm"));
    if !is_wasm {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::UnsupportedMediaType,
            "send the component's bytes with Content-Type: application/wasm",
        ));
    }
    let cap = state.chain_components.size_cap(hook);
    // Read one byte past the cap at most: a larger body is refused without being buffered.
    let read_cap = usize::try_from(cap).unwrap_or(usize::MAX).saturating_add(1);
    let bytes = to_bytes(body, read_cap)
        .await
        .map_err(|_| ApiError::from(DomainError::ComponentTooLarge { cap }))?;
    let uploaded = state.chain_components.upload(&access, hook, &bytes).await?;
    let status = if uploaded.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(component_view(
            uploaded.component,
            uploaded.bound,
            Some(uploaded.cases_passed),
        )),
    ))
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
    let access = access(&state, user, chain).await?;
    let items = state
        .chain_components
        .list(&access)
        .await?
        .into_iter()
        .map(|l| component_view(l.component, l.bound, None))
        .collect();
    Ok(Json(ComponentList {
        items,
        next_cursor: None,
    }))
}
