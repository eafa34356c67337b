//! Background jobs stay bounded per run however much is due (issue 18 item 6): the expiry
//! job records at most its bound of lapsed holds in one run, in transactions of its batch,
//! and the next run goes on. (The sweeper's bound: `mail::a_sweep_stops_at_its_bound_…`.)

use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::client::{expire_hold, s};

#[sqlx::test(migrations = "../migrations")]
async fn the_expiry_job_records_at_most_its_bound_per_run_and_the_next_run_goes_on(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Bounded").await;
    let mut ids = Vec::new();
    for (i, seat) in ["A-1", "A-2", "A-3", "A-4", "A-5"].iter().enumerate() {
        let (_, customer) = app.customer(&format!("Cust {i}")).await;
        let booking = app.hold(&customer, &b.show_id, &[seat]).await;
        ids.push(s(&booking, "id"));
    }
    // The app's own expiry job must not take part: stopped before the holds lapse.
    app.stop().await;
    for id in &ids {
        expire_hold(&pool, id).await;
    }
    // Batches of 2, at most 3 per run: 2 + 1, then 2, then nothing.
    let mut runs = Vec::new();
    for _ in 0..3 {
        runs.push(
            cineflow::domain::bookings::expire_due_at_most(&pool, 2, 3)
                .await
                .expect("expire"),
        );
    }
    assert_eq!(runs, vec![3, 2, 0]);
    let (expired, emails): (i64, i64) = sqlx::query_as(
        "select (select count(*) from bookings where status = 'expired'),
                (select count(*) from notifications where kind = 'booking-expired')",
    )
    .fetch_one(&pool)
    .await
    .expect("counts");
    assert_eq!(
        (expired, emails),
        (5, 5),
        "each hold recorded once, one email each"
    );
}
