//! `GET /api/v1/hooks`: the extension points, their worlds, limits and default components.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::plugins::{Hook, Limits};
use crate::state::AppState;

/// The routes of this module, each declared once: its path and method come from the
/// handler's `#[utoipa::path]`, which also puts it in the OpenAPI document.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_hooks))
}

/// A hook a chain can program.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct HookInfo {
    /// `booking-rules`, `pricing` or `notify-templates`.
    name: &'static str,
    /// The WIT world a component for this hook implements.
    world: &'static str,
    /// The limits every call runs under.
    limits: Limits,
    /// The platform default component, used by chains that bound none.
    default_component: DefaultComponent,
}

/// The platform default of a hook.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct DefaultComponent {
    /// Lowercase hex sha256 of the component's bytes.
    id: String,
    /// Size in bytes.
    size_bytes: u64,
}

/// The list of hooks.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct HookList {
    /// Every hook.
    items: Vec<HookInfo>,
    /// Always null: the list is complete.
    next_cursor: Option<String>,
}

/// Lists the hooks with their worlds, limits and default components.
#[utoipa::path(get, path = "/api/v1/hooks", tag = "components",
    responses((status = 200, description = "Every hook", body = HookList)))]
pub(super) async fn list_hooks(State(state): State<AppState>) -> Json<HookList> {
    let items = Hook::ALL
        .into_iter()
        .filter_map(|hook| {
            let default = state.defaults.get(hook)?;
            Some(HookInfo {
                name: hook.as_str(),
                world: hook.world(),
                limits: state.plugins.limits(hook),
                default_component: DefaultComponent {
                    id: default.id.clone(),
                    size_bytes: default.size_bytes,
                },
            })
        })
        .collect();
    Json(HookList {
        items,
        next_cursor: None,
    })
}
