//! Operations endpoints at the root: `/healthz`, `/readyz`; and `/metrics`, which is served
//! on its own address (`CINEFLOW_METRICS_LISTEN`), never on the API's.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiError;
use crate::domain::health::{self, Readiness};
use crate::state::AppState;
use crate::telemetry;

/// The routes of this module, each declared once: its path and method come from the
/// handler's `#[utoipa::path]`, which also puts it in the OpenAPI document.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// The metrics server's routes: `GET /metrics` and nothing else.
pub(super) fn metrics_router() -> Router {
    Router::new().route("/metrics", get(metrics))
}

// Named `HealthStatus` in the document: the account `Status` enum (db/users.rs) has the same
// Rust name, and one of the two silently replaced the other in `components.schemas`.
/// Health and readiness answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = HealthStatus)]
pub(super) struct Status {
    /// `ok`.
    status: &'static str,
    /// With `CINEFLOW_DATABASE_READ_URL` set on `/readyz`: the read replica, `up`, `down` or
    /// `lagging` (browsing reads are on the primary meanwhile; this never makes `/readyz`
    /// fail). Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "up")]
    read_replica: Option<&'static str>,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is up", body = Status)))]
pub(super) async fn healthz() -> axum::Json<Status> {
    axum::Json(Status {
        status: "ok",
        read_replica: None,
    })
}

/// The database is reachable and every migration is applied (the read replica, if any, is
/// reported but not required).
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "Ready to serve", body = Status),
    (status = 503, description = "`database_unavailable` (with `Retry-After`): the database cannot be reached; `unavailable`: migrations pending, or the check failed otherwise", body = super::Problem, content_type = "application/problem+json"),
))]
pub(super) async fn readyz(State(state): State<AppState>) -> Result<axum::Json<Status>, ApiError> {
    match health::readiness(&state.db).await {
        Readiness::Ready => Ok(axum::Json(Status {
            status: "ok",
            read_replica: health::read_replica(&state.reads),
        })),
        Readiness::MigrationsPending => {
            Err(ApiError::unavailable("database migrations are pending"))
        }
        Readiness::DatabaseUnreachable => Err(ApiError::database_unavailable(
            "the database is unreachable",
        )),
        Readiness::Failed => Err(ApiError::unavailable("the readiness check failed")),
    }
}

/// Prometheus metrics in the text exposition format (not part of the API's document: it is
/// served on the metrics address only).
pub(super) async fn metrics() -> impl IntoResponse {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        telemetry::metrics_handle().render(),
    )
}
