//! Theatre chains and their staff.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath, ApiQuery, Problems, StaffUser, require_member};
use super::page::{Page, PageRequest};
use super::{ApiError, Problem};
use crate::db::chains::{self, Chain, Member};
use crate::db::users;
use crate::domain::types::{AccountStatus, Role};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/chains", get(list_chains).post(create_chain))
        .route("/chains/{id}", get(get_chain))
        .route("/chains/{id}/members", get(list_members).post(add_member))
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
    name: String,
    currency: String,
    timezone: String,
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
    if name.is_empty() || name.chars().count() > 100 {
        problems.add("name", "must be 1 to 100 characters");
    }
    if !(body.currency.len() == 3 && body.currency.chars().all(|c| c.is_ascii_uppercase())) {
        problems.add("currency", "must be an ISO 4217 code such as INR");
    }
    if body.timezone.parse::<chrono_tz::Tz>().is_err() {
        problems.add("timezone", "must be an IANA time zone such as Asia/Kolkata");
    }
    problems.finish()?;
    let mut tx = state.db.begin().await?;
    let chain = chains::insert(&mut tx, name, &body.currency, &body.timezone, user.id)
        .await
        .map_err(|e| {
            ApiError::on_constraint(
                e,
                &[(
                    "chains_name_key",
                    StatusCode::CONFLICT,
                    "chain_name_taken",
                    "a chain with this name exists",
                )],
            )
        })?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(chain.into())))
}

/// Paging parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(super) struct PageQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

/// Lists chains.
#[utoipa::path(get, path = "/api/v1/chains", tag = "chains", params(PageQuery),
    responses((status = 200, description = "A page of chains", body = Page<ChainView>)))]
pub(super) async fn list_chains(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Page<ChainView>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let mut conn = state.db.acquire().await?;
    let rows = chains::list(&mut conn, page.after, page.fetch()).await?;
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
    let mut conn = state.db.acquire().await?;
    let chain = chains::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such chain"))?;
    Ok(Json(chain.into()))
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
    let mut conn = state.db.acquire().await?;
    chains::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such chain"))?;
    require_member(&state, &user, id).await?;
    let member = users::find(&mut conn, body.user_id).await?;
    match member {
        Some(m) if m.role == Role::Owner && m.status == AccountStatus::Approved => {
            chains::add_member(&mut conn, id, m.id).await?;
            Ok((
                StatusCode::CREATED,
                Json(MemberView {
                    user_id: m.id,
                    name: m.name,
                    email: m.email,
                    added_at: Utc::now(),
                }),
            ))
        }
        _ => Err(super::extract::validation([(
            "user_id",
            "must be an approved owner",
        )])),
    }
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
    require_member(&state, &user, id).await?;
    let mut conn = state.db.acquire().await?;
    chains::find(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such chain"))?;
    let rows = chains::members(&mut conn, id, page.after, page.fetch()).await?;
    Ok(Json(
        Page::from_rows(rows, page, |m| m.user_id).map(MemberView::from),
    ))
}
