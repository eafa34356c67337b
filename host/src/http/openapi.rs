//! The OpenAPI document (`/openapi.json`) and the Swagger UI (`/docs`, served offline from
//! assets vendored into the binary).

use axum::Router;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use super::{error, hooks, ops};
use crate::state::AppState;

/// The API description, assembled from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Cineflow",
        description = "Cinema booking backend whose booking rules, pricing and email templates are WebAssembly components each theatre chain can replace."
    ),
    paths(ops::healthz, ops::readyz, ops::metrics, hooks::list_hooks),
    components(schemas(error::Problem, crate::plugins::Limits)),
    tags(
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "components", description = "Hooks and the components that implement them"),
    )
)]
pub struct ApiDoc;

pub(super) fn router() -> Router<AppState> {
    Router::new().merge(SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi()))
}
