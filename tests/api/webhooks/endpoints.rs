//! Endpoints: creation (the secret once), listing, rotation, deletion, the cap, validation,
//! the address policy, other chains' 404s, and the OpenAPI document.

use serde_json::json;
use sqlx::PgPool;

use super::fast;
use crate::support::app::TestApp;
use crate::support::client::{assert_invalid, assert_problem, expect_json, s};

#[sqlx::test(migrations = "../migrations")]
async fn staff_create_list_rotate_and_delete_webhooks_and_the_secret_is_shown_once(pool: PgPool) {
    let app = TestApp::spawn_config(pool, fast()).await;
    let b = app.bookable("Hook Cinemas").await;
    let other = app.bookable("Other Cinemas").await;
    let created = expect_json(
        app.try_webhook(
            &b,
            json!({"url": "http://127.0.0.1:9/x", "events": ["booking.held"], "description": "CRM"}),
        )
        .await,
        201,
    )
    .await;
    let secret = s(&created, "secret");
    assert!(
        secret.starts_with("whsec_") && secret.len() >= 6 + 43,
        "{secret}"
    );
    assert_eq!(created["events"], json!(["booking.held"]));
    assert_eq!(created["description"], "CRM");
    assert!(created["created_at"].is_string());
    let chain = &b.venue.chain_id;
    let list = app
        .get_ok(&format!("/chains/{chain}/webhooks"), Some(&b.venue.token))
        .await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert!(
        list[0].get("secret").is_none(),
        "no secret in the list: {list}"
    );
    assert_eq!(list[0]["id"], created["id"]);

    let id = s(&created, "id");
    let rotate = format!("/chains/{chain}/webhooks/{id}/secret");
    let rotated = expect_json(
        app.post_json(&rotate, Some(&b.venue.token), json!({}))
            .await,
        200,
    )
    .await;
    assert_ne!(s(&rotated, "secret"), secret);

    // Another chain's staff see nothing of it.
    let theirs = format!("/chains/{}/webhooks/{id}", other.venue.chain_id);
    assert_problem(
        app.delete(&theirs, Some(&other.venue.token)).await,
        404,
        "not_found",
    )
    .await;
    let theirs_deliveries = format!("{theirs}/deliveries");
    let res = app
        .get_auth(&theirs_deliveries, Some(&other.venue.token))
        .await;
    assert_problem(res, 404, "not_found").await;
    let res = app
        .post_json(
            &format!("{theirs}/secret"),
            Some(&other.venue.token),
            json!({}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;
    // ... nor may they use their chain id on ours.
    let res = app
        .get_auth(
            &format!("/chains/{chain}/webhooks"),
            Some(&other.venue.token),
        )
        .await;
    assert!(
        matches!(res.status().as_u16(), 403 | 404),
        "{}",
        res.status()
    );

    let mine = format!("/chains/{chain}/webhooks/{id}");
    assert_eq!(app.delete(&mine, Some(&b.venue.token)).await.status(), 204);
    assert_problem(
        app.delete(&mine, Some(&b.venue.token)).await,
        404,
        "not_found",
    )
    .await;

    // A cap of endpoints per chain.
    for _ in 0..20 {
        app.webhook(&b, "http://127.0.0.1:9/x", &["booking.held"])
            .await;
    }
    let res = app
        .try_webhook(
            &b,
            json!({"url": "http://127.0.0.1:9/x", "events": ["booking.held"]}),
        )
        .await;
    assert_problem(res, 409, "quota_exceeded").await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn invalid_webhooks_are_refused_field_by_field(pool: PgPool) {
    let app = TestApp::spawn_config(pool, fast()).await;
    let b = app.bookable("Strict Cinemas").await;
    let ok = "http://127.0.0.1:9/x";
    for (body, field) in [
        (
            json!({"url": "ftp://example.com/x", "events": ["booking.held"]}),
            "url",
        ),
        (
            json!({"url": "http://user:pw@127.0.0.1/x", "events": ["booking.held"]}),
            "url",
        ),
        (
            json!({"url": "not a url", "events": ["booking.held"]}),
            "url",
        ),
        (json!({"url": ok, "events": ["booking.nope"]}), "events[0]"),
        (json!({"url": ok, "events": []}), "events"),
        (
            json!({"url": ok, "events": ["booking.held", "booking.held"]}),
            "events",
        ),
        (
            json!({"url": ok, "events": ["booking.held"], "description": "x".repeat(201)}),
            "description",
        ),
    ] {
        assert_invalid(app.try_webhook(&b, body).await, field).await;
    }
    let res = app
        .try_webhook(
            &b,
            json!({"url": ok, "events": ["booking.held"], "secret": "mine"}),
        )
        .await;
    assert_problem(res, 400, "bad_request").await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn private_and_loopback_addresses_are_refused_by_default(pool: PgPool) {
    // The default configuration: CINEFLOW_WEBHOOK_ALLOW_PRIVATE is off.
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Careful Cinemas").await;
    for url in [
        "http://127.0.0.1/x",
        "http://localhost:8080/x",
        "http://[::1]/x",
        "https://10.1.2.3/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/x",
        "http://192.168.0.10/x",
        "http://100.64.0.1/x",
        "http://0.0.0.0/x",
    ] {
        let res = app
            .try_webhook(&b, json!({"url": url, "events": ["booking.held"]}))
            .await;
        assert_problem(res, 422, "url_not_allowed").await;
    }
    let list = app
        .get_ok(
            &format!("/chains/{}/webhooks", b.venue.chain_id),
            Some(&b.venue.token),
        )
        .await;
    assert_eq!(list, json!([]), "nothing was stored");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_openapi_document_publishes_the_webhook_operations_and_payloads(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let doc = expect_json(app.get("/openapi.json").await, 200).await;
    let paths = &doc["paths"];
    for (path, method) in [
        ("/api/v1/chains/{id}/webhooks", "post"),
        ("/api/v1/chains/{id}/webhooks", "get"),
        ("/api/v1/chains/{id}/webhooks/{webhook_id}", "delete"),
        ("/api/v1/chains/{id}/webhooks/{webhook_id}/secret", "post"),
        (
            "/api/v1/chains/{id}/webhooks/{webhook_id}/deliveries",
            "get",
        ),
        (
            "/api/v1/chains/{id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
            "post",
        ),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path}");
    }
    let schemas = &doc["components"]["schemas"];
    let kinds: Vec<&str> = schemas["WebhookEvent"]["oneOf"]
        .as_array()
        .expect("WebhookEvent is a oneOf")
        .iter()
        .filter_map(|e| e["properties"]["type"]["enum"][0].as_str())
        .collect();
    assert_eq!(kinds.len(), 16, "{kinds:?}");
    assert!(kinds.contains(&"checkin.accepted") && kinds.contains(&"booking.held"));
    for data in [
        "BookingData",
        "BookingCancelledData",
        "PaymentData",
        "RefundData",
        "ShowCancelledData",
        "WaitlistData",
        "CheckinAcceptedData",
        "ComponentData",
    ] {
        assert!(
            schemas[data]["properties"].is_object(),
            "{data} is published"
        );
    }
    let checkin = &schemas["CheckinAcceptedData"]["properties"];
    for field in [
        "ticket_id",
        "booking_id",
        "show_id",
        "seat_id",
        "gate",
        "scanned_at",
    ] {
        assert!(checkin[field].is_object(), "checkin.accepted has {field}");
    }
    app.stop().await;
}
