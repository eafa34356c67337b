//! The OpenAPI document (`/openapi.json`) and the Swagger UI (`/docs`, served offline from
//! assets vendored into the binary).

use axum::Router;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use super::error;
use super::webhooks::EventSchemas;
use crate::state::AppState;

/// The API description's frame: info, schemas, security and tags. The paths are added by the
/// routers themselves (`http::router`, utoipa-axum), then [`router`] adds what the shared
/// extractors answer.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Cineflow",
        description = "Cinema booking backend whose booking rules, pricing and email templates are WebAssembly components each theatre chain can replace. Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`. Text PostgreSQL cannot store (a NUL character, or bytes that are not UTF-8) is refused with 400 `bad_request` in every parameter and body. Prometheus metrics are not served here: `GET /metrics` answers on the separate address `CINEFLOW_METRICS_LISTEN` (loopback by default)."
    ),
    components(schemas(error::Problem, crate::plugins::Limits, super::schema::HookName, super::schema::IdempotencyKeyHeader, crate::domain::types::seat_layout::RowSpec)),
    modifiers(&BearerAuth, &EventSchemas),
    tags(
        (name = "operations", description = "Health and readiness (metrics are served on their own address)"),
        (name = "accounts", description = "Signup, signin, users and approval"),
        (name = "chains", description = "Theatre chains and their staff"),
        (name = "catalogue", description = "Movies, theatres, screens and shows"),
        (name = "bookings", description = "Holds, payments, cancellations and their audit trail"),
        (name = "gift-cards", description = "Gift cards: issued by a chain's staff, spent by payments, read by whoever holds the code"),
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

/// Declares, on every operation, the problems the shared extractors (`extract.rs`) and the
/// authentication layer answer before a handler runs, unless the operation already documents
/// that status: 400 `bad_request` for a path or query parameter that does not parse and for a
/// malformed body, 422 `validation_failed` for a missing field or a value outside an
/// enum in a JSON body and for a query parameter out of its range (`limit`, a filter's value), 415 `unsupported_media_type` for a required JSON body sent without a JSON
/// Content-Type, 401 `unauthorized` for a secured operation called without a valid token.
/// Found by schemathesis (`scripts/schemathesis.sh`, docs/schemathesis.md). Also 503
/// `database_unavailable` on every operation that reads or writes the database (all of
/// `/api/v1` but the hook list), added to the 503 an operation already declares. And on every
/// operation 413 `payload_too_large`, 414 `uri_too_long` and 431 `headers_too_large` (`http::refuse_oversized_heads`,
/// `http::conn`).
struct ExtractorRejections;

impl Modify for ExtractorRejections {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::Operation;
        use utoipa::openapi::request_body::RequestBody;
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};

        fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            )
        }
        fn add(op: &mut Operation, status: &str, description: &str) {
            op.responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| problem(description));
        }
        const DATABASE_DOWN: &str =
            "`database_unavailable` (with `Retry-After`): the database cannot be reached right now";
        for (path, item) in openapi.paths.paths.iter_mut() {
            // The hook list is answered from memory.
            let uses_database = path.starts_with("/api/v1/") && path != "/api/v1/hooks";
            let shared_params = item.parameters.as_ref().is_some_and(|p| !p.is_empty());
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                let has_params =
                    shared_params || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let has_query = op.parameters.iter().flatten().any(|p| {
                    matches!(p, RefOr::T(p) if matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query))
                });
                let body = match &op.request_body {
                    Some(RefOr::T(body)) => Some(body),
                    _ => None,
                };
                let json_body = body.is_some_and(|b: &RequestBody| {
                    b.content.keys().any(|c| c.starts_with("application/json"))
                });
                let required_json =
                    json_body && body.is_some_and(|b| matches!(b.required, Some(Required::True)));
                if has_params || json_body {
                    add(
                        op,
                        "400",
                        "`bad_request`: a parameter or the body does not parse",
                    );
                }
                if json_body {
                    add(
                        op,
                        "422",
                        "`validation_failed`: a field is missing or out of range",
                    );
                }
                if has_query {
                    add(
                        op,
                        "422",
                        "`validation_failed`: a query parameter is out of range (`limit`, a filter's value)",
                    );
                }
                if required_json {
                    add(
                        op,
                        "415",
                        "`unsupported_media_type`: the body is not sent as JSON",
                    );
                }
                if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    add(op, "401", "`unauthorized`: no valid bearer token");
                }
                // Any request may declare a body over the limit (`http::refuse_large_bodies`).
                add(
                    op,
                    "413",
                    "`payload_too_large`: the request body is over 1 MiB",
                );
                add(op, "414", "`uri_too_long`: the request URI is over 8 KiB");
                add(
                    op,
                    "431",
                    "`headers_too_large`: the request's headers are over 32 KiB (or over 100)",
                );
                if uses_database {
                    match op.responses.responses.get_mut("503") {
                        Some(RefOr::T(declared)) => {
                            declared.description =
                                format!("{}; {DATABASE_DOWN}", declared.description);
                        }
                        Some(RefOr::Ref(_)) => {}
                        None => add(op, "503", DATABASE_DOWN),
                    }
                }
            }
        }
    }
}

/// Serves `document` (completed with the extractors' answers) at `/openapi.json` and the
/// Swagger UI at `/docs`.
pub(super) fn router(mut document: utoipa::openapi::OpenApi) -> Router<AppState> {
    ExtractorRejections.modify(&mut document);
    Router::new().merge(SwaggerUi::new("/docs").url("/openapi.json", document))
}
