//! Payments: paying a hold confirms it; amount, currency, declines, double payment, cancelled
//! and expired bookings, ownership, listings and idempotent replay (SEED C2, C10, S3).

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::client::{
    assert_problem, bookings_count, expect_json, expire_hold, ids, notifications_of, parse_time,
    payment_body, payments_of, s,
};

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

const PAYMENT_KEYS: [&str; 6] = [
    "id",
    "booking_id",
    "amount_minor",
    "currency",
    "status",
    "created_at",
];

fn assert_payment_keys(v: &Value) {
    for key in PAYMENT_KEYS {
        assert!(v.get(key).is_some(), "missing `{key}` in {v}");
    }
}

fn pay_path(booking: &Value) -> String {
    format!("/bookings/{}/payments", s(booking, "id"))
}

#[sqlx::test(migrations = "../migrations")]
async fn paying_a_hold_confirms_it_and_queues_the_confirmation(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Pay").await;
    let (_, customer) = app.customer("Cust").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1", "B-1"]).await;
    let id = s(&booking, "id");

    let before = Utc::now();
    let payment = app.pay(&customer, &booking).await;
    assert_payment_keys(&payment);
    assert_eq!(payment["booking_id"], id);
    assert_eq!(payment["amount_minor"], 65000);
    assert_eq!(payment["currency"], "INR");
    assert_eq!(payment["status"], "succeeded");
    let created = parse_time(&payment["created_at"]);
    assert!(
        created >= before - Duration::seconds(5) && created <= Utc::now() + Duration::seconds(5),
        "{payment}"
    );
    assert!(uuid::Uuid::parse_str(&s(&payment, "id")).is_ok());

    let confirmed = app.booking(&customer, &id).await;
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(
        app.seats_in_state(&b.show_id, "sold").await,
        vec!["A-1".to_owned(), "B-1".to_owned()]
    );
    assert_eq!(payments_of(&pool, &id).await, 1);
    assert_eq!(notifications_of(&pool, "booking-confirmed").await, 1);

    let got = app
        .get_ok(&format!("/payments/{}", s(&payment, "id")), Some(&customer))
        .await;
    assert_eq!(got, payment);
    let list = app.get_ok("/payments", Some(&customer)).await;
    assert_eq!(ids(&list), vec![s(&payment, "id")]);
    assert!(list["next_cursor"].is_null());
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_payment_must_match_the_total_and_the_currency(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Mismatch").await;
    let (_, customer) = app.customer("Cust").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1", "A-2"]).await;
    let id = s(&booking, "id");
    let path = pay_path(&booking);

    let cases = [
        json!({"amount_minor": 49999, "currency": "INR", "card_token": "tok_visa"}),
        json!({"amount_minor": 50001, "currency": "INR", "card_token": "tok_visa"}),
        json!({"amount_minor": 0, "currency": "INR", "card_token": "tok_visa"}),
        json!({"amount_minor": 50000, "currency": "USD", "card_token": "tok_visa"}),
    ];
    for body in cases {
        let res = app.post_json(&path, Some(&customer), body).await;
        assert_problem(res, 422, "amount_mismatch").await;
    }
    assert_eq!(payments_of(&pool, &id).await, 0);
    assert_eq!(app.booking(&customer, &id).await["status"], "held");
    assert_eq!(notifications_of(&pool, "booking-confirmed").await, 0);
    // The right amount still works afterwards.
    app.pay(&customer, &booking).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_payment_body_is_validated(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Body").await;
    let (_, customer) = app.customer("Cust").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let path = pay_path(&booking);
    let good = payment_body(&booking);

    for missing in ["amount_minor", "currency", "card_token"] {
        let mut body = good.clone();
        body.as_object_mut().expect("object").remove(missing);
        let problem = assert_problem(
            app.post_json(&path, Some(&customer), body).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(
            problem["errors"][missing].is_array(),
            "{missing}: {problem}"
        );
    }
    for (field, value) in [
        ("status", json!("succeeded")),
        ("booking_id", json!(s(&booking, "id"))),
    ] {
        let mut body = good.clone();
        body[field] = value;
        assert_problem(
            app.post_json(&path, Some(&customer), body).await,
            400,
            "bad_request",
        )
        .await;
    }
    let mut body = good.clone();
    body["amount_minor"] = json!("25000");
    assert_problem(
        app.post_json(&path, Some(&customer), body).await,
        400,
        "bad_request",
    )
    .await;
    assert_problem(
        app.post_json(
            "/bookings/not-a-uuid/payments",
            Some(&customer),
            good.clone(),
        )
        .await,
        400,
        "bad_request",
    )
    .await;
    assert_problem(
        app.post_json(
            &format!("/bookings/{}/payments", uuid::Uuid::now_v7()),
            Some(&customer),
            good.clone(),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(app.post_json(&path, None, good).await, 401, "unauthorized").await;
    assert_eq!(payments_of(&pool, &s(&booking, "id")).await, 0);
    assert_eq!(
        app.booking(&customer, &s(&booking, "id")).await["status"],
        "held"
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_declined_card_keeps_the_hold(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Declined").await;
    let (_, customer) = app.customer("Cust").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let id = s(&booking, "id");
    let mut body = payment_body(&booking);
    body["card_token"] = json!("tok_declined");

    assert_problem(
        app.post_json(&pay_path(&booking), Some(&customer), body)
            .await,
        402,
        "payment_declined",
    )
    .await;
    let after = app.booking(&customer, &id).await;
    assert_eq!(after, booking, "the hold stays as it was");
    assert_eq!(app.seat_states(&b.show_id).await["A-1"], "held");
    assert_eq!(notifications_of(&pool, "booking-confirmed").await, 0);
    let list = app.get_ok("/payments?limit=200", Some(&customer)).await;
    assert!(
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|p| p["status"] != "succeeded"),
        "no succeeded payment: {list}"
    );
    // Another card succeeds.
    let payment = app.pay(&customer, &booking).await;
    assert_eq!(payment["status"], "succeeded");
    assert_eq!(app.booking(&customer, &id).await["status"], "confirmed");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn paying_twice_is_refused(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Twice").await;
    let (_, customer) = app.customer("Cust").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let id = s(&booking, "id");
    app.pay(&customer, &booking).await;
    assert_problem(app.try_pay(&customer, &booking).await, 409, "already_paid").await;
    let mut declined = payment_body(&booking);
    declined["card_token"] = json!("tok_declined");
    assert_problem(
        app.post_json(&pay_path(&booking), Some(&customer), declined)
            .await,
        409,
        "already_paid",
    )
    .await;
    assert_eq!(payments_of(&pool, &id).await, 1);
    assert_eq!(notifications_of(&pool, "booking-confirmed").await, 1);
    assert_eq!(app.booking(&customer, &id).await["status"], "confirmed");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_cancelled_booking_cannot_be_paid(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Cancelled").await;
    let (_, customer) = app.customer("Cust").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let id = s(&booking, "id");
    expect_json(app.cancel_booking(Some(&customer), &id).await, 200).await;
    assert_problem(app.try_pay(&customer, &booking).await, 409, "invalid_state").await;
    assert_eq!(payments_of(&pool, &id).await, 0);
    assert_eq!(app.booking(&customer, &id).await["status"], "cancelled");
    // Its seat was not resurrected.
    assert_eq!(app.seat_states(&b.show_id).await["A-1"], "available");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_expired_hold_cannot_be_paid_and_nothing_is_charged(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Expired").await;
    let (_, customer) = app.customer("Cust").await;
    let (_, other) = app.customer("Other").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let id = s(&booking, "id");
    expire_hold(&pool, &id).await;

    // Lapsed but not yet swept.
    assert_problem(app.try_pay(&customer, &booking).await, 410, "hold_expired").await;
    assert_eq!(payments_of(&pool, &id).await, 0);
    assert_ne!(app.booking(&customer, &id).await["status"], "confirmed");
    assert_eq!(notifications_of(&pool, "booking-confirmed").await, 0);

    // Swept.
    let expired = cineflow::domain::bookings::expire_due(&pool)
        .await
        .expect("expire_due");
    assert_eq!(expired, 1);
    assert_eq!(app.booking(&customer, &id).await["status"], "expired");
    assert_eq!(notifications_of(&pool, "booking-expired").await, 1);
    assert_problem(app.try_pay(&customer, &booking).await, 410, "hold_expired").await;
    assert_eq!(payments_of(&pool, &id).await, 0);

    // Someone else took the seat meanwhile; the expired booking stays expired.
    let theirs = app.hold(&other, &b.show_id, &["A-1"]).await;
    assert_problem(app.try_pay(&customer, &booking).await, 410, "hold_expired").await;
    app.pay(&other, &theirs).await;
    assert_eq!(app.seat_states(&b.show_id).await["A-1"], "sold");
    assert_eq!(app.booking(&customer, &id).await["status"], "expired");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn only_the_bookings_user_can_pay(pool: PgPool) {
    // SEED S3: the original let anyone pay for anyone's booking.
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Payer").await;
    let other_venue = app.venue("Other").await;
    let (_, customer) = app.customer("Cust").await;
    let (_, stranger) = app.customer("Stranger").await;
    let admin = app.admin_token().await;
    let booking = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let id = s(&booking, "id");
    for token in [&stranger, &b.venue.token, &other_venue.token, &admin] {
        assert_problem(app.try_pay(token, &booking).await, 404, "not_found").await;
    }
    assert_problem(
        app.post_json(&pay_path(&booking), None, payment_body(&booking))
            .await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(payments_of(&pool, &id).await, 0);
    assert_eq!(app.booking(&customer, &id).await["status"], "held");
    app.pay(&customer, &booking).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn payments_are_visible_to_the_payer_the_chain_and_admins(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Visible").await;
    let other_venue = app.bookable("Other").await;
    let (_, alice) = app.customer("Alice").await;
    let (_, bob) = app.customer("Bob").await;
    let admin = app.admin_token().await;

    let a = app.hold(&alice, &b.show_id, &["A-1"]).await;
    let pa = app.pay(&alice, &a).await;
    let bb = app.hold(&bob, &other_venue.show_id, &["A-1"]).await;
    let pb = app.pay(&bob, &bb).await;
    let (pa_id, pb_id) = (s(&pa, "id"), s(&pb, "id"));
    let path = format!("/payments/{pa_id}");

    assert_eq!(app.get_ok(&path, Some(&alice)).await, pa);
    assert_eq!(app.get_ok(&path, Some(&b.venue.token)).await, pa);
    assert_eq!(app.get_ok(&path, Some(&admin)).await, pa);
    for token in [&bob, &other_venue.venue.token] {
        assert_problem(app.get_auth(&path, Some(token)).await, 404, "not_found").await;
    }
    assert_problem(app.get_auth(&path, None).await, 401, "unauthorized").await;
    assert_problem(
        app.get_auth(&format!("/payments/{}", uuid::Uuid::now_v7()), Some(&admin))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_auth("/payments/12", Some(&admin)).await,
        400,
        "bad_request",
    )
    .await;

    assert_eq!(
        ids(&app.get_ok("/payments", Some(&alice)).await),
        vec![pa_id.clone()]
    );
    assert_eq!(
        ids(&app.get_ok("/payments", Some(&bob)).await),
        vec![pb_id.clone()]
    );
    let all = app.get_ok("/payments", Some(&admin)).await;
    assert_eq!(
        sorted(ids(&all)),
        sorted(vec![pa_id.clone(), pb_id.clone()])
    );
    for item in all["items"].as_array().expect("items") {
        assert_payment_keys(item);
    }
    let (_, nobody) = app.customer("Nobody").await;
    assert_eq!(
        app.get_ok("/payments", Some(&nobody)).await,
        json!({"items": [], "next_cursor": null})
    );
    assert_problem(app.get_auth("/payments", None).await, 401, "unauthorized").await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_repeated_idempotency_key_replays_the_payment(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Replay").await;
    let (_, customer) = app.customer("Cust").await;
    let (_, other) = app.customer("Other").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let id = s(&booking, "id");
    let path = pay_path(&booking);

    let first = app
        .post_keyed(
            &path,
            Some(&customer),
            Some("pay-key-1"),
            payment_body(&booking),
        )
        .await;
    let first = expect_json(first, 201).await;
    let again = app
        .post_keyed(
            &path,
            Some(&customer),
            Some("pay-key-1"),
            payment_body(&booking),
        )
        .await;
    let again = expect_json(again, 201).await;
    assert_eq!(again, first, "the first response is replayed exactly");
    assert_eq!(payments_of(&pool, &id).await, 1);
    assert_eq!(notifications_of(&pool, "booking-confirmed").await, 1);

    // A new key is a new attempt: the booking is paid already.
    assert_problem(
        app.post_keyed(
            &path,
            Some(&customer),
            Some("pay-key-2"),
            payment_body(&booking),
        )
        .await,
        409,
        "already_paid",
    )
    .await;
    assert_eq!(payments_of(&pool, &id).await, 1);

    // The same key from another user is theirs alone.
    let theirs = app.hold(&other, &b.show_id, &["A-2"]).await;
    let res = app
        .post_keyed(
            &pay_path(&theirs),
            Some(&other),
            Some("pay-key-1"),
            payment_body(&theirs),
        )
        .await;
    let their_payment = expect_json(res, 201).await;
    assert_ne!(their_payment["id"], first["id"]);
    assert_eq!(their_payment["booking_id"], theirs["id"]);
    assert_eq!(payments_of(&pool, &s(&theirs, "id")).await, 1);
    assert_eq!(bookings_count(&pool).await, 2);
    app.stop().await;
}
