//! Bookings: holds, the seat map, the life cycle (hold → pay → cancel), expiry, ownership,
//! listings, idempotent replay, show cancellation and the audit trail (SEED C1–C4, S2, S3).

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::client::{
    SCREEN_CAPACITY, assert_problem, expect_json, hold_body, ids, notifications_of, parse_time, s,
    seat_ids, show_body, sorted_strings,
};

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

const BOOKING_KEYS: [&str; 10] = [
    "id",
    "status",
    "show_id",
    "seats",
    "items",
    "total_minor",
    "currency",
    "expires_at",
    "refund_minor",
    "created_at",
];

fn assert_booking_keys(v: &Value) {
    for key in BOOKING_KEYS {
        assert!(v.get(key).is_some(), "missing `{key}` in {v}");
    }
}

/// The `amount_minor` of each seat's line item, by seat id.
fn item_amounts(booking: &Value) -> BTreeMap<String, i64> {
    let items = booking["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {booking}"));
    let mut out = BTreeMap::new();
    for item in items {
        let seat = s(item, "seat_id");
        let amount = item["amount_minor"]
            .as_i64()
            .unwrap_or_else(|| panic!("amount_minor in {item}"));
        assert!(
            out.insert(seat.clone(), amount).is_none(),
            "two items for {seat} in {booking}"
        );
    }
    out
}

// ---------------------------------------------------------------------------------------
// Holds

#[sqlx::test(migrations = "../migrations")]
async fn a_hold_returns_the_booking_and_marks_its_seats_held(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Hold").await;
    let (_, customer) = app.customer("Cust").await;

    let before = Utc::now();
    let booking = app
        .hold(&customer, &b.show_id, &["A-7", "A-8", "B-1"])
        .await;
    let after = Utc::now();
    assert_booking_keys(&booking);
    assert_eq!(booking["status"], "held");
    assert_eq!(booking["show_id"], b.show_id);
    assert_eq!(seat_ids(&booking), sorted_strings(&["A-7", "A-8", "B-1"]));
    assert_eq!(booking["currency"], "INR");
    assert_eq!(booking["total_minor"], 25000 + 25000 + 40000);
    assert!(booking["refund_minor"].is_null(), "{booking}");
    let amounts = item_amounts(&booking);
    assert_eq!(
        amounts,
        BTreeMap::from([
            ("A-7".to_owned(), 25000),
            ("A-8".to_owned(), 25000),
            ("B-1".to_owned(), 40000),
        ])
    );
    // The default pricing component labels each seat with its class.
    let labels: Vec<String> = booking["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| s(item, "label"))
        .collect();
    assert_eq!(
        sorted(labels),
        sorted(vec![
            "Seat A-7 (standard)".to_owned(),
            "Seat A-8 (standard)".to_owned(),
            "Seat B-1 (premium)".to_owned(),
        ])
    );
    // Held for 600 seconds by the default booking rules.
    let expires = parse_time(&booking["expires_at"]);
    assert!(
        expires >= before + Duration::seconds(595) && expires <= after + Duration::seconds(605),
        "expires_at {expires} is not ~600 s after {before}"
    );
    let created = parse_time(&booking["created_at"]);
    assert!(
        created >= before - Duration::seconds(5) && created <= after + Duration::seconds(5),
        "created_at {created} not between {before} and {after}"
    );

    let id = s(&booking, "id");
    assert_eq!(app.booking(&customer, &id).await, booking);

    let states = app.seat_states(&b.show_id).await;
    for seat in ["A-7", "A-8", "B-1"] {
        assert_eq!(states[seat], "held", "{seat}: {states:?}");
    }
    assert_eq!(states["A-6"], "available");
    assert_eq!(states["B-7"], "blocked");
    assert_eq!(app.seats_available(&b.show_id).await, SCREEN_CAPACITY - 3);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_whole_life_cycle_hold_pay_cancel(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Cycle").await;
    let (_, address, customer) = app.customer_with_email("Cust").await;

    let booking = app.hold(&customer, &b.show_id, &["A-1", "B-2"]).await;
    let id = s(&booking, "id");
    let total = booking["total_minor"].as_i64().expect("total");
    assert_eq!(total, 65000);
    assert_eq!(
        app.seats_in_state(&b.show_id, "held").await,
        sorted_strings(&["A-1", "B-2"])
    );
    assert_eq!(app.seats_available(&b.show_id).await, SCREEN_CAPACITY - 2);

    let payment = app.pay(&customer, &booking).await;
    assert_eq!(payment["booking_id"], id);
    assert_eq!(payment["amount_minor"], total);
    assert_eq!(payment["status"], "succeeded");
    let confirmed = app.booking(&customer, &id).await;
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(confirmed["total_minor"], total);
    assert!(confirmed["refund_minor"].is_null(), "{confirmed}");
    assert_eq!(
        app.seats_in_state(&b.show_id, "sold").await,
        sorted_strings(&["A-1", "B-2"])
    );
    assert!(app.seats_in_state(&b.show_id, "held").await.is_empty());
    assert_eq!(app.seats_available(&b.show_id).await, SCREEN_CAPACITY - 2);
    let confirmations: Vec<(Vec<String>,)> = sqlx::query_as(
        "select recipient_emails from notifications where kind = 'booking-confirmed'",
    )
    .fetch_all(&pool)
    .await
    .expect("notifications");
    assert_eq!(
        confirmations,
        vec![(vec![address.clone()],)],
        "one confirmation to the customer"
    );

    // The show is a week away: a full refund.
    let cancelled = expect_json(app.cancel_booking(Some(&customer), &id).await, 200).await;
    assert_booking_keys(&cancelled);
    assert_eq!(cancelled["id"], id);
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["refund_minor"], total);
    assert_eq!(app.booking(&customer, &id).await, cancelled);
    assert!(app.seats_in_state(&b.show_id, "sold").await.is_empty());
    assert_eq!(app.seat_states(&b.show_id).await["A-1"], "available");
    assert_eq!(app.seat_states(&b.show_id).await["B-2"], "available");
    assert_eq!(app.seats_available(&b.show_id).await, SCREEN_CAPACITY);
    assert_eq!(notifications_of(&pool, "booking-cancelled").await, 1);

    // Nothing moves a cancelled booking any more.
    assert_problem(
        app.cancel_booking(Some(&customer), &id).await,
        409,
        "invalid_state",
    )
    .await;
    assert_problem(app.try_pay(&customer, &booking).await, 409, "invalid_state").await;
    assert_eq!(app.booking(&customer, &id).await, cancelled);

    // The seats can be held again at once.
    let (_, other) = app.customer("Other").await;
    app.hold(&other, &b.show_id, &["A-1", "B-2"]).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_seat_in_a_live_booking_cannot_be_held_again(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Taken").await;
    let (_, first) = app.customer("First").await;
    let (_, second) = app.customer("Second").await;

    let held = app.hold(&first, &b.show_id, &["A-1", "A-2"]).await;
    let sold = app.hold(&first, &b.show_id, &["A-5"]).await;
    app.pay(&first, &sold).await;

    // Held seats: only the taken requested ones are listed.
    let problem = assert_problem(
        app.try_hold(&second, &b.show_id, &["A-2", "A-3"]).await,
        409,
        "seat_unavailable",
    )
    .await;
    assert_eq!(problem["seats"], json!(["A-2"]), "{problem}");
    // Sold seats too; and a mix of held and sold.
    let problem = assert_problem(
        app.try_hold(&second, &b.show_id, &["A-5"]).await,
        409,
        "seat_unavailable",
    )
    .await;
    assert_eq!(problem["seats"], json!(["A-5"]), "{problem}");
    let problem = assert_problem(
        app.try_hold(&second, &b.show_id, &["A-9", "A-5", "A-1", "A-4"])
            .await,
        409,
        "seat_unavailable",
    )
    .await;
    let listed: Vec<String> = problem["seats"]
        .as_array()
        .unwrap_or_else(|| panic!("no seats in {problem}"))
        .iter()
        .map(|v| v.as_str().expect("seat id").to_owned())
        .collect();
    assert_eq!(sorted(listed), sorted_strings(&["A-1", "A-5"]), "{problem}");
    // The same customer cannot hold their own seats twice either.
    assert_problem(
        app.try_hold(&first, &b.show_id, &["A-1"]).await,
        409,
        "seat_unavailable",
    )
    .await;

    // Nothing was created by the refusals, and the free seats stayed free.
    let count: i64 = sqlx::query_scalar("select count(*) from bookings")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(count, 2);
    let states = app.seat_states(&b.show_id).await;
    for seat in ["A-3", "A-4", "A-9"] {
        assert_eq!(states[seat], "available", "{seat}");
    }
    // The same seat at another show is a different seat.
    let other_show = app
        .show(
            &b.venue.token,
            &b.venue.screen_id,
            &b.venue.movie_id,
            crate::support::client::base_time(9),
        )
        .await;
    app.hold(&second, &s(&other_show, "id"), &["A-1", "A-5"])
        .await;
    assert_eq!(s(&held, "status"), "held");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn blocked_unknown_duplicate_and_missing_seats_are_refused(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Seats").await;
    let (_, customer) = app.customer("Cust").await;

    assert_problem(
        app.try_hold(&customer, &b.show_id, &["B-7"]).await,
        409,
        "seat_unavailable",
    )
    .await;
    assert_problem(
        app.try_hold(&customer, &b.show_id, &["A-1", "B-8"]).await,
        409,
        "seat_unavailable",
    )
    .await;

    let invalid: Vec<Value> = vec![
        json!(["Z-1"]),
        json!(["A-11"]),
        json!(["A-1", "A-0"]),
        json!(["a-1"]),
        json!([""]),
        json!(["A-1", "A-1"]),
        json!([]),
    ];
    for seats in invalid {
        let res = app
            .post_json(
                "/bookings",
                Some(&customer),
                json!({"show_id": b.show_id, "seat_ids": seats}),
            )
            .await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert!(
            problem["errors"]
                .as_object()
                .is_some_and(|e| e.keys().any(|k| k.starts_with("seat_ids"))),
            "seat_ids {seats}: expected errors on seat_ids in {problem}"
        );
    }
    for missing in ["show_id", "seat_ids"] {
        let mut body = hold_body(&b.show_id, &["A-1"]);
        body.as_object_mut().expect("object").remove(missing);
        let problem = assert_problem(
            app.post_json("/bookings", Some(&customer), body).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(
            problem["errors"][missing].is_array(),
            "{missing}: {problem}"
        );
    }
    assert_problem(
        app.post_json(
            "/bookings",
            Some(&customer),
            json!({"show_id": b.show_id, "seat_ids": "A-1"}),
        )
        .await,
        400,
        "bad_request",
    )
    .await;

    assert_eq!(crate::support::client::bookings_count(&pool).await, 0);
    assert_eq!(app.seats_available(&b.show_id).await, SCREEN_CAPACITY);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn holds_need_an_approved_user_and_an_open_show(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Who").await;
    let (_, _, pending) = app.pending_owner("Pending").await;

    assert_problem(
        app.post_json("/bookings", None, hold_body(&b.show_id, &["A-1"]))
            .await,
        401,
        "unauthorized",
    )
    .await;
    assert_problem(
        app.post_json(
            "/bookings",
            Some("not-a-token"),
            hold_body(&b.show_id, &["A-1"]),
        )
        .await,
        401,
        "unauthorized",
    )
    .await;
    assert_problem(
        app.try_hold(&pending, &b.show_id, &["A-1"]).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.try_hold(&b.venue.token, &uuid::Uuid::now_v7().to_string(), &["A-1"])
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(crate::support::client::bookings_count(&pool).await, 0);

    // Any approved user may hold: an owner (even of the show's own chain) and the admin.
    let (_, other_owner) = app.approved_owner("Other").await;
    app.hold(&other_owner, &b.show_id, &["A-1"]).await;
    app.hold(&b.venue.token, &b.show_id, &["A-2"]).await;
    let admin = app.admin_token().await;
    app.hold(&admin, &b.show_id, &["A-3"]).await;

    // A cancelled show takes no holds.
    let res = app
        .post_json(
            &format!("/shows/{}/cancel", b.show_id),
            Some(&b.venue.token),
            json!({}),
        )
        .await;
    expect_json(res, 200).await;
    let (_, customer) = app.customer("Cust").await;
    assert_problem(
        app.try_hold(&customer, &b.show_id, &["A-9"]).await,
        409,
        "show_closed",
    )
    .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn clients_cannot_smuggle_fields_into_a_booking(pool: PgPool) {
    // SEED S2: the original spread the body into the booking (a paid booking for free).
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Smuggle").await;
    let (user_id, customer) = app.customer("Cust").await;
    let (other_id, _) = app.customer("Other").await;
    let smuggled = [
        ("status", json!("confirmed")),
        ("total_minor", json!(0)),
        ("user_id", json!(other_id)),
        ("expires_at", json!("2099-01-01T00:00:00Z")),
        ("refund_minor", json!(100)),
        (
            "items",
            json!([{"label": "free", "seat_id": "A-1", "amount_minor": 0}]),
        ),
    ];
    for (field, value) in smuggled {
        let mut body = hold_body(&b.show_id, &["A-1"]);
        body[field] = value;
        assert_problem(
            app.post_json("/bookings", Some(&customer), body).await,
            400,
            "bad_request",
        )
        .await;
    }
    assert_eq!(crate::support::client::bookings_count(&pool).await, 0);

    let booking = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let id = s(&booking, "id");
    // There is no way to write a booking's fields directly.
    let res = app
        .request(
            Method::PATCH,
            &format!("/bookings/{id}"),
            Some(&customer),
            Some(json!({"status": "confirmed", "total_minor": 0, "user_id": other_id})),
        )
        .await;
    let status = res.status().as_u16();
    assert!(
        status == 404 || status == 405,
        "PATCH /bookings/{{id}} must not exist, got {status}"
    );
    let res = app
        .request(
            Method::PUT,
            &format!("/bookings/{id}"),
            Some(&customer),
            Some(json!({"status": "confirmed"})),
        )
        .await;
    let status = res.status().as_u16();
    assert!(
        status == 404 || status == 405,
        "PUT /bookings/{{id}} must not exist, got {status}"
    );
    assert_eq!(app.booking(&customer, &id).await, booking);
    // Still the customer's, not the other user's.
    let admin = app.admin_token().await;
    let mine = app
        .get_ok(&format!("/bookings?user_id={user_id}"), Some(&admin))
        .await;
    assert_eq!(ids(&mine), vec![id.clone()]);
    let theirs = app
        .get_ok(&format!("/bookings?user_id={other_id}"), Some(&admin))
        .await;
    assert_eq!(theirs["items"], json!([]));
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_hold_keeps_the_prices_of_the_moment_it_was_made(pool: PgPool) {
    // SEED C3: bookings point at the show and snapshot the price. While live bookings exist
    // the price cannot change at all (409 in_use); once they are gone it can, and the old
    // booking keeps what it was priced at.
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Snapshot").await;
    let (_, customer) = app.customer("Cust").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1", "B-1"]).await;
    let path = format!("/shows/{}", b.show_id);
    let new_prices = json!({"prices": {"standard": 99000, "premium": 99000}});
    let res = app
        .patch_json(&path, Some(&b.venue.token), new_prices.clone())
        .await;
    assert_problem(res, 409, "in_use").await;
    let id = s(&booking, "id");
    expect_json(app.cancel_booking(Some(&customer), &id).await, 200).await;
    let res = app
        .patch_json(&path, Some(&b.venue.token), new_prices)
        .await;
    expect_json(res, 200).await;
    let again = app.booking(&customer, &id).await;
    assert_eq!(again["total_minor"], 65000);
    assert_eq!(again["items"], booking["items"]);
    assert_eq!(again["show_id"], b.show_id);
    // New holds get the new price.
    let later = app.hold(&customer, &b.show_id, &["A-2"]).await;
    assert_eq!(later["total_minor"], 99000);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_show_changed_elsewhere_is_what_the_next_hold_is_decided_on(pool: PgPool) {
    // Each replica keeps show contexts in memory (host/src/show_contexts.rs). A change reaches
    // every replica by NOTIFY (the trigger fires whoever writes: this replica, another, or
    // SQL); one whose notification never came is still caught, by the version the hold's
    // insert checks. (One replica here: two in-process apps on the test's small pool starve
    // each other; the NOTIFY path is the same for every listener.)
    let a = TestApp::spawn(pool.clone()).await;
    let show = a.bookable("Replicas").await;
    let (_, customer) = a.customer("Cust").await;
    // Replica a reads (and keeps) the show's context.
    let first = a.hold(&customer, &show.show_id, &["A-1"]).await;
    assert_eq!(first["total_minor"], 25000);
    expect_json(
        a.cancel_booking(Some(&customer), &s(&first, "id")).await,
        200,
    )
    .await;
    let path = format!("/shows/{}", show.show_id);
    let res = a
        .patch_json(
            &path,
            Some(&show.venue.token),
            json!({"prices": {"standard": 99000, "premium": 99000}}),
        )
        .await;
    expect_json(res, 200).await;
    let second = a.hold(&customer, &show.show_id, &["A-2"]).await;
    assert_eq!(second["total_minor"], 99000);
    expect_json(
        a.cancel_booking(Some(&customer), &s(&second, "id")).await,
        200,
    )
    .await;

    // A change nobody announces (the trigger off): the insert sees the show's version moved,
    // and the hold is decided again on the show as it is.
    sqlx::query("alter table shows disable trigger shows_contexts_notify")
        .execute(&pool)
        .await
        .expect("trigger off");
    sqlx::query(
        r#"update shows set prices = '{"standard": 12300, "premium": 12300}' where id = $1::uuid"#,
    )
    .bind(&show.show_id)
    .execute(&pool)
    .await
    .expect("new prices");
    let third = a.hold(&customer, &show.show_id, &["A-3"]).await;
    assert_eq!(third["total_minor"], 12300);
    sqlx::query("update shows set status = 'cancelled' where id = $1::uuid")
        .bind(&show.show_id)
        .execute(&pool)
        .await
        .expect("cancelled");
    let res = a.try_hold(&customer, &show.show_id, &["A-4"]).await;
    assert_problem(res, 409, "show_closed").await;
    a.stop().await;
}

// ---------------------------------------------------------------------------------------
// Ownership (SEED S3)

#[sqlx::test(migrations = "../migrations")]
async fn a_booking_is_visible_only_to_its_user_its_chain_and_admins(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Mine").await;
    let other_chain = app.venue("Theirs").await;
    let (_, customer) = app.customer("Cust").await;
    let (_, stranger) = app.customer("Stranger").await;
    let admin = app.admin_token().await;

    let booking = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let id = s(&booking, "id");
    let path = format!("/bookings/{id}");

    assert_eq!(app.get_ok(&path, Some(&b.venue.token)).await, booking);
    assert_eq!(app.get_ok(&path, Some(&admin)).await, booking);
    for token in [&stranger, &other_chain.token] {
        assert_problem(app.get_auth(&path, Some(token)).await, 404, "not_found").await;
        assert_problem(app.try_pay(token, &booking).await, 404, "not_found").await;
        assert_problem(app.cancel_booking(Some(token), &id).await, 404, "not_found").await;
    }
    assert_problem(app.get_auth(&path, None).await, 401, "unauthorized").await;
    assert_problem(app.cancel_booking(None, &id).await, 401, "unauthorized").await;
    assert_problem(
        app.get_auth(&format!("/bookings/{}", uuid::Uuid::now_v7()), Some(&admin))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_auth("/bookings/not-a-uuid", Some(&customer)).await,
        400,
        "bad_request",
    )
    .await;
    assert_problem(
        app.cancel_booking(Some(&customer), "not-a-uuid").await,
        400,
        "bad_request",
    )
    .await;

    // Nothing changed, nothing was paid.
    assert_eq!(app.booking(&customer, &id).await, booking);
    assert_eq!(crate::support::client::payments_of(&pool, &id).await, 0);
    // The stranger's list does not show it.
    let list = app.get_ok("/bookings", Some(&stranger)).await;
    assert_eq!(list["items"], json!([]));
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Listings

#[sqlx::test(migrations = "../migrations")]
async fn bookings_are_listed_per_role_and_filtered_by_status(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let one = app.bookable("One").await;
    let two = app.bookable("Two").await;
    let (alice_id, alice) = app.customer("Alice").await;
    let (bob_id, bob) = app.customer("Bob").await;
    let admin = app.admin_token().await;

    let a1 = app.hold(&alice, &one.show_id, &["A-1"]).await;
    app.pay(&alice, &a1).await;
    let a2 = app.hold(&alice, &one.show_id, &["A-2"]).await;
    let a3 = app.hold(&alice, &one.show_id, &["A-3"]).await;
    expect_json(app.cancel_booking(Some(&alice), &s(&a3, "id")).await, 200).await;
    let b1 = app.hold(&bob, &one.show_id, &["A-4"]).await;
    let b2 = app.hold(&bob, &two.show_id, &["A-1"]).await;
    let [a1, a2, a3, b1, b2] = [&a1, &a2, &a3, &b1, &b2].map(|v| s(v, "id"));

    // Customers see their own.
    let list = app.get_ok("/bookings", Some(&alice)).await;
    assert_eq!(
        sorted(ids(&list)),
        sorted(vec![a1.clone(), a2.clone(), a3.clone()])
    );
    assert!(list["next_cursor"].is_null());
    for item in list["items"].as_array().expect("items") {
        assert_booking_keys(item);
    }
    let list = app.get_ok("/bookings", Some(&bob)).await;
    assert_eq!(sorted(ids(&list)), sorted(vec![b1.clone(), b2.clone()]));
    let confirmed = app.get_ok("/bookings?status=confirmed", Some(&alice)).await;
    assert_eq!(ids(&confirmed), vec![a1.clone()]);
    assert_eq!(confirmed["items"][0]["status"], "confirmed");
    let held = app.get_ok("/bookings?status=held", Some(&alice)).await;
    assert_eq!(ids(&held), vec![a2.clone()]);
    let cancelled = app.get_ok("/bookings?status=cancelled", Some(&alice)).await;
    assert_eq!(ids(&cancelled), vec![a3.clone()]);
    let none = app.get_ok("/bookings?status=expired", Some(&alice)).await;
    assert_eq!(none, json!({"items": [], "next_cursor": null}));

    // Admins see everyone's, and filter by user and status.
    let all = app.get_ok("/bookings", Some(&admin)).await;
    assert_eq!(
        sorted(ids(&all)),
        sorted(vec![
            a1.clone(),
            a2.clone(),
            a3.clone(),
            b1.clone(),
            b2.clone()
        ])
    );
    let bobs = app
        .get_ok(&format!("/bookings?user_id={bob_id}"), Some(&admin))
        .await;
    assert_eq!(sorted(ids(&bobs)), sorted(vec![b1.clone(), b2.clone()]));
    let alices_held = app
        .get_ok(
            &format!("/bookings?user_id={alice_id}&status=held"),
            Some(&admin),
        )
        .await;
    assert_eq!(ids(&alices_held), vec![a2.clone()]);
    let held = app.get_ok("/bookings?status=held", Some(&admin)).await;
    assert_eq!(
        sorted(ids(&held)),
        sorted(vec![a2.clone(), b1.clone(), b2.clone()])
    );

    // Owners see their chain's, and only theirs.
    let chain_one = app
        .get_ok(
            &format!("/bookings?chain_id={}", one.venue.chain_id),
            Some(&one.venue.token),
        )
        .await;
    assert_eq!(
        sorted(ids(&chain_one)),
        sorted(vec![a1.clone(), a2.clone(), a3.clone(), b1.clone()])
    );
    let chain_two = app
        .get_ok(
            &format!("/bookings?chain_id={}", two.venue.chain_id),
            Some(&two.venue.token),
        )
        .await;
    assert_eq!(ids(&chain_two), vec![b2.clone()]);
    let chain_one_held = app
        .get_ok(
            &format!("/bookings?chain_id={}&status=held", one.venue.chain_id),
            Some(&one.venue.token),
        )
        .await;
    assert_eq!(
        sorted(ids(&chain_one_held)),
        sorted(vec![a2.clone(), b1.clone()])
    );
    assert_problem(
        app.get_auth(
            &format!("/bookings?chain_id={}", two.venue.chain_id),
            Some(&one.venue.token),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_auth(
            &format!("/bookings?chain_id={}", uuid::Uuid::now_v7()),
            Some(&one.venue.token),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(app.get_auth("/bookings", None).await, 401, "unauthorized").await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn bookings_list_pages_with_a_cursor(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Pages").await;
    let (_, customer) = app.customer("Cust").await;
    let mut want = Vec::new();
    for seat in ["A-1", "A-2", "A-3", "A-4", "A-5"] {
        want.push(s(&app.hold(&customer, &b.show_id, &[seat]).await, "id"));
    }
    let mut got = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let url = match &cursor {
            Some(c) => format!("/bookings?limit=2&cursor={c}"),
            None => "/bookings?limit=2".to_owned(),
        };
        let page = app.get_ok(&url, Some(&customer)).await;
        let page_ids = ids(&page);
        assert!(page_ids.len() <= 2, "{url}: {page}");
        got.extend(page_ids);
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(got.len(), 5, "every booking exactly once: {got:?}");
    assert_eq!(sorted(got), sorted(want));
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Idempotency

#[sqlx::test(migrations = "../migrations")]
async fn a_repeated_idempotency_key_replays_the_hold(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Replay").await;
    let (_, customer) = app.customer("Cust").await;
    let (_, other) = app.customer("Other").await;
    let body = hold_body(&b.show_id, &["A-1", "A-2"]);

    let first = app
        .post_keyed(
            "/bookings",
            Some(&customer),
            Some("hold-key-1"),
            body.clone(),
        )
        .await;
    let first = expect_json(first, 201).await;
    let again = app
        .post_keyed(
            "/bookings",
            Some(&customer),
            Some("hold-key-1"),
            body.clone(),
        )
        .await;
    let again = expect_json(again, 201).await;
    assert_eq!(again, first, "the first response is replayed exactly");
    assert_eq!(crate::support::client::bookings_count(&pool).await, 1);
    let list = app.get_ok("/bookings", Some(&customer)).await;
    assert_eq!(ids(&list), vec![s(&first, "id")]);

    // Without the key, the same body is a new request: the seats are taken (by the first).
    assert_problem(
        app.post_json("/bookings", Some(&customer), body).await,
        409,
        "seat_unavailable",
    )
    .await;
    // Another user's same key is independent of the first.
    let theirs = app
        .post_keyed(
            "/bookings",
            Some(&other),
            Some("hold-key-1"),
            hold_body(&b.show_id, &["A-3"]),
        )
        .await;
    let theirs = expect_json(theirs, 201).await;
    assert_ne!(theirs["id"], first["id"]);
    assert_eq!(seat_ids(&theirs), sorted_strings(&["A-3"]));
    // A new key from the first user is a new hold.
    let second = app
        .post_keyed(
            "/bookings",
            Some(&customer),
            Some("hold-key-2"),
            hold_body(&b.show_id, &["A-4"]),
        )
        .await;
    let second = expect_json(second, 201).await;
    assert_ne!(second["id"], first["id"]);
    assert_eq!(crate::support::client::bookings_count(&pool).await, 3);
    assert_eq!(
        app.seats_in_state(&b.show_id, "held").await,
        sorted_strings(&["A-1", "A-2", "A-3", "A-4"])
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Cancelling

#[sqlx::test(migrations = "../migrations")]
async fn cancelling_a_hold_frees_its_seats_at_once(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Cancel").await;
    let (_, customer) = app.customer("Cust").await;
    let (_, other) = app.customer("Other").await;

    let booking = app.hold(&customer, &b.show_id, &["A-1", "A-2"]).await;
    let id = s(&booking, "id");
    // An empty body is fine.
    let res = app
        .post_raw(
            &format!("/bookings/{id}/cancel"),
            Some(&customer),
            None,
            Vec::<u8>::new(),
        )
        .await;
    let cancelled = expect_json(res, 200).await;
    assert_eq!(cancelled["id"], id);
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["refund_minor"], 0);
    assert_eq!(cancelled["total_minor"], booking["total_minor"]);
    assert_eq!(app.seats_available(&b.show_id).await, SCREEN_CAPACITY);
    assert!(app.seats_in_state(&b.show_id, "held").await.is_empty());
    assert_eq!(notifications_of(&pool, "booking-cancelled").await, 1);

    assert_problem(
        app.cancel_booking(Some(&customer), &id).await,
        409,
        "invalid_state",
    )
    .await;
    assert_eq!(notifications_of(&pool, "booking-cancelled").await, 1);
    assert_eq!(app.booking(&customer, &id).await, cancelled);

    let theirs = app.hold(&other, &b.show_id, &["A-1", "A-2"]).await;
    // A body with fields is refused.
    let res = app
        .post_json(
            &format!("/bookings/{}/cancel", s(&theirs, "id")),
            Some(&other),
            json!({"refund_minor": 100}),
        )
        .await;
    assert_problem(res, 400, "bad_request").await;
    assert_eq!(
        app.booking(&other, &s(&theirs, "id")).await["status"],
        "held"
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn chain_staff_and_admins_cancel_a_customers_booking(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Staff").await;
    let (_, customer) = app.customer("Cust").await;
    let admin = app.admin_token().await;

    let held = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let paid = app.hold(&customer, &b.show_id, &["B-1"]).await;
    app.pay(&customer, &paid).await;

    let res = app
        .cancel_booking(Some(&b.venue.token), &s(&held, "id"))
        .await;
    let cancelled = expect_json(res, 200).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["refund_minor"], 0);

    let res = app.cancel_booking(Some(&admin), &s(&paid, "id")).await;
    let cancelled = expect_json(res, 200).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["refund_minor"], 40000);
    assert_eq!(
        app.booking(&customer, &s(&paid, "id")).await["status"],
        "cancelled"
    );
    assert_eq!(app.seats_available(&b.show_id).await, SCREEN_CAPACITY);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_default_rules_refuse_a_late_cancel_of_a_confirmed_booking(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let v = app.venue("Late").await;
    // 90 minutes ahead: inside the 2-hour window.
    let show = app
        .show(
            &v.token,
            &v.screen_id,
            &v.movie_id,
            Utc::now() + Duration::minutes(90),
        )
        .await;
    let show_id = s(&show, "id");
    let (_, customer) = app.customer("Cust").await;
    let booking = app.hold(&customer, &show_id, &["A-1"]).await;
    app.pay(&customer, &booking).await;
    let id = s(&booking, "id");
    let problem = assert_problem(
        app.cancel_booking(Some(&customer), &id).await,
        422,
        "rule_violation",
    )
    .await;
    assert!(
        s(&problem, "detail").contains("2 hours"),
        "the component's reason: {problem}"
    );
    let after = app.booking(&customer, &id).await;
    assert_eq!(after["status"], "confirmed");
    assert!(after["refund_minor"].is_null(), "{after}");
    assert_eq!(app.seat_states(&show_id).await["A-1"], "sold");
    assert_eq!(notifications_of(&pool, "booking-cancelled").await, 0);
    // The refusal is in the booking's audit trail, with the component that decided.
    let trail = app
        .get_ok(&format!("/bookings/{id}/audit"), Some(&v.token))
        .await;
    let refusal = trail["items"]
        .as_array()
        .and_then(|items| items.iter().find(|e| e["detail"]["refused"].is_string()))
        .unwrap_or_else(|| panic!("no refusal in {trail}"));
    assert_eq!(refusal["hook"], "booking-rules");
    assert_eq!(refusal["booking_id"].as_str(), Some(id.as_str()));

    // An unpaid hold at the same show may still be cancelled, refunding nothing.
    let hold = app.hold(&customer, &show_id, &["A-2"]).await;
    let res = app.cancel_booking(Some(&customer), &s(&hold, "id")).await;
    let cancelled = expect_json(res, 200).await;
    assert_eq!(cancelled["refund_minor"], 0);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Expiry

#[sqlx::test(migrations = "../migrations")]
async fn an_expired_hold_frees_its_seats_and_expire_due_marks_it(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Expire").await;
    let (_, customer) = app.customer("Cust").await;
    let (_, other) = app.customer("Other").await;

    let stale = app.hold(&customer, &b.show_id, &["A-1", "A-2"]).await;
    let fresh = app.hold(&customer, &b.show_id, &["A-3"]).await;
    let paid = app.hold(&customer, &b.show_id, &["A-4"]).await;
    app.pay(&customer, &paid).await;
    let stale_id = s(&stale, "id");
    crate::support::client::expire_hold(&pool, &stale_id).await;

    // No sweep needed: the seats are free at once.
    let states = app.seat_states(&b.show_id).await;
    assert_eq!(states["A-1"], "available");
    assert_eq!(states["A-2"], "available");
    assert_eq!(states["A-3"], "held");
    assert_eq!(states["A-4"], "sold");
    assert_eq!(app.seats_available(&b.show_id).await, SCREEN_CAPACITY - 2);
    let theirs = app.hold(&other, &b.show_id, &["A-1"]).await;

    let expired = cineflow::domain::bookings::expire_due(&pool)
        .await
        .expect("expire_due");
    assert_eq!(expired, 1, "only the stale hold is due");
    let got = app.booking(&customer, &stale_id).await;
    assert_eq!(got["status"], "expired");
    assert_eq!(
        app.booking(&customer, &s(&fresh, "id")).await["status"],
        "held"
    );
    assert_eq!(
        app.booking(&customer, &s(&paid, "id")).await["status"],
        "confirmed"
    );
    assert_eq!(
        app.booking(&other, &s(&theirs, "id")).await["status"],
        "held"
    );
    assert_eq!(notifications_of(&pool, "booking-expired").await, 1);

    // Idempotent: nothing more is due.
    let again = cineflow::domain::bookings::expire_due(&pool)
        .await
        .expect("expire_due");
    assert_eq!(again, 0);
    assert_eq!(notifications_of(&pool, "booking-expired").await, 1);

    // An expired booking is final.
    assert_problem(
        app.cancel_booking(Some(&customer), &stale_id).await,
        409,
        "invalid_state",
    )
    .await;
    let listed = app
        .get_ok("/bookings?status=expired", Some(&customer))
        .await;
    assert_eq!(ids(&listed), vec![stale_id.clone()]);
    // The other seat of the expired hold is still free.
    app.hold(&other, &b.show_id, &["A-2"]).await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Cancelling a show

#[sqlx::test(migrations = "../migrations")]
async fn cancelling_a_show_cancels_and_refunds_its_live_bookings(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("ShowCancel").await;
    let other_venue = app.venue("Other").await;
    let (_, alice) = app.customer("Alice").await;
    let (_, bob) = app.customer("Bob").await;
    let (_, customer) = app.customer("Cust").await;

    let paid = app.hold(&alice, &b.show_id, &["B-1", "B-2"]).await;
    app.pay(&alice, &paid).await;
    let held = app.hold(&bob, &b.show_id, &["A-1"]).await;
    let gone = app.hold(&bob, &b.show_id, &["A-2"]).await;
    expect_json(app.cancel_booking(Some(&bob), &s(&gone, "id")).await, 200).await;
    let stale = app.hold(&alice, &b.show_id, &["A-3"]).await;
    crate::support::client::expire_hold(&pool, &s(&stale, "id")).await;
    let cancelled_before = notifications_of(&pool, "booking-cancelled").await;

    let path = format!("/shows/{}/cancel", b.show_id);
    assert_problem(
        app.post_json(&path, None, json!({})).await,
        401,
        "unauthorized",
    )
    .await;
    assert_problem(
        app.post_json(&path, Some(&customer), json!({})).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.post_json(&path, Some(&other_venue.token), json!({}))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.post_json(
            &format!("/shows/{}/cancel", uuid::Uuid::now_v7()),
            Some(&b.venue.token),
            json!({}),
        )
        .await,
        404,
        "not_found",
    )
    .await;

    let res = app
        .post_raw(&path, Some(&b.venue.token), None, Vec::<u8>::new())
        .await;
    let result = expect_json(res, 200).await;
    assert_eq!(result["cancelled_bookings"], 2, "{result}");
    assert_eq!(
        result["refunded_minor"], 80000,
        "the paid booking is refunded in full; the unpaid hold had nothing to refund: {result}"
    );

    let paid_after = app.booking(&alice, &s(&paid, "id")).await;
    assert_eq!(paid_after["status"], "cancelled");
    assert_eq!(paid_after["refund_minor"], 80000);
    let held_after = app.booking(&bob, &s(&held, "id")).await;
    assert_eq!(held_after["status"], "cancelled");
    assert_eq!(
        app.booking(&bob, &s(&gone, "id")).await["status"],
        "cancelled"
    );
    // The lapsed hold was not live: it is not counted, and not cancelled.
    let stale_after = app.booking(&alice, &s(&stale, "id")).await;
    assert!(
        stale_after["status"] == "held" || stale_after["status"] == "expired",
        "{stale_after}"
    );
    assert_eq!(notifications_of(&pool, "show-cancelled").await, 2);
    assert_eq!(
        notifications_of(&pool, "booking-cancelled").await,
        cancelled_before,
        "a show cancellation sends show-cancelled, not booking-cancelled"
    );

    let show = app.get_ok(&format!("/shows/{}", b.show_id), None).await;
    assert_eq!(show["status"], "cancelled");
    assert_problem(
        app.try_hold(&customer, &b.show_id, &["A-5"]).await,
        409,
        "show_closed",
    )
    .await;
    assert_problem(
        app.try_hold(&customer, &b.show_id, &["B-1"]).await,
        409,
        "show_closed",
    )
    .await;
    // The freed screen slot takes a new show.
    let starts = parse_time(&show["starts_at"]);
    let res = app
        .post_json(
            "/shows",
            Some(&b.venue.token),
            show_body(&b.venue.screen_id, &b.venue.movie_id, starts),
        )
        .await;
    expect_json(res, 201).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_admin_cancels_any_show(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("AdminCancel").await;
    let (_, customer) = app.customer("Cust").await;
    let held = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let admin = app.admin_token().await;
    let res = app
        .post_json(
            &format!("/shows/{}/cancel", b.show_id),
            Some(&admin),
            json!({}),
        )
        .await;
    let result = expect_json(res, 200).await;
    assert_eq!(
        result,
        json!({"cancelled_bookings": 1, "refunded_minor": 0})
    );
    assert_eq!(
        app.booking(&customer, &s(&held, "id")).await["status"],
        "cancelled"
    );
    assert_eq!(notifications_of(&pool, "show-cancelled").await, 1);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Audit

#[sqlx::test(migrations = "../migrations")]
async fn the_audit_trail_records_states_and_pricing_decisions(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Audit").await;
    let other_venue = app.venue("Other").await;
    let (_, customer) = app.customer("Cust").await;
    let (_, stranger) = app.customer("Stranger").await;
    let admin = app.admin_token().await;

    let hooks = app.get_ok("/hooks", None).await;
    let pricing_default = hooks["items"]
        .as_array()
        .expect("hooks")
        .iter()
        .find(|h| h["name"] == "pricing")
        .map(|h| s(&h["default_component"], "id"))
        .expect("a pricing default");

    let booking = app.hold(&customer, &b.show_id, &["A-1", "A-2"]).await;
    let id = s(&booking, "id");
    let path = format!("/bookings/{id}/audit");

    let audit = app.get_ok(&path, Some(&b.venue.token)).await;
    let items = audit["items"].as_array().expect("items");
    for item in items {
        for key in [
            "at",
            "kind",
            "from_status",
            "to_status",
            "hook",
            "component_id",
            "fuel_used",
            "detail",
        ] {
            assert!(item.get(key).is_some(), "missing `{key}` in {item}");
        }
        parse_time(&item["at"]);
        assert!(
            item["kind"] == "state" || item["kind"] == "decision",
            "{item}"
        );
    }
    let states: Vec<&Value> = items.iter().filter(|i| i["kind"] == "state").collect();
    assert_eq!(states.len(), 1, "{audit}");
    assert_eq!(states[0]["to_status"], "held");
    let pricing: Vec<&Value> = items
        .iter()
        .filter(|i| i["kind"] == "decision" && i["hook"] == "pricing")
        .collect();
    assert_eq!(pricing.len(), 1, "one pricing decision: {audit}");
    let component = s(pricing[0], "component_id");
    assert_eq!(component.len(), 64, "{component}");
    assert!(
        component
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "{component}"
    );
    assert_eq!(component, pricing_default);
    assert!(
        pricing[0]["fuel_used"].as_u64().is_some_and(|f| f > 0),
        "{}",
        pricing[0]
    );

    app.pay(&customer, &booking).await;
    expect_json(app.cancel_booking(Some(&customer), &id).await, 200).await;

    let audit = app.get_ok(&path, Some(&admin)).await;
    assert_eq!(app.get_ok(&path, Some(&b.venue.token)).await, audit);
    let items = audit["items"].as_array().expect("items");
    let transitions: Vec<(Value, Value)> = items
        .iter()
        .filter(|i| i["kind"] == "state")
        .map(|i| (i["from_status"].clone(), i["to_status"].clone()))
        .collect();
    assert_eq!(
        transitions,
        vec![
            (Value::Null, json!("held")),
            (json!("held"), json!("confirmed")),
            (json!("confirmed"), json!("cancelled")),
        ],
        "{audit}"
    );
    let times: Vec<_> = items.iter().map(|i| parse_time(&i["at"])).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "entries in time order: {audit}"
    );

    for token in [&customer, &stranger, &other_venue.token] {
        assert_problem(app.get_auth(&path, Some(token)).await, 404, "not_found").await;
    }
    assert_problem(app.get_auth(&path, None).await, 401, "unauthorized").await;
    assert_problem(
        app.get_auth(
            &format!("/bookings/{}/audit", uuid::Uuid::now_v7()),
            Some(&admin),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn reusing_an_idempotency_key_for_other_seats_is_422(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let show = app.bookable("Key Reuse Cinemas").await;
    let (_, token) = app.customer("Kavi").await;
    let first = app
        .post_keyed(
            "/bookings",
            Some(&token),
            Some("key-1"),
            hold_body(&show.show_id, &["A-1"]),
        )
        .await;
    expect_json(first, 201).await;
    let other = app
        .post_keyed(
            "/bookings",
            Some(&token),
            Some("key-1"),
            hold_body(&show.show_id, &["A-2"]),
        )
        .await;
    assert_problem(other, 422, "idempotency_key_reused").await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// One customer cannot hold a whole show (issue 13): the default rules cap a customer's
// unpaid seats of a show at 10, from the holds the host counts and gives the component.

const CAP_REASON: &str = "you already hold 10 unpaid seats for this show and may hold at most 10; pay for or release them first";

#[sqlx::test(migrations = "../migrations")]
async fn a_customer_holding_ten_seats_of_a_show_is_refused_an_eleventh(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Hoarded").await;
    let (_, customer) = app.customer("Hoarder").await;
    let first = app
        .hold(
            &customer,
            &b.show_id,
            &["A-1", "A-2", "A-3", "A-4", "A-5", "A-6"],
        )
        .await;
    let second = app
        .hold(&customer, &b.show_id, &["A-7", "A-8", "A-9", "A-10"])
        .await;
    // 10 held: an 11th is refused with the component's reason, and takes nothing.
    let res = app.try_hold(&customer, &b.show_id, &["B-1"]).await;
    let problem = assert_problem(res, 422, "rule_violation").await;
    assert_eq!(problem["detail"], CAP_REASON, "{problem}");
    assert_eq!(app.seats_available(&b.show_id).await, SCREEN_CAPACITY - 10);
    // Someone else is not affected.
    let (_, other) = app.customer("Other").await;
    app.hold(&other, &b.show_id, &["B-1"]).await;
    // Another show of the chain is.
    let later = app
        .show(
            &b.venue.token,
            &b.venue.screen_id,
            &b.venue.movie_id,
            crate::support::client::base_time(8),
        )
        .await;
    app.hold(&customer, &s(&later, "id"), &["B-2"]).await;
    // Paying for a hold makes room: 6 unpaid seats left, 4 more fit, 5 do not.
    expect_json(app.try_pay(&customer, &second).await, 201).await;
    let res = app
        .try_hold(&customer, &b.show_id, &["B-2", "B-3", "B-4", "B-5", "B-6"])
        .await;
    assert_problem(res, 422, "rule_violation").await;
    app.hold(&customer, &b.show_id, &["B-2", "B-3", "B-4", "B-5"])
        .await;
    // Releasing a hold makes room too.
    let res = app.try_hold(&customer, &b.show_id, &["B-6"]).await;
    assert_problem(res, 422, "rule_violation").await;
    let res = app
        .post_json(
            &format!("/bookings/{}/cancel", s(&first, "id")),
            Some(&customer),
            json!({}),
        )
        .await;
    expect_json(res, 200).await;
    app.hold(&customer, &b.show_id, &["B-6"]).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_chains_0_1_0_booking_rules_component_still_loads_and_is_called(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Old Rules").await;
    let golden = crate::compat::GOLDEN_BOOKING_RULES_0_1_0.to_vec();
    let record = app
        .upload_ok(&b.venue.token, &b.venue.chain_id, "booking-rules", golden)
        .await;
    let id = s(&record, "id");
    app.bind_ok(
        &b.venue.token,
        &b.venue.chain_id,
        "booking-rules",
        &id,
        None,
    )
    .await;
    let (_, customer) = app.customer("Old Times").await;
    let ten: Vec<String> = (1..=10).map(|n| format!("A-{n}")).collect();
    let ten: Vec<&str> = ten.iter().map(String::as_str).collect();
    app.hold(&customer, &b.show_id, &ten).await;
    // A 0.1.0 component is not given the customer's holds (documented default): it decides
    // as it always did, so the 11th seat is allowed, by this component.
    let booking = app.hold(&customer, &b.show_id, &["B-1"]).await;
    let trail = app
        .get_ok(
            &format!("/bookings/{}/audit", s(&booking, "id")),
            Some(&b.venue.token),
        )
        .await;
    let items = trail["items"].as_array().expect("items");
    assert!(
        items
            .iter()
            .any(|e| e["hook"] == "booking-rules" && e["component_id"] == id.as_str()),
        "the 0.1.0 component decided: {trail}"
    );
    app.stop().await;
}
