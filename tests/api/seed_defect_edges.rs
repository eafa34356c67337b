//! The parts of the seed-defect fixes (docs/original-system.md) that the row tests in
//! `seed_defects`, `bookings` and `mail` do not reach: the per-client signin limit, start-up
//! without a JWT secret, the expiry timer, theatres in use, the state-machine trigger itself,
//! paying zero, and one event queued twice (docs/SECURITY.md lists each gap these close).

use std::time::{Duration, Instant};

use cineflow::app::App;
use cineflow::config::DatabaseSource;
use cineflow::db::outbox::{self, OutboxEvent};
use cineflow::domain::hook_io::EventKind;
use cineflow::plugins::Limits;
use serde_json::json;
use sqlx::PgPool;

use crate::support::app::{TestApp, config};
use crate::support::client::{
    assert_problem, base_time, email, expect_json, expire_hold, s, show_body, uuid_of,
};
use crate::support::database_url_for;

// ---------------------------------------------------------------------------------------
// S6: password spraying from one address is limited, not only guessing one account

#[sqlx::test(migrations = "../migrations")]
async fn s6_one_client_trying_many_emails_is_rate_limited(pool: PgPool) {
    let mut cfg = config(Limits::default());
    // A generous per-email budget: only the per-client one can trip.
    cfg.signin_limits = (1000, 3);
    let app = TestApp::spawn_config(pool, cfg).await;
    for _ in 0..3 {
        let res = app
            .post_json(
                "/auth/signin",
                None,
                json!({"email": email("spray"), "password": "Not-The-Password-1"}),
            )
            .await;
        assert_problem(res, 401, "invalid_credentials").await;
    }
    let res = app
        .post_json(
            "/auth/signin",
            None,
            json!({"email": email("spray"), "password": "Not-The-Password-1"}),
        )
        .await;
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    assert!(
        retry_after.is_some_and(|s| s >= 1),
        "429 carries Retry-After in seconds: {retry_after:?}"
    );
    assert_problem(res, 429, "rate_limited").await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// S7: no signing with an undefined secret

#[sqlx::test(migrations = "../migrations")]
async fn s7_without_a_jwt_secret_a_server_with_a_database_url_refuses_to_start(pool: PgPool) {
    let name: String = sqlx::query_scalar("select current_database()")
        .fetch_one(&pool)
        .await
        .expect("database name");
    let mut cfg = config(Limits::default());
    cfg.database = DatabaseSource::Url(database_url_for(&name));
    cfg.jwt_secret = None;
    let Err(err) = App::build(cfg).await else {
        panic!("the app started without a JWT secret");
    };
    let message = format!("{err:#}");
    assert!(
        message.contains("CINEFLOW_JWT_SECRET"),
        "the error names the variable: {message}"
    );
}

// ---------------------------------------------------------------------------------------
// C2: the expiry job runs by itself

#[sqlx::test(migrations = "../migrations")]
async fn c2_the_served_app_expires_a_lapsed_hold_without_being_asked(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Timer").await;
    let (_, customer) = app.customer("Late").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1"]).await;
    let id = s(&booking, "id");
    expire_hold(&pool, &id).await;
    // The job runs every 15 s; nothing in this test calls `expire_due`.
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let status: String = sqlx::query_scalar("select status from bookings where id = $1")
            .bind(uuid_of(&id))
            .fetch_one(&pool)
            .await
            .expect("booking status");
        if status == "expired" {
            break;
        }
        assert_eq!(status, "held", "only expiry may change this booking");
        assert!(
            Instant::now() < deadline,
            "the hold was not expired by the background job within 40 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let read = app.booking(&customer, &id).await;
    assert_eq!(read["status"], "expired");
    // The seat is free again.
    app.hold(&customer, &b.show_id, &["A-1"]).await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// C3: deleting a theatre never detaches bookings

#[sqlx::test(migrations = "../migrations")]
async fn c3_a_theatre_whose_show_has_bookings_cannot_be_deleted(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Kept").await;
    let (_, customer) = app.customer("Keeper").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1"]).await;
    app.pay(&customer, &booking).await;
    let res = app
        .delete(
            &format!("/theatres/{}", b.venue.theatre_id),
            Some(&b.venue.token),
        )
        .await;
    assert_problem(res, 409, "in_use").await;
    // Nothing was detached: the show and the paid booking are still there.
    app.get_ok(&format!("/shows/{}", b.show_id), None).await;
    let read = app.booking(&customer, &s(&booking, "id")).await;
    assert_eq!(read["status"], "confirmed");
    assert_eq!(read["show_id"], b.show_id.as_str());
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// C4: the state machine holds whoever writes

async fn set_status(pool: &PgPool, id: &str, status: &str) -> Result<u64, sqlx::Error> {
    sqlx::query("update bookings set status = $2 where id = $1")
        .bind(uuid_of(id))
        .bind(status)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
}

#[sqlx::test(migrations = "../migrations")]
async fn c4_the_trigger_refuses_illegal_transitions_written_directly(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Machine").await;
    let (_, customer) = app.customer("Writer").await;

    let confirmed = app.hold(&customer, &b.show_id, &["A-1"]).await;
    app.pay(&customer, &confirmed).await;
    let cancelled = app.hold(&customer, &b.show_id, &["A-2"]).await;
    expect_json(
        app.cancel_booking(Some(&customer), &s(&cancelled, "id"))
            .await,
        200,
    )
    .await;
    let expired = app.hold(&customer, &b.show_id, &["A-3"]).await;
    expire_hold(&pool, &s(&expired, "id")).await;
    cineflow::domain::bookings::expire_due(&pool)
        .await
        .expect("expiry runs");

    for (booking, to) in [
        (&confirmed, "held"),
        (&confirmed, "expired"),
        (&cancelled, "confirmed"),
        (&cancelled, "held"),
        (&expired, "confirmed"),
        (&expired, "held"),
    ] {
        let err = set_status(&pool, &s(booking, "id"), to)
            .await
            .expect_err("an illegal transition is refused");
        let db = err.as_database_error().expect("a database error");
        assert_eq!(
            db.constraint(),
            Some("bookings_transition_check"),
            "{} → {to}: {db}",
            booking["status"]
        );
    }
    // Legal moves still pass the trigger.
    let held = app.hold(&customer, &b.show_id, &["A-4"]).await;
    assert_eq!(
        set_status(&pool, &s(&held, "id"), "cancelled").await.ok(),
        Some(1)
    );
    assert_eq!(
        set_status(&pool, &s(&confirmed, "id"), "cancelled")
            .await
            .ok(),
        Some(1)
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// C8: zero is an amount, not a missing one

#[sqlx::test(migrations = "../migrations")]
async fn c8_a_free_booking_is_paid_with_amount_zero(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Gratis").await;
    let mut free = show_body(&v.screen_id, &v.movie_id, base_time(7));
    free["prices"] = json!({"standard": 0, "premium": 0});
    let show = expect_json(app.post_json("/shows", Some(&v.token), free).await, 201).await;
    let (_, customer) = app.customer("Free rider").await;
    let booking = app.hold(&customer, &s(&show, "id"), &["A-1"]).await;
    assert_eq!(booking["total_minor"], 0, "{booking}");
    let res = app
        .post_json(
            &format!("/bookings/{}/payments", s(&booking, "id")),
            Some(&customer),
            json!({"amount_minor": 0, "currency": booking["currency"], "card_token": "tok_visa"}),
        )
        .await;
    let payment = expect_json(res, 201).await;
    assert_eq!(payment["amount_minor"], 0);
    let read = app.booking(&customer, &s(&booking, "id")).await;
    assert_eq!(read["status"], "confirmed");
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// N3: one event queued twice is one email

#[sqlx::test(migrations = "../migrations")]
async fn n3_the_same_event_enqueued_twice_is_one_row(pool: PgPool) {
    let event = OutboxEvent {
        kind: EventKind::Custom,
        chain_id: None,
        recipients: vec!["twice@example.com".into()],
        fields: vec![("subject", "Once".into()), ("body", "Only once".into())],
        dedupe_key: Some("test-event:42".into()),
    };
    let mut conn = pool.acquire().await.expect("connection");
    let first = outbox::enqueue(&mut conn, &event)
        .await
        .expect("first enqueue");
    let second = outbox::enqueue(&mut conn, &event)
        .await
        .expect("second enqueue");
    assert!(first.is_some(), "the first enqueue queues a row");
    assert_eq!(second, None, "the second enqueue is a no-op");
    let rows: i64 =
        sqlx::query_scalar("select count(*) from notifications where dedupe_key = 'test-event:42'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(rows, 1);
}
