//! Webhooks per chain (API.md, "Webhooks"; docs/webhooks.md): staff register endpoints (the
//! secret shown once), private addresses are refused unless allowed, a booking's events are
//! delivered signed to a real HTTP server in the test, retried after a 500, failed after the
//! last attempt, redelivered; a deleted endpoint gets nothing; a hanging endpoint of one chain
//! delays neither another chain's deliveries nor an email; a refused change queues nothing.

use std::time::{Duration, Instant};

use cineflow::config::{Config, MailConfig};
use cineflow::domain::webhooks::WebhookSettings;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use sqlx::PgPool;

use crate::support::app::{TestApp, config};
use crate::support::client::{Bookable, assert_invalid, assert_problem, expect_json, s};
use crate::support::receiver::{Behaviour, Hit, Receiver};

/// Private addresses allowed (the receiver is on 127.0.0.1), quick retries, 3 attempts.
fn fast() -> Config {
    let mut c = config(Default::default());
    c.webhooks = WebhookSettings {
        allow_private: true,
        max_attempts: 3,
        retry_base: Duration::from_millis(200),
        retry_max: Duration::from_millis(400),
        timeout: Duration::from_secs(3),
        poll: Duration::from_millis(100),
        run_sender: true,
    };
    c
}

impl TestApp {
    async fn try_webhook(&self, b: &Bookable, body: Value) -> reqwest::Response {
        let path = format!("/chains/{}/webhooks", b.venue.chain_id);
        self.post_json(&path, Some(&b.venue.token), body).await
    }

    /// An endpoint of the bookable's chain for `events` (201 expected).
    async fn webhook(&self, b: &Bookable, url: &str, events: &[&str]) -> Value {
        let res = self
            .try_webhook(b, json!({"url": url, "events": events}))
            .await;
        expect_json(res, 201).await
    }

    async fn deliveries(&self, b: &Bookable, hook: &Value, query: &str) -> Vec<Value> {
        let path = format!(
            "/chains/{}/webhooks/{}/deliveries{query}",
            b.venue.chain_id,
            s(hook, "id")
        );
        let page = self.get_ok(&path, Some(&b.venue.token)).await;
        page["items"].as_array().expect("items").clone()
    }

    /// Waits until the endpoint's deliveries of `kind` reach `status`.
    async fn delivery_in(&self, b: &Bookable, hook: &Value, kind: &str, status: &str) -> Value {
        let start = Instant::now();
        loop {
            let all = self.deliveries(b, hook, "").await;
            if let Some(d) = all
                .iter()
                .find(|d| d["event"] == kind && d["status"] == status)
            {
                return d.clone();
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no {status} {kind}: {all:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Checks a hit's signature with the endpoint's secret, as an integrator would.
fn assert_signed(hit: &Hit, secret: &str) {
    let ts = hit.header("cineflow-webhook-timestamp");
    let sig = hit.header("cineflow-webhook-signature");
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(&hit.body);
    let hex = sig.strip_prefix("v1=").expect("v1= signature");
    let raw = hex::decode(hex).expect("hex signature");
    mac.verify_slice(&raw).expect("a valid signature");
    let age = chrono::Utc::now().timestamp() - ts.parse::<i64>().expect("unix seconds");
    assert!((0..60).contains(&age), "timestamp {ts} is recent");
}

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
async fn a_held_and_paid_booking_is_delivered_signed_and_unsubscribed_kinds_are_not(pool: PgPool) {
    let app = TestApp::spawn_config(pool, fast()).await;
    let b = app.bookable("Signed Cinemas").await;
    let rx = Receiver::start(Behaviour::Ok).await;
    let events = ["booking.held", "booking.confirmed", "payment.succeeded"];
    let hook = app.webhook(&b, &rx.url, &events).await;
    let secret = s(&hook, "secret");
    let (customer_id, customer) = app.customer("Ada").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1", "A-2"]).await;
    let payment = app.pay(&customer, &booking).await;
    let cancel = app
        .cancel_booking(Some(&customer), &s(&booking, "id"))
        .await;
    assert_eq!(cancel.status(), 200);

    for kind in events {
        let hits = rx.wait_for(kind, 1, Duration::from_secs(10)).await;
        assert_eq!(hits.len(), 1, "one {kind}");
        let hit = &hits[0];
        assert_eq!(hit.method, "POST");
        assert_eq!(hit.path, "/hook");
        assert_eq!(hit.header("content-type"), "application/json");
        assert!(hit.header("user-agent").starts_with("Cineflow-Webhooks/"));
        assert_signed(hit, &secret);
        let body = hit.json();
        assert_eq!(s(&body, "id"), hit.header("cineflow-webhook-id"));
        assert_eq!(body["chain_id"], b.venue.chain_id.as_str());
        assert_eq!(body["version"], 1);
        assert!(body["created_at"].is_string());
        assert_eq!(body["data"]["booking_id"], booking["id"], "{body}");
    }
    let held = rx.of("booking.held")[0].json();
    assert_eq!(held["data"]["seats"], json!(["A-1", "A-2"]));
    assert_eq!(held["data"]["customer_id"], customer_id.as_str());
    assert_eq!(held["data"]["show_id"], b.show_id.as_str());
    let paid = rx.of("payment.succeeded")[0].json();
    assert_eq!(paid["data"]["payment_id"], payment["id"]);
    assert_eq!(paid["data"]["amount_minor"], booking["total_minor"]);

    // Not subscribed: the cancellation is not sent, nor queued.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(rx.of("booking.cancelled").is_empty());
    let listed = app.deliveries(&b, &hook, "").await;
    assert_eq!(listed.len(), 3, "{listed:?}");
    let d = &listed[0];
    for field in [
        "id",
        "event",
        "event_id",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    ] {
        assert!(d.get(field).is_some(), "{field} in {d}");
    }
    assert!(
        listed
            .iter()
            .all(|d| d["status"] == "sent" && d["attempts"] == 1 && d["last_status_code"] == 200),
        "{listed:?}"
    );
    // Newest first.
    assert_eq!(listed[2]["event"], "booking.held");
    assert_eq!(app.deliveries(&b, &hook, "?status=failed").await.len(), 0);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_refused_hold_queues_no_delivery(pool: PgPool) {
    let app = TestApp::spawn_config(pool.clone(), fast()).await;
    let b = app.bookable("Atomic Cinemas").await;
    let rx = Receiver::start(Behaviour::Ok).await;
    let hook = app.webhook(&b, &rx.url, &["booking.held"]).await;
    let (_, first) = app.customer("First").await;
    let (_, second) = app.customer("Second").await;
    app.hold(&first, &b.show_id, &["A-1"]).await;
    let res = app.try_hold(&second, &b.show_id, &["A-1"]).await;
    assert_problem(res, 409, "seat_unavailable").await;
    rx.wait_for("booking.held", 1, Duration::from_secs(10))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.of("booking.held").len(), 1);
    let rows: i64 = sqlx::query_scalar("select count(*) from webhook_deliveries")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(rows, 1, "only the committed hold has a delivery");
    assert_eq!(app.deliveries(&b, &hook, "").await.len(), 1);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_500_is_retried_then_sent_with_the_same_event_id(pool: PgPool) {
    let app = TestApp::spawn_config(pool, fast()).await;
    let b = app.bookable("Retry Cinemas").await;
    let rx = Receiver::start(Behaviour::FailFirst(1)).await;
    let hook = app.webhook(&b, &rx.url, &["booking.held"]).await;
    let (_, customer) = app.customer("Bo").await;
    app.hold(&customer, &b.show_id, &["B-1"]).await;
    let sent = app.delivery_in(&b, &hook, "booking.held", "sent").await;
    assert_eq!(sent["attempts"], 2, "{sent}");
    assert_eq!(sent["last_status_code"], 200);
    let hits = rx.of("booking.held");
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].body, hits[1].body, "the same bytes every attempt");
    assert_eq!(
        hits[0].header("cineflow-webhook-id"),
        hits[1].header("cineflow-webhook-id")
    );
    assert_eq!(hits[0].header("cineflow-webhook-id"), s(&sent, "event_id"));
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_always_failing_endpoint_fails_after_the_last_attempt_and_can_be_redelivered(
    pool: PgPool,
) {
    let app = TestApp::spawn_config(pool, fast()).await;
    let b = app.bookable("Failing Cinemas").await;
    let rx = Receiver::start(Behaviour::AlwaysFail).await;
    let hook = app.webhook(&b, &rx.url, &["booking.held"]).await;
    let (_, customer) = app.customer("Cy").await;
    app.hold(&customer, &b.show_id, &["A-3"]).await;
    let failed = app.delivery_in(&b, &hook, "booking.held", "failed").await;
    assert_eq!(failed["attempts"], 3, "{failed}");
    assert_eq!(failed["last_status_code"], 500);
    assert!(failed["last_error"].is_string());
    assert_eq!(rx.of("booking.held").len(), 3);

    rx.set(Behaviour::Ok);
    let path = format!(
        "/chains/{}/webhooks/{}/deliveries/{}/redeliver",
        b.venue.chain_id,
        s(&hook, "id"),
        s(&failed, "id")
    );
    let res = app.post_json(&path, Some(&b.venue.token), json!({})).await;
    assert_eq!(res.status(), 202);
    let sent = app.delivery_in(&b, &hook, "booking.held", "sent").await;
    assert_eq!(sent["attempts"], 4, "attempts keep counting: {sent}");
    let other = app.bookable("Nosy Cinemas").await;
    let theirs = path.replace(&b.venue.chain_id, &other.venue.chain_id);
    let res = app
        .post_json(&theirs, Some(&other.venue.token), json!({}))
        .await;
    assert_problem(res, 404, "not_found").await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_deleted_endpoint_gets_nothing_more(pool: PgPool) {
    let app = TestApp::spawn_config(pool, fast()).await;
    let b = app.bookable("Gone Cinemas").await;
    let rx = Receiver::start(Behaviour::AlwaysFail).await;
    let hook = app.webhook(&b, &rx.url, &["booking.held"]).await;
    let (_, customer) = app.customer("Di").await;
    app.hold(&customer, &b.show_id, &["A-4"]).await;
    rx.wait_for("booking.held", 1, Duration::from_secs(10))
        .await;
    let path = format!("/chains/{}/webhooks/{}", b.venue.chain_id, s(&hook, "id"));
    assert_eq!(app.delete(&path, Some(&b.venue.token)).await.status(), 204);
    let before = rx.hits().len();
    app.hold(&customer, &b.show_id, &["A-5"]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        rx.hits().len(),
        before,
        "no retry and no new event after the delete"
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_hanging_endpoint_of_one_chain_delays_neither_another_chain_nor_email(pool: PgPool) {
    let smtp = crate::support::smtp::SmtpServer::start().await;
    let mut config = fast();
    config.webhooks.timeout = Duration::from_secs(20);
    config.mail = MailConfig {
        smtp: Some(cineflow::mail::SmtpSettings {
            url: smtp.url(),
            pool_size: 2,
            timeout: Duration::from_secs(5),
        }),
        ..MailConfig::default()
    };
    let app = TestApp::spawn_config(pool, config).await;
    let a = app.bookable("Hanging Cinemas").await;
    let b = app.bookable("Brisk Cinemas").await;
    let hang = Receiver::start(Behaviour::Hang).await;
    let brisk = Receiver::start(Behaviour::Ok).await;
    // Several endpoints of chain A, all hanging: more than its share of slots.
    for _ in 0..4 {
        app.webhook(&a, &hang.url, &["booking.held", "booking.confirmed"])
            .await;
    }
    app.webhook(&b, &brisk.url, &["booking.held"]).await;
    let (_, customer) = app.customer("Eve").await;
    for seat in ["A-1", "A-2", "A-3", "A-4", "A-5"] {
        app.hold(&customer, &a.show_id, &[seat]).await;
    }
    hang.wait_for("booking.held", 2, Duration::from_secs(10))
        .await;
    let started = Instant::now();
    let (_, email, other) = app.customer_with_email("Fay").await;
    let booking = app.hold(&other, &b.show_id, &["B-1"]).await;
    app.pay(&other, &booking).await;
    let got = brisk
        .wait_for("booking.held", 1, Duration::from_secs(5))
        .await;
    assert_eq!(
        got.len(),
        1,
        "chain B's delivery arrived while chain A's hang"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let mail = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert!(
        mail.iter().any(|m| m.to.contains(&email)),
        "the confirmation email went out too"
    );
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
    assert_eq!(kinds.len(), 14, "{kinds:?}");
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
