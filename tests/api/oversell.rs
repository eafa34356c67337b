//! Races (SEED C1, C2): many customers fighting over few seats never oversell; concurrent
//! payments charge a hold once; a lapsed hold is retaken exactly once while `expire_due` runs;
//! a concurrent duplicate idempotent hold creates one booking; a hold PostgreSQL picks as a
//! deadlock victim is retried, never answered with seats nobody holds.
//!
//! No outcome here depends on a wall-clock deadline (a busy 2-core machine misses any): a
//! race runs until its seats are all won, however long that takes, and gives up only after
//! a number of attempts.
//!
//! `#[sqlx::test]` runs on a current-thread runtime; these tests run the app and the racers on
//! a multi-thread runtime of their own (with their own pool on the test database) so requests
//! really run in parallel.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use crate::support::app::TestApp;
use crate::support::client::{
    Bookable, assert_problem, base_time, bookings_count, doubly_taken_seats, expect_json,
    expire_hold, hold_body, notifications_of, payment_body, payments_of, s, seat_ids,
    small_screen_body, uuid_of,
};

/// Runs `f` on a fresh multi-thread runtime with its own pool on the test database.
pub(crate) async fn on_many_threads<F, Fut>(pool: PgPool, f: F)
where
    F: FnOnce(PgPool) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let options = (*pool.connect_options()).clone();
    let joined = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .expect("multi-thread runtime");
        runtime.block_on(async move {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await
                .expect("pool on the test database");
            f(pool.clone()).await;
            pool.close().await;
        });
    })
    .await;
    if let Err(e) = joined {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("racing runtime: {e}");
    }
}

/// Stops a shared app once every task let go of it.
pub(crate) async fn stop(app: Arc<TestApp>) {
    match Arc::try_unwrap(app) {
        Ok(app) => app.stop().await,
        Err(_) => panic!("the app is still shared"),
    }
}

/// A small xorshift generator: no `rand` in the dev-dependencies.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// 1 to `max` distinct seats of `seats`, in random order.
    fn seats(&mut self, seats: &[String], max: usize) -> Vec<String> {
        let want = 1 + self.below(max.min(seats.len()));
        let mut pool: Vec<String> = seats.to_vec();
        let mut out = Vec::with_capacity(want);
        for _ in 0..want {
            out.push(pool.swap_remove(self.below(pool.len())));
        }
        out
    }
}

fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(42)
}

/// What one racer saw.
#[derive(Debug, Default)]
struct Outcome {
    /// The seats asked for and the booking of the one hold it won, if any.
    won: Option<(Vec<String>, Value)>,
    /// For each 409: the seats asked for and the seats the answer listed as taken.
    refused: Vec<(Vec<String>, Vec<String>)>,
    /// Anything else: status and body.
    unexpected: Vec<String>,
    attempts: u32,
}

/// A race over `seats` of a show: each racer tries random combinations (1 to `max` seats at a
/// time), at least once, until it wins one hold or every seat is won. No deadline: on a busy
/// machine the race just takes longer.
#[derive(Clone)]
struct Race {
    app: Arc<TestApp>,
    show_id: String,
    seats: Vec<String>,
    max: usize,
    barrier: Arc<Barrier>,
    /// Seats won so far, by all racers.
    won: Arc<AtomicUsize>,
}

/// A racer that tried this often without the race ending has found a bug, not bad luck.
const MAX_ATTEMPTS: u32 = 5_000;

async fn race(r: Race, token: String, mut rng: Rng) -> Outcome {
    let Race {
        app,
        show_id,
        seats,
        max,
        barrier,
        won,
    } = r;
    let mut outcome = Outcome::default();
    barrier.wait().await;
    loop {
        if outcome.attempts > 0 && won.load(Ordering::SeqCst) >= seats.len() {
            break;
        }
        assert!(
            outcome.attempts < MAX_ATTEMPTS,
            "{MAX_ATTEMPTS} attempts and {} of {} seats won",
            won.load(Ordering::SeqCst),
            seats.len()
        );
        let want = rng.seats(&seats, max);
        let refs: Vec<&str> = want.iter().map(String::as_str).collect();
        outcome.attempts += 1;
        let res = app.try_hold(&token, &show_id, &refs).await;
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        match status {
            201 => {
                let booking: Value = serde_json::from_str(&text).expect("booking JSON");
                won.fetch_add(want.len(), Ordering::SeqCst);
                outcome.won = Some((want, booking));
                break;
            }
            409 => {
                let problem: Value = serde_json::from_str(&text).expect("problem JSON");
                if problem["code"] != "seat_unavailable" {
                    outcome.unexpected.push(format!("409 {text}"));
                    continue;
                }
                let listed = problem["seats"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|v| v.as_str().unwrap_or("<not a string>").to_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                outcome.refused.push((want, listed));
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            _ => {
                outcome.unexpected.push(format!("{status} {text}"));
                break;
            }
        }
    }
    outcome
}

/// Live seat rows of a show in the database (held and unexpired, or confirmed).
async fn live_seat_rows(pool: &PgPool, show_id: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from booking_seats s join bookings b on b.id = s.booking_id \
         where b.show_id = $1 and b.status in ('held', 'confirmed') and s.taken_until > now()",
    )
    .bind(uuid_of(show_id))
    .fetch_one(pool)
    .await
    .expect("live seat rows")
}

/// `n` customers' tokens, signed up concurrently before any race.
async fn customers(app: &Arc<TestApp>, n: usize) -> Vec<String> {
    let mut set = JoinSet::new();
    for i in 0..n {
        let app = app.clone();
        set.spawn(async move { app.customer(&format!("Racer {i}")).await.1 });
    }
    set.join_all().await
}

/// Checks the outcomes of a race against the seat map and the database; returns the won
/// seats.
async fn check_race(
    app: &TestApp,
    pool: &PgPool,
    show_id: &str,
    outcomes: &[Outcome],
) -> BTreeSet<String> {
    eprintln!(
        "race on {show_id}: {} racers, {} attempts, {} refusals, {} winners",
        outcomes.len(),
        outcomes.iter().map(|o| o.attempts).sum::<u32>(),
        outcomes.iter().map(|o| o.refused.len()).sum::<usize>(),
        outcomes.iter().filter(|o| o.won.is_some()).count(),
    );
    let unexpected: Vec<&String> = outcomes.iter().flat_map(|o| &o.unexpected).collect();
    assert!(unexpected.is_empty(), "unexpected answers: {unexpected:#?}");

    let mut won = BTreeSet::new();
    let mut winners = 0;
    for (want, booking) in outcomes.iter().filter_map(|o| o.won.as_ref()) {
        winners += 1;
        let mut want = want.clone();
        want.sort();
        assert_eq!(
            seat_ids(booking),
            want,
            "a winner got what it asked: {booking}"
        );
        assert_eq!(booking["status"], "held");
        for seat in want {
            assert!(won.insert(seat.clone()), "{seat} was won twice");
        }
    }
    assert!(winners >= 1, "nobody won a hold");

    // No seat is in two live bookings.
    let doubles = doubly_taken_seats(pool).await;
    assert!(
        doubles.is_empty(),
        "seats in two live bookings: {doubles:?}"
    );
    // The won seats are exactly the taken ones: in the database and on the seat map.
    assert_eq!(live_seat_rows(pool, show_id).await, won.len() as i64);
    let held: BTreeSet<String> = app
        .seats_in_state(show_id, "held")
        .await
        .into_iter()
        .collect();
    assert_eq!(held, won, "the seat map shows exactly the won seats held");
    // Every refusal named only seats that were asked for and really taken.
    for (want, listed) in outcomes.iter().flat_map(|o| &o.refused) {
        assert!(!listed.is_empty(), "a 409 for {want:?} listed no seats");
        for seat in listed {
            assert!(want.contains(seat), "{seat} listed but not asked: {want:?}");
            assert!(
                won.contains(seat),
                "{seat} listed as taken but nobody won it"
            );
        }
    }
    won
}

#[sqlx::test(migrations = "../migrations")]
async fn concurrent_holds_never_sell_a_seat_twice(pool: PgPool) {
    on_many_threads(pool, |pool| async move {
        let app = Arc::new(TestApp::spawn(pool.clone()).await);
        let v = app.venue("Race").await;
        let res = app
            .post_json(
                &format!("/theatres/{}/screens", v.theatre_id),
                Some(&v.token),
                small_screen_body("Tiny", 8),
            )
            .await;
        let screen = expect_json(res, 201).await;
        let show = app
            .show(&v.token, &s(&screen, "id"), &v.movie_id, base_time(7))
            .await;
        let show_id = s(&show, "id");
        let seats: Vec<String> = (1..=8).map(|n| format!("A-{n}")).collect();

        const RACERS: usize = 40;
        let tokens = customers(&app, RACERS).await;
        let r = Race {
            app: app.clone(),
            show_id: show_id.clone(),
            seats,
            max: 3,
            barrier: Arc::new(Barrier::new(RACERS)),
            won: Arc::default(),
        };
        let base = seed();
        let mut set = JoinSet::new();
        for (i, token) in tokens.into_iter().enumerate() {
            set.spawn(race(r.clone(), token, Rng::new(base ^ (i as u64 + 1))));
        }
        drop(r);
        let outcomes = set.join_all().await;
        let attempts: u32 = outcomes.iter().map(|o| o.attempts).sum();
        assert!(attempts as usize >= RACERS, "every racer tried");

        let won = check_race(&app, &pool, &show_id, &outcomes).await;
        assert_eq!(
            won.len(),
            8,
            "the race ends when every seat is won: {won:?}"
        );
        let winners = outcomes.iter().filter(|o| o.won.is_some()).count();
        assert_eq!(
            bookings_count(&pool).await,
            winners as i64,
            "refused holds leave no booking behind"
        );
        assert_eq!(app.seats_available(&show_id).await, 0, "seats_available");
        stop(app).await;
    })
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn concurrent_payments_charge_a_hold_once(pool: PgPool) {
    on_many_threads(pool, |pool| async move {
        let app = Arc::new(TestApp::spawn(pool.clone()).await);
        let b: Bookable = app.bookable("PayRace").await;
        let (_, customer) = app.customer("Cust").await;
        let booking = app.hold(&customer, &b.show_id, &["A-1", "A-2"]).await;
        let id = s(&booking, "id");
        let path = format!("/bookings/{id}/payments");

        const PAYERS: usize = 10;
        let barrier = Arc::new(Barrier::new(PAYERS));
        let mut set = JoinSet::new();
        for i in 0..PAYERS {
            let (app, customer, path, barrier) =
                (app.clone(), customer.clone(), path.clone(), barrier.clone());
            let body = payment_body(&booking);
            set.spawn(async move {
                let key = (i % 3 != 0).then(|| format!("race-pay-{i}"));
                barrier.wait().await;
                let res = app
                    .post_keyed(&path, Some(&customer), key.as_deref(), body)
                    .await;
                let status = res.status().as_u16();
                let text = res.text().await.expect("body");
                (status, text)
            });
        }
        let answers = set.join_all().await;
        let created: Vec<&(u16, String)> = answers.iter().filter(|(st, _)| *st == 201).collect();
        assert_eq!(
            created.len(),
            1,
            "exactly one payment succeeds: {answers:#?}"
        );
        for (status, text) in answers.iter().filter(|(st, _)| *st != 201) {
            let problem: Value = serde_json::from_str(text).expect("problem JSON");
            assert_eq!(
                (*status, problem["code"].clone()),
                (409, json!("already_paid")),
                "{text}"
            );
        }
        let payment: Value = serde_json::from_str(&created[0].1).expect("payment JSON");
        assert_eq!(payment["booking_id"], id);
        assert_eq!(payment["amount_minor"], 50000);

        assert_eq!(payments_of(&pool, &id).await, 1, "one payments row");
        assert_eq!(notifications_of(&pool, "booking-confirmed").await, 1);
        assert_eq!(app.booking(&customer, &id).await["status"], "confirmed");
        let list = app.get_ok("/payments", Some(&customer)).await;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
        stop(app).await;
    })
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_lapsed_hold_is_retaken_once_while_expiry_runs(pool: PgPool) {
    on_many_threads(pool, |pool| async move {
        let app = Arc::new(TestApp::spawn(pool.clone()).await);
        let b: Bookable = app.bookable("ExpiryRace").await;
        let (_, first) = app.customer("First").await;
        let stale = app.hold(&first, &b.show_id, &["A-1", "A-2", "A-3"]).await;
        let stale_id = s(&stale, "id");

        const RACERS: usize = 20;
        let tokens = customers(&app, RACERS).await;
        let seats: Vec<String> = ["A-1", "A-2", "A-3"].map(str::to_owned).to_vec();
        let barrier = Arc::new(Barrier::new(RACERS + 1));
        let base = seed();

        expire_hold(&pool, &stale_id).await;

        // The sweeper runs for as long as the racers do.
        let racing = Arc::new(AtomicBool::new(true));
        let sweeper = {
            let (pool, barrier, racing) = (pool.clone(), barrier.clone(), racing.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let mut total = 0;
                while racing.load(Ordering::SeqCst) {
                    total += cineflow::domain::bookings::expire_due(&pool)
                        .await
                        .expect("expire_due");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                total
            })
        };
        let r = Race {
            app: app.clone(),
            show_id: b.show_id.clone(),
            seats: seats.clone(),
            max: 3,
            barrier: barrier.clone(),
            won: Arc::default(),
        };
        let mut set = JoinSet::new();
        for (i, token) in tokens.into_iter().enumerate() {
            set.spawn(race(r.clone(), token, Rng::new(base ^ (i as u64 + 101))));
        }
        drop(r);
        let outcomes = set.join_all().await;
        racing.store(false, Ordering::SeqCst);
        let mut swept = sweeper.await.expect("sweeper");
        swept += cineflow::domain::bookings::expire_due(&pool)
            .await
            .expect("expire_due");

        let won = check_race(&app, &pool, &b.show_id, &outcomes).await;
        assert_eq!(
            won,
            seats.iter().cloned().collect::<BTreeSet<_>>(),
            "every seat of the lapsed hold was retaken (by exactly one winner each)"
        );
        let winners = outcomes.iter().filter(|o| o.won.is_some()).count();
        assert_eq!(bookings_count(&pool).await, 1 + winners as i64);

        // The lapsed hold is expired once; the new holds are not touched by the sweeps.
        assert!(
            swept <= 1,
            "expire_due expired {swept} bookings, only one was due"
        );
        assert_eq!(app.booking(&first, &stale_id).await["status"], "expired");
        assert_eq!(notifications_of(&pool, "booking-expired").await, 1);
        for (_, booking) in outcomes.iter().filter_map(|o| o.won.as_ref()) {
            let id = s(booking, "id");
            let row: String = sqlx::query_scalar("select status from bookings where id = $1")
                .bind(uuid_of(&id))
                .fetch_one(&pool)
                .await
                .expect("status");
            assert_eq!(row, "held", "{id}");
        }
        assert_problem(app.try_pay(&first, &stale).await, 410, "hold_expired").await;
        assert_eq!(payments_of(&pool, &stale_id).await, 0);
        stop(app).await;
    })
    .await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_concurrent_duplicate_idempotent_hold_creates_one_booking(pool: PgPool) {
    on_many_threads(pool, |pool| async move {
        let app = Arc::new(TestApp::spawn(pool.clone()).await);
        let b: Bookable = app.bookable("KeyRace").await;
        let (_, customer) = app.customer("Cust").await;

        const SENDERS: usize = 10;
        let barrier = Arc::new(Barrier::new(SENDERS));
        let mut set = JoinSet::new();
        for _ in 0..SENDERS {
            let (app, customer, barrier) = (app.clone(), customer.clone(), barrier.clone());
            let body = hold_body(&b.show_id, &["A-1", "A-2"]);
            set.spawn(async move {
                barrier.wait().await;
                let res = app
                    .post_keyed("/bookings", Some(&customer), Some("same-key"), body)
                    .await;
                let status = res.status().as_u16();
                let text = res.text().await.expect("body");
                (status, text)
            });
        }
        let answers = set.join_all().await;
        eprintln!(
            "duplicate holds: {:?}",
            answers.iter().map(|(st, _)| *st).collect::<Vec<_>>()
        );
        let bodies: Vec<Value> = answers
            .iter()
            .filter(|(st, _)| *st == 201)
            .map(|(_, text)| serde_json::from_str(text).expect("booking JSON"))
            .collect();
        assert!(!bodies.is_empty(), "one of them holds: {answers:#?}");
        assert!(
            bodies.iter().all(|b| *b == bodies[0]),
            "every 201 is the same first response: {answers:#?}"
        );
        for (status, text) in answers.iter().filter(|(st, _)| *st != 201) {
            let problem: Value = serde_json::from_str(text).expect("problem JSON");
            assert_eq!(
                (*status, problem["code"].clone()),
                (409, json!("idempotency_conflict")),
                "a duplicate in flight: {text}"
            );
        }
        assert_eq!(bookings_count(&pool).await, 1);
        // Once settled, the key replays the booking.
        let again = app
            .post_keyed(
                "/bookings",
                Some(&customer),
                Some("same-key"),
                hold_body(&b.show_id, &["A-1", "A-2"]),
            )
            .await;
        let again = expect_json(again, 201).await;
        assert_eq!(again, bodies[0]);
        stop(app).await;
    })
    .await;
}

/// Whether some backend waits for another transaction (a row or constraint lock).
async fn someone_waits_on_a_transaction(pool: &PgPool) -> bool {
    sqlx::query_scalar(
        "select exists (select 1 from pg_locks where not granted and locktype = 'transactionid')",
    )
    .fetch_one(pool)
    .await
    .expect("pg_locks")
}

/// PostgreSQL can pick a hold as the victim of a lock cycle (here forced: another transaction
/// takes A-2, then A-1 while the hold, which took A-1, waits for A-2). The victim must be
/// retried: answering 409 then would name seats that no live booking holds, because the
/// other transaction may still roll back, as it does here.
#[sqlx::test(migrations = "../migrations")]
async fn a_hold_picked_as_a_deadlock_victim_is_retried_not_refused(pool: PgPool) {
    // The app's connections find the cycle (after 2 s); the test's own transaction would
    // look only much later, so the hold is the victim.
    sqlx::query(
        "do $$ begin execute format('alter database %I set deadlock_timeout = %L', \
         current_database(), '2s'); end $$",
    )
    .execute(&pool)
    .await
    .expect("deadlock_timeout");
    on_many_threads(pool, |pool| async move {
        let app = Arc::new(TestApp::spawn(pool.clone()).await);
        let b: Bookable = app.bookable("Victim").await;
        let (_, other) = app.customer("Other").await;
        let anchor = app.hold(&other, &b.show_id, &["B-1"]).await;
        let anchor_id = uuid_of(&s(&anchor, "id"));
        let (_, customer) = app.customer("Cust").await;

        // On a machine so slow that the hold's one deadlock check ran before the cycle
        // closed, the test's transaction is the victim instead and shows nothing: try the
        // next pair of seats.
        let mut shown = false;
        for pair in 0..5 {
            let (first, second) = (format!("A-{}", 2 * pair + 1), format!("A-{}", 2 * pair + 2));
            let mut blocker = pool.begin().await.expect("begin");
            sqlx::query("set local deadlock_timeout = '15s'")
                .execute(&mut *blocker)
                .await
                .expect("set deadlock_timeout");
            let take = "insert into booking_seats (chain_id, booking_id, show_id, seat_id, taken_from, taken_until) \
                 select chain_id, id, show_id, $2, now(), now() + interval '10 minutes' from bookings where id = $1";
            sqlx::query(take)
                .bind(anchor_id)
                .bind(&second)
                .execute(&mut *blocker)
                .await
                .expect("the blocker takes the second seat");

            let hold = {
                let (app, customer, show) = (app.clone(), customer.clone(), b.show_id.clone());
                let seats = [first.clone(), second.clone()];
                tokio::spawn(async move {
                    let refs: Vec<&str> = seats.iter().map(String::as_str).collect();
                    let res = app.try_hold(&customer, &show, &refs).await;
                    let status = res.status().as_u16();
                    (status, res.text().await.expect("body"))
                })
            };
            // The hold took the first seat and waits for the blocker's second.
            while !someone_waits_on_a_transaction(&pool).await {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let closed = sqlx::query(take)
                .bind(anchor_id)
                .bind(&first)
                .execute(&mut *blocker)
                .await;
            let hold_was_victim = closed.is_ok();
            // The blocker never commits: neither seat was ever taken by a live booking.
            drop(blocker);
            let (status, text) = hold.await.expect("hold task");
            if !hold_was_victim {
                assert_eq!(status, 201, "{text}");
                continue;
            }
            shown = true;
            assert_eq!(status, 201, "the deadlocked hold was retried and won: {text}");
            let booking: Value = serde_json::from_str(&text).expect("booking JSON");
            assert_eq!(seat_ids(&booking), vec![first.clone(), second.clone()]);
            break;
        }
        assert!(shown, "the hold was never the deadlock victim in 5 tries");
        stop(app).await;
    })
    .await;
}
