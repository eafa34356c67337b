//! Theatre chains and their staff.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{
    ApiJson, ApiPath, ApiQuery, AuthUser, MaybeAuthUser, Problems, StaffUser, validation,
};
use super::page::{Page, PageRequest};
use super::{ApiError, Problem};
use crate::domain::Actor;
use crate::domain::chains::{Chain, Member, NewChainCommand};
use crate::domain::types::Currency;
use crate::state::AppState;

/// The routes of this module, each declared once: its path and method come from the
/// handler's `#[utoipa::path]`, which also puts it in the OpenAPI document.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_chains, create_chain))
        .routes(routes!(get_chain))
        .routes(routes!(list_members, add_member))
}

/// A theatre chain.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ChainView {
    id: Uuid,
    name: String,
    /// ISO 4217 code of the chain's prices.
    currency: String,
    /// IANA time zone, e.g. `Asia/Kolkata`.
    timezone: String,
    created_at: DateTime<Utc>,
}

impl From<Chain> for ChainView {
    fn from(c: Chain) -> Self {
        Self {
            id: c.id,
            name: c.name,
            currency: c.currency,
            timezone: c.timezone,
            created_at: c.created_at,
        }
    }
}

/// A member of a chain's staff.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct MemberView {
    user_id: Uuid,
    name: String,
    email: String,
    added_at: DateTime<Utc>,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self {
            user_id: m.user_id,
            name: m.name,
            email: m.email,
            added_at: m.added_at,
        }
    }
}

/// New chain.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateChain {
    /// Trimmed.
    #[schema(schema_with = chain_name)]
    name: String,
    /// An ISO 4217 code: three uppercase letters.
    #[schema(pattern = "^[A-Z]{3}$")]
    currency: String,
    /// An IANA time zone name (`chrono_tz::Tz`), such as `Asia/Kolkata`.
    #[schema(schema_with = timezone)]
    timezone: String,
}

/// Longest chain name, in characters after trimming.
const MAX_NAME: usize = 100;

fn chain_name() -> utoipa::openapi::Object {
    super::schema::trimmed_text(MAX_NAME).build()
}

/// Every name `chrono_tz::Tz` parses: the document lists what [`create_chain`] accepts.
fn timezone() -> utoipa::openapi::Object {
    super::schema::one_of(chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())).build()
}

/// Creates a chain; the creator becomes its first member.
#[utoipa::path(post, path = "/api/v1/chains", tag = "chains", request_body = CreateChain,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = ChainView),
        (status = 403, description = "Not approved chain staff", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`chain_name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_chain(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiJson(body): ApiJson<CreateChain>,
) -> Result<(StatusCode, Json<ChainView>), ApiError> {
    let mut problems = Problems::default();
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        problems.add("name", "must be 1 to 100 characters");
    }
    let currency = problems.check("currency", Currency::parse(&body.currency));
    if body.timezone.parse::<chrono_tz::Tz>().is_err() {
        problems.add("timezone", "must be an IANA time zone such as Asia/Kolkata");
    }
    problems.finish()?;
    let Some(currency) = currency else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let command = NewChainCommand {
        name: name.to_owned(),
        currency,
        timezone: body.timezone,
    };
    let chain = state.chains.create(&Actor::new(user), command).await?;
    Ok((StatusCode::CREATED, Json(chain.into())))
}

/// Paging parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct PageQuery {
    #[param(schema_with = crate::http::schema::page_limit)]
    limit: Option<u32>,
    #[param(schema_with = crate::http::schema::page_cursor)]
    cursor: Option<String>,
}

/// `GET /chains` parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct ChainQuery {
    /// `me`: only the chains the caller may run (its staff's; every chain for an admin).
    /// Needs a signed-in caller.
    #[param(schema_with = crate::http::schema::staff_me)]
    staff: Option<String>,
    #[param(schema_with = crate::http::schema::page_limit)]
    limit: Option<u32>,
    #[param(schema_with = crate::http::schema::page_cursor)]
    cursor: Option<String>,
}

/// Lists chains (every chain is public), or with `staff=me` the caller's own.
#[utoipa::path(get, path = "/api/v1/chains", tag = "chains", params(ChainQuery),
    responses(
        (status = 200, description = "A page of chains", body = Page<ChainView>),
        (status = 401, description = "`unauthorized`: `staff=me` without a signed-in caller", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `staff` is not `me`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_chains(
    State(state): State<AppState>,
    caller: MaybeAuthUser,
    ApiQuery(q): ApiQuery<ChainQuery>,
) -> Result<Json<Page<ChainView>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let rows = match q.staff.as_deref() {
        None => state.chains.list(page.after, page.fetch()).await?,
        Some("me") => {
            let Some(AuthUser(user)) = caller.0 else {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    crate::http::code::Code::Unauthorized,
                    "staff=me needs a signed-in caller",
                ));
            };
            state
                .chains
                .list_run_by(&Actor::new(user), page.after, page.fetch())
                .await?
        }
        Some(_) => return Err(validation([("staff", "must be `me`")])),
    };
    Ok(Json(
        Page::from_rows(rows, page, |c| c.id).map(ChainView::from),
    ))
}

/// One chain.
#[utoipa::path(get, path = "/api/v1/chains/{id}", tag = "chains",
    params(("id" = Uuid, Path, description = "Chain id")),
    responses(
        (status = 200, description = "The chain", body = ChainView),
        (status = 404, description = "No such chain", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn get_chain(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ChainView>, ApiError> {
    Ok(Json(state.chains.find(id).await?.into()))
}

/// New member.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AddMember {
    user_id: Uuid,
}

/// Adds an approved owner to the chain's staff.
#[utoipa::path(post, path = "/api/v1/chains/{id}/members", tag = "chains", request_body = AddMember,
    params(("id" = Uuid, Path, description = "Chain id")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Added", body = MemberView),
        (status = 404, description = "No such chain (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The user is not an approved owner", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn add_member(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<AddMember>,
) -> Result<(StatusCode, Json<MemberView>), ApiError> {
    let member = state
        .chains
        .add_member(&Actor::new(user), id, body.user_id)
        .await?;
    Ok((StatusCode::CREATED, Json(member.into())))
}

/// Lists the chain's staff.
#[utoipa::path(get, path = "/api/v1/chains/{id}/members", tag = "chains", params(("id" = Uuid, Path, description = "Chain id"), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of members", body = Page<MemberView>),
        (status = 404, description = "No such chain (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_members(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<MemberView>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .chains
        .members(&Actor::new(user), id, page.after, page.fetch())
        .await?;
    Ok(Json(
        Page::from_rows(rows, page, |m| m.user_id).map(MemberView::from),
    ))
}
