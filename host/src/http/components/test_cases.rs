//! A chain's own test cases per hook: replace, read, remove. The upload of a component of the
//! chain for that hook runs them after the hook's fixtures.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{access, parse_hook};
use crate::domain::components::ChainCases;
use crate::http::extract::{ApiJson, ApiPath, StaffUser};
use crate::http::{ApiError, Problem};
use crate::plugins::cases::{Expect, TestCase, TestCases};
use crate::state::AppState;

/// A hook's test cases (the body of `PUT`; at most 200, the whole body at most 1 MiB).
/// Unknown fields are refused.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // the schema of `TestCases`, which the handlers parse
pub(in crate::http) struct TestCasesBody {
    /// Run in this order at each upload; the first that fails refuses it.
    cases: Vec<TestCaseSchema>,
}

/// One case.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // schema only
pub(in crate::http) struct TestCaseSchema {
    /// Unique among the hook's cases (1 to 200 characters); refusals name it.
    name: String,
    /// The hook's input as JSON, exactly as in a dry run (booking-rules adds `"function"`);
    /// within the hook's input cap.
    #[schema(value_type = Object)]
    input: Value,
    /// `{"ok": <the exact output, as a dry run shows it>}`, `{"err": "<the exact reason>"}`,
    /// or `{"err": null}` for any refusal. A failure (trap, fuel, a broken answer) never
    /// passes.
    #[schema(value_type = Object)]
    expect: Value,
}

/// A chain's test cases for a hook.
#[derive(Debug, Serialize, ToSchema)]
pub(in crate::http) struct TestCasesView {
    hook: &'static str,
    /// As stored.
    #[schema(value_type = Vec<Object>)]
    cases: Vec<CaseView>,
    updated_at: DateTime<Utc>,
    updated_by: Option<Uuid>,
}

/// A stored case.
#[derive(Debug, Serialize)]
pub(in crate::http) struct CaseView {
    name: String,
    input: Value,
    expect: Value,
}

fn view(c: ChainCases) -> TestCasesView {
    TestCasesView {
        hook: c.hook.as_str(),
        cases: c
            .cases
            .cases
            .into_iter()
            .map(
                |TestCase {
                     name,
                     input,
                     expect,
                 }| CaseView {
                    name,
                    input,
                    expect: match expect {
                        Expect::Ok(v) => serde_json::json!({ "ok": v }),
                        Expect::Err(reason) => serde_json::json!({ "err": reason }),
                    },
                },
            )
            .collect(),
        updated_at: c.updated_at,
        updated_by: c.updated_by,
    }
}

/// Replaces the chain's test cases for the hook. Each case's input must parse as the hook's
/// input within its input cap (else 422 naming the case, e.g. `cases[3].input`). From now on
/// every upload of the chain's components for this hook must pass them.
#[utoipa::path(put, path = "/api/v1/chains/{id}/test-cases/{hook}", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), ("hook" = crate::http::schema::HookName, Path, description = "Hook")),
    request_body = TestCasesBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Stored", body = TestCasesView),
        (status = 400, description = "Malformed JSON, unknown fields or wrong types", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a chain of yours", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: unknown hook, no cases or more than 200, or a case whose name, input or `expect` (neither `ok` nor `err`) is wrong; the field names the case: `cases[3].input`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn put_test_cases(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, hook)): ApiPath<(Uuid, String)>,
    ApiJson(body): ApiJson<TestCases>,
) -> Result<Json<TestCasesView>, ApiError> {
    let access = access(&state, user, chain).await?;
    let hook = parse_hook(&hook)?;
    let stored = state
        .chain_components
        .put_test_cases(&access, hook, body)
        .await?;
    Ok(Json(view(stored)))
}

/// The chain's test cases for the hook.
#[utoipa::path(get, path = "/api/v1/chains/{id}/test-cases/{hook}", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), ("hook" = crate::http::schema::HookName, Path, description = "Hook")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The cases", body = TestCasesView),
        (status = 404, description = "`not_found`: not a chain of yours, or it has no cases for this hook", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown hook", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn get_test_cases(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, hook)): ApiPath<(Uuid, String)>,
) -> Result<Json<TestCasesView>, ApiError> {
    let access = access(&state, user, chain).await?;
    let hook = parse_hook(&hook)?;
    Ok(Json(view(
        state.chain_components.test_cases(&access, hook).await?,
    )))
}

/// Removes the chain's test cases for the hook: uploads are checked against the hook's
/// fixtures only.
#[utoipa::path(delete, path = "/api/v1/chains/{id}/test-cases/{hook}", tag = "components",
    params(("id" = Uuid, Path, description = "Chain id"), ("hook" = crate::http::schema::HookName, Path, description = "Hook")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "`not_found`: not a chain of yours, or it has no cases for this hook", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown hook", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(in crate::http) async fn delete_test_cases(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, hook)): ApiPath<(Uuid, String)>,
) -> Result<StatusCode, ApiError> {
    let access = access(&state, user, chain).await?;
    let hook = parse_hook(&hook)?;
    state
        .chain_components
        .delete_test_cases(&access, hook)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
