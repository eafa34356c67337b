//! The HTTP API: one module per resource, merged here, with the shared layers.

mod accounts;
mod bookings;
mod chains;
pub mod code;
mod components;
pub mod conn;
mod console;
pub mod error;
pub mod extract;
mod gift_cards;
mod hooks;
mod idempotency;
mod movies;
mod notifications;
mod openapi;
mod ops;
pub mod page;
mod payments;
pub mod ratelimit;
mod reports;
mod schema;
mod screens;
mod seat_maps;
mod seats;
mod session;
mod shows;
mod theatres;
mod tickets;
mod vouchers;
mod waitlist;
mod webhooks;

use crate::http::code::Code;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;
pub use error::{ApiError, Problem};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// Bodies above this are refused with 413 (API.md, Conventions).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Request targets (path and query) above this are refused with 414 `uri_too_long`: our
/// longest real URI is a few hundred bytes; 8 KiB is the limit proxies commonly apply.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Request heads whose header lines add up to more than this are refused with 431
/// `headers_too_large`: a bearer token and the usual headers take under 2 KiB.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The whole router: operations at the root, the API under `/api/v1`.
pub fn router(state: AppState, request_timeout: Duration) -> Router {
    let upload_cap = crate::plugins::Hook::ALL
        .into_iter()
        .map(|h| state.plugins.limits(h).max_component_bytes)
        .max()
        .unwrap_or(0);
    // Every route is declared once, by its handler's annotation: the router and the OpenAPI
    // document are two views of the same list.
    let (routes, document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(ops::router())
        .merge(hooks::router())
        .merge(accounts::router())
        .merge(session::router())
        .merge(chains::router())
        .merge(movies::router())
        .merge(theatres::router())
        .merge(screens::router())
        .merge(shows::router())
        .merge(seats::router())
        .merge(seat_maps::router())
        .merge(bookings::router())
        .merge(payments::router())
        .merge(gift_cards::router())
        .merge(notifications::router())
        .merge(components::router())
        .merge(waitlist::router())
        .merge(vouchers::router())
        .merge(reports::router())
        .merge(tickets::router())
        .merge(webhooks::router())
        .split_for_parts();
    Router::new()
        .merge(routes)
        .merge(openapi::router(document))
        .merge(console::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(record_metrics))
        // Extractors (JSON bodies) stop at 1 MiB whatever the headers say; a declared length
        // over the limit is refused before any handler runs. Component uploads have their own
        // cap, enforced again while their handler reads the body.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            upload_cap,
            refuse_large_bodies,
        ))
        .layer(middleware::from_fn(refuse_oversized_heads))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            request_timeout,
        ))
        .layer(middleware::from_fn(error::problem_for_bare_errors))
        .layer(CatchPanicLayer::custom(
            panic_response as fn(Box<dyn std::any::Any + Send>) -> Response,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// The metrics server (`CINEFLOW_METRICS_LISTEN`): `GET /metrics`; anything else is a 404 or
/// 405 problem, like on the API's address.
pub fn metrics_router() -> Router {
    ops::metrics_router()
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(error::problem_for_bare_errors))
}

/// What a panicking handler answers: the same 500 `internal` problem as any other bug, and the
/// connection stays usable. The payload is not echoed; it may hold request data.
fn panic_response(_payload: Box<dyn std::any::Any + Send>) -> Response {
    axum::response::IntoResponse::into_response(ApiError::internal("a handler panicked"))
}

/// 413 for a declared body length over the limit: 1 MiB, or the component cap for an upload
/// (`POST …/components`, answered as `component_too_large`).
async fn refuse_large_bodies(
    axum::extract::State(upload_cap): axum::extract::State<u64>,
    request: Request,
    next: Next,
) -> Response {
    let is_upload = request.method() == axum::http::Method::POST
        && request.uri().path().ends_with("/components");
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = if is_upload {
        upload_cap
    } else {
        MAX_BODY_BYTES as u64
    };
    match declared {
        Some(len) if len > limit && is_upload => {
            axum::response::IntoResponse::into_response(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::ComponentTooLarge,
                format!("a component may be at most {upload_cap} bytes"),
            ))
        }
        Some(len) if len > limit => axum::response::IntoResponse::into_response(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::PayloadTooLarge,
            "the request body is too large",
        )),
        _ => next.run(request).await,
    }
}

/// 414 `uri_too_long` and 431 `headers_too_large` over our own limits. Past hyper's own (64 KiB
/// of URI, 100 headers, about 400 KiB of head) hyper answers first, and `conn` rewrites that
/// answer the same way.
async fn refuse_oversized_heads(request: Request, next: Next) -> Response {
    let uri_len = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return axum::response::IntoResponse::into_response(ApiError::new(
            StatusCode::URI_TOO_LONG,
            Code::UriTooLong,
            format!("the request URI may be at most {MAX_URI_BYTES} bytes"),
        ));
    }
    // Each header line: name, ": ", value, CRLF.
    let head_len: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if head_len > MAX_HEADER_BYTES {
        return axum::response::IntoResponse::into_response(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Code::HeadersTooLarge,
            format!("the request's headers may add up to at most {MAX_HEADER_BYTES} bytes"),
        ));
    }
    next.run(request).await
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such resource")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        Code::MethodNotAllowed,
        "this method is not allowed on this resource",
    )
}

/// `cineflow_http_requests_total` and `cineflow_http_request_duration_seconds`, labelled by
/// route template (never the raw path, which would explode the label space).
async fn record_metrics(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("cineflow_http_requests_total", &labels).increment(1);
    metrics::histogram!("cineflow_http_request_duration_seconds", &labels[..2])
        .record(started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt as _;

    use super::*;

    async fn boom() -> &'static str {
        panic!("a bug in a handler")
    }

    #[tokio::test]
    async fn a_panicking_handler_is_a_500_problem_and_the_next_request_is_served() {
        let app: Router = Router::new()
            .route("/boom", get(boom))
            .route("/fine", get(|| async { "fine" }))
            .layer(CatchPanicLayer::custom(
                panic_response as fn(Box<dyn std::any::Any + Send>) -> Response,
            ));
        let request = |path: &str| {
            Request::builder()
                .uri(path)
                .body(Body::empty())
                .expect("a valid request")
        };
        let res = app
            .clone()
            .oneshot(request("/boom"))
            .await
            .expect("infallible");
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            res.headers()
                .get(axum::http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        let body = axum::body::to_bytes(res.into_body(), 64 * 1024)
            .await
            .expect("body");
        let problem: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(problem["code"], "internal");
        assert!(
            !problem.to_string().contains("a bug in a handler"),
            "the panic message is not echoed: {problem}"
        );
        let res = app.oneshot(request("/fine")).await.expect("infallible");
        assert_eq!(res.status(), StatusCode::OK);
    }
}
