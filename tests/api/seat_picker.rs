//! The fourth hook, `seat-picker` (issue 14): `POST /bookings` with `seat_count` lets the
//! chain's picker choose, `GET /shows/{id}/seats/suggestion` shows its choice without holding;
//! the host checks every pick, a lost race asks the picker once more, and a hostile picker
//! fails by its binding's policy.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::sync::Barrier;

use crate::support::app::TestApp;
use crate::support::client::{
    assert_invalid, assert_problem, base_time, doubly_taken_seats, expect_json, s, seat_ids, unique,
};
use crate::support::component;

/// `POST /bookings` by count, whatever the answer.
async fn hold_count(app: &TestApp, token: &str, show: &str, extra: Value) -> reqwest::Response {
    let mut body = json!({ "show_id": show });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    app.post_json("/bookings", Some(token), body).await
}

/// A show on a screen of the given rows (`[label, seats, class]`), a week ahead.
async fn show_on(app: &TestApp, venue: &crate::support::client::Venue, rows: Value) -> String {
    let res = app
        .post_json(
            &format!("/theatres/{}/screens", venue.theatre_id),
            Some(&venue.token),
            json!({ "name": unique("Picker Screen"), "rows": rows }),
        )
        .await;
    let screen = s(&expect_json(res, 201).await, "id");
    let mut body = crate::support::client::show_body(&screen, &venue.movie_id, base_time(7));
    body["prices"] = json!({"standard": 25000, "premium": 40000, "accessible": 20000});
    let res = app.post_json("/shows", Some(&venue.token), body).await;
    s(&expect_json(res, 201).await, "id")
}

fn three_rows() -> Value {
    json!([
        {"label": "A", "seats": 10, "class": "standard"},
        {"label": "B", "seats": 10, "class": "standard"},
        {"label": "C", "seats": 10, "class": "premium"},
    ])
}

#[sqlx::test(migrations = "../migrations")]
async fn a_hold_by_count_gets_adjacent_seats_chosen_by_the_default_picker(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let venue = app.venue("Picker Cinemas").await;
    let show = show_on(&app, &venue, three_rows()).await;
    let (_, token) = app.customer("Asha").await;

    let booking = expect_json(
        hold_count(&app, &token, &show, json!({"seat_count": 2})).await,
        201,
    )
    .await;
    // Three rows: the middle row is B, and its centre pair is 5 and 6.
    assert_eq!(seat_ids(&booking), ["B-5", "B-6"], "{booking}");
    assert_eq!(booking["status"], "held");

    // A class narrows the choice; the audit trail shows which picker decided.
    let premium = expect_json(
        hold_count(
            &app,
            &token,
            &show,
            json!({"seat_count": 3, "seat_class": "premium"}),
        )
        .await,
        201,
    )
    .await;
    let seats = seat_ids(&premium);
    assert_eq!(seats.len(), 3);
    assert!(seats.iter().all(|s| s.starts_with("C-")), "{premium}");
    let audit = app
        .get_ok(
            &format!("/bookings/{}/audit", s(&premium, "id")),
            Some(&venue.token),
        )
        .await;
    let picked: Vec<&Value> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["hook"] == "seat-picker")
        .collect();
    assert_eq!(picked.len(), 1, "{audit}");
    assert_eq!(picked[0]["detail"]["seats"], json!(seats), "{audit}");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn seat_ids_and_seat_count_are_exactly_one_of_two(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let venue = app.venue("Either Cinemas").await;
    let show = show_on(&app, &venue, three_rows()).await;
    let (_, token) = app.customer("Ravi").await;
    for extra in [
        json!({}),
        json!({"seat_ids": ["A-1"], "seat_count": 1}),
        json!({"seat_ids": ["A-1"], "seat_class": "premium"}),
    ] {
        let res = hold_count(&app, &token, &show, extra.clone()).await;
        assert_invalid(res, "seat_ids").await;
    }
    for count in [0, 11, -1] {
        let res = hold_count(&app, &token, &show, json!({"seat_count": count})).await;
        assert_invalid(res, "seat_count").await;
    }
    let res = hold_count(
        &app,
        &token,
        &show,
        json!({"seat_count": 2, "seat_class": "gold"}),
    )
    .await;
    assert_problem(res, 422, "validation_failed").await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_suggestion_holds_nothing_and_nothing_fitting_is_409(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let venue = app.venue("Suggest Cinemas").await;
    let show = show_on(&app, &venue, three_rows()).await;
    let path = format!("/shows/{show}/seats/suggestion");

    let first = app.get_ok(&format!("{path}?count=4"), None).await;
    assert_eq!(first["show_id"], show.as_str());
    assert_eq!(
        first["seat_ids"].as_array().map(Vec::len),
        Some(4),
        "{first}"
    );
    let again = app.get_ok(&format!("{path}?count=4"), None).await;
    assert_eq!(
        first, again,
        "a suggestion holds nothing, so it does not change"
    );
    assert_eq!(app.seats_available(&show).await, 30);

    // No accessible seats on this screen.
    let res = app
        .get(&format!("/api/v1{path}?count=2&accessible=true"))
        .await;
    let body = assert_problem(res, 409, "seat_unavailable").await;
    assert_eq!(body["seats"], json!([]), "{body}");
    // Out of range and unknown parameters.
    assert_problem(
        app.get(&format!("/api/v1{path}?count=0")).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        app.get(&format!("/api/v1{path}?count=2&x=1"))
            .await
            .status(),
        400
    );
    let missing = format!(
        "/api/v1/shows/{}/seats/suggestion?count=2",
        uuid::Uuid::now_v7()
    );
    assert_problem(app.get(&missing).await, 404, "not_found").await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_accessible_request_gets_the_wheelchair_space_and_its_companion(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let venue = app.venue("Access Cinemas").await;
    let rows = json!([
        {"label": "A", "seats": 8, "class": "standard"},
        {"label": "B", "seats": 2, "class": "accessible"},
        {"label": "C", "seats": 8, "class": "standard"},
    ]);
    let show = show_on(&app, &venue, rows).await;
    let (_, token) = app.customer("Noor").await;
    let booking = expect_json(
        hold_count(
            &app,
            &token,
            &show,
            json!({"seat_count": 2, "accessible": true}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(seat_ids(&booking), ["B-1", "B-2"], "{booking}");
    // Nobody else is given the accessible seats when they did not ask for them.
    let other = expect_json(
        hold_count(&app, &token, &show, json!({"seat_count": 8})).await,
        201,
    )
    .await;
    assert!(
        seat_ids(&other).iter().all(|s| !s.starts_with("B-")),
        "{other}"
    );
    app.stop().await;
}

/// 20 customers each ask for 2 seats of a 30-seat show at once: no seat is sold twice, and
/// every answer is a hold or `seat_unavailable`.
#[sqlx::test(migrations = "../migrations")]
async fn twenty_customers_racing_for_pairs_never_share_a_seat(pool: PgPool) {
    let app = Arc::new(TestApp::spawn(pool.clone()).await);
    let venue = app.venue("Race Cinemas").await;
    let show = show_on(&app, &venue, three_rows()).await;
    let mut tokens = Vec::new();
    for i in 0..20 {
        tokens.push(app.customer(&format!("Racer {i}")).await.1);
    }
    let barrier = Arc::new(Barrier::new(tokens.len()));
    let mut tasks = tokio::task::JoinSet::new();
    for token in tokens {
        let (app, show, barrier) = (app.clone(), show.clone(), barrier.clone());
        tasks.spawn(async move {
            barrier.wait().await;
            let res = hold_count(&app, &token, &show, json!({"seat_count": 2})).await;
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            (status, body)
        });
    }
    let mut held = BTreeSet::new();
    let mut won = 0;
    while let Some(joined) = tasks.join_next().await {
        let (status, body) = joined.expect("racer");
        match status {
            201 => {
                won += 1;
                for seat in seat_ids(&body) {
                    assert!(held.insert(seat.clone()), "{seat} held twice");
                }
            }
            409 => assert_eq!(body["code"], "seat_unavailable", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!((1..=15).contains(&won), "{won} holds of 2 on 30 seats");
    assert_eq!(held.len(), won * 2);
    assert!(doubly_taken_seats(&pool).await.is_empty());
    match Arc::try_unwrap(app) {
        Ok(app) => app.stop().await,
        Err(_) => panic!("app still shared"),
    }
}

/// A chain's picker that answers wrong for 3 seats (the hostile guests misbehave only then, so
/// they pass the upload fixtures): the binding's policy decides.
async fn bound_hostile_picker(app: &TestApp, feature: &str, on_failure: &str) -> (String, String) {
    let venue = app.venue(&format!("Hostile {feature} {on_failure}")).await;
    let bytes = component(&format!("hostile/picker-{feature}.wasm"));
    let uploaded = app
        .upload_ok(&venue.token, &venue.chain_id, "seat-picker", bytes)
        .await;
    app.bind_ok(
        &venue.token,
        &venue.chain_id,
        "seat-picker",
        &s(&uploaded, "id"),
        Some(on_failure),
    )
    .await;
    let show = show_on(app, &venue, three_rows()).await;
    (show, venue.token)
}

#[sqlx::test(migrations = "../migrations")]
async fn a_hostile_picker_fails_closed_or_falls_back_by_its_binding(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let (_, token) = app.customer("Mina").await;
    for feature in [
        "wrong-count",
        "taken",
        "unknown",
        "duplicate",
        "wrong-class",
        "loop",
    ] {
        let (show, _) = bound_hostile_picker(&app, feature, "reject").await;
        // Take a seat first so "taken" has one to return.
        expect_json(app.try_hold(&token, &show, &["B-5"]).await, 201).await;
        let res = hold_count(
            &app,
            &token,
            &show,
            json!({"seat_count": 3, "seat_class": "standard"}),
        )
        .await;
        let body = assert_problem(res, 503, "plugin_unavailable").await;
        assert!(
            body["detail"]
                .as_str()
                .unwrap_or("")
                .contains("seat-picker"),
            "{feature}: {body}"
        );

        let (show, _) = bound_hostile_picker(&app, feature, "fallback").await;
        expect_json(app.try_hold(&token, &show, &["B-5"]).await, 201).await;
        let res = hold_count(
            &app,
            &token,
            &show,
            json!({"seat_count": 3, "seat_class": "standard"}),
        )
        .await;
        let booking = expect_json(res, 201).await;
        let seats = seat_ids(&booking);
        assert_eq!(seats.len(), 3, "{feature}: the default picked: {booking}");
        assert!(!seats.contains(&"B-5".to_owned()), "{feature}: {booking}");
    }
    assert!(doubly_taken_seats(&pool).await.is_empty());
    app.stop().await;
}
