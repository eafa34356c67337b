//! Screens (with their seat maps) and shows (scheduling, overlap, seats).

use chrono::Duration;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::client::{
    SCREEN_CAPACITY, assert_invalid, assert_problem, base_time, expect_json, expect_status, ids,
    parse_time, prices, rfc3339, s, screen_body, show_body, theatre_body,
};

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn assert_has_keys(v: &Value, want: &[&str]) {
    for key in want {
        assert!(v.get(*key).is_some(), "missing `{key}` in {v}");
    }
}

const SCREEN_KEYS: [&str; 5] = ["id", "chain_id", "theatre_id", "name", "capacity"];
const SHOW_KEYS: [&str; 12] = [
    "id",
    "chain_id",
    "theatre_id",
    "screen_id",
    "movie_id",
    "starts_at",
    "ends_at",
    "format",
    "currency",
    "prices",
    "status",
    "seats_available",
];

// ---------------------------------------------------------------------------------------
// Screens

#[sqlx::test(migrations = "../migrations")]
async fn creating_a_screen_returns_its_seat_map(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Owner").await;
    let chain = app.chain(&token, "Screens").await;
    let theatre = app.theatre(&token, &chain).await;
    let res = app
        .post_json(
            &format!("/theatres/{theatre}/screens"),
            Some(&token),
            json!({
                "name": "Audi 1",
                "rows": [
                    {"label": "A", "seats": 3, "class": "standard"},
                    {"label": "B", "seats": 4, "class": "vip", "blocked": [2]},
                    {"label": "C", "seats": 2, "class": "accessible"},
                ],
            }),
        )
        .await;
    let screen = expect_json(res, 201).await;
    assert_has_keys(&screen, &SCREEN_KEYS);
    assert_eq!(screen["name"], "Audi 1");
    assert_eq!(screen["chain_id"], chain);
    assert_eq!(screen["theatre_id"], theatre);
    assert_eq!(screen["capacity"], 8);
    let seats = screen["seats"].as_array().expect("seats");
    let seat_ids: Vec<String> = seats.iter().map(|seat| s(seat, "id")).collect();
    assert_eq!(
        seat_ids,
        [
            "A-1", "A-2", "A-3", "B-1", "B-2", "B-3", "B-4", "C-1", "C-2"
        ]
    );
    assert_eq!(
        seats[4],
        json!({"id": "B-2", "row": "B", "number": 2, "class": "vip", "blocked": true})
    );
    assert_eq!(
        seats[0],
        json!({"id": "A-1", "row": "A", "number": 1, "class": "standard", "blocked": false})
    );
    assert_eq!(seats[8]["class"], "accessible");

    let got = app
        .get_ok(&format!("/screens/{}", s(&screen, "id")), None)
        .await;
    assert_eq!(got, screen);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn creating_a_screen_validates_its_rows(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Owner").await;
    let chain = app.chain(&token, "Rows").await;
    let theatre = app.theatre(&token, &chain).await;
    let path = format!("/theatres/{theatre}/screens");
    let cases: Vec<(Value, &str)> = vec![
        (
            json!([{"label": "a", "seats": 12, "class": "standard"}]),
            "rows[0].label",
        ),
        (
            json!([{"label": "A", "seats": 0, "class": "standard"}]),
            "rows[0].seats",
        ),
        (
            json!([{"label": "A", "seats": 12, "class": "standard", "blocked": [13]}]),
            "rows[0].blocked",
        ),
        (
            json!([{"label": "A", "seats": 12, "class": "standard", "blocked": [0]}]),
            "rows[0].blocked",
        ),
        (
            json!([
                {"label": "A", "seats": 5, "class": "standard"},
                {"label": "A", "seats": 5, "class": "premium"},
            ]),
            "rows[1].label",
        ),
        (
            json!([{"label": "A", "seats": 5, "class": "gold"}]),
            "rows[0].class",
        ),
        (json!([]), "rows"),
    ];
    for (rows, field) in cases {
        let res = app
            .post_json(&path, Some(&token), json!({"name": "Bad", "rows": rows}))
            .await;
        let problem = assert_problem(res, 422, "validation_failed").await;
        assert!(
            problem["errors"][field].is_array(),
            "rows {rows}: expected errors[\"{field}\"] in {problem}"
        );
    }
    assert_invalid(
        app.post_json(
            &path,
            Some(&token),
            json!({"rows": [{"label": "A", "seats": 5, "class": "standard"}]}),
        )
        .await,
        "name",
    )
    .await;
    assert_problem(
        app.post_json(
            &path,
            Some(&token),
            json!({"name": "Typed", "rows": [{"label": "A", "seats": "5", "class": "standard"}]}),
        )
        .await,
        400,
        "bad_request",
    )
    .await;
    assert_problem(
        app.post_json(
            &path,
            Some(&token),
            json!({"name": "Smuggled", "chain_id": chain, "rows": [{"label": "A", "seats": 5, "class": "standard"}]}),
        )
        .await,
        400,
        "bad_request",
    )
    .await;
    let list = app.get_ok(&path, None).await;
    assert_eq!(list, json!({"items": [], "next_cursor": null}));
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn screens_are_listed_without_seats(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, token) = app.approved_owner("Owner").await;
    let chain = app.chain(&token, "List").await;
    let theatre = app.theatre(&token, &chain).await;
    let one = app.screen(&token, &theatre).await;
    let two = app.screen(&token, &theatre).await;
    let list = app
        .get_ok(&format!("/theatres/{theatre}/screens"), None)
        .await;
    assert_eq!(sorted(ids(&list)), sorted(vec![one.clone(), two]));
    assert!(list["next_cursor"].is_null());
    for item in list["items"].as_array().expect("items") {
        assert_has_keys(item, &SCREEN_KEYS);
        assert!(
            item.get("seats").is_none(),
            "list items carry no seats: {item}"
        );
        assert_eq!(item["capacity"], SCREEN_CAPACITY);
    }
    let screen = app.get_ok(&format!("/screens/{one}"), None).await;
    assert_eq!(screen["seats"].as_array().expect("seats").len(), 18);
    assert_eq!(screen["capacity"], SCREEN_CAPACITY);

    assert_problem(
        app.get_auth(&format!("/screens/{}", uuid::Uuid::now_v7()), None)
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_auth(&format!("/theatres/{}/screens", uuid::Uuid::now_v7()), None)
            .await,
        404,
        "not_found",
    )
    .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn creating_a_screen_needs_a_member_of_the_theatres_chain(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_, a) = app.approved_owner("Alpha").await;
    let (_, b) = app.approved_owner("Beta").await;
    let (_, customer) = app.customer("Cust").await;
    let chain_a = app.chain(&a, "A").await;
    let _chain_b = app.chain(&b, "B").await;
    let theatre = app.theatre(&a, &chain_a).await;
    let path = format!("/theatres/{theatre}/screens");
    let body = screen_body("Screen 9");
    assert_problem(
        app.post_json(&path, None, body.clone()).await,
        401,
        "unauthorized",
    )
    .await;
    assert_problem(
        app.post_json(&path, Some(&customer), body.clone()).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.post_json(&path, Some(&b), body.clone()).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.post_json(
            &format!("/theatres/{}/screens", uuid::Uuid::now_v7()),
            Some(&a),
            body.clone(),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let admin = app.admin_token().await;
    expect_json(app.post_json(&path, Some(&admin), body).await, 201).await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// Shows

#[sqlx::test(migrations = "../migrations")]
async fn creating_a_show_returns_every_field(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Shows").await;
    let starts = base_time(7);
    let show = app.show(&v.token, &v.screen_id, &v.movie_id, starts).await;
    assert_has_keys(&show, &SHOW_KEYS);
    assert_eq!(show["chain_id"], v.chain_id);
    assert_eq!(show["theatre_id"], v.theatre_id);
    assert_eq!(show["screen_id"], v.screen_id);
    assert_eq!(show["movie_id"], v.movie_id);
    assert_eq!(parse_time(&show["starts_at"]), starts);
    assert_eq!(
        parse_time(&show["ends_at"]),
        starts + Duration::minutes(120)
    );
    assert_eq!(show["format"], "2D");
    assert_eq!(show["currency"], "INR");
    assert_eq!(show["prices"], prices());
    assert_eq!(show["status"], "scheduled");
    assert_eq!(show["seats_available"], SCREEN_CAPACITY);

    let got = app
        .get_ok(&format!("/shows/{}", s(&show, "id")), None)
        .await;
    assert_eq!(got, show);

    let mut body = show_body(&v.screen_id, &v.movie_id, starts + Duration::hours(5));
    body["format"] = json!("IMAX");
    let imax = expect_json(app.post_json("/shows", Some(&v.token), body).await, 201).await;
    assert_eq!(imax["format"], "IMAX");

    let admin = app.admin_token().await;
    let mut body = show_body(&v.screen_id, &v.movie_id, starts + Duration::hours(10));
    body["format"] = json!("3D");
    let three_d = expect_json(app.post_json("/shows", Some(&admin), body).await, 201).await;
    assert_eq!(three_d["format"], "3D");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_show_needs_the_movie_now_showing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("NotShowing").await;
    let other = app.movie(&v.token).await;
    let res = app
        .post_json(
            "/shows",
            Some(&v.token),
            show_body(&v.screen_id, &other, base_time(7)),
        )
        .await;
    assert_problem(res, 422, "movie_not_showing").await;
    // Once added to the list, it can be scheduled.
    app.now_showing(&v.token, &v.theatre_id, &other).await;
    app.show(&v.token, &v.screen_id, &other, base_time(7)).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn creating_a_show_validates_time_prices_and_format(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Validate").await;
    let starts = base_time(7);
    let body = show_body(&v.screen_id, &v.movie_id, starts);

    let mut past = body.clone();
    past["starts_at"] = json!(rfc3339(chrono::Utc::now() - Duration::hours(1)));
    assert_invalid(
        app.post_json("/shows", Some(&v.token), past).await,
        "starts_at",
    )
    .await;

    let mut negative = body.clone();
    negative["prices"] = json!({"standard": -1, "premium": 40000});
    let problem = assert_problem(
        app.post_json("/shows", Some(&v.token), negative).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        problem["errors"]
            .as_object()
            .is_some_and(|e| e.keys().any(|k| k.starts_with("prices"))),
        "{problem}"
    );

    let mut missing_class = body.clone();
    missing_class["prices"] = json!({"standard": 25000});
    let problem = assert_problem(
        app.post_json("/shows", Some(&v.token), missing_class).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        problem["errors"]
            .as_object()
            .is_some_and(|e| e.keys().any(|k| k.starts_with("prices"))),
        "{problem}"
    );

    let mut format = body.clone();
    format["format"] = json!("4D");
    assert_invalid(
        app.post_json("/shows", Some(&v.token), format).await,
        "format",
    )
    .await;

    for missing in ["screen_id", "movie_id", "starts_at", "prices"] {
        let mut b = body.clone();
        b.as_object_mut().expect("object").remove(missing);
        assert_invalid(app.post_json("/shows", Some(&v.token), b).await, missing).await;
    }

    let mut not_a_time = body.clone();
    not_a_time["starts_at"] = json!("next tuesday");
    let res = app.post_json("/shows", Some(&v.token), not_a_time).await;
    let status = res.status().as_u16();
    assert!(
        status == 400 || status == 422,
        "a non-RFC 3339 starts_at is a client error, got {status}"
    );

    let mut smuggled = body.clone();
    smuggled["status"] = json!("cancelled");
    assert_problem(
        app.post_json("/shows", Some(&v.token), smuggled).await,
        400,
        "bad_request",
    )
    .await;

    let list = app
        .get_ok(&format!("/shows?theatre_id={}", v.theatre_id), None)
        .await;
    assert_eq!(list["items"], json!([]));
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn creating_a_show_needs_a_member_of_the_screens_chain(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Mine").await;
    let (_, b) = app.approved_owner("Beta").await;
    let _chain_b = app.chain(&b, "B").await;
    let (_, customer) = app.customer("Cust").await;
    let (_, _, pending) = app.pending_owner("Pending").await;
    let body = show_body(&v.screen_id, &v.movie_id, base_time(7));
    assert_problem(
        app.post_json("/shows", None, body.clone()).await,
        401,
        "unauthorized",
    )
    .await;
    for t in [&customer, &pending] {
        assert_problem(
            app.post_json("/shows", Some(t), body.clone()).await,
            403,
            "forbidden",
        )
        .await;
    }
    assert_problem(
        app.post_json("/shows", Some(&b), body.clone()).await,
        404,
        "not_found",
    )
    .await;
    let mut unknown_screen = body.clone();
    unknown_screen["screen_id"] = json!(uuid::Uuid::now_v7());
    assert_problem(
        app.post_json("/shows", Some(&v.token), unknown_screen)
            .await,
        404,
        "not_found",
    )
    .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn shows_on_one_screen_may_not_overlap(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Overlap").await;
    let t = base_time(7);
    // Runtime 120 + 15 minutes of cleaning: the screen is busy over [t, t + 135 min).
    app.show(&v.token, &v.screen_id, &v.movie_id, t).await;
    for minutes in [0, 60, 134, -60, -134] {
        let res = app
            .post_json(
                "/shows",
                Some(&v.token),
                show_body(&v.screen_id, &v.movie_id, t + Duration::minutes(minutes)),
            )
            .await;
        let problem = assert_problem(res, 409, "screen_busy").await;
        assert!(problem.get("errors").is_none(), "{problem}");
    }
    // Exactly at the end of the buffer, and ending exactly when the first starts: fine.
    app.show(
        &v.token,
        &v.screen_id,
        &v.movie_id,
        t + Duration::minutes(135),
    )
    .await;
    app.show(
        &v.token,
        &v.screen_id,
        &v.movie_id,
        t - Duration::minutes(135),
    )
    .await;
    // Another screen in the same theatre is free at the same time.
    let other_screen = app.screen(&v.token, &v.theatre_id).await;
    app.show(&v.token, &other_screen, &v.movie_id, t).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn concurrent_overlapping_shows_create_exactly_one(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Race").await;
    let t = base_time(7);
    let first = show_body(&v.screen_id, &v.movie_id, t);
    let second = show_body(&v.screen_id, &v.movie_id, t + Duration::minutes(30));
    let (r1, r2) = tokio::join!(
        app.post_json("/shows", Some(&v.token), first),
        app.post_json("/shows", Some(&v.token), second),
    );
    let mut statuses = [r1.status().as_u16(), r2.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "one created, one refused");
    let loser = if r1.status().as_u16() == 409 { r1 } else { r2 };
    assert_problem(loser, 409, "screen_busy").await;
    let list = app
        .get_ok(&format!("/shows?theatre_id={}", v.theatre_id), None)
        .await;
    assert_eq!(list["items"].as_array().expect("items").len(), 1);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn shows_are_listed_and_filtered_publicly(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Filters").await;
    let chennai = s(
        &app.theatre_with(&v.token, theatre_body(&v.chain_id, "Marina", "Chennai"))
            .await,
        "id",
    );
    let chennai_screen = app.screen(&v.token, &chennai).await;
    let other_movie = app.movie(&v.token).await;
    app.now_showing(&v.token, &chennai, &other_movie).await;

    let t = base_time(7);
    let s1 = s(
        &app.show(&v.token, &v.screen_id, &v.movie_id, t).await,
        "id",
    );
    let s2 = s(
        &app.show(&v.token, &v.screen_id, &v.movie_id, t + Duration::hours(5))
            .await,
        "id",
    );
    let s3 = s(
        &app.show(
            &v.token,
            &chennai_screen,
            &other_movie,
            t + Duration::hours(2),
        )
        .await,
        "id",
    );

    let all = app.get_ok("/shows", None).await;
    assert_eq!(
        sorted(ids(&all)),
        sorted(vec![s1.clone(), s2.clone(), s3.clone()])
    );
    let theatre = app
        .get_ok(&format!("/shows?theatre_id={}", v.theatre_id), None)
        .await;
    assert_eq!(sorted(ids(&theatre)), sorted(vec![s1.clone(), s2.clone()]));
    let movie = app
        .get_ok(&format!("/shows?movie_id={other_movie}"), None)
        .await;
    assert_eq!(ids(&movie), vec![s3.clone()]);
    let city = app.get_ok("/shows?city=Chennai", None).await;
    assert_eq!(ids(&city), vec![s3.clone()]);
    let window = app
        .get_ok(
            &format!(
                "/shows?from={}&to={}",
                rfc3339(t + Duration::hours(1)),
                rfc3339(t + Duration::hours(6))
            ),
            None,
        )
        .await;
    assert_eq!(sorted(ids(&window)), sorted(vec![s2.clone(), s3.clone()]));
    let from = app
        .get_ok(
            &format!("/shows?from={}", rfc3339(t + Duration::hours(3))),
            None,
        )
        .await;
    assert_eq!(ids(&from), vec![s2.clone()]);
    let combined = app
        .get_ok(
            &format!(
                "/shows?theatre_id={}&to={}",
                v.theatre_id,
                rfc3339(t + Duration::hours(1))
            ),
            None,
        )
        .await;
    assert_eq!(ids(&combined), vec![s1.clone()]);

    let empty = app
        .get_ok(&format!("/shows?theatre_id={}", uuid::Uuid::now_v7()), None)
        .await;
    assert_eq!(empty, json!({"items": [], "next_cursor": null}));
    assert_problem(
        app.get_auth("/shows?from=yesterday", None).await,
        400,
        "bad_request",
    )
    .await;
    assert_problem(
        app.get_auth("/shows?theatre_id=12", None).await,
        400,
        "bad_request",
    )
    .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_shows_seats_carry_class_state_and_price(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Seats").await;
    let show = app
        .show(&v.token, &v.screen_id, &v.movie_id, base_time(7))
        .await;
    let id = s(&show, "id");
    let seats = app.get_ok(&format!("/shows/{id}/seats"), None).await;
    assert_eq!(seats["show_id"], id);
    let items = seats["items"].as_array().expect("items");
    assert_eq!(items.len(), 18);
    assert_eq!(
        items[6],
        json!({"id": "A-7", "row": "A", "number": 7, "class": "standard", "state": "available", "price_minor": 25000})
    );
    let b3 = items.iter().find(|i| i["id"] == "B-3").expect("B-3");
    assert_eq!(b3["class"], "premium");
    assert_eq!(b3["state"], "available");
    assert_eq!(b3["price_minor"], 40000);
    for blocked in ["B-7", "B-8"] {
        let seat = items.iter().find(|i| i["id"] == blocked).expect("seat");
        assert_eq!(seat["state"], "blocked", "{seat}");
    }
    let available = items.iter().filter(|i| i["state"] == "available").count();
    assert_eq!(available as u64, SCREEN_CAPACITY);
    assert_problem(
        app.get_auth(&format!("/shows/{}/seats", uuid::Uuid::now_v7()), None)
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_auth(&format!("/shows/{}", uuid::Uuid::now_v7()), None)
            .await,
        404,
        "not_found",
    )
    .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_member_patches_a_show(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Patch").await;
    let t = base_time(7);
    let show = app.show(&v.token, &v.screen_id, &v.movie_id, t).await;
    let blocker = app
        .show(&v.token, &v.screen_id, &v.movie_id, t + Duration::hours(6))
        .await;
    let path = format!("/shows/{}", s(&show, "id"));

    let moved = t + Duration::hours(1);
    let res = app
        .patch_json(
            &path,
            Some(&v.token),
            json!({"starts_at": rfc3339(moved), "prices": {"standard": 30000, "premium": 0}, "format": "3D"}),
        )
        .await;
    let patched = expect_json(res, 200).await;
    assert_eq!(parse_time(&patched["starts_at"]), moved);
    assert_eq!(
        parse_time(&patched["ends_at"]),
        moved + Duration::minutes(120)
    );
    assert_eq!(patched["prices"], json!({"standard": 30000, "premium": 0}));
    assert_eq!(patched["format"], "3D");
    assert_eq!(patched["movie_id"], v.movie_id);
    assert_eq!(app.get_ok(&path, None).await, patched);

    // Moving onto the other show is refused.
    let res = app
        .patch_json(
            &path,
            Some(&v.token),
            json!({"starts_at": rfc3339(parse_time(&blocker["starts_at"]) - Duration::minutes(30))}),
        )
        .await;
    assert_problem(res, 409, "screen_busy").await;
    let res = app
        .patch_json(
            &path,
            Some(&v.token),
            json!({"starts_at": rfc3339(chrono::Utc::now() - Duration::hours(2))}),
        )
        .await;
    assert_invalid(res, "starts_at").await;
    let other_movie = app.movie(&v.token).await;
    assert_problem(
        app.patch_json(&path, Some(&v.token), json!({"movie_id": other_movie}))
            .await,
        400,
        "bad_request",
    )
    .await;
    assert_problem(
        app.patch_json(&path, Some(&v.token), json!({"screen_id": v.screen_id}))
            .await,
        400,
        "bad_request",
    )
    .await;
    assert_problem(
        app.patch_json(&path, Some(&v.token), json!({"format": "4D"}))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.patch_json(&path, None, json!({"format": "2D"})).await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(app.get_ok(&path, None).await, patched);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_member_deletes_a_show(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Delete").await;
    let t = base_time(7);
    let show = app.show(&v.token, &v.screen_id, &v.movie_id, t).await;
    let path = format!("/shows/{}", s(&show, "id"));
    assert_problem(app.delete(&path, None).await, 401, "unauthorized").await;
    expect_status(app.delete(&path, Some(&v.token)).await, 204).await;
    assert_problem(app.get_auth(&path, None).await, 404, "not_found").await;
    assert_problem(app.delete(&path, Some(&v.token)).await, 404, "not_found").await;
    // The slot is free again.
    app.show(&v.token, &v.screen_id, &v.movie_id, t).await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn another_chains_owner_cannot_touch_screens_shows_or_lists(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let a = app.venue("Alpha").await;
    let b = app.venue("Beta").await;
    let show = app
        .show(&a.token, &a.screen_id, &a.movie_id, base_time(7))
        .await;
    let show_path = format!("/shows/{}", s(&show, "id"));

    // B's token on A's things: all 404.
    assert_problem(
        app.post_json(
            &format!("/theatres/{}/screens", a.theatre_id),
            Some(&b.token),
            screen_body("Intruder"),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.post_json(
            "/shows",
            Some(&b.token),
            show_body(&a.screen_id, &a.movie_id, base_time(8)),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // B's movie is showing at B's theatre, but the screen is A's.
    assert_problem(
        app.post_json(
            "/shows",
            Some(&b.token),
            show_body(&a.screen_id, &b.movie_id, base_time(8)),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.patch_json(&show_path, Some(&b.token), json!({"format": "IMAX"}))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.delete(&show_path, Some(&b.token)).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.post_json(
            &format!("/theatres/{}/movies", a.theatre_id),
            Some(&b.token),
            json!({"movie_ids": [b.movie_id]}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.delete(
            &format!("/theatres/{}/movies/{}", a.theatre_id, a.movie_id),
            Some(&b.token),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_auth(&format!("/chains/{}/members", a.chain_id), Some(&b.token))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.patch_json(
            &format!("/theatres/{}", a.theatre_id),
            Some(&b.token),
            json!({"name": "Taken"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.delete(&format!("/theatres/{}", a.theatre_id), Some(&b.token))
            .await,
        404,
        "not_found",
    )
    .await;

    // Nothing of A's changed.
    let after = app.get_ok(&show_path, None).await;
    assert_eq!(after, show);
    let list = app
        .get_ok(&format!("/theatres/{}/movies", a.theatre_id), None)
        .await;
    assert_eq!(ids(&list), vec![a.movie_id.clone()]);
    let screens = app
        .get_ok(&format!("/theatres/{}/screens", a.theatre_id), None)
        .await;
    assert_eq!(ids(&screens), vec![a.screen_id.clone()]);
    let theatre = app
        .get_ok(&format!("/theatres/{}", a.theatre_id), None)
        .await;
    assert_ne!(theatre["name"], "Taken");
    app.stop().await;
}
