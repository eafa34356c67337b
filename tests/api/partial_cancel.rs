//! Partial cancellation (`POST /bookings/{id}/cancel` with `seat_ids`): the chain's rules
//! refund the cancelled seats, they are free at once, the booking keeps the rest, and
//! cancelling every seat is a whole cancellation.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::client::{assert_problem, expect_json, notifications_of, s, uuid_of};

fn amount_of(booking: &Value, seat: &str) -> i64 {
    booking["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["seat_id"] == seat)
        .and_then(|i| i["amount_minor"].as_i64())
        .unwrap_or_else(|| panic!("no item for {seat} in {booking}"))
}

async fn cancel_seats(app: &TestApp, token: &str, id: &str, seats: Value) -> reqwest::Response {
    app.post_json(
        &format!("/bookings/{id}/cancel"),
        Some(token),
        json!({ "seat_ids": seats }),
    )
    .await
}

async fn payment_row(pool: &PgPool, booking: &str) -> (i64, i64, String) {
    sqlx::query_as(
        "select amount_minor, refunded_minor, status from payments where booking_id = $1",
    )
    .bind(uuid_of(booking))
    .fetch_one(pool)
    .await
    .expect("payment")
}

#[sqlx::test(migrations = "../migrations")]
async fn some_seats_go_back_on_sale_and_the_booking_keeps_the_rest(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Partial").await;
    let (_, customer) = app.customer("Asha").await;
    let held = app
        .hold(&customer, &b.show_id, &["A-1", "A-2", "B-3"])
        .await;
    app.pay(&customer, &held).await;
    let id = s(&held, "id");
    let total = held["total_minor"].as_i64().expect("total");
    let b3 = amount_of(&held, "B-3");
    assert!(b3 > 0);

    let after = expect_json(
        cancel_seats(&app, &customer, &id, json!(["B-3"])).await,
        200,
    )
    .await;
    assert_eq!(after["status"], "confirmed");
    assert_eq!(after["seats"], json!(["A-1", "A-2"]));
    assert_eq!(after["total_minor"], total - b3);
    assert_eq!(
        after["refund_minor"], b3,
        "a week ahead the default refunds in full"
    );
    let items = after["items"].as_array().expect("items");
    assert!(items.iter().all(|i| i["seat_id"] != "B-3"), "{after}");
    // The seat is free at once, the others stay sold, and someone else can take it.
    let states = app.seat_states(&b.show_id).await;
    assert_eq!(states["B-3"], "available");
    assert_eq!(states["A-1"], "sold");
    let (_, other) = app.customer("Ravi").await;
    app.hold(&other, &b.show_id, &["B-3"]).await;
    // The refund is on the payment, which stays partly refunded.
    assert_eq!(
        payment_row(&pool, &id).await,
        (total, b3, "partially_refunded".to_owned())
    );
    assert_eq!(app.booking(&customer, &id).await["refund_minor"], b3);
    // An email about the cancelled seats, naming the kept ones.
    let fields: Value = sqlx::query_scalar(
        "select fields from notifications where kind = 'booking-cancelled' order by created_at",
    )
    .fetch_one(&pool)
    .await
    .expect("the email is queued");
    assert_eq!(fields["seats"], "B-3");
    assert_eq!(fields["kept-seats"], "A-1, A-2");
    // The audit trail (the chain's staff read it) has the decision and the change.
    let audit = app
        .get_ok(&format!("/bookings/{id}/audit"), Some(&b.venue.token))
        .await;
    let text = audit.to_string();
    assert!(text.contains("cancelled_seats"), "{text}");

    // Cancelling every remaining seat is a whole cancellation, refunding what is left.
    let rest = expect_json(
        cancel_seats(&app, &customer, &id, json!(["A-2", "A-1"])).await,
        200,
    )
    .await;
    assert_eq!(rest["status"], "cancelled");
    assert_eq!(
        rest["refund_minor"],
        total - b3,
        "this cancellation's refund"
    );
    assert_eq!(
        app.booking(&customer, &id).await["refund_minor"],
        total,
        "the booking's refunds add up"
    );
    assert_eq!(
        payment_row(&pool, &id).await,
        (total, total, "refunded".to_owned())
    );
    assert_eq!(notifications_of(&pool, "booking-cancelled").await, 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_chains_staff_may_cancel_some_seats_of_a_customers_booking(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Staff").await;
    let (_, customer) = app.customer("Asha").await;
    let held = app.hold(&customer, &b.show_id, &["A-4", "A-5"]).await;
    app.pay(&customer, &held).await;
    let id = s(&held, "id");
    let after = expect_json(
        cancel_seats(&app, &b.venue.token, &id, json!(["A-5"])).await,
        200,
    )
    .await;
    assert_eq!(after["seats"], json!(["A-4"]));
    // A stranger sees nothing.
    let (_, stranger) = app.customer("Mallory").await;
    assert_problem(
        cancel_seats(&app, &stranger, &id, json!(["A-4"])).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.post_json(
            &format!("/bookings/{id}/cancel"),
            None,
            json!({ "seat_ids": ["A-4"] }),
        )
        .await,
        401,
        "unauthorized",
    )
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_seat_lists_and_holds_are_refused_and_change_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Refusals").await;
    let (_, customer) = app.customer("Asha").await;
    let held = app.hold(&customer, &b.show_id, &["A-1", "A-2"]).await;
    let id = s(&held, "id");
    // Only a confirmed booking's seats go one by one.
    assert_problem(
        cancel_seats(&app, &customer, &id, json!(["A-1"])).await,
        409,
        "invalid_state",
    )
    .await;
    app.pay(&customer, &held).await;
    for (seats, why) in [
        (json!(["A-3"]), "not a seat of the booking"),
        (json!(["A-1", "A-1"]), "twice"),
        (json!([]), "none"),
        (json!(["no such seat!"]), "not a seat id"),
    ] {
        let problem = assert_problem(
            cancel_seats(&app, &customer, &id, seats).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(problem.to_string().contains("seat_ids"), "{why}: {problem}");
    }
    assert_problem(
        app.post_json(
            &format!("/bookings/{id}/cancel"),
            Some(&customer),
            json!({ "seats": ["A-1"] }),
        )
        .await,
        400,
        "bad_request",
    )
    .await;
    let unchanged = app.booking(&customer, &id).await;
    assert_eq!(unchanged["seats"], json!(["A-1", "A-2"]));
    assert_eq!(unchanged["status"], "confirmed");
    assert_eq!(notifications_of(&pool, "booking-cancelled").await, 0);
    // A cancelled booking cannot lose seats again.
    expect_json(app.cancel_booking(Some(&customer), &id).await, 200).await;
    assert_problem(
        cancel_seats(&app, &customer, &id, json!(["A-1"])).await,
        409,
        "invalid_state",
    )
    .await;
}
