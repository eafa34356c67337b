//! The OpenAPI document (`/openapi.json`) and the Swagger UI (`/docs`, served offline from
//! assets vendored into the binary).

use axum::Router;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use super::{
    accounts, bookings, chains, components, error, hooks, movies, notifications, ops, payments,
    screens, shows, theatres,
};
use crate::state::AppState;

/// The API description, assembled from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Cineflow",
        description = "Cinema booking backend whose booking rules, pricing and email templates are WebAssembly components each theatre chain can replace. Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`."
    ),
    paths(
        ops::healthz, ops::readyz, ops::metrics, hooks::list_hooks,
        accounts::signup, accounts::signin, accounts::change_password, accounts::me,
        accounts::list_users, accounts::update_user,
        chains::create_chain, chains::list_chains, chains::get_chain, chains::add_member,
        chains::list_members,
        movies::create_movie, movies::list_movies, movies::get_movie, movies::update_movie,
        movies::delete_movie,
        theatres::create_theatre, theatres::list_theatres, theatres::get_theatre,
        theatres::update_theatre, theatres::delete_theatre, theatres::list_now_showing,
        theatres::add_now_showing, theatres::check_now_showing, theatres::remove_now_showing,
        screens::create_screen, screens::list_screens, screens::get_screen,
        shows::create_show, shows::list_shows, shows::get_show, shows::show_seats,
        shows::update_show, shows::delete_show, shows::cancel_show,
        bookings::create_booking, bookings::list_bookings, bookings::get_booking,
        bookings::pay_booking, bookings::cancel_booking, bookings::booking_audit,
        bookings::chain_audit,
        payments::list_payments, payments::get_payment,
        notifications::create_notification, notifications::list_notifications,
        notifications::get_notification,
        components::upload_component, components::list_components, components::list_bindings,
        components::bind_hook, components::unbind_hook, components::invoke_component,
        components::component_stats, components::component_audit,
    ),
    components(schemas(error::Problem, crate::plugins::Limits)),
    modifiers(&BearerAuth),
    tags(
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "accounts", description = "Signup, signin, users and approval"),
        (name = "chains", description = "Theatre chains and their staff"),
        (name = "catalogue", description = "Movies, theatres, screens and shows"),
        (name = "bookings", description = "Holds, payments, cancellations and their audit trail"),
        (name = "notifications", description = "Queued emails and their delivery"),
        (name = "components", description = "Hooks and the components that implement them"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` (JWT) security scheme the annotated paths refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

pub(super) fn router() -> Router<AppState> {
    Router::new().merge(SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi()))
}
