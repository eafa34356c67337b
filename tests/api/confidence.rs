//! Changing a component with confidence (API.md, "Run logs, replay, shadow, canary,
//! receipts"): every production call is in the run log, pseudonymised; a replay reports what a
//! candidate would have done to the recorded traffic; a shadow never changes an answer; a
//! canary serves a stable share of customers and goes away when it fails; a receipt
//! reproduces bit for bit; and a full run-log buffer never holds up a hold.

use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Duration as Days, Timelike, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::support::app::{TestApp, config};
use crate::support::client::{assert_problem, expect_json, expect_status, rfc3339, s, show_body};
use crate::support::{component, components_dir, hostile};

const BIN: &str = env!("CARGO_BIN_EXE_cineflow");

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every run of the chain (all pages), newest first, with `query` (e.g. `hook=pricing`).
async fn runs(app: &TestApp, token: &str, chain: &str, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/chains/{chain}/runs?limit=200&{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = app.get_ok(&path, Some(token)).await;
        out.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

/// Waits (up to 20 s) until the run log holds at least `n` runs matching `query`.
async fn wait_runs(app: &TestApp, token: &str, chain: &str, query: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = runs(app, token, chain, query).await;
        if found.len() >= n || Instant::now() > deadline {
            assert!(
                found.len() >= n,
                "{} of {n} runs ({query}): {found:?}",
                found.len()
            );
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn every_production_call_is_recorded_with_customer_addresses_pseudonymised(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Runs").await;
    let (owner, chain) = (b.venue.token.as_str(), b.venue.chain_id.as_str());
    let (_, email, customer) = app.customer_with_email("Cust").await;
    let booking = app.hold(&customer, &b.show_id, &["A-1", "A-2"]).await;
    let id = s(&booking, "id");
    expect_json(app.cancel_booking(Some(&customer), &id).await, 200).await;

    // check-hold and quote of the hold, cancel of the cancellation (emails may add renders).
    let rules = wait_runs(&app, owner, chain, "hook=booking-rules", 2).await;
    let functions: Vec<&str> = rules
        .iter()
        .filter_map(|r| r["function"].as_str())
        .collect();
    assert_eq!(
        functions,
        ["cancel", "check-hold"],
        "newest first: {rules:?}"
    );
    let pricing = wait_runs(&app, owner, chain, "hook=pricing", 1).await;
    assert_eq!(pricing.len(), 1, "{pricing:?}");
    let run = &pricing[0];
    assert_eq!(run["function"], "quote");
    assert_eq!(run["outcome"], "ok");
    assert_eq!(run["booking_id"], id.as_str());
    assert_eq!(run["canary"], false);
    assert!(run["fuel_used"].as_u64().is_some_and(|f| f > 0), "{run}");
    assert!(run["memory_bytes"].as_u64().is_some_and(|m| m > 0), "{run}");
    assert!(run["duration_us"].is_u64(), "{run}");
    assert_eq!(run["component_id"].as_str().map(str::len), Some(64));

    let detail = app
        .get_ok(
            &format!("/chains/{chain}/runs/{}", s(run, "id")),
            Some(owner),
        )
        .await;
    assert_eq!(detail["id"], run["id"]);
    assert_eq!(detail["output"]["ok"]["total_minor"], 50000, "{detail}");
    let recorded_email = s(&detail["input"]["customer"], "email");
    assert_ne!(recorded_email, email, "the address is pseudonymised");
    assert!(
        recorded_email.ends_with("@pseudonym.invalid"),
        "{recorded_email}"
    );
    assert!(
        !detail.to_string().contains(&email),
        "no trace of the address: {detail}"
    );
    // One customer, one pseudonym: the check-hold run names the same one.
    let check = rules
        .iter()
        .find(|r| r["function"] == "check-hold")
        .expect("check-hold");
    let check = app
        .get_ok(
            &format!("/chains/{chain}/runs/{}", s(check, "id")),
            Some(owner),
        )
        .await;
    assert_eq!(check["input"]["function"], "check-hold");
    assert_eq!(s(&check["input"]["customer"], "email"), recorded_email);

    // Filters.
    let ok = runs(&app, owner, chain, "outcome=ok&hook=pricing").await;
    assert_eq!(ok.len(), 1);
    assert!(runs(&app, owner, chain, "outcome=trap").await.is_empty());
    let later = rfc3339(Utc::now() + Days::hours(1));
    assert!(
        runs(&app, owner, chain, &format!("from={later}"))
            .await
            .is_empty()
    );
    let component = s(run, "component_id");
    assert_eq!(
        runs(&app, owner, chain, &format!("component_id={component}"))
            .await
            .len(),
        1
    );
    assert_problem(
        app.get_auth(
            &format!("/chains/{chain}/runs?outcome=exploded"),
            Some(owner),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.get_auth(&format!("/chains/{chain}/runs?hook=nope"), Some(owner))
            .await,
        422,
        "validation_failed",
    )
    .await;

    // Only the chain's staff and admins see them.
    expect_status(
        app.get_auth(&format!("/chains/{chain}/runs"), Some(&customer))
            .await,
        403,
    )
    .await;
    let other = app.venue("Other").await;
    assert_problem(
        app.get_auth(&format!("/chains/{chain}/runs"), Some(&other.token))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_auth(
            &format!("/chains/{}/runs/{}", other.chain_id, s(run, "id")),
            Some(&other.token),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let admin = app.admin_token().await;
    assert_eq!(runs(&app, &admin, chain, "hook=pricing").await.len(), 1);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_receipt_is_reproduced_bit_for_bit_by_component_run(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Receipt").await;
    let (_, customer) = app.customer("Cust").await;
    let booking = app.hold(&customer, &b.show_id, &["A-3", "B-1"]).await;
    let id = s(&booking, "id");
    let receipt = app
        .get_ok(&format!("/bookings/{id}/receipt"), Some(&customer))
        .await;
    assert_eq!(receipt["booking_id"], id.as_str());
    let decisions = receipt["decisions"].as_array().cloned().unwrap_or_default();
    let hooks: Vec<(&str, &str)> = decisions
        .iter()
        .map(|d| {
            (
                d["hook"].as_str().unwrap_or(""),
                d["function"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        hooks,
        [("booking-rules", "check-hold"), ("pricing", "quote")]
    );
    let wasm = |hook: &str| components_dir().join(format!("{hook}.wasm"));
    for d in &decisions {
        let hook = s(d, "hook");
        // The platform default served: its bytes are the built component.
        assert_eq!(
            s(d, "component_id"),
            sha256_hex(&component(&format!("{hook}.wasm")))
        );
        let input_bytes = serde_json::to_vec(&d["input"]).expect("json");
        assert_eq!(s(d, "input_sha256"), sha256_hex(&input_bytes), "{d}");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("input.json");
        std::fs::write(&path, &input_bytes).expect("write");
        let out = Command::new(BIN)
            .args(["component", "run", "--hook", &hook, "--wasm"])
            .arg(wasm(&hook))
            .arg("--input")
            .arg(&path)
            .env("RUST_LOG", "error")
            .output()
            .expect("runs");
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(report["output"], d["output"], "{hook} reproduces");
    }
    assert_eq!(
        decisions[1]["output"]["ok"]["total_minor"],
        booking["total_minor"]
    );

    // The chain's staff and admins may read it too; another customer may not see it exists.
    app.get_ok(&format!("/bookings/{id}/receipt"), Some(&b.venue.token))
        .await;
    let admin = app.admin_token().await;
    app.get_ok(&format!("/bookings/{id}/receipt"), Some(&admin))
        .await;
    let (_, stranger) = app.customer("Stranger").await;
    assert_problem(
        app.get_auth(&format!("/bookings/{id}/receipt"), Some(&stranger))
            .await,
        404,
        "not_found",
    )
    .await;
    app.stop().await;
}

/// What the matinee example charges for a `base` seat of a show at `at` in Asia/Kolkata
/// (written here from the example's documented rule, not from its code): 20 % off from 06:00
/// to 17:00 local, 10 % off Monday to Thursday, the discount rounded down.
fn matinee_price(base: i64, at: DateTime<Utc>) -> i64 {
    let local = at + Days::minutes(5 * 60 + 30);
    let minute = local.hour() * 60 + local.minute();
    let mut percent = 0;
    if (6 * 60..17 * 60).contains(&minute) {
        percent += 20;
    }
    if local.weekday().num_days_from_monday() < 4 {
        percent += 10;
    }
    base - base * percent / 100
}

#[sqlx::test(migrations = "../migrations")]
async fn a_replay_of_a_matinee_candidate_reports_the_exact_revenue_difference(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let venue = app.venue("Replay").await;
    let (owner, chain) = (venue.token.as_str(), venue.chain_id.as_str());
    let (_, customer) = app.customer("Cust").await;
    // Shows 13 hours apart over five days: matinees, evenings, weekdays, a weekend.
    let start = crate::support::client::base_time(3);
    let mut expected_before = 0;
    let mut expected_after = 0;
    let mut holds = 0;
    for i in 0..10 {
        let at = start + Days::hours(13 * i);
        let show = expect_json(
            app.post_json(
                "/shows",
                Some(owner),
                show_body(&venue.screen_id, &venue.movie_id, at),
            )
            .await,
            201,
        )
        .await;
        let seats: &[&str] = if i % 2 == 0 {
            &["A-1", "A-2"]
        } else {
            &["A-1", "B-1"]
        };
        let booking = app.hold(&customer, &s(&show, "id"), seats).await;
        holds += 1;
        let bases: Vec<i64> = seats
            .iter()
            .map(|seat| if seat.starts_with('B') { 40000 } else { 25000 })
            .collect();
        expected_before += bases.iter().sum::<i64>();
        assert_eq!(booking["total_minor"], bases.iter().sum::<i64>());
        expected_after += bases.iter().map(|p| matinee_price(*p, at)).sum::<i64>();
        // The customer's per-show cap is not the point here: free the seats again.
        expect_json(
            app.cancel_booking(Some(&customer), &s(&booking, "id"))
                .await,
            200,
        )
        .await;
    }
    assert_ne!(
        expected_before, expected_after,
        "the shows include discounted ones"
    );
    wait_runs(&app, owner, chain, "hook=pricing", holds).await;

    let matinee = component("examples/matinee-pricing.wasm");
    let candidate = app.upload_ok(owner, chain, "pricing", matinee).await;
    let started = expect_json(
        app.post_json(
            &format!("/chains/{chain}/replays"),
            Some(owner),
            json!({"component_id": s(&candidate, "id"), "hook": "pricing"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(started["status"], "queued");
    let path = format!("/chains/{chain}/replays/{}", s(&started, "id"));
    let deadline = Instant::now() + Duration::from_secs(60);
    let report = loop {
        let r = app.get_ok(&path, Some(owner)).await;
        if r["status"] == "done" || r["status"] == "failed" || Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(report["status"], "done", "{report}");
    assert_eq!(report["progress"]["done"], holds, "{report}");
    assert_eq!(report["progress"]["total"], holds, "{report}");
    assert_eq!(report["runs"], holds, "{report}");
    assert_eq!(report["revenue_before_minor"], expected_before, "{report}");
    assert_eq!(report["revenue_after_minor"], expected_after, "{report}");
    let changed = report["changed"].as_u64().unwrap_or(0);
    assert_eq!(
        report["same"].as_u64().unwrap_or(0) + changed,
        holds as u64,
        "{report}"
    );
    assert!(changed > 0, "{report}");
    let examples = report["examples"].as_array().cloned().unwrap_or_default();
    assert_eq!(examples.len() as u64, changed.min(20), "{report}");
    for e in &examples {
        // Each example names a recorded run of the chain.
        app.get_ok(
            &format!("/chains/{chain}/runs/{}", s(e, "run_id")),
            Some(owner),
        )
        .await;
        assert_ne!(e["before"], e["after"]);
    }

    // A component of another hook, an unknown one, or another chain's: refused.
    let rules = app
        .upload_ok(
            owner,
            chain,
            "booking-rules",
            component("examples/no-single-gap-rules.wasm"),
        )
        .await;
    assert_problem(
        app.post_json(
            &format!("/chains/{chain}/replays"),
            Some(owner),
            json!({"component_id": s(&rules, "id"), "hook": "pricing"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.post_json(
            &format!("/chains/{chain}/replays"),
            Some(owner),
            json!({"component_id": "0".repeat(64), "hook": "pricing"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let other = app.venue("Other").await;
    assert_problem(
        app.get_auth(&path, Some(&other.token)).await,
        404,
        "not_found",
    )
    .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_shadow_leaves_every_answer_identical_and_reports_the_difference(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Shadow").await;
    let (owner, chain) = (b.venue.token.as_str(), b.venue.chain_id.as_str());
    let (_, customer) = app.customer("Cust").await;
    let double = app
        .upload_ok(owner, chain, "pricing", hostile("double"))
        .await;
    assert_problem(
        app.get_auth(&format!("/chains/{chain}/shadows/pricing"), Some(owner))
            .await,
        404,
        "not_found",
    )
    .await;
    let started = expect_json(
        app.put_json(
            &format!("/chains/{chain}/shadows/pricing"),
            Some(owner),
            json!({"component_id": s(&double, "id")}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(started["sample_percent"], 100);
    assert_eq!(started["runs"], 0);

    let mut served = 0;
    for seat in ["A-1", "A-2", "A-3", "A-4"] {
        let booking = app.hold(&customer, &b.show_id, &[seat]).await;
        assert_eq!(
            booking["total_minor"], 25000,
            "the shadow changed no answer"
        );
        served += 25000;
    }
    let path = format!("/chains/{chain}/shadows/pricing");
    let deadline = Instant::now() + Duration::from_secs(20);
    let summary = loop {
        let v = app.get_ok(&path, Some(owner)).await;
        if v["runs"] == 4 || Instant::now() > deadline {
            break v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(summary["runs"], 4, "{summary}");
    assert_eq!(summary["changed"], 4, "{summary}");
    assert_eq!(summary["same"], 0, "{summary}");
    assert_eq!(
        summary["revenue_delta_minor"], served,
        "double charges twice: {summary}"
    );
    assert_eq!(summary["component_id"], double["id"]);
    assert!(
        !summary["examples"].as_array().is_none_or(Vec::is_empty),
        "{summary}"
    );
    // The shadow is no production call: the run log has the default's quotes only.
    let quotes = wait_runs(&app, owner, chain, "hook=pricing", 4).await;
    assert!(
        quotes.iter().all(|r| r["component_id"] != double["id"]),
        "{quotes:?}"
    );

    assert_problem(
        app.put_json(
            &path,
            Some(owner),
            json!({"component_id": s(&double, "id"), "sample_percent": 0}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    expect_status(app.delete(&path, Some(owner)).await, 204).await;
    assert_problem(app.get_auth(&path, Some(owner)).await, 404, "not_found").await;
    assert_problem(app.delete(&path, Some(owner)).await, 404, "not_found").await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_canary_serves_a_stable_half_and_is_removed_when_it_fails(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let venue = app.venue("Canary").await;
    let (owner, chain) = (venue.token.as_str(), venue.chain_id.as_str());
    let stable = app
        .upload_ok(owner, chain, "pricing", hostile("well-behaved"))
        .await;
    let candidate = app
        .upload_ok(owner, chain, "pricing", hostile("trap-on-promo"))
        .await;
    let bound = expect_json(
        app.put_json(
            &format!("/chains/{chain}/bindings/pricing"),
            Some(owner),
            json!({
                "component_id": s(&stable, "id"),
                "canary": {"component_id": s(&candidate, "id"), "percent": 50},
            }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(bound["canary"]["component_id"], candidate["id"], "{bound}");
    assert_eq!(bound["canary"]["percent"], 50, "{bound}");
    assert_eq!(bound["canary"]["breaker"], "closed", "{bound}");

    // 40 customers, two holds each on two shows: each keeps one version.
    let show = |at| {
        let body = show_body(&venue.screen_id, &venue.movie_id, at);
        async {
            s(
                &expect_json(app.post_json("/shows", Some(owner), body).await, 201).await,
                "id",
            )
        }
    };
    let first = show(crate::support::client::base_time(5)).await;
    let second = show(crate::support::client::base_time(6)).await;
    let mut on_canary = Vec::new();
    let mut customers = Vec::new();
    for i in 0..40 {
        let (_, token) = app.customer(&format!("C{i}")).await;
        let a = app.hold(&token, &first, &["A-1"]).await;
        let b2 = app.hold(&token, &second, &["A-2"]).await;
        let canary = a["total_minor"] == 50000;
        assert_eq!(
            a["total_minor"], b2["total_minor"],
            "customer {i} keeps one version"
        );
        assert!(a["total_minor"] == 25000 || canary, "{a}");
        for b in [&a, &b2] {
            expect_json(app.cancel_booking(Some(&token), &s(b, "id")).await, 200).await;
        }
        if canary {
            on_canary.push(token.clone());
        }
        customers.push(token);
    }
    assert!(
        (10..=30).contains(&on_canary.len()),
        "about half of 40 on the canary: {}",
        on_canary.len()
    );
    // The audit says which version decided.
    let binding = app.binding(owner, chain, "pricing").await;
    assert!(
        binding["canary"]["calls"].as_u64().is_some_and(|c| c > 0),
        "{binding}"
    );

    // The canary starts failing (it panics on the promo code TRAP): its customers are
    // answered by the stable component meanwhile, and the breaker removes the canary.
    for token in on_canary.iter().cycle().take(8) {
        let mut body = crate::support::client::hold_body(&first, &["A-5"]);
        body["promo_code"] = json!("TRAP");
        let res = app.post_json("/bookings", Some(token), body).await;
        let held = expect_json(res, 201).await;
        assert_eq!(
            held["total_minor"], 25000,
            "the stable component answered: {held}"
        );
        expect_json(app.cancel_booking(Some(token), &s(&held, "id")).await, 200).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let binding = loop {
        let b = app.binding(owner, chain, "pricing").await;
        if b["canary"].is_null() || Instant::now() > deadline {
            break b;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(binding["canary"].is_null(), "the canary is gone: {binding}");
    assert_eq!(binding["component_id"], stable["id"], "{binding}");
    for token in &on_canary {
        let back = app.hold(token, &first, &["A-9"]).await;
        assert_eq!(back["total_minor"], 25000, "back on the stable component");
        expect_json(app.cancel_booking(Some(token), &s(&back, "id")).await, 200).await;
    }
    let trail = app
        .get_ok(
            &format!("/chains/{chain}/component-audit?limit=200"),
            Some(owner),
        )
        .await;
    let kinds: Vec<&str> = trail["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(kinds.contains(&"canary-set"), "{kinds:?}");
    assert!(kinds.contains(&"canary-tripped"), "{kinds:?}");

    // Bad canaries are refused.
    for (canary, field) in [
        (
            json!({"component_id": s(&candidate, "id"), "percent": 100}),
            "canary.percent",
        ),
        (
            json!({"component_id": s(&stable, "id"), "percent": 10}),
            "canary.component_id",
        ),
        (
            json!({"component_id": "f".repeat(64), "percent": 10}),
            "canary.component_id",
        ),
    ] {
        let res = app
            .put_json(
                &format!("/chains/{chain}/bindings/pricing"),
                Some(owner),
                json!({"component_id": s(&stable, "id"), "canary": canary}),
            )
            .await;
        crate::support::client::assert_invalid(res, field).await;
    }
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_full_run_log_buffer_never_holds_up_a_hold(pool: PgPool) {
    let mut cfg = config(Default::default());
    cfg.run_log.buffer = 1;
    let app = TestApp::spawn_config(pool.clone(), cfg).await;
    let b = app.bookable("Full").await;
    let (_, customer) = app.customer("Cust").await;
    // The writer is stuck behind a lock on the table: nothing it holds can be written.
    let mut blocker = pool.begin().await.expect("tx");
    sqlx::query("lock table component_runs in access exclusive mode")
        .execute(&mut *blocker)
        .await
        .expect("lock");
    let started = Instant::now();
    for seat in ["A-1", "A-2", "A-3", "A-4", "A-5", "A-6"] {
        app.hold(&customer, &b.show_id, &[seat]).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "holds went on while the run log could not write ({:?})",
        started.elapsed()
    );
    let metrics = app.metrics().await;
    let dropped: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("cineflow_run_log_dropped_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(dropped > 0.0, "dropped records are counted:\n{metrics}");
    blocker.rollback().await.expect("unlock");
    app.stop().await;
}
