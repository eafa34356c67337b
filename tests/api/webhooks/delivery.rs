//! Deliveries to a real HTTP server: signed events of a booking, nothing for a refused change,
//! retries, failure after the last attempt, redelivery, deletion, and isolation from a hanging
//! endpoint of another chain.

use std::time::{Duration, Instant};

use cineflow::config::MailConfig;
use serde_json::json;
use sqlx::PgPool;

use super::{assert_signed, fast};
use crate::support::app::TestApp;
use crate::support::client::{assert_problem, s};
use crate::support::receiver::{Behaviour, Receiver};

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
    // Other emails (the owners' approvals) go out too: wait for the customer's.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !smtp.messages().iter().any(|m| m.to.contains(&email)) {
        assert!(
            Instant::now() < deadline,
            "the confirmation email went out too"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn partial_and_whole_cancellations_are_delivered_with_their_seats_and_refunds(pool: PgPool) {
    let app = TestApp::spawn_config(pool, fast()).await;
    let b = app.bookable("Refund Cinemas").await;
    let rx = Receiver::start(Behaviour::Ok).await;
    app.webhook(&b, &rx.url, &["booking.cancelled", "payment.refunded"])
        .await;
    let (_, customer) = app.customer("Gus").await;
    let booking = app.hold(&customer, &b.show_id, &["A-6", "A-7"]).await;
    app.pay(&customer, &booking).await;
    let id = s(&booking, "id");
    let partial = app
        .post_json(
            &format!("/bookings/{id}/cancel"),
            Some(&customer),
            json!({"seat_ids": ["A-6"]}),
        )
        .await;
    assert_eq!(
        partial.status(),
        200,
        "{}",
        partial.text().await.unwrap_or_default()
    );
    assert_eq!(app.cancel_booking(Some(&customer), &id).await.status(), 200);

    let hits = rx
        .wait_for("booking.cancelled", 2, Duration::from_secs(10))
        .await;
    assert_eq!(hits.len(), 2);
    let mut data: Vec<_> = hits.iter().map(|h| h.json()["data"].clone()).collect();
    data.sort_by_key(|d| !d["partial"].as_bool().unwrap_or(false));
    assert_eq!(data[0]["partial"], true, "{data:?}");
    assert_eq!(data[0]["cancelled_seats"], json!(["A-6"]));
    assert_eq!(data[0]["remaining_seats"], json!(["A-7"]));
    assert_eq!(data[0]["reason"], "customer");
    assert_eq!(data[1]["partial"], false);
    assert_eq!(data[1]["cancelled_seats"], json!(["A-7"]));
    assert_eq!(data[1]["remaining_seats"], json!([]));
    let refunds = data
        .iter()
        .filter(|d| d["refund_minor"].as_i64().unwrap_or(0) > 0)
        .count();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.of("payment.refunded").len(), refunds, "one per refund");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn binding_and_unbinding_a_component_are_delivered(pool: PgPool) {
    let app = TestApp::spawn_config(pool, fast()).await;
    let b = app.bookable("Component Cinemas").await;
    let rx = Receiver::start(Behaviour::Ok).await;
    app.webhook(&b, &rx.url, &["component.bound", "component.unbound"])
        .await;
    let (token, chain) = (b.venue.token.as_str(), b.venue.chain_id.as_str());
    let uploaded = app
        .upload_ok(
            token,
            chain,
            "pricing",
            crate::support::hostile("well-behaved"),
        )
        .await;
    let id = s(&uploaded, "id");
    assert_eq!(
        app.bind(token, chain, "pricing", &id, None).await.status(),
        200
    );
    assert_eq!(app.unbind(token, chain, "pricing").await.status(), 204);
    let bound = rx
        .wait_for("component.bound", 1, Duration::from_secs(10))
        .await;
    let unbound = rx
        .wait_for("component.unbound", 1, Duration::from_secs(10))
        .await;
    assert_eq!(bound.len(), 1);
    assert_eq!(unbound.len(), 1);
    let data = bound[0].json()["data"].clone();
    assert_eq!(data["hook"], "pricing");
    assert_eq!(data["component_id"], id.as_str());
    assert_eq!(unbound[0].json()["data"]["component_id"], id.as_str());
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_redirect_is_not_followed_but_retried(pool: PgPool) {
    let app = TestApp::spawn_config(pool, fast()).await;
    let b = app.bookable("Moved Cinemas").await;
    let rx = Receiver::start(Behaviour::Redirect).await;
    let hook = app.webhook(&b, &rx.url, &["booking.held"]).await;
    let (_, customer) = app.customer("Hal").await;
    app.hold(&customer, &b.show_id, &["B-1"]).await;
    let failed = app.delivery_in(&b, &hook, "booking.held", "failed").await;
    assert_eq!(failed["last_status_code"], 302, "{failed}");
    assert_eq!(failed["attempts"], 3);
    let hits = rx.hits();
    assert!(hits.iter().all(|h| h.path == "/hook"), "never /elsewhere");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_expired_hold_is_delivered_as_booking_expired(pool: PgPool) {
    let app = TestApp::spawn_config(pool.clone(), fast()).await;
    let b = app.bookable("Late Cinemas").await;
    let rx = Receiver::start(Behaviour::Ok).await;
    app.webhook(&b, &rx.url, &["booking.expired"]).await;
    let (_, customer) = app.customer("Ivy").await;
    let booking = app.hold(&customer, &b.show_id, &["B-2"]).await;
    crate::support::client::expire_hold(&pool, &s(&booking, "id")).await;
    cineflow::domain::bookings::expire_due(&pool)
        .await
        .expect("expiry runs");
    let hits = rx
        .wait_for("booking.expired", 1, Duration::from_secs(10))
        .await;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].json()["data"]["booking_id"], booking["id"]);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn waiting_list_joins_offers_and_leaves_are_delivered(pool: PgPool) {
    let app = TestApp::spawn_config(pool, fast()).await;
    let b = app.bookable("Queue Cinemas").await;
    let rx = Receiver::start(Behaviour::Ok).await;
    let kinds = ["waitlist.joined", "waitlist.offered", "waitlist.left"];
    app.webhook(&b, &rx.url, &kinds).await;
    let (_, first) = app.customer("Jo").await;
    let (_, second) = app.customer("Kim").await;
    let (waiting_id, waiting) = app.customer("Lou").await;
    let row_a: Vec<String> = (1..=10).map(|n| format!("A-{n}")).collect();
    let row_a: Vec<&str> = row_a.iter().map(String::as_str).collect();
    app.hold(&first, &b.show_id, &row_a).await;
    let row_b = app
        .hold(
            &second,
            &b.show_id,
            &["B-1", "B-2", "B-3", "B-4", "B-5", "B-6"],
        )
        .await;
    let res = app
        .post_json(
            &format!("/shows/{}/waitlist", b.show_id),
            Some(&waiting),
            json!({"seat_count": 1}),
        )
        .await;
    let entry = crate::support::client::expect_json(res, 201).await;
    let joined = rx
        .wait_for("waitlist.joined", 1, Duration::from_secs(10))
        .await;
    assert_eq!(joined.len(), 1);
    assert_eq!(joined[0].json()["data"]["entry_id"], entry["id"]);
    assert_eq!(joined[0].json()["data"]["customer_id"], waiting_id.as_str());

    let cancel = app.cancel_booking(Some(&second), &s(&row_b, "id")).await;
    assert_eq!(cancel.status(), 200);
    let offered = rx
        .wait_for("waitlist.offered", 1, Duration::from_secs(15))
        .await;
    assert_eq!(offered.len(), 1, "the freed seats are offered");
    let data = offered[0].json()["data"].clone();
    assert_eq!(data["entry_id"], entry["id"]);
    assert!(
        data["booking_id"].is_string() && data["expires_at"].is_string(),
        "{data}"
    );

    let leave = app
        .delete(&format!("/waitlist/{}", s(&entry, "id")), Some(&waiting))
        .await;
    assert_eq!(leave.status(), 204);
    let left = rx
        .wait_for("waitlist.left", 1, Duration::from_secs(10))
        .await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].json()["data"]["booking_id"], data["booking_id"]);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn finished_deliveries_past_their_retention_are_deleted_and_pending_ones_kept(pool: PgPool) {
    let app = TestApp::spawn_config(pool.clone(), fast()).await;
    let b = app.bookable("Tidy Cinemas").await;
    let rx = Receiver::start(Behaviour::Ok).await;
    let hook = app
        .webhook(&b, &rx.url, &["booking.held", "booking.confirmed"])
        .await;
    let (_, customer) = app.customer("Old").await;
    app.hold(&customer, &b.show_id, &["A-1"]).await;
    app.delivery_in(&b, &hook, "booking.held", "sent").await;
    app.stop().await;
    // Age both rows past the retention: ids are UUID v7, their time comes first.
    let old = chrono::Utc::now() - chrono::Duration::days(31);
    let id = uuid::Builder::from_unix_timestamp_millis(
        u64::try_from(old.timestamp_millis()).expect("after 1970"),
        &[7; 10],
    )
    .into_uuid();
    sqlx::query("update webhook_deliveries set id = $1 where kind = 'booking.held'")
        .bind(id)
        .execute(&pool)
        .await
        .expect("aged");
    let pending = uuid::Builder::from_unix_timestamp_millis(
        u64::try_from(old.timestamp_millis()).expect("after 1970"),
        &[8; 10],
    )
    .into_uuid();
    sqlx::query(
        "insert into webhook_deliveries (id, chain_id, endpoint_id, event_id, kind, body)
         select $1, chain_id, endpoint_id, $1, 'booking.confirmed', body
         from webhook_deliveries where id = $2",
    )
    .bind(pending)
    .bind(id)
    .execute(&pool)
    .await
    .expect("an old pending delivery");
    let swept = cineflow::housekeeping::sweep_once(&pool)
        .await
        .expect("sweep");
    assert_eq!(swept.webhook_deliveries, 1, "{swept:?}");
    let left: Vec<String> = sqlx::query_scalar("select status from webhook_deliveries order by id")
        .fetch_all(&pool)
        .await
        .expect("rows");
    assert_eq!(left, vec!["pending".to_owned()], "the pending one stays");
}
