//! Waiting lists (issue 16, API.md "Box office"): customers join a sold-out show's list;
//! freed seats are offered in queue order as real holds, which expire, are paid or are left
//! like any hold.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::client::{
    Venue, assert_invalid, assert_problem, base_time, expect_json, expect_status, expire_hold,
    notifications_of, s, seat_ids, show_body, unique,
};

/// A show a week ahead (or `days` ahead) on a new screen of the venue: row `A` of 3 standard
/// seats, row `B` of 2 premium seats and a blocked third.
async fn small_show(app: &TestApp, venue: &Venue, days: i64) -> String {
    let res = app
        .post_json(
            &format!("/theatres/{}/screens", venue.theatre_id),
            Some(&venue.token),
            json!({ "name": unique("Waitlist Screen"), "rows": [
                {"label": "A", "seats": 3, "class": "standard"},
                {"label": "B", "seats": 3, "class": "premium", "blocked": [3]},
            ]}),
        )
        .await;
    let screen = s(&expect_json(res, 201).await, "id");
    let mut body = show_body(&screen, &venue.movie_id, base_time(days));
    body["prices"] = json!({"standard": 25000, "premium": 40000});
    let res = app.post_json("/shows", Some(&venue.token), body).await;
    s(&expect_json(res, 201).await, "id")
}

/// Sells the show out with two holds of `token`: the standard row and the premium pair.
async fn sell_out(app: &TestApp, token: &str, show: &str) -> (Value, Value) {
    let standard = app.hold(token, show, &["A-1", "A-2", "A-3"]).await;
    let premium = app.hold(token, show, &["B-1", "B-2"]).await;
    (standard, premium)
}

async fn join(app: &TestApp, token: Option<&str>, show: &str, body: Value) -> reqwest::Response {
    app.post_json(&format!("/shows/{show}/waitlist"), token, body)
        .await
}

async fn joined(app: &TestApp, token: &str, show: &str, body: Value) -> Value {
    expect_json(join(app, Some(token), show, body).await, 201).await
}

/// The caller's entry `id` as `GET /waitlist` shows it.
async fn my_entry(app: &TestApp, token: &str, id: &str) -> Value {
    let page = app.get_ok("/waitlist", Some(token)).await;
    page["items"]
        .as_array()
        .and_then(|items| items.iter().find(|e| e["id"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("no entry {id} in {page}"))
}

/// Waits (up to 10 s) until the entry reads `status`: offers after a cancellation are made
/// right after its commit, on a task of their own.
async fn wait_for_status(app: &TestApp, token: &str, id: &str, status: &str) -> Value {
    let started = Instant::now();
    loop {
        let entry = my_entry(app, token, id).await;
        if entry["status"] == status {
            return entry;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "entry never became {status}: {entry}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn joining_refuses_what_the_contract_refuses(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let venue = app.venue("Queue Cinemas").await;
    let show = small_show(&app, &venue, 7).await;
    let (_, seller) = app.customer("Seller").await;
    let (_, asha) = app.customer("Asha").await;

    assert_problem(
        join(&app, None, &show, json!({"seat_count": 1})).await,
        401,
        "unauthorized",
    )
    .await;
    for (bad, field) in [
        (json!({"seat_count": 0}), "seat_count"),
        (json!({"seat_count": 11}), "seat_count"),
        (json!({}), "seat_count"),
        (
            json!({"seat_count": 2, "seat_class": "balcony"}),
            "seat_class",
        ),
    ] {
        assert_invalid(join(&app, Some(&asha), &show, bad).await, field).await;
    }
    assert_problem(
        join(
            &app,
            Some(&asha),
            &show,
            json!({"seat_count": 1, "status": "offered"}),
        )
        .await,
        400,
        "bad_request",
    )
    .await;
    // Five seats are free (the blocked one never counts).
    assert_problem(
        join(&app, Some(&asha), &show, json!({"seat_count": 5})).await,
        409,
        "seats_available",
    )
    .await;
    app.hold(&seller, &show, &["A-1", "A-2", "A-3"]).await;
    // Two premium seats are still free: enough for two, not for three.
    assert_problem(
        join(&app, Some(&asha), &show, json!({"seat_count": 2})).await,
        409,
        "seats_available",
    )
    .await;
    let three = joined(&app, &asha, &show, json!({"seat_count": 3})).await;
    assert_eq!(three["status"], "waiting");
    assert_eq!(three["position"], 1);
    assert_eq!(three["seat_count"], 3);
    assert_eq!(three["show_id"], show.as_str());
    assert!(three["created_at"].is_string(), "{three}");
    assert_problem(
        join(&app, Some(&asha), &show, json!({"seat_count": 3})).await,
        409,
        "already_waiting",
    )
    .await;
    // A class with fewer free seats than asked is sold out for that request.
    let (_, ravi) = app.customer("Ravi").await;
    assert_problem(
        join(
            &app,
            Some(&ravi),
            &show,
            json!({"seat_count": 2, "seat_class": "premium"}),
        )
        .await,
        409,
        "seats_available",
    )
    .await;
    let ravis = joined(
        &app,
        &ravi,
        &show,
        json!({"seat_count": 1, "seat_class": "standard"}),
    )
    .await;
    assert_eq!(ravis["position"], 2);
    // An expired hold's seats are free again: not sold out (a show nobody waits for, so
    // that no offer takes them meanwhile).
    let quiet = small_show(&app, &venue, 8).await;
    let (standard, _) = sell_out(&app, &seller, &quiet).await;
    let (_, meera) = app.customer("Meera").await;
    joined(&app, &meera, &quiet, json!({"seat_count": 1})).await;
    expect_status(
        app.delete(
            &format!(
                "/waitlist/{}",
                s(
                    &app.get_ok("/waitlist", Some(&meera)).await["items"][0],
                    "id"
                )
            ),
            Some(&meera),
        )
        .await,
        204,
    )
    .await;
    expire_hold(&app.state.db, &s(&standard, "id")).await;
    assert_problem(
        join(&app, Some(&meera), &quiet, json!({"seat_count": 3})).await,
        409,
        "seats_available",
    )
    .await;

    // Chain staff join no waiting lists; only the chain's members and admins see the queue.
    assert_problem(
        join(&app, Some(&venue.token), &show, json!({"seat_count": 3})).await,
        403,
        "forbidden",
    )
    .await;
    let queue = app
        .get_ok(&format!("/shows/{show}/waitlist"), Some(&venue.token))
        .await;
    let ids: Vec<String> = queue["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| s(e, "id"))
        .collect();
    assert_eq!(ids, [s(&three, "id"), s(&ravis, "id")], "{queue}");
    let admin = app.admin_token().await;
    app.get_ok(&format!("/shows/{show}/waitlist"), Some(&admin))
        .await;
    assert_problem(
        app.get_auth(&format!("/shows/{show}/waitlist"), Some(&asha))
            .await,
        404,
        "not_found",
    )
    .await;
    let other = app.venue("Other Cinemas").await;
    assert_problem(
        app.get_auth(&format!("/shows/{show}/waitlist"), Some(&other.token))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_auth(&format!("/shows/{show}/waitlist"), None).await,
        401,
        "unauthorized",
    )
    .await;
    assert_problem(app.get_auth("/waitlist", None).await, 401, "unauthorized").await;

    // Only the entry's customer may leave it.
    let path = format!("/waitlist/{}", s(&three, "id"));
    assert_problem(app.delete(&path, Some(&ravi)).await, 404, "not_found").await;
    assert_problem(
        app.delete(&path, Some(&venue.token)).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(app.delete(&path, None).await, 401, "unauthorized").await;
    assert_problem(
        app.delete("/waitlist/not-a-uuid", Some(&asha)).await,
        400,
        "bad_request",
    )
    .await;
    expect_status(app.delete(&path, Some(&asha)).await, 204).await;
    assert_eq!(
        my_entry(&app, &asha, &s(&three, "id")).await["status"],
        "left"
    );
    assert_problem(app.delete(&path, Some(&asha)).await, 409, "invalid_state").await;
    // Ravi moved up.
    assert_eq!(my_entry(&app, &ravi, &s(&ravis, "id")).await["position"], 1);

    // A cancelled show is closed, and its queue is over.
    let res = app
        .post_json(
            &format!("/shows/{show}/cancel"),
            Some(&venue.token),
            json!({}),
        )
        .await;
    expect_json(res, 200).await;
    assert_problem(
        join(&app, Some(&meera), &show, json!({"seat_count": 1})).await,
        409,
        "show_closed",
    )
    .await;
    assert_eq!(
        my_entry(&app, &ravi, &s(&ravis, "id")).await["status"],
        "expired"
    );
    let missing = uuid::Uuid::now_v7();
    assert_problem(
        join(
            &app,
            Some(&meera),
            &missing.to_string(),
            json!({"seat_count": 1}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_default_rules_allow_three_active_entries_per_customer_per_chain(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let venue = app.venue("Busy Cinemas").await;
    let (_, asha) = app.customer("Asha").await;
    let mut shows = Vec::new();
    for day in 7..11 {
        let show = small_show(&app, &venue, day).await;
        let (_, seller) = app.customer("Seller").await;
        sell_out(&app, &seller, &show).await;
        shows.push(show);
    }
    for show in &shows[..3] {
        joined(&app, &asha, show, json!({"seat_count": 1})).await;
    }
    let refused = assert_problem(
        join(&app, Some(&asha), &shows[3], json!({"seat_count": 1})).await,
        422,
        "rule_violation",
    )
    .await;
    assert!(
        s(&refused, "detail").contains("3 waiting lists"),
        "the reason is given: {refused}"
    );
    // Leaving one makes room.
    let mine = app.get_ok("/waitlist", Some(&asha)).await;
    let first = s(&mine["items"][0], "id");
    expect_status(
        app.delete(&format!("/waitlist/{first}"), Some(&asha)).await,
        204,
    )
    .await;
    joined(&app, &asha, &shows[3], json!({"seat_count": 1})).await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_cancellation_offers_the_seats_to_the_first_entry_that_fits(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let venue = app.venue("Offer Cinemas").await;
    let show = small_show(&app, &venue, 7).await;
    let (_, seller) = app.customer("Seller").await;
    let (standard, premium) = sell_out(&app, &seller, &show).await;
    let (_, premium_fan) = app.customer("Premium Fan").await;
    let (_, trio) = app.customer("Trio").await;
    let (_, single) = app.customer("Single").await;
    let fan_entry = joined(
        &app,
        &premium_fan,
        &show,
        json!({"seat_count": 2, "seat_class": "premium"}),
    )
    .await;
    let trio_entry = joined(&app, &trio, &show, json!({"seat_count": 3})).await;
    let single_entry = joined(&app, &single, &show, json!({"seat_count": 1})).await;
    assert_eq!(single_entry["position"], 3);

    // The standard row frees up: the premium request does not fit and is skipped; the
    // trio's does.
    expect_json(
        app.cancel_booking(Some(&seller), &s(&standard, "id")).await,
        200,
    )
    .await;
    let offered = wait_for_status(&app, &trio, &s(&trio_entry, "id"), "offered").await;
    let booking_id = s(&offered, "booking_id");
    let booking = app.booking(&trio, &booking_id).await;
    assert_eq!(booking["status"], "held");
    assert_eq!(seat_ids(&booking), ["A-1", "A-2", "A-3"]);
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(&s(&offered, "offer_expires_at")).expect("time"),
        chrono::DateTime::parse_from_rfc3339(&s(&booking, "expires_at")).expect("time"),
    );
    // About the default 900 s from now.
    let left = chrono::DateTime::parse_from_rfc3339(&s(&booking, "expires_at"))
        .expect("time")
        .signed_duration_since(chrono::Utc::now())
        .num_seconds();
    assert!((800..=900).contains(&left), "offer lasts {left} s");
    assert_eq!(offered["position"], Value::Null);
    assert_eq!(notifications_of(&app.state.db, "waitlist-offer").await, 1);
    // Nothing was left for the single seat; the premium fan keeps the head of the queue.
    assert_eq!(
        my_entry(&app, &single, &s(&single_entry, "id")).await["status"],
        "waiting"
    );
    assert_eq!(
        my_entry(&app, &premium_fan, &s(&fan_entry, "id")).await["position"],
        1
    );
    let queue = app
        .get_ok(&format!("/shows/{show}/waitlist"), Some(&venue.token))
        .await;
    assert_eq!(queue["items"].as_array().map(Vec::len), Some(3), "{queue}");

    // The offer is a real hold of the trio's: paying it books the entry, at once.
    app.pay(&trio, &booking).await;
    assert_eq!(
        my_entry(&app, &trio, &s(&trio_entry, "id")).await["status"],
        "booked"
    );

    // The premium pair frees up: it goes to the premium request, the class it asked for.
    expect_json(
        app.cancel_booking(Some(&seller), &s(&premium, "id")).await,
        200,
    )
    .await;
    let offered = wait_for_status(&app, &premium_fan, &s(&fan_entry, "id"), "offered").await;
    let booking = app.booking(&premium_fan, &s(&offered, "booking_id")).await;
    assert_eq!(seat_ids(&booking), ["B-1", "B-2"]);
    assert_eq!(
        my_entry(&app, &single, &s(&single_entry, "id")).await["status"],
        "waiting"
    );
    assert_eq!(
        my_entry(&app, &single, &s(&single_entry, "id")).await["position"],
        1
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_offer_that_runs_out_goes_to_the_next_entry_and_leaving_releases_the_hold(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let venue = app.venue("Expiry Cinemas").await;
    let show = small_show(&app, &venue, 7).await;
    let (_, seller) = app.customer("Seller").await;
    let (_, premium) = sell_out(&app, &seller, &show).await;
    let (_, first) = app.customer("First").await;
    let (_, big) = app.customer("Big").await;
    let (_, second) = app.customer("Second").await;
    let first_entry = joined(&app, &first, &show, json!({"seat_count": 2})).await;
    // Larger than anything that frees: skipped, while later, smaller requests are offered.
    let big_entry = joined(&app, &big, &show, json!({"seat_count": 4})).await;
    let second_entry = joined(&app, &second, &show, json!({"seat_count": 2})).await;

    expect_json(
        app.cancel_booking(Some(&seller), &s(&premium, "id")).await,
        200,
    )
    .await;
    let offered = wait_for_status(&app, &first, &s(&first_entry, "id"), "offered").await;
    let first_booking = s(&offered, "booking_id");

    // The offer runs out unpaid: it reads expired at once, before any job runs.
    expire_hold(&app.state.db, &first_booking).await;
    assert_eq!(
        my_entry(&app, &first, &s(&first_entry, "id")).await["status"],
        "expired"
    );
    let swept = app.state.waitlist.sweep_once().await.expect("sweep");
    assert!(swept.expired <= 1, "{swept:?}");
    // The sweep (this one, or this replica's own) records it, emails, and offers the seats to
    // the next entry that fits.
    let offered = wait_for_status(&app, &second, &s(&second_entry, "id"), "offered").await;
    assert_eq!(
        my_entry(&app, &big, &s(&big_entry, "id")).await["status"],
        "waiting"
    );
    assert_eq!(
        my_entry(&app, &first, &s(&first_entry, "id")).await["status"],
        "expired"
    );
    assert_eq!(
        notifications_of(&app.state.db, "waitlist-offer-expired").await,
        1
    );
    assert_eq!(notifications_of(&app.state.db, "waitlist-offer").await, 2);
    let second_booking = s(&offered, "booking_id");
    assert_eq!(
        seat_ids(&app.booking(&second, &second_booking).await),
        ["B-1", "B-2"]
    );
    // A payment of the expired offer is refused like any expired hold's.
    let stale = app.booking(&first, &first_booking).await;
    assert_problem(app.try_pay(&first, &stale).await, 410, "hold_expired").await;

    // Leaving with an open offer releases its hold: the seats are free again.
    let path = format!("/waitlist/{}", s(&second_entry, "id"));
    expect_status(app.delete(&path, Some(&second)).await, 204).await;
    assert_eq!(
        my_entry(&app, &second, &s(&second_entry, "id")).await["status"],
        "left"
    );
    assert_eq!(
        app.booking(&second, &second_booking).await["status"],
        "cancelled"
    );
    let free = app.seats_in_state(&show, "available").await;
    assert_eq!(
        free,
        ["B-1", "B-2"],
        "nobody else fits (the big request wants 4)"
    );
    assert_eq!(
        my_entry(&app, &big, &s(&big_entry, "id")).await["status"],
        "waiting"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn cancelling_the_offer_hold_leaves_the_list_and_reoffers_the_seats(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let venue = app.venue("Reoffer Cinemas").await;
    let show = small_show(&app, &venue, 7).await;
    let (_, seller) = app.customer("Seller").await;
    let (_, premium) = sell_out(&app, &seller, &show).await;
    let (_, first) = app.customer("First").await;
    let (_, second) = app.customer("Second").await;
    let first_entry = joined(&app, &first, &show, json!({"seat_count": 2})).await;
    let second_entry = joined(&app, &second, &show, json!({"seat_count": 1})).await;

    expect_json(
        app.cancel_booking(Some(&seller), &s(&premium, "id")).await,
        200,
    )
    .await;
    let offered = wait_for_status(&app, &first, &s(&first_entry, "id"), "offered").await;
    // The customer cancels the offer's hold like any hold: the entry is left, and the seats
    // go to the next entry.
    expect_json(
        app.cancel_booking(Some(&first), &s(&offered, "booking_id"))
            .await,
        200,
    )
    .await;
    assert_eq!(
        my_entry(&app, &first, &s(&first_entry, "id")).await["status"],
        "left"
    );
    let offered = wait_for_status(&app, &second, &s(&second_entry, "id"), "offered").await;
    let booking = app.booking(&second, &s(&offered, "booking_id")).await;
    assert_eq!(seat_ids(&booking).len(), 1);
    // The audit trail says which entry the hold was for.
    let audit = app
        .get_ok(
            &format!("/bookings/{}/audit", s(&offered, "booking_id")),
            Some(&venue.token),
        )
        .await;
    assert!(
        audit.to_string().contains(&s(&second_entry, "id")),
        "audit names the entry: {audit}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_openapi_document_describes_the_waiting_list_operations(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let doc = expect_json(app.get("/openapi.json").await, 200).await;
    let paths = &doc["paths"];
    for (path, method, statuses) in [
        (
            "/api/v1/shows/{id}/waitlist",
            "post",
            &["201", "401", "403", "404", "409", "413", "422"][..],
        ),
        (
            "/api/v1/shows/{id}/waitlist",
            "get",
            &["200", "401", "404", "413"][..],
        ),
        ("/api/v1/waitlist", "get", &["200", "401", "413"][..]),
        (
            "/api/v1/waitlist/{entry_id}",
            "delete",
            &["204", "401", "404", "409", "413"][..],
        ),
    ] {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} is documented");
        for status in statuses {
            assert!(
                op["responses"][status].is_object(),
                "{method} {path} declares {status}: {op}"
            );
        }
    }
    let body = &paths["/api/v1/shows/{id}/waitlist"]["post"]["requestBody"];
    assert!(body.is_object(), "the join body is described");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_partial_cancellation_offers_its_seats_and_the_chains_rules_decide_who_joins(
    pool: PgPool,
) {
    let app = TestApp::spawn(pool).await;
    let venue = app.venue("Partial Cinemas").await;
    let show = small_show(&app, &venue, 7).await;
    let (_, seller) = app.customer("Seller").await;
    let (standard, _) = sell_out(&app, &seller, &show).await;
    app.pay(&seller, &standard).await;
    let (_, single) = app.customer("Single").await;
    let entry = joined(&app, &single, &show, json!({"seat_count": 1})).await;

    // One seat of a paid booking is given back: it goes to the queue.
    let res = app
        .post_json(
            &format!("/bookings/{}/cancel", s(&standard, "id")),
            Some(&seller),
            json!({ "seat_ids": ["A-2"] }),
        )
        .await;
    expect_json(res, 200).await;
    let offered = wait_for_status(&app, &single, &s(&entry, "id"), "offered").await;
    let booking = app.booking(&single, &s(&offered, "booking_id")).await;
    assert_eq!(seat_ids(&booking), ["A-2"]);

    // The platform's booking rules (a 0.3.0 component, `check-waitlist`) close the list 30
    // minutes before the show.
    let res = app
        .post_json(
            &format!("/theatres/{}/screens", venue.theatre_id),
            Some(&venue.token),
            json!({ "name": unique("Soon Screen"), "rows": [
                {"label": "A", "seats": 1, "class": "standard"},
            ]}),
        )
        .await;
    let screen = s(&expect_json(res, 201).await, "id");
    let starts = chrono::Utc::now() + chrono::Duration::minutes(20);
    let res = app
        .post_json(
            "/shows",
            Some(&venue.token),
            show_body(&screen, &venue.movie_id, starts),
        )
        .await;
    let soon = s(&expect_json(res, 201).await, "id");
    app.hold(&seller, &soon, &["A-1"]).await;
    let refused = assert_problem(
        join(&app, Some(&single), &soon, json!({"seat_count": 1})).await,
        422,
        "rule_violation",
    )
    .await;
    assert!(s(&refused, "detail").contains("30 minutes"), "{refused}");
}
