//! Waiting lists across replicas (issue 16): seats freed at once through two replicas are
//! offered by both replicas' passes (each cancellation triggers one on the replica that served
//! it, and both sweepers run), yet every entry is offered at most once, every freed seat is
//! in at most one offer, and every offer is a hold of its own entry's customer.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::cluster::{Cluster, database_url_of, hold};
use crate::support::client::{doubly_taken_seats, s};

/// Offered (or booked) entries and their holds: `(entry, user, seat_count, booking)`.
async fn offers(pool: &PgPool) -> Vec<(Uuid, Uuid, i32, Uuid)> {
    sqlx::query_as(
        "select id, user_id, seat_count, booking_id from waitlist_entries \
         where booking_id is not null order by id",
    )
    .fetch_all(pool)
    .await
    .expect("offers")
}

#[sqlx::test(migrations = false)]
async fn two_replicas_offer_each_entry_once_and_each_freed_seat_once(pool: PgPool) {
    let _serial = crate::SERIAL.lock().await;
    const PAIRS: usize = 10;
    const WAITERS: usize = 24;
    // Each replica logs the offers it makes.
    let cluster = Cluster::start_same(
        &database_url_of(&pool),
        2,
        &[("RUST_LOG", "warn,cineflow::domain::waitlist=info")],
    )
    .await;
    let n = cluster.replicas.len();
    let venue = cluster.venue(0, 2, 10).await;
    let sellers = cluster.customers(PAIRS).await;
    let waiters = cluster.customers(WAITERS).await;

    // Sold out: ten holds of two neighbouring seats each.
    let mut held = Vec::new();
    for (i, seller) in sellers.iter().enumerate() {
        let row = if i < PAIRS / 2 { "A" } else { "B" };
        let first = 2 * (i % (PAIRS / 2)) + 1;
        let seats = vec![format!("{row}-{first}"), format!("{row}-{}", first + 1)];
        let booking = cluster
            .expect(
                i % n,
                Method::POST,
                "/bookings",
                Some(&seller.token),
                Some(hold(&venue.show_id, &seats)),
                201,
            )
            .await;
        held.push(s(&booking, "id"));
    }
    // The queue: one seat or two, joined through both replicas at once.
    let want = |i: usize| if i.is_multiple_of(3) { 1 } else { 2 };
    futures_util::future::join_all(waiters.iter().enumerate().map(|(i, w)| {
        let cluster = &cluster;
        let path = format!("/shows/{}/waitlist", venue.show_id);
        async move {
            cluster
                .expect(
                    i % n,
                    Method::POST,
                    &path,
                    Some(&w.token),
                    Some(json!({"seat_count": want(i)})),
                    201,
                )
                .await
        }
    }))
    .await;

    // Every seat frees at once, half the cancellations through each replica: each triggers
    // an offer pass on its replica, racing the other's and both sweepers.
    let started = Instant::now();
    futures_util::future::join_all(held.iter().zip(&sellers).enumerate().map(
        |(i, (booking, seller))| {
            let cluster = &cluster;
            async move {
                cluster
                    .expect(
                        i % n,
                        Method::POST,
                        &format!("/bookings/{booking}/cancel"),
                        Some(&seller.token),
                        Some(json!({})),
                        200,
                    )
                    .await
            }
        },
    ))
    .await;

    // Until the offers stop changing for longer than a sweep period.
    let mut last = 0;
    let mut stable_since = Instant::now();
    loop {
        let now = offers(&pool).await.len();
        if now != last {
            last = now;
            stable_since = Instant::now();
        }
        if stable_since.elapsed() > Duration::from_secs(7) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "offers never settled"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let made = offers(&pool).await;
    eprintln!(
        "{} offers of {WAITERS} entries settled in {:?}",
        made.len(),
        started.elapsed()
    );
    assert!(!made.is_empty(), "freed seats were offered");
    for replica in &cluster.replicas {
        eprintln!(
            "{} made {} offers",
            replica.name(),
            replica.log().matches("waiting-list offer made").count()
        );
    }

    // Each offer is a live hold of its entry's customer, of exactly the seats asked for, no
    // two offers share a customer or a seat, and no hold was made for an entry that was not
    // marked offered (a pass that lost the race rolled its hold back).
    let mut customers = BTreeSet::new();
    let mut seats_offered = BTreeSet::new();
    let waiter_ids: Vec<Uuid> = sqlx::query_scalar("select user_id from waitlist_entries")
        .fetch_all(&pool)
        .await
        .expect("waiters");
    for (entry, user, seat_count, booking) in &made {
        assert!(customers.insert(*user), "customer {user} offered twice");
        let (owner, status, seats): (Uuid, String, Vec<String>) =
            sqlx::query_as("select user_id, status, seats from bookings where id = $1")
                .bind(booking)
                .fetch_one(&pool)
                .await
                .expect("offer booking");
        assert_eq!(owner, *user, "entry {entry}'s hold is its customer's");
        assert_eq!(status, "held");
        assert_eq!(seats.len(), usize::try_from(*seat_count).expect("count"));
        for seat in seats {
            assert!(
                seats_offered.insert(seat.clone()),
                "seat {seat} offered twice"
            );
        }
    }
    let holds_of_waiters: i64 =
        sqlx::query_scalar("select count(*) from bookings where user_id = any($1)")
            .bind(&waiter_ids)
            .fetch_one(&pool)
            .await
            .expect("holds of waiters");
    assert_eq!(
        holds_of_waiters,
        i64::try_from(made.len()).expect("fits"),
        "one hold per offered entry, none orphaned"
    );
    assert!(doubly_taken_seats(&pool).await.is_empty());
    let emails: i64 =
        sqlx::query_scalar("select count(*) from notifications where kind = 'waitlist-offer'")
            .fetch_one(&pool)
            .await
            .expect("offer emails");
    assert_eq!(
        emails,
        i64::try_from(made.len()).expect("fits"),
        "one email per offer"
    );

    // Nothing that fits was left waiting: a one-seat request fits any free seat.
    let free = 2 * PAIRS - seats_offered.len();
    let statuses: HashMap<String, i64> =
        sqlx::query_as("select status, count(*) from waitlist_entries group by status")
            .fetch_all(&pool)
            .await
            .expect("statuses")
            .into_iter()
            .collect();
    let single_waiting: i64 = sqlx::query_scalar(
        "select count(*) from waitlist_entries where status = 'waiting' and seat_count = 1",
    )
    .fetch_one(&pool)
    .await
    .expect("single waiting");
    assert!(
        free == 0 || single_waiting == 0,
        "{free} seats free while {single_waiting} one-seat entries wait ({statuses:?})"
    );
}
