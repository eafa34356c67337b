//! The demo data of the run command: the catalogue and accounts, and a cinema in use (the
//! README's demo paragraph lists what a newcomer signed in as the demo owner finds).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::components_dir;

/// Every table the demo writes to, and rows it counts.
const TABLES: [&str; 24] = [
    "users",
    "chains",
    "chain_members",
    "theatres",
    "screens",
    "seats",
    "movies",
    "theatre_movies",
    "shows",
    "bookings",
    "booking_seats",
    "payments",
    "booking_audit",
    "tickets",
    "checkin_scans",
    "waitlist_entries",
    "vouchers",
    "gift_cards",
    "gift_card_movements",
    "chain_components",
    "bindings",
    "component_audit",
    "component_runs",
    "replays",
];

async fn counts(pool: &PgPool) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for table in TABLES {
        out.push((
            table,
            count(pool, &format!("select count(*) from {table}")).await,
        ));
    }
    out
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn load(app: &TestApp) -> Duration {
    let started = Instant::now();
    cineflow::demo::load(&app.state, Duration::from_secs(15 * 60), &components_dir())
        .await
        .expect("demo data loads");
    started.elapsed()
}

/// The replay the demo queued, once the app's replay worker has finished it.
async fn finished_replay(pool: &PgPool) -> (String, i32, i32, i64, i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let row: Option<(String, i32, i32, i64, i64)> = sqlx::query_as(
            "select status, total, done, revenue_before_minor, revenue_after_minor from replays",
        )
        .fetch_optional(pool)
        .await
        .expect("replays");
        if let Some(row) = &row
            && row.0 != "queued"
            && row.0 != "running"
        {
            return row.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the demo's replay did not finish: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn demo_data_loads_twice_harmlessly_and_its_accounts_work(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let first_load = load(&app).await;
    let (status, total, done, before, after) = finished_replay(&pool).await;
    assert_eq!(status, "done", "the replay finished");
    assert!(
        total > 0 && done == total,
        "it replayed the recorded calls: {done}/{total}"
    );
    assert_ne!(
        before, after,
        "the newer pricing changes the revenue: {before} -> {after}"
    );
    // The run log is written off the request path: let the last records land.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let first = counts(&pool).await;

    // The coming week: shows with bookings of every kind.
    let upcoming = "from bookings b join shows s on s.id = b.show_id where s.starts_at > now()";
    let confirmed = count(
        &pool,
        &format!("select count(*) {upcoming} and b.status = 'confirmed'"),
    )
    .await;
    assert!(
        confirmed >= 13,
        "confirmed bookings of coming shows: {confirmed}"
    );
    let partly =
        format!("select count(*) {upcoming} and b.status = 'confirmed' and b.refund_minor > 0");
    assert_eq!(
        count(&pool, &partly).await,
        1,
        "one booking partly cancelled"
    );
    let cancelled = format!("select count(*) {upcoming} and b.status = 'cancelled'");
    assert_eq!(count(&pool, &cancelled).await, 1, "one cancelled in full");
    let held = format!("select count(*) {upcoming} and b.status = 'held' and b.expires_at > now()");
    assert_eq!(count(&pool, &held).await, 1, "one held, unpaid");
    let voucher = format!("select count(*) {upcoming} and b.voucher_id is not null");
    assert_eq!(count(&pool, &voucher).await, 1, "one redeems a voucher");
    assert_eq!(
        count(
            &pool,
            "select count(*) from payments where gift_card_minor > 0"
        )
        .await,
        1,
        "one is paid with a gift card"
    );
    assert_eq!(count(&pool, "select count(*) from vouchers").await, 2);
    assert_eq!(count(&pool, "select count(*) from gift_cards").await, 2);
    assert_eq!(
        count(&pool, "select count(*) from tickets where status = 'used'").await,
        4,
        "tickets checked in"
    );
    let waiting = count(
        &pool,
        "select count(*) from waitlist_entries where status = 'waiting'",
    )
    .await;
    assert_eq!(waiting, 3, "a waiting list for the sold-out VIP row");
    let vip_left = count(
        &pool,
        "select count(*) from seats se join waitlist_entries w on w.status = 'waiting'
           join shows s on s.id = w.show_id and s.screen_id = se.screen_id
         where se.class = 'vip' and not se.blocked and not exists (
           select 1 from booking_seats bs where bs.show_id = s.id and bs.seat_id = se.id
             and bs.taken_until > now())",
    )
    .await;
    assert_eq!(vip_left, 0, "the waited-for show's VIP seats are all sold");
    // The seats tests/api/binary.rs books on the first show a day ahead stay free everywhere.
    assert_eq!(
        count(
            &pool,
            &format!("select count(*) {upcoming} and b.seats && array['C-5', 'C-6', 'D-3']")
        )
        .await,
        0
    );

    // The platform's own feature: two versions of a pricing component, the newer bound, both
    // with recorded runs, the older still there to roll back to.
    let pricing: Vec<(String, bool)> = sqlx::query_as(
        "select c.component_id, exists(select 1 from bindings b where b.chain_id = c.chain_id
             and b.hook = 'pricing' and b.component_id = c.component_id)
         from chain_components c where c.hook = 'pricing' order by c.uploaded_at",
    )
    .fetch_all(&pool)
    .await
    .expect("pricing components");
    assert_eq!(pricing.len(), 2, "two versions uploaded: {pricing:?}");
    assert!(
        !pricing[0].1 && pricing[1].1,
        "the newer is bound: {pricing:?}"
    );
    for (id, _) in &pricing {
        let runs = count(
            &pool,
            &format!("select count(*) from component_runs where component_id = '{id}'"),
        )
        .await;
        assert!(runs > 0, "recorded runs of {id}");
    }
    let bound = count(
        &pool,
        "select count(*) from component_audit where kind = 'bound' and hook = 'pricing'",
    )
    .await;
    assert_eq!(bound, 2, "bound to the older, then to the newer");

    // Past sales: bookings paid on each of the last 30 days, a few refunded.
    let days = count(
        &pool,
        "select count(distinct (created_at at time zone 'Asia/Kolkata')::date) from payments
         where created_at < date_trunc('day', now() at time zone 'Asia/Kolkata')
           at time zone 'Asia/Kolkata'",
    )
    .await;
    assert_eq!(days, 30, "sales on each of the last 30 days");
    assert!(
        count(
            &pool,
            "select count(*) from payments where status = 'refunded'"
        )
        .await
            >= 4
    );

    // Loading again adds nothing, and quickly.
    let second_load = load(&app).await;
    assert_eq!(counts(&pool).await, first, "a second load adds nothing");
    eprintln!("demo load: first {first_load:?}, second {second_load:?}");
    assert!(
        second_load < Duration::from_secs(5),
        "a second load is quick: {second_load:?}"
    );

    // The demo movies belong to the demo chain (the one chain), so the demo owner edits them;
    // also when they were loaded before movies had owners.
    let unowned: i64 = sqlx::query_scalar(
        "select count(*) from movies where chain_id is distinct from (select id from chains)",
    )
    .fetch_one(&pool)
    .await
    .expect("unowned movies");
    assert_eq!(unowned, 0, "every demo movie is the demo chain's");
    sqlx::query("update movies set chain_id = null")
        .execute(&pool)
        .await
        .expect("as before migration 0008");
    load(&app).await;
    let unowned: i64 = sqlx::query_scalar("select count(*) from movies where chain_id is null")
        .fetch_one(&pool)
        .await
        .expect("unowned movies");
    assert_eq!(
        unowned, 0,
        "a load gives platform demo movies to the demo chain"
    );
    assert_eq!(counts(&pool).await, first, "and adds nothing");

    let shows = count(&pool, "select count(*) from shows where starts_at > now()").await;
    assert!((30..=42).contains(&shows), "about a week of shows: {shows}");
    for (email, password) in [cineflow::demo::OWNER, cineflow::demo::CUSTOMER] {
        let res = app
            .client
            .post(app.url("/api/v1/auth/signin"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), 200, "{email}");
    }
    let page: Value = app
        .get("/api/v1/shows?city=bengaluru&limit=200")
        .await
        .json()
        .await
        .expect("json");
    let items = page["items"].as_array().expect("items");
    // The listing has no default start: the month of past late shows is in it too (last).
    let all = count(&pool, "select count(*) from shows").await;
    assert_eq!(items.len() as i64, all);
    let first_start: chrono::DateTime<chrono::Utc> = items[0]["starts_at"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("starts_at");
    assert!(
        first_start > chrono::Utc::now(),
        "the first listed show is a coming one"
    );
    let seats: Value = app
        .get(&format!(
            "/api/v1/shows/{}/seats",
            items[0]["id"].as_str().expect("id")
        ))
        .await
        .json()
        .await
        .expect("json");
    assert!(seats["items"].as_array().is_some_and(|s| s.len() > 50));
    app.stop().await;
}
