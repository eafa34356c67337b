//! What the platform's default components decide for holds, seen over HTTP: the pricing
//! component refuses promo codes (a code that is no voucher of the chain is then
//! `voucher_unknown`), the booking rules cap a hold at 10 seats and close a show
//! once it started. (Chain-uploaded components come with a later issue.)

use serde_json::json;
use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::client::{
    assert_problem, bookings_count, expect_json, hold_body, s, seat_ids, uuid_of,
};

#[sqlx::test(migrations = "../migrations")]
async fn the_default_pricing_refuses_any_promo_code_that_is_no_voucher(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Promo").await;
    let (_, customer) = app.customer("Cust").await;
    for code in ["SUMMER10", "x", " FREE "] {
        let mut body = hold_body(&b.show_id, &["A-1", "A-2"]);
        body["promo_code"] = json!(code);
        let problem = assert_problem(
            app.post_json("/bookings", Some(&customer), body).await,
            422,
            "voucher_unknown",
        )
        .await;
        assert!(
            s(&problem, "detail").contains("unknown promo code"),
            "{code}: the component's reason in {problem}"
        );
    }
    assert_eq!(bookings_count(&pool).await, 0);
    assert!(app.seats_in_state(&b.show_id, "held").await.is_empty());

    // No code (or an explicit null) is a normal hold.
    let mut body = hold_body(&b.show_id, &["A-1", "A-2"]);
    body["promo_code"] = json!(null);
    let booking = expect_json(app.post_json("/bookings", Some(&customer), body).await, 201).await;
    assert_eq!(booking["total_minor"], 50000);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_default_rules_allow_at_most_ten_seats(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Ten").await;
    let (_, customer) = app.customer("Cust").await;
    let eleven = [
        "A-1", "A-2", "A-3", "A-4", "A-5", "A-6", "A-7", "A-8", "A-9", "A-10", "B-1",
    ];
    let problem = assert_problem(
        app.try_hold(&customer, &b.show_id, &eleven).await,
        422,
        "rule_violation",
    )
    .await;
    assert!(
        s(&problem, "detail").contains("at most 10 seats"),
        "the component's reason in {problem}"
    );
    assert_eq!(bookings_count(&pool).await, 0);

    let ten = &eleven[1..];
    let booking = app.hold(&customer, &b.show_id, ten).await;
    assert_eq!(seat_ids(&booking).len(), 10);
    assert_eq!(booking["total_minor"], 9 * 25000 + 40000);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_show_that_started_takes_no_holds(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Started").await;
    let (_, customer) = app.customer("Cust").await;
    let earlier = app.hold(&customer, &b.show_id, &["A-1"]).await;
    sqlx::query(
        "update shows set starts_at = now() - interval '1 minute', \
         ends_at = now() + interval '1 hour', busy_until = now() + interval '2 hour' \
         where id = $1",
    )
    .bind(uuid_of(&b.show_id))
    .execute(&pool)
    .await
    .expect("start the show");

    assert_problem(
        app.try_hold(&customer, &b.show_id, &["A-2"]).await,
        409,
        "show_closed",
    )
    .await;
    assert_eq!(bookings_count(&pool).await, 1);
    // The earlier hold is untouched.
    let got = app.booking(&customer, &s(&earlier, "id")).await;
    assert_eq!(got["status"], "held");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_show_with_live_bookings_only_changes_format_and_cannot_be_deleted(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let show = app.bookable("Locked Show Cinemas").await;
    let (_, token) = app.customer("Noor").await;
    app.hold(&token, &show.show_id, &["A-1"]).await;
    let path = format!("/shows/{}", show.show_id);
    let owner = Some(show.venue.token.as_str());
    let res = app
        .patch_json(
            &path,
            owner,
            serde_json::json!({ "prices": { "standard": 1, "premium": 1 } }),
        )
        .await;
    crate::support::client::assert_problem(res, 409, "in_use").await;
    let res = app
        .patch_json(&path, owner, serde_json::json!({ "format": "3D" }))
        .await;
    let updated = crate::support::client::expect_json(res, 200).await;
    assert_eq!(updated["format"], "3D");
    let res = app.delete(&path, owner).await;
    crate::support::client::assert_problem(res, 409, "in_use").await;
    app.stop().await;
}
