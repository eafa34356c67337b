//! Component decisions and failures on the booking path: a refusal is 422 `rule_violation`
//! with the component's reason; a trap, a runaway loop or an invalid quote fails closed with
//! 503 `plugin_unavailable` and takes no seat.

use cineflow::plugins::Limits;
use sqlx::PgPool;

use crate::support::app::{TestApp, config};
use crate::support::client::assert_problem;
use crate::support::components_dir;

/// An app whose platform pricing component is the hostile guest `pricing`.
async fn app_with_pricing(pool: PgPool, pricing: &str) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    for hook in ["booking-rules", "notify-templates", "seat-picker"] {
        std::fs::copy(
            components_dir().join(format!("{hook}.wasm")),
            dir.path().join(format!("{hook}.wasm")),
        )
        .expect("copy default");
    }
    std::fs::copy(
        components_dir().join(format!("hostile/{pricing}.wasm")),
        dir.path().join("pricing.wasm"),
    )
    .expect("copy hostile");
    let mut config = config(Limits::default());
    config.components_dir = dir.path().to_path_buf();
    (TestApp::spawn_config(pool, config).await, dir)
}

async fn fails_closed(pool: PgPool, pricing: &str) {
    let (app, _dir) = app_with_pricing(pool.clone(), pricing).await;
    let show = app.bookable("Hostile Pricing Cinemas").await;
    let (_, token) = app.customer("Mina").await;
    let res = app.try_hold(&token, &show.show_id, &["A-1", "A-2"]).await;
    let body = assert_problem(res, 503, "plugin_unavailable").await;
    assert!(
        body["detail"].as_str().unwrap_or("").contains("pricing"),
        "{body}"
    );
    let taken: i64 = sqlx::query_scalar("select count(*) from booking_seats")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(taken, 0, "a failed component takes no seat");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_trapping_pricing_component_is_503_and_takes_no_seat(pool: PgPool) {
    fails_closed(pool, "panic").await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_looping_pricing_component_is_503_and_takes_no_seat(pool: PgPool) {
    fails_closed(pool, "loop").await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_invalid_quote_is_503_and_takes_no_seat(pool: PgPool) {
    fails_closed(pool, "bad-quote").await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_refusal_is_422_with_the_components_reason(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let show = app.bookable("Refusing Cinemas").await;
    let (_, token) = app.customer("Ravi").await;
    let seats = [
        "A-1", "A-2", "A-3", "A-4", "A-5", "A-6", "A-7", "A-8", "A-9", "A-10", "B-1",
    ];
    let res = app.try_hold(&token, &show.show_id, &seats).await;
    let body = assert_problem(res, 422, "rule_violation").await;
    assert!(
        body["detail"].as_str().unwrap_or("").contains("10"),
        "{body}"
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_refused_hold_is_in_the_chains_audit_trail(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let show = app.bookable("Audited Cinemas").await;
    let (_, token) = app.customer("Ira").await;
    let res = app
        .post_json(
            "/bookings",
            Some(&token),
            serde_json::json!({ "show_id": show.show_id, "seat_ids": ["A-1"], "promo_code": "FREE" }),
        )
        .await;
    // No voucher of the chain has the code, and pricing refused it.
    assert_problem(res, 422, "voucher_unknown").await;
    let trail = app
        .get_ok(
            &format!("/chains/{}/audit", show.venue.chain_id),
            Some(&show.venue.token),
        )
        .await;
    let items = trail["items"].as_array().expect("items");
    let refusal = items
        .iter()
        .find(|e| e["detail"]["refused"] == "unknown promo code")
        .unwrap_or_else(|| panic!("no refusal in {trail}"));
    assert_eq!(refusal["hook"], "pricing");
    assert_eq!(refusal["kind"], "decision");
    assert!(refusal["booking_id"].is_null());
    assert_eq!(refusal["component_id"].as_str().map(str::len), Some(64));
    assert!(refusal["fuel_used"].as_i64().unwrap_or(0) > 0);
    // Customers cannot read a chain's trail.
    let res = app
        .get_auth(
            &format!("/chains/{}/audit", show.venue.chain_id),
            Some(&token),
        )
        .await;
    assert_eq!(res.status(), 403);
    app.stop().await;
}
