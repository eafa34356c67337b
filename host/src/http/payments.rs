//! Payments: listings for the payer, the chain's staff and admins.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::bookings::PaymentView;
use super::extract::{ApiPath, ApiQuery, AuthUser};
use super::page::{Page, PageRequest};
use super::{ApiError, Problem};
use crate::domain::Actor;
use crate::domain::types::PaymentId;
use crate::state::AppState;

/// The routes of this module, each declared once: its path and method come from the
/// handler's `#[utoipa::path]`, which also puts it in the OpenAPI document.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_payments))
        .routes(routes!(get_payment))
}

/// Payment filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct PaymentQuery {
    /// Chain staff: the chain's payments.
    chain_id: Option<Uuid>,
    #[param(schema_with = crate::http::schema::page_limit)]
    limit: Option<u32>,
    #[param(schema_with = crate::http::schema::page_cursor)]
    cursor: Option<String>,
}

/// Lists payments: your own; with `chain_id`, a chain's (its staff); admins see all.
#[utoipa::path(get, path = "/api/v1/payments", tag = "bookings", params(PaymentQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of payments", body = Page<PaymentView>),
        (status = 404, description = "Not a chain of yours", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_payments(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiQuery(q): ApiQuery<PaymentQuery>,
) -> Result<Json<Page<PaymentView>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .bookings
        .payments(&Actor::new(user), q.chain_id, page.after, page.fetch())
        .await?;
    Ok(Json(
        Page::from_rows(rows, page, |p| p.id).map(PaymentView::from),
    ))
}

/// One payment (the payer, the chain's staff, admins).
#[utoipa::path(get, path = "/api/v1/payments/{id}", tag = "bookings",
    params(("id" = Uuid, Path, description = "Payment id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The payment", body = PaymentView),
        (status = 404, description = "No such payment (or not yours)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn get_payment(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiPath(id): ApiPath<PaymentId>,
) -> Result<Json<PaymentView>, ApiError> {
    Ok(Json(
        state.bookings.payment(&Actor::new(user), id).await?.into(),
    ))
}
