//! Operations endpoints, problem+json, metrics, and a busy component not stalling HTTP.

use std::time::Duration;

use cineflow::plugins::{FailureKind, Hook, Limits, Tenant};
use serde_json::Value;
use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::{component, hostile, inputs};

#[sqlx::test(migrations = "../migrations")]
async fn healthz_and_readyz_answer_ok(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for path in ["/healthz", "/readyz"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["status"], "ok");
    }
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn readyz_is_503_when_migrations_are_missing(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    sqlx::query("delete from _sqlx_migrations")
        .execute(&pool)
        .await
        .expect("forget migrations");
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    assert_eq!(
        res.headers()["content-type"].to_str().expect("ascii"),
        "application/problem+json"
    );
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], "unavailable");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_routes_are_problem_json_404(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let res = app.get("/api/v1/no-such-thing").await;
    assert_eq!(res.status(), 404);
    assert_eq!(
        res.headers()["content-type"].to_str().expect("ascii"),
        "application/problem+json"
    );
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["status"], 404);
    assert_eq!(body["type"], "urn:cineflow:problem:not_found");
    assert!(body["title"].is_string() && body["detail"].is_string());

    let res = app
        .client
        .delete(app.url("/healthz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 405);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], "method_not_allowed");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn hooks_list_worlds_limits_and_default_components(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let res = app.get("/api/v1/hooks").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    let items = body["items"].as_array().expect("items");
    assert_eq!(items.len(), Hook::ALL.len());
    assert!(body["next_cursor"].is_null());
    for (item, hook) in items.iter().zip(Hook::ALL) {
        assert_eq!(item["name"], hook.as_str());
        assert_eq!(item["world"], hook.world());
        let sha = cineflow::plugins::sha256_hex(&component(&format!("{hook}.wasm")));
        assert_eq!(item["default_component"]["id"], sha);
        assert_eq!(item["limits"]["fuel"], 50_000_000);
        assert_eq!(item["limits"]["deadline_ms"], 100);
        assert_eq!(item["limits"]["max_memory_bytes"], 16 * 1024 * 1024);
        assert_eq!(item["limits"]["max_input_bytes"], 65_536);
        assert_eq!(item["limits"]["max_output_bytes"], 65_536);
        assert_eq!(item["limits"]["max_component_bytes"], 2 * 1024 * 1024);
    }
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn component_calls_show_up_in_metrics(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let pricing = app
        .state
        .defaults
        .get(Hook::Pricing)
        .expect("default")
        .clone();
    app.state
        .plugins
        .quote(Tenant::Platform, &pricing, &inputs::quote_request(2))
        .await
        .expect("call");
    let looping = app
        .state
        .plugins
        .load(Hook::Pricing, &hostile("loop"))
        .await
        .expect("loads");
    let err = app
        .state
        .plugins
        .quote(Tenant::Platform, &looping, &inputs::quote_request(1))
        .await
        .expect_err("loops");
    assert_eq!(err.kind, FailureKind::OutOfFuel);

    let text = app.metrics().await;
    let short = &pricing.id[..12];
    let ok_line = text
        .lines()
        .find(|l| {
            l.starts_with("cineflow_component_calls_total")
                && l.contains(short)
                && l.contains("outcome=\"ok\"")
        })
        .unwrap_or_else(|| panic!("no ok call counted for {short}:\n{text}"));
    assert!(ok_line.contains("hook=\"pricing\""), "{ok_line}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("cineflow_component_calls_total")
                && l.contains("outcome=\"out_of_fuel\"")),
        "{text}"
    );
    for family in [
        "cineflow_component_call_duration_seconds",
        "cineflow_component_fuel_used",
        "cineflow_component_peak_memory_bytes",
        "cineflow_component_loads_total",
        "cineflow_http_requests_total",
    ] {
        assert!(text.contains(family), "missing {family}");
    }
    app.stop().await;
}

/// `#[sqlx::test]` runs on a current-thread runtime: if a spinning guest held the thread,
/// no request could be answered until it finished.
#[sqlx::test(migrations = "../migrations")]
async fn a_spinning_component_does_not_stall_http(pool: PgPool) {
    let app = TestApp::spawn_with(
        pool,
        Limits {
            fuel: u64::MAX / 2,
            deadline: Duration::from_secs(3),
            ..Limits::default()
        },
    )
    .await;
    let plugins = app.state.plugins.clone();
    let looping = plugins
        .load(Hook::Pricing, &hostile("loop"))
        .await
        .expect("loads");
    let spinning = tokio::spawn(async move {
        plugins
            .quote(Tenant::Platform, &looping, &inputs::quote_request(1))
            .await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    for _ in 0..5 {
        let res = app.get("/healthz").await;
        assert_eq!(res.status(), 200);
    }
    assert!(
        !spinning.is_finished(),
        "/healthz was answered while the component was still spinning"
    );
    let err = spinning.await.expect("task").expect_err("times out");
    assert_eq!(err.kind, FailureKind::Timeout);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn openapi_document_describes_the_operations(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let doc: Value = app.get("/openapi.json").await.json().await.expect("json");
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    for path in ["/healthz", "/readyz", "/api/v1/hooks"] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    // Served on the metrics address only, so not part of the API's document.
    assert!(doc["paths"]["/metrics"].is_null());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    app.stop().await;
}

/// Found by scripts/schemathesis.sh: `/healthz` pointed at the account status enum (two schemas
/// named `Status`), and the problems the shared extractors answer were not declared.
#[sqlx::test(migrations = "../migrations")]
async fn openapi_document_declares_what_the_extractors_answer(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let doc: Value = app.get("/openapi.json").await.json().await.expect("json");
    let health = &doc["paths"]["/healthz"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    assert_eq!(health["$ref"], "#/components/schemas/HealthStatus");
    assert!(doc["components"]["schemas"]["HealthStatus"]["properties"]["status"].is_object());
    let patch_movie = &doc["paths"]["/api/v1/movies/{id}"]["patch"]["responses"];
    for status in ["400", "401", "403", "415", "422"] {
        assert!(
            patch_movie[status].is_object(),
            "PATCH /movies/{{id}} declares {status}"
        );
    }
    let signin = &doc["paths"]["/api/v1/auth/signin"]["post"]["responses"];
    for status in ["400", "415", "422"] {
        assert!(
            signin[status].is_object(),
            "POST /auth/signin declares {status}"
        );
    }
    assert!(doc["paths"]["/api/v1/hooks"]["get"]["responses"]["400"].is_null());
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_oversized_body_is_problem_json_413(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let res = app
        .client
        .post(app.url("/api/v1/hooks"))
        .header("content-type", "application/json")
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 413);
    assert_eq!(
        res.headers()["content-type"].to_str().expect("ascii"),
        "application/problem+json"
    );
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["code"], "payload_too_large");
    app.stop().await;
}
