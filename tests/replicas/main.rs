//! Several real `cineflow serve` processes on one PostgreSQL database, no proxy between them
//! and the client: the test spreads its requests over the replicas' base URLs. It proves
//! what docs/OPERATIONS.md ("Running several replicas") claims:
//!
//! 1. `no_seat_is_sold_twice_across_replicas`: dozens of customers hold overlapping seats of
//!    one show at once through different replicas, then pay. Every 201 is a real booking,
//!    every refusal a clean 409 `seat_unavailable`, and no seat is in two live bookings
//!    (checked in the database and in every replica's seat map).
//! 2. `a_binding_change_on_one_replica_is_in_force_on_all`: a pricing component uploaded and
//!    bound through replica 1 prices holds on replicas 2 and 3 (observed latency printed);
//!    unbound through replica 3, replicas 1 and 2 price with the default again.
//! 3. `sweepers_on_every_replica_deliver_each_email_exactly_once`: all three sweepers run
//!    every second against one SMTP server; every queued email (each paid booking's, and the
//!    set-up's account mail) arrives exactly once, and their sent counters add up to that.
//! 4. `a_replica_killed_mid_work_loses_no_paid_booking_and_no_email`: holds, payments and
//!    sweeps run over all three; replica 2 is `kill -9`ed in the middle (its sweeper stuck
//!    mid-send); the survivors carry on. Every 201 payment is committed, every confirmed
//!    booking gets its email (again, with the same Message-ID, if the dead replica had sent
//!    it), requests in flight at the kill fail on the client side only, and no booking is
//!    half done. A payment whose answer was lost is retried with its Idempotency-Key on a
//!    survivor and ends paid once (a key the dead replica claimed but never answered is free
//!    again after the request timeout). The victim reaches its SMTP server through a relay
//!    that withholds the "accepted" reply (`stall.rs`), so it always dies mid-send.
//! 5. `two_replicas_offer_each_entry_once_and_each_freed_seat_once` (`waitlist.rs`): a
//!    sold-out show's seats free at once through both replicas while 24 customers wait; both
//!    replicas' offer passes and sweepers race, and every entry is offered at most once, every
//!    seat is in at most one offer, each offer is a hold of its own entry's customer, and no
//!    one-seat request is left waiting beside a free seat.
//! 6. `browsing_reads_are_served_by_the_standby_and_survive_its_loss` (`read_replica.rs`):
//!    one replica on a private primary with a real streaming standby (`pg_basebackup -R`) as
//!    `CINEFLOW_DATABASE_READ_URL`. With the standby's replay paused, public catalogue reads
//!    miss what was just made (they came from the standby) while edits, scheduling, holds and
//!    payments of it succeed (the primary); with the standby stopped, every read answers 200
//!    from the primary; started again, reads go back to it. A second process with
//!    `CINEFLOW_DATABASE_READ_MAX_LAG_MS` reads the primary while the paused standby lags.
//!
//! Each test starts its own replicas on its own database (`#[sqlx::test]`), and the tests run
//! one at a time (see [`SERIAL`]). Run with:
//!
//! ```sh
//! scripts/build-components.sh   # once: the default components and the test guests
//! export DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres
//! export CINEFLOW_COMPONENTS_DIR=$PWD/target/components
//! cargo test -p cineflow --test replicas -- --nocapture   # --nocapture shows the timings
//! ```

#[allow(dead_code, unused_imports)]
#[path = "../api/support/mod.rs"]
mod support;

mod cluster;
mod read_replica;
mod seat_maps;
mod stall;
mod waitlist;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use cluster::{Cluster, Customer, database_url_of, hold};
use support::client::{
    assert_problem, doubly_taken_seats, expect_json, expect_status, payment_body, row_label, s,
    uuid_of,
};
use support::smtp::{Received, SmtpServer};

/// One scenario at a time: each runs three replicas (up to 20 database connections each)
/// on a 2-core machine whose PostgreSQL allows 100 connections for everyone.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Seat price of the standard class (`support::client::prices`).
const STANDARD: i64 = 25_000;

/// Seat `n` (0-based) of a screen of rows of `per_row` seats: `A-1`, `A-2`, …
fn seat(n: usize, per_row: usize) -> String {
    let row = u32::try_from(n / per_row).expect("row fits");
    format!("{}-{}", row_label(row), n % per_row + 1)
}

/// Strings from a JSON array.
fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| {
            x.as_str()
                .unwrap_or_else(|| panic!("not a string: {x}"))
                .to_owned()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// 1. Seats

#[sqlx::test(migrations = false)]
async fn no_seat_is_sold_twice_across_replicas(pool: PgPool) {
    let _serial = SERIAL.lock().await;
    const SEATS: usize = 15;
    const CLIENTS: usize = 30;
    const WANT: usize = 3;
    let cluster = Cluster::start_same(&database_url_of(&pool), 3, &[]).await;
    let n = cluster.replicas.len();
    let venue = cluster
        .venue(0, 1, u32::try_from(SEATS).expect("fits"))
        .await;
    let customers = cluster.customers(CLIENTS).await;

    // Client i wants 3 neighbouring seats starting at 7·i (mod 15): every seat is wanted by
    // several clients, and at most 15 / 3 = 5 of them can win.
    let wants: Vec<Vec<String>> = (0..CLIENTS)
        .map(|i| {
            (0..WANT)
                .map(|k| seat((7 * i + k) % SEATS, SEATS))
                .collect()
        })
        .collect();
    let started = Instant::now();
    let answers = futures_util::future::join_all(customers.iter().enumerate().map(|(i, c)| {
        let body = hold(&venue.show_id, &wants[i]);
        let cluster = &cluster;
        async move {
            let res = cluster
                .send(
                    i % n,
                    Method::POST,
                    "/bookings",
                    Some(&c.token),
                    Some(body),
                    None,
                )
                .await
                .expect("a live replica answers");
            if res.status() == 201 {
                Ok(expect_json(res, 201).await)
            } else {
                Err(assert_problem(res, 409, "seat_unavailable").await)
            }
        }
    }))
    .await;
    eprintln!(
        "{CLIENTS} concurrent holds over {n} replicas took {:?}",
        started.elapsed()
    );

    let mut held: Vec<(usize, Value)> = Vec::new();
    for (i, answer) in answers.into_iter().enumerate() {
        match answer {
            Ok(booking) => {
                let mut seats = strings(&booking["seats"]);
                seats.sort();
                let mut want = wants[i].clone();
                want.sort();
                assert_eq!(seats, want, "the hold is for the seats asked: {booking}");
                assert_eq!(booking["status"], "held", "{booking}");
                held.push((i, booking));
            }
            Err(problem) => {
                // The refusal names seats of the request that someone else has.
                let named = strings(&problem["seats"]);
                assert!(!named.is_empty(), "{problem}");
                assert!(named.iter().all(|s| wants[i].contains(s)), "{problem}");
            }
        }
    }
    eprintln!(
        "holds: {} granted, {} refused with 409 seat_unavailable",
        held.len(),
        CLIENTS - held.len()
    );
    assert!(!held.is_empty(), "some hold must win");
    let mut owner_of: BTreeMap<String, usize> = BTreeMap::new();
    for (i, booking) in &held {
        for seat in strings(&booking["seats"]) {
            if let Some(other) = owner_of.insert(seat.clone(), *i) {
                panic!("seat {seat} was granted to clients {other} and {i}");
            }
        }
    }

    // Each winner pays through another replica than the one that held.
    futures_util::future::join_all(held.iter().map(|(i, booking)| {
        let cluster = &cluster;
        let token = customers[*i].token.clone();
        async move {
            let path = format!("/bookings/{}/payments", s(booking, "id"));
            let body = payment_body(booking);
            cluster
                .expect(
                    (i + 1) % n,
                    Method::POST,
                    &path,
                    Some(&token),
                    Some(body),
                    201,
                )
                .await
        }
    }))
    .await;

    // The database: exactly the granted bookings, all confirmed and paid once, no seat in
    // two live bookings.
    let rows: Vec<(Uuid, String, Vec<String>, i64)> = sqlx::query_as(
        "select b.id, b.status, b.seats, (select count(*) from payments p where p.booking_id = b.id)
         from bookings b where b.show_id = $1",
    )
    .bind(uuid_of(&venue.show_id))
    .fetch_all(&pool)
    .await
    .expect("bookings");
    let granted: BTreeSet<Uuid> = held.iter().map(|(_, b)| uuid_of(&s(b, "id"))).collect();
    let stored: BTreeSet<Uuid> = rows.iter().map(|r| r.0).collect();
    assert_eq!(
        stored, granted,
        "every 201 is a booking, and nothing else is"
    );
    for (id, status, _, payments) in &rows {
        assert_eq!(status, "confirmed", "booking {id}");
        assert_eq!(*payments, 1, "booking {id}");
    }
    assert_eq!(doubly_taken_seats(&pool).await, vec![]);
    let live_rows: i64 = sqlx::query_scalar(
        "select count(*) from booking_seats where show_id = $1 and taken_until > now()",
    )
    .bind(uuid_of(&venue.show_id))
    .fetch_one(&pool)
    .await
    .expect("seat rows");
    assert_eq!(usize::try_from(live_rows).ok(), Some(owner_of.len()));

    // The API, through every replica: sold seats are exactly the granted ones; each booking
    // reads the same everywhere.
    for r in 0..n {
        let states = cluster.seat_states(r, &venue.show_id).await;
        for (seat, state) in &states {
            let expected = if owner_of.contains_key(seat) {
                "sold"
            } else {
                "available"
            };
            assert_eq!(
                state,
                expected,
                "seat {seat} on {}",
                cluster.replicas[r].name()
            );
        }
        for (i, booking) in &held {
            let path = format!("/bookings/{}", s(booking, "id"));
            let token = customers[*i].token.as_str();
            let seen = cluster
                .expect(r, Method::GET, &path, Some(token), None, 200)
                .await;
            assert_eq!(seen["status"], "confirmed", "{seen}");
            assert_eq!(seen["seats"], booking["seats"], "{seen}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// 2. Bindings

/// Holds one fresh seat through replica `r` every 50 ms until it is priced `want`, for at
/// most 10 s; returns the time from `since` to the first such hold's answer.
async fn priced_on(
    cluster: &Cluster,
    r: usize,
    customer: &Customer,
    show_id: &str,
    next_seat: &AtomicUsize,
    want: i64,
    since: Instant,
) -> (Duration, Value) {
    loop {
        let seat = seat(next_seat.fetch_add(1, Ordering::SeqCst), 100);
        let booking = cluster
            .expect(
                r,
                Method::POST,
                "/bookings",
                Some(&customer.token),
                Some(hold(show_id, &[seat])),
                201,
            )
            .await;
        let total = booking["total_minor"].as_i64().expect("total_minor");
        if total == want {
            return (since.elapsed(), booking);
        }
        // Released, so the default rules' cap of 10 unpaid seats never stops the loop.
        let release = format!("/bookings/{}/cancel", s(&booking, "id"));
        cluster
            .expect(r, Method::POST, &release, Some(&customer.token), None, 200)
            .await;
        assert!(
            total == STANDARD || total == 2 * STANDARD,
            "priced by neither the default nor the new component: {booking}"
        );
        assert!(
            since.elapsed() < Duration::from_secs(10),
            "{} still prices {total} instead of {want} after 10 s",
            cluster.replicas[r].name()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[sqlx::test(migrations = false)]
async fn a_binding_change_on_one_replica_is_in_force_on_all(pool: PgPool) {
    let _serial = SERIAL.lock().await;
    let cluster = Cluster::start_same(&database_url_of(&pool), 3, &[]).await;
    let venue = cluster.venue(0, 10, 100).await;
    let customer = cluster.customer(1).await;
    let next_seat = AtomicUsize::new(0);
    let (owner, chain) = (venue.owner_token.as_str(), venue.chain_id.as_str());
    // Before: the platform default on every replica.
    for r in 0..3 {
        let (_, booking) = priced_on(
            &cluster,
            r,
            &customer,
            &venue.show_id,
            &next_seat,
            STANDARD,
            Instant::now(),
        )
        .await;
        assert_eq!(booking["total_minor"], STANDARD);
    }

    // Upload and bind through replica 1: a pricing guest that charges double.
    let upload = cluster
        .client
        .post(cluster.api(0, &format!("/chains/{chain}/components?hook=pricing")))
        .bearer_auth(owner)
        .header("content-type", "application/wasm")
        .body(support::hostile("double"))
        .send()
        .await
        .expect("upload sent");
    let double = s(&expect_json(upload, 201).await, "id");
    let bind_path = format!("/chains/{chain}/bindings/pricing");
    cluster
        .expect(
            0,
            Method::PUT,
            &bind_path,
            Some(owner),
            Some(json!({"component_id": double})),
            200,
        )
        .await;
    let bound_at = Instant::now();
    // In force on replica 1 when its answer arrives.
    let seat_now = seat(next_seat.fetch_add(1, Ordering::SeqCst), 100);
    let on_1 = cluster
        .expect(
            0,
            Method::POST,
            "/bookings",
            Some(&customer.token),
            Some(hold(&venue.show_id, &[seat_now])),
            201,
        )
        .await;
    assert_eq!(on_1["total_minor"], 2 * STANDARD, "{on_1}");
    let ((after_2, on_2), (after_3, on_3)) = tokio::join!(
        priced_on(
            &cluster,
            1,
            &customer,
            &venue.show_id,
            &next_seat,
            2 * STANDARD,
            bound_at
        ),
        priced_on(
            &cluster,
            2,
            &customer,
            &venue.show_id,
            &next_seat,
            2 * STANDARD,
            bound_at
        ),
    );
    eprintln!(
        "bound through replica 1: in force on replica 2 after {after_2:?}, on replica 3 after {after_3:?}"
    );
    // The audit trail names the new component as the one that priced them.
    for booking in [&on_2, &on_3] {
        let path = format!("/bookings/{}/audit", s(booking, "id"));
        let audit = cluster
            .expect(2, Method::GET, &path, Some(owner), None, 200)
            .await;
        let pricing: Vec<&Value> = audit["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|i| i["kind"] == "decision" && i["hook"] == "pricing")
            .collect();
        assert_eq!(pricing.len(), 1, "{audit}");
        assert_eq!(pricing[0]["component_id"], double.as_str(), "{audit}");
    }
    // Every replica lists the same binding.
    let bindings_path = format!("/chains/{chain}/bindings");
    let mut views = Vec::new();
    for r in 0..3 {
        let list = cluster
            .expect(r, Method::GET, &bindings_path, Some(owner), None, 200)
            .await;
        views.push(list);
    }
    // The bindings, that is: `usage` is each replica's own fair-share book.
    assert_eq!(views[0]["items"], views[1]["items"]);
    assert_eq!(views[0]["items"], views[2]["items"]);

    // Unbind through replica 3: the default is back on replicas 1 and 2.
    let res = cluster
        .send(2, Method::DELETE, &bind_path, Some(owner), None, None)
        .await
        .expect("unbind sent");
    expect_status(res, 204).await;
    let unbound_at = Instant::now();
    let ((after_1, _), (after_2, _)) = tokio::join!(
        priced_on(
            &cluster,
            0,
            &customer,
            &venue.show_id,
            &next_seat,
            STANDARD,
            unbound_at
        ),
        priced_on(
            &cluster,
            1,
            &customer,
            &venue.show_id,
            &next_seat,
            STANDARD,
            unbound_at
        ),
    );
    eprintln!(
        "unbound through replica 3: default again on replica 1 after {after_1:?}, on replica 2 after {after_2:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Mail helpers

/// The text part of a received message and its Message-ID.
fn parsed(m: &Received) -> (String, String) {
    let message = mail_parser::MessageParser::default()
        .parse(m.data.as_bytes())
        .expect("a parsable message");
    let text = message
        .body_text(0)
        .map(|t| t.into_owned())
        .unwrap_or_default();
    let id = message.message_id().unwrap_or_default().to_owned();
    (text, id)
}

/// Waits (at most `timeout`) until every notification row is `sent`.
async fn wait_until_outbox_drained(pool: &PgPool, timeout: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let left: i64 =
            sqlx::query_scalar("select count(*) from notifications where status <> 'sent'")
                .fetch_one(pool)
                .await
                .expect("outbox");
        if left == 0 {
            return started.elapsed();
        }
        if started.elapsed() > timeout {
            let rows: Vec<(Uuid, String, i32, Option<String>)> = sqlx::query_as(
                "select id, status, attempts, last_error from notifications where status <> 'sent'",
            )
            .fetch_all(pool)
            .await
            .expect("outbox rows");
            panic!("{left} emails still unsent after {timeout:?}: {rows:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The booking-confirmed notification of each booking: booking id → (notification id,
/// recipients).
async fn confirmations(pool: &PgPool) -> HashMap<String, (Uuid, Vec<String>)> {
    let rows: Vec<(String, Uuid, Vec<String>)> = sqlx::query_as(
        "select fields->>'booking-id', id, recipient_emails from notifications
         where kind = 'booking-confirmed'",
    )
    .fetch_all(pool)
    .await
    .expect("notifications");
    rows.into_iter().map(|(b, id, to)| (b, (id, to))).collect()
}

/// The Message-ID (without angle brackets) every queued notification is sent with.
async fn queued_message_ids(pool: &PgPool) -> BTreeSet<String> {
    let ids: Vec<Uuid> = sqlx::query_scalar("select id from notifications")
        .fetch_all(pool)
        .await
        .expect("notifications");
    ids.iter()
        .map(|id| format!("{id}@cineflow.local"))
        .collect()
}

/// Every environment a mail scenario's replica needs: SMTP at `smtp_url`, a sweep each
/// second.
fn mail_env(smtp_url: &str) -> Vec<(String, String)> {
    vec![
        ("CINEFLOW_SMTP_URL".into(), smtp_url.into()),
        ("CINEFLOW_MAIL_SWEEP_CRON".into(), "* * * * * *".into()),
    ]
}

// ---------------------------------------------------------------------------------------
// 3. Email, exactly once

#[sqlx::test(migrations = false)]
async fn sweepers_on_every_replica_deliver_each_email_exactly_once(pool: PgPool) {
    let _serial = SERIAL.lock().await;
    const CUSTOMERS: usize = 8;
    const PER_CUSTOMER: usize = 4;
    let smtp = SmtpServer::start().await;
    let cluster = Cluster::start(&database_url_of(&pool), vec![mail_env(&smtp.url()); 3]).await;
    let n = cluster.replicas.len();
    let venue = cluster.venue(0, 1, 100).await;
    let customers = cluster.customers(CUSTOMERS).await;

    // Each customer books and pays PER_CUSTOMER times, holding through one replica and
    // paying through the next; the customers run side by side.
    let started = Instant::now();
    let paid: Vec<Vec<(String, String)>> =
        futures_util::future::join_all(customers.iter().enumerate().map(|(c, customer)| {
            let cluster = &cluster;
            let show = venue.show_id.clone();
            async move {
                let mut done = Vec::new();
                for k in 0..PER_CUSTOMER {
                    let r = (c + k) % n;
                    let seat = seat(c * PER_CUSTOMER + k, 100);
                    let token = Some(customer.token.as_str());
                    let booking = cluster
                        .expect(
                            r,
                            Method::POST,
                            "/bookings",
                            token,
                            Some(hold(&show, &[seat])),
                            201,
                        )
                        .await;
                    let path = format!("/bookings/{}/payments", s(&booking, "id"));
                    cluster
                        .expect(
                            (r + 1) % n,
                            Method::POST,
                            &path,
                            token,
                            Some(payment_body(&booking)),
                            201,
                        )
                        .await;
                    done.push((s(&booking, "id"), customer.email.clone()));
                }
                done
            }
        }))
        .await;
    let paid: Vec<(String, String)> = paid.into_iter().flatten().collect();
    let total = CUSTOMERS * PER_CUSTOMER;
    assert_eq!(paid.len(), total);
    let drained = wait_until_outbox_drained(&pool, Duration::from_secs(30)).await;
    eprintln!(
        "{total} bookings paid over {n} replicas in {:?}; outbox drained {drained:?} later",
        started.elapsed() - drained
    );
    // A duplicate could only come from a second claim, after the 120 s lease: a few more
    // sweeps must add nothing.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let messages = smtp.messages();

    let by_booking = confirmations(&pool).await;
    assert_eq!(by_booking.len(), total, "one confirmation row per booking");
    // Every queued email (the bookings', and the owner's account mail of the set-up) was
    // delivered exactly once.
    let queued = queued_message_ids(&pool).await;
    let ids: BTreeSet<String> = messages.iter().map(|m| parsed(m).1).collect();
    assert_eq!(ids, queued, "every queued email delivered");
    assert_eq!(messages.len(), queued.len(), "no email twice");
    for (booking, customer) in &paid {
        let about: Vec<&Received> = messages
            .iter()
            .filter(|m| parsed(m).0.contains(booking.as_str()))
            .collect();
        assert_eq!(about.len(), 1, "booking {booking}: {about:?}");
        assert_eq!(about[0].to, vec![customer.clone()], "envelope recipient");
        let (notification, recipients) = &by_booking[booking];
        assert_eq!(recipients, &vec![customer.clone()]);
        assert_eq!(
            parsed(about[0]).1,
            format!("{notification}@cineflow.local"),
            "the Message-ID is the booking's notification"
        );
    }
    let mut per_replica = Vec::new();
    for r in 0..n {
        per_replica.push(cluster.counter(r, "cineflow_mail_sent_total").await);
    }
    eprintln!("emails sent per replica: {per_replica:?}");
    assert_eq!(
        per_replica.iter().sum::<f64>(),
        queued.len() as f64,
        "the replicas together sent each email once"
    );
}

// ---------------------------------------------------------------------------------------
// 4. kill -9

/// What the client saw of one request.
#[derive(Debug)]
enum Seen {
    /// An HTTP answer (always 201 here: seats are not contended, keys not reused).
    Answered,
    /// No answer: refused or cut (the replica is dead or died mid-request).
    Transport(String),
}

/// A payment the client sent: which booking, its key, which replica, what came back.
#[derive(Debug)]
struct PayAttempt {
    customer: usize,
    booking: Value,
    key: String,
    replica: usize,
    seen: Seen,
}

/// Counts a request in flight until dropped.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The body of a 201; `Err` when no complete answer came back (refused or cut off). Any
/// other status fails the test.
async fn created(sent: reqwest::Result<reqwest::Response>) -> Result<Value, String> {
    let res = sent.map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let url = res.url().to_string();
    let body = res.text().await.map_err(|e| e.to_string())?;
    assert_eq!(status, 201, "{url}: {body}");
    Ok(serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {body}")))
}

#[sqlx::test(migrations = false)]
async fn a_replica_killed_mid_work_loses_no_paid_booking_and_no_email(pool: PgPool) {
    let _serial = SERIAL.lock().await;
    const CUSTOMERS: usize = 9;
    const SEATS_EACH: usize = 100;
    const VICTIM: usize = 1;
    // The victim's sweeper never hears "accepted" (see stall.rs), so it dies holding claims.
    let smtp = SmtpServer::start().await;
    let relay = stall::StallingRelay::start(&smtp.url()).await;
    // Claims run out after 5 s (the smallest lease) so the survivors take the dead
    // replica's rows soon. No request runs longer than 5 s, so soon after the kill an
    // Idempotency-Key the dead replica claimed but never answered is free again.
    let common = [
        ("CINEFLOW_MAIL_LEASE_SECS", "5"),
        ("CINEFLOW_REQUEST_TIMEOUT_MS", "5000"),
    ];
    let envs: Vec<Vec<(String, String)>> = (0..3)
        .map(|r| {
            let mut env = mail_env(&if r == VICTIM { relay.url() } else { smtp.url() });
            env.extend(common.iter().map(|(k, v)| ((*k).into(), (*v).into())));
            if r == VICTIM {
                // Stuck until killed, not until its own SMTP timeout.
                env.push(("CINEFLOW_SMTP_TIMEOUT_SECS".into(), "120".into()));
            }
            env
        })
        .collect();
    let cluster = Cluster::start(&database_url_of(&pool), envs).await;
    let venue = cluster
        .venue(
            0,
            u32::try_from(CUSTOMERS).expect("fits"),
            u32::try_from(SEATS_EACH).expect("fits"),
        )
        .await;
    let customers = cluster.customers(CUSTOMERS).await;
    // The set-up's account mail goes out normally; the victim gets stuck on booking mail.
    wait_until_outbox_drained(&pool, Duration::from_secs(30)).await;
    relay.arm();

    let killed = AtomicBool::new(false);
    let stop = AtomicBool::new(false);
    let paid_count = AtomicUsize::new(0);
    let holds_cut = Mutex::new(Vec::<(usize, String)>::new());
    let payments = Mutex::new(Vec::<PayAttempt>::new());
    // Requests sent to the victim and not yet answered: the kill waits for one, so that it
    // cuts a request mid-way.
    let victim_busy = AtomicUsize::new(0);
    // Before the kill every replica takes turns; after it, only the survivors.
    let pick = |x: usize| -> usize {
        if killed.load(Ordering::SeqCst) {
            [0, 2][x % 2]
        } else {
            x % 3
        }
    };

    let worker = |c: usize| {
        let (cluster, venue, customers) = (&cluster, &venue, &customers);
        let (stop, paid_count, holds_cut, payments) = (&stop, &paid_count, &holds_cut, &payments);
        let victim_busy = &victim_busy;
        async move {
            let token = Some(customers[c].token.as_str());
            for k in 0..SEATS_EACH {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                // Each customer has a row of their own: nothing is contended, so every
                // answer must be a 201.
                let seat = seat(c * SEATS_EACH + k, SEATS_EACH);
                let r = pick(c + k);
                let key = format!("hold-{c}-{k}");
                let body = hold(&venue.show_id, &[seat]);
                let busy = (r == VICTIM).then(|| InFlight::new(victim_busy));
                let sent = cluster
                    .send(r, Method::POST, "/bookings", token, Some(body), Some(&key))
                    .await;
                drop(busy);
                let booking = match created(sent).await {
                    Ok(booking) => booking,
                    Err(e) => {
                        holds_cut.lock().expect("lock").push((r, e));
                        continue;
                    }
                };
                let r = pick(c + k + 1);
                let key = format!("pay-{c}-{k}");
                let path = format!("/bookings/{}/payments", s(&booking, "id"));
                let body = payment_body(&booking);
                let busy = (r == VICTIM).then(|| InFlight::new(victim_busy));
                let sent = cluster
                    .send(r, Method::POST, &path, token, Some(body), Some(&key))
                    .await;
                drop(busy);
                let seen = match created(sent).await {
                    Ok(_) => {
                        paid_count.fetch_add(1, Ordering::SeqCst);
                        Seen::Answered
                    }
                    Err(e) => Seen::Transport(e),
                };
                payments.lock().expect("lock").push(PayAttempt {
                    customer: c,
                    booking,
                    key,
                    replica: r,
                    seen,
                });
            }
        }
    };

    let controller = async {
        // Midway: enough paid bookings, and the victim stuck mid-send with claimed emails
        // (or, should its sweeper never win a claim, after 30 s anyway).
        let deadline = Instant::now() + Duration::from_secs(30);
        while (paid_count.load(Ordering::SeqCst) < 25
            || relay.stalled() == 0
            || victim_busy.load(Ordering::SeqCst) == 0)
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        cluster.replicas[VICTIM].kill();
        killed.store(true, Ordering::SeqCst);
        let killed_at = Instant::now();
        let paid_at_kill = paid_count.load(Ordering::SeqCst);
        let sending: i64 =
            sqlx::query_scalar("select count(*) from notifications where status = 'sending'")
                .fetch_one(&pool)
                .await
                .expect("claims");
        eprintln!(
            "killed {} after {paid_at_kill} payments; {} emails stuck mid-send on it, {sending} rows claimed",
            cluster.replicas[VICTIM].name(),
            relay.stalled()
        );
        // Keep going on the survivors.
        let deadline = Instant::now() + Duration::from_secs(30);
        while paid_count.load(Ordering::SeqCst) < paid_at_kill + 25 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.store(true, Ordering::SeqCst);
        killed_at
    };
    let (_, killed_at) = tokio::join!(
        futures_util::future::join_all((0..CUSTOMERS).map(worker)),
        controller
    );
    let payments = payments.into_inner().expect("lock");
    let holds_cut = holds_cut.into_inner().expect("lock");
    let stalled = relay.stalled();

    // Only the victim ever failed to answer, and only as a transport error.
    let cut: Vec<&PayAttempt> = payments
        .iter()
        .filter(|p| matches!(p.seen, Seen::Transport(_)))
        .collect();
    for p in &cut {
        assert_eq!(p.replica, VICTIM, "a survivor failed a payment: {p:?}");
    }
    for (r, e) in &holds_cut {
        assert_eq!(*r, VICTIM, "a survivor failed a hold: {e}");
    }
    let answered: Vec<&PayAttempt> = payments
        .iter()
        .filter(|p| matches!(p.seen, Seen::Answered))
        .collect();
    eprintln!(
        "{} payments answered 201, {} payments and {} holds cut by the kill",
        answered.len(),
        cut.len(),
        holds_cut.len()
    );
    for p in &cut {
        if let Seen::Transport(e) = &p.seen {
            eprintln!(
                "  payment {} on {}: {e}",
                p.key,
                cluster.replicas[p.replica].name()
            );
        }
    }
    for (r, e) in &holds_cut {
        eprintln!("  a hold on {}: {e}", cluster.replicas[*r].name());
    }

    // Every payment answered 201 is committed.
    for p in &answered {
        let id = uuid_of(&s(&p.booking, "id"));
        let (status, payments): (String, i64) = sqlx::query_as(
            "select status, (select count(*) from payments where booking_id = $1) from bookings where id = $1",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .expect("booking");
        assert_eq!(
            (status.as_str(), payments),
            ("confirmed", 1),
            "booking {id}"
        );
    }

    // A payment whose answer was lost is retried with its key on a survivor once any
    // request the dead replica was running would have timed out: it ends paid, once.
    let cut_keys: Vec<String> = cut.iter().map(|p| p.key.clone()).collect();
    let in_flight: i64 = sqlx::query_scalar(
        "select count(*) from idempotency_keys where key = any($1) and status_code is null",
    )
    .bind(&cut_keys)
    .fetch_one(&pool)
    .await
    .expect("idempotency keys");
    eprintln!(
        "{in_flight} of the {} cut payments left their Idempotency-Key claimed without an answer",
        cut.len()
    );
    let retry_after = killed_at + Duration::from_secs(7);
    tokio::time::sleep(retry_after.saturating_duration_since(Instant::now())).await;
    for p in &cut {
        let path = format!("/bookings/{}/payments", s(&p.booking, "id"));
        let token = customers[p.customer].token.as_str();
        let res = cluster
            .send(
                0,
                Method::POST,
                &path,
                Some(token),
                Some(payment_body(&p.booking)),
                Some(&p.key),
            )
            .await
            .expect("a survivor answers");
        let status = res.status().as_u16();
        if status == 201 {
            expect_json(res, 201).await;
        } else {
            // The dead replica had committed the payment but not stored its answer.
            assert_problem(res, 409, "already_paid").await;
        }
        eprintln!("retried payment {} with its key: {status}", p.key);
    }

    // No half-done booking: held with its seats and nothing else, or confirmed with its
    // seats, one payment and one confirmation email row.
    let rows: Vec<(Uuid, String, i64, i64, i64, i64)> = sqlx::query_as(
        "select b.id, b.status, cardinality(b.seats)::int8,
                (select count(*) from booking_seats s where s.booking_id = b.id),
                (select count(*) from payments p where p.booking_id = b.id),
                (select count(*) from notifications n
                  where n.kind = 'booking-confirmed' and n.fields->>'booking-id' = b.id::text)
         from bookings b where b.show_id = $1",
    )
    .bind(uuid_of(&venue.show_id))
    .fetch_all(&pool)
    .await
    .expect("bookings");
    let mut confirmed = BTreeSet::new();
    for (id, status, seats, seat_rows, payments, emails) in &rows {
        assert_eq!(seats, seat_rows, "booking {id}: seat rows");
        match status.as_str() {
            "confirmed" => {
                assert_eq!((*payments, *emails), (1, 1), "confirmed booking {id}");
                confirmed.insert(id.to_string());
            }
            "held" => assert_eq!((*payments, *emails), (0, 0), "held booking {id}"),
            other => panic!("booking {id} is {other}"),
        }
    }
    for p in &payments {
        assert!(
            confirmed.contains(&s(&p.booking, "id")),
            "every payment sent ends confirmed (after the retries): {p:?}"
        );
    }
    assert_eq!(doubly_taken_seats(&pool).await, vec![]);

    // Every confirmed booking's email arrives (the survivors take over the dead replica's
    // claims when their lease runs out); copies of one email share its Message-ID.
    let drained = wait_until_outbox_drained(&pool, Duration::from_secs(40)).await;
    let messages = smtp.messages();
    let by_booking = confirmations(&pool).await;
    let parsed_all: Vec<(String, String, &Received)> = messages
        .iter()
        .map(|m| {
            let (text, id) = parsed(m);
            (text, id, m)
        })
        .collect();
    for booking in &confirmed {
        let copies: Vec<&(String, String, &Received)> = parsed_all
            .iter()
            .filter(|(text, _, _)| text.contains(booking.as_str()))
            .collect();
        assert!(
            !copies.is_empty(),
            "no email for confirmed booking {booking}"
        );
        let (notification, recipients) = &by_booking[booking];
        for (_, id, m) in &copies {
            assert_eq!(
                id,
                &format!("{notification}@cineflow.local"),
                "booking {booking}"
            );
            assert_eq!(&m.to, recipients, "booking {booking}");
        }
    }
    // Duplicates counted over every email by Message-ID; the loop above checked that the
    // copies of a booking's email all carry that booking's one Message-ID.
    let queued = queued_message_ids(&pool).await;
    let mut copies_of: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, id, _) in &parsed_all {
        assert!(queued.contains(id), "{id} is not a queued notification");
        *copies_of.entry(id.as_str()).or_default() += 1;
    }
    let duplicated = copies_of.values().filter(|&&n| n > 1).count();
    eprintln!(
        "{} confirmed bookings, {} emails; outbox drained {drained:?} after the work; \
         {duplicated} emails delivered twice ({stalled} were delivered by the victim without \
         it hearing so)",
        confirmed.len(),
        messages.len()
    );
    // Each email the victim had sent unconfirmed was claimed again and sent by a survivor.
    assert!(
        duplicated >= stalled,
        "{stalled} emails stuck on the dead replica, only {duplicated} re-sent"
    );
}
