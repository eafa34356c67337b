//! One chain's pricing bound to a component that hangs (`loop`, stopped by the deadline) and
//! then to one that eats memory (`memory-bomb`, trapped at the cap), hammered with holds, while
//! a second chain's holds and payments run alongside on the same real binary: the hostile
//! chain's holds fail cleanly (503 `plugin_unavailable` under `reject`, the platform default's
//! price under `fallback`), every request of the other chain succeeds, and the replica stays
//! healthy. Prints the other chain's p50/p99 latency in steady state and under each hostile
//! load (not asserted: the machine is shared and noisy).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::server::{Api, Binary, TempDatabase, Venue, percentile};
use crate::support::client::{payment_body, row_label, s};
use crate::support::hostile;

/// The price of a standard seat (`support::client::prices`).
const STANDARD: i64 = 25_000;
/// Clients of each chain.
const CLIENTS: u32 = 4;
/// Holds (each then paid) per normal client per phase.
const HOLDS: u32 = 20;
/// A screen of 20 rows of 50 seats.
const ROWS: u32 = 20;
const SEATS: u32 = 50;

/// The normal chain's load for one phase: `CLIENTS` customers each hold one seat of their
/// own row `HOLDS` times and pay for it. Every answer must be 201; returns the latencies.
async fn normal_phase(api: &Api, venue: &Venue, phase: u32) -> Vec<Duration> {
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let customer = api.user("customer").await;
        let (api, show) = (api.clone(), venue.show_id.clone());
        let row = row_label(phase * CLIENTS + client);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for n in 1..=HOLDS {
                let body = json!({"show_id": show, "seat_ids": [format!("{row}-{n}")]});
                let started = Instant::now();
                let hold = api
                    .call(Method::POST, "/bookings", Some(&customer), Some(body), 201)
                    .await;
                latencies.push(started.elapsed());
                let path = format!("/bookings/{}/payments", s(&hold, "id"));
                let started = Instant::now();
                api.call(
                    Method::POST,
                    &path,
                    Some(&customer),
                    Some(payment_body(&hold)),
                    201,
                )
                .await;
                latencies.push(started.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(
            task.await
                .expect("every request of the normal chain succeeds"),
        );
    }
    all.sort();
    all
}

/// Customers holding seats at the hostile chain until stopped; returns every answer.
struct HostileLoad {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<Vec<(u16, Value)>>>,
}

impl HostileLoad {
    async fn start(api: &Api, venue: &Venue) -> HostileLoad {
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for client in 0..CLIENTS {
            let customer = api.user("customer").await;
            let (api, stop, show) = (api.clone(), stop.clone(), venue.show_id.clone());
            let rows_each = ROWS / CLIENTS;
            tasks.push(tokio::spawn(async move {
                // A fresh seat each time: under `fallback` the holds succeed.
                let mut seats = (client * rows_each..(client + 1) * rows_each)
                    .flat_map(|r| (1..=SEATS).map(move |n| format!("{}-{n}", row_label(r))));
                let mut answers = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let Some(seat) = seats.next() else { break };
                    let body = json!({"show_id": show, "seat_ids": [seat]});
                    let res = api
                        .send(Method::POST, "/bookings", Some(&customer), Some(body))
                        .await
                        .expect("the hostile chain's hold is answered");
                    let status = res.status().as_u16();
                    let body: Value = res.json().await.unwrap_or_default();
                    // Released at once: the default rules cap a customer's unpaid seats of a
                    // show at 10.
                    if let Some(id) = body["id"].as_str().filter(|_| status == 201) {
                        let path = format!("/bookings/{id}/cancel");
                        let _ = api.send(Method::POST, &path, Some(&customer), None).await;
                    }
                    answers.push((status, body));
                }
                answers
            }));
        }
        HostileLoad { stop, tasks }
    }

    async fn finish(self) -> Vec<(u16, Value)> {
        self.stop.store(true, Ordering::Relaxed);
        let mut all = Vec::new();
        for task in self.tasks {
            all.extend(task.await.expect("hostile client"));
        }
        all
    }
}

/// Stores `name` as one of the chain's pricing components without the upload checks.
/// Uploads refuse these guests (they fail the fixtures:
/// `components::each_hostile_upload_is_refused_naming_the_fixture_and_the_failure`); this
/// stands for a component that passes every fixture and hangs or explodes on real requests.
async fn store_unchecked(db: &TempDatabase, chain_id: &str, name: &str) -> String {
    let bytes = hostile(name);
    let id = cineflow::plugins::sha256_hex(&bytes);
    let mut conn = db.connect().await;
    sqlx::query(
        "insert into components (id, bytes, size_bytes) values ($1, $2, $3) on conflict do nothing",
    )
    .bind(&id)
    .bind(&bytes)
    .bind(i32::try_from(bytes.len()).expect("small"))
    .execute(&mut conn)
    .await
    .expect("store the component");
    sqlx::query(
        "insert into chain_components (chain_id, component_id, hook, fixtures_passed, fuel_max) values ($1::uuid, $2, 'pricing', 0, 0)",
    )
    .bind(chain_id)
    .bind(&id)
    .execute(&mut conn)
    .await
    .expect("give it to the chain");
    id
}

fn report(name: &str, sorted: &[Duration], steady: &[Duration]) {
    let (p50, p99) = (percentile(sorted, 0.50), percentile(sorted, 0.99));
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    println!(
        "hostile load: other chain, {name:<22} n={:>3}  p50 {:>7.1} ms  p99 {:>7.1} ms  \
         (x{:.2} / x{:.2} of steady state)",
        sorted.len(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        ratio(p50, percentile(steady, 0.50)),
        ratio(p99, percentile(steady, 0.99)),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_or_memory_hungry_component_fails_its_own_chain_only() {
    let db = TempDatabase::create().await;
    let binary = Binary::start(
        &db.url,
        &[
            // Fuel for seconds of spinning: the 100 ms deadline is what stops `loop`.
            ("CINEFLOW_COMPONENT_FUEL", "20000000000"),
            // Keep calling the hostile component: the breaker would otherwise hand the
            // chain to the platform default after 5 failures and end the hostile load.
            ("CINEFLOW_BREAKER_FAILURES", "10000"),
        ],
    )
    .await;
    let api = binary.api.clone();
    let hostile_chain = api.venue("Hostile Cinemas", ROWS, SEATS).await;
    let normal_chain = api.venue("Normal Cinemas", ROWS, SEATS).await;
    let spinner = store_unchecked(&db, &hostile_chain.chain_id, "loop").await;
    let bomb = store_unchecked(&db, &hostile_chain.chain_id, "memory-bomb").await;

    // Warm-up (first connections, first instances), then steady state.
    normal_phase(&api, &normal_chain, 0).await;
    let steady = normal_phase(&api, &normal_chain, 1).await;

    // A component that never returns, failing closed.
    let owner = hostile_chain.owner.as_str();
    api.bind_pricing(owner, &hostile_chain.chain_id, &spinner, "reject")
        .await;
    let load = HostileLoad::start(&api, &hostile_chain).await;
    let under_loop = normal_phase(&api, &normal_chain, 2).await;
    let answers = load.finish().await;
    assert!(!answers.is_empty());
    // Each hold fails closed: stopped by the deadline, or, once the chain has burnt its fair
    // share of fuel on this replica, refused before its component runs.
    for (status, body) in &answers {
        assert_eq!(*status, 503, "{body}");
        let detail = body["detail"].as_str().unwrap_or_default();
        match body["code"].as_str() {
            Some("plugin_unavailable") => {
                assert!(
                    detail.contains("(timeout)"),
                    "stopped by the deadline: {body}"
                )
            }
            Some("plugin_busy") => assert!(detail.contains("fair share"), "{body}"),
            _ => panic!("unexpected answer {body}"),
        }
    }
    assert!(
        answers
            .iter()
            .any(|(_, body)| body["code"] == "plugin_unavailable"),
        "the looping component ran at least once"
    );
    let show = api
        .call(
            Method::GET,
            &format!("/shows/{}", hostile_chain.show_id),
            None,
            None,
            200,
        )
        .await;
    assert_eq!(
        show["seats_available"],
        ROWS * SEATS,
        "no seat taken: {show}"
    );
    let loop_holds = answers.len();

    // A component that allocates until the cap, with the default answering instead.
    api.bind_pricing(owner, &hostile_chain.chain_id, &bomb, "fallback")
        .await;
    let load = HostileLoad::start(&api, &hostile_chain).await;
    let under_bomb = normal_phase(&api, &normal_chain, 3).await;
    let answers = load.finish().await;
    assert!(!answers.is_empty());
    // Priced by the default after the bomb trapped, or refused (503 `plugin_busy`) while the
    // chain's fuel share is spent: its unbound booking rules count against it too.
    for (status, body) in &answers {
        if *status == 503 {
            assert_eq!(body["code"], "plugin_busy", "{body}");
            continue;
        }
        assert_eq!(*status, 201, "{body}");
        assert_eq!(
            body["total_minor"], STANDARD,
            "priced by the default: {body}"
        );
    }
    assert!(
        answers.iter().any(|(status, _)| *status == 201),
        "the fallback answered at least once"
    );
    let bomb_holds = answers.len();

    // The replica is healthy and counted both kinds of failure.
    for path in ["/healthz", "/readyz"] {
        let res = api.root(Method::GET, path).await.expect(path);
        assert_eq!(res.status(), 200, "{path}");
    }
    let metrics = binary.metrics().await;
    for outcome in ["timeout", "memory_limit"] {
        assert!(
            metrics.contains(&format!("outcome=\"{outcome}\"")),
            "no {outcome} call counted:\n{metrics}"
        );
    }
    binary.assert_running();

    println!(
        "hostile load: {loop_holds} holds answered 503 by `loop` (reject), {bomb_holds} priced \
         by the default after `memory-bomb` trapped (fallback)"
    );
    report("steady state", &steady, &steady);
    report("beside `loop`", &under_loop, &steady);
    report("beside `memory-bomb`", &under_bomb, &steady);

    let status = binary.terminate().await;
    assert!(status.success(), "{status}");
    db.drop_now().await;
}
