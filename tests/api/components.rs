//! Chains' own components over HTTP (issue 7): upload with its checks and fixtures, bindings
//! and their audit trail, holds priced by the bound component, the failure policy and the
//! breaker, dry runs and statistics, tenant isolation, hot swap under load, and a binding made
//! on one replica in force on another.
//!
//! Pricing components used (all from `tests/guests/hostile`, built by
//! `scripts/build-components.sh`): `well-behaved` charges the class price per seat like the
//! platform default but labels items `Seat A-1` (the default says `Seat A-1 (standard)`),
//! `double` charges twice the class price, `trap-on-promo` charges twice and panics on the
//! promo code `TRAP`. The platform default refuses every promo code.

use std::time::{Duration, Instant};

use cineflow::plugins::RegistrySettings;
use cineflow::plugins::{Limits, sha256_hex};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::support::app::{TestApp, config};
use crate::support::client::{
    assert_invalid, assert_problem, bookings_count, expect_json, expect_status, parse_time,
    row_label, s,
};
use crate::support::{component, hostile, inputs};

const STANDARD: i64 = 25_000;
const PREMIUM: i64 = 40_000;

/// The platform default of `hook`, from `GET /hooks`.
async fn default_of(app: &TestApp, hook: &str) -> String {
    let hooks = app.get_ok("/hooks", None).await;
    hooks["items"]
        .as_array()
        .expect("hooks")
        .iter()
        .find(|h| h["name"] == hook)
        .map(|h| s(&h["default_component"], "id"))
        .unwrap_or_else(|| panic!("no {hook} default in {hooks}"))
}

/// The chain's whole component trail (every page), oldest first.
async fn trail(app: &TestApp, token: &str, chain: &str) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut path = format!("/chains/{chain}/component-audit?limit=50");
    loop {
        let page = app.get_ok(&path, Some(token)).await;
        entries.extend(
            page["items"]
                .as_array()
                .unwrap_or_else(|| panic!("no items in {page}"))
                .iter()
                .cloned(),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/chains/{chain}/component-audit?limit=50&cursor={cursor}");
            }
            None => return entries,
        }
    }
}

/// The chain's components.
async fn components_of(app: &TestApp, token: &str, chain: &str) -> Vec<Value> {
    let list = app
        .get_ok(&format!("/chains/{chain}/components"), Some(token))
        .await;
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {list}"))
        .clone()
}

/// The line-item labels of a booking.
fn labels(booking: &Value) -> Vec<String> {
    booking["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {booking}"))
        .iter()
        .map(|i| s(i, "label"))
        .collect()
}

fn total(booking: &Value) -> i64 {
    booking["total_minor"]
        .as_i64()
        .unwrap_or_else(|| panic!("no total in {booking}"))
}

fn app_config_with_breaker(failures: u32) -> cineflow::config::Config {
    let mut config = config(Limits::default());
    config.registry = RegistrySettings {
        breaker_failures: failures,
        ..RegistrySettings::default()
    };
    config
}

// ---------------------------------------------------------------------------------------
// 1. Upload → bind → priced → rebind → unbind → default

#[sqlx::test(migrations = "../migrations")]
async fn upload_bind_rebind_and_unbind_change_what_prices_a_hold(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Bound").await;
    let (owner, chain) = (b.venue.token.as_str(), b.venue.chain_id.as_str());
    let (_, customer) = app.customer("Cust").await;
    let default = default_of(&app, "pricing").await;
    let single = hostile("well-behaved");
    let double = hostile("double");
    let single_id = sha256_hex(&single);
    let double_id = sha256_hex(&double);

    // Nothing bound yet: the default serves.
    let binding = app.binding(owner, chain, "pricing").await;
    assert_eq!(binding["component_id"], default.as_str(), "{binding}");
    assert!(binding["bound_component_id"].is_null(), "{binding}");
    assert_eq!(
        binding["default_component_id"],
        default.as_str(),
        "{binding}"
    );
    assert_eq!(binding["on_failure"], "reject", "{binding}");
    assert_eq!(binding["breaker"]["state"], "closed", "{binding}");
    let before = app.hold(&customer, &b.show_id, &["A-1", "A-2"]).await;
    assert_eq!(total(&before), 2 * STANDARD);
    assert_eq!(
        labels(&before),
        ["Seat A-1 (standard)", "Seat A-2 (standard)"]
    );
    assert_eq!(
        app.pricing_component_of(owner, &s(&before, "id")).await,
        default
    );

    // Upload.
    let record = app.upload_ok(owner, chain, "pricing", single.clone()).await;
    assert_eq!(record["id"], single_id.as_str(), "{record}");
    assert_eq!(record["hook"], "pricing", "{record}");
    assert_eq!(record["size_bytes"], single.len(), "{record}");
    assert_eq!(record["bound"], false, "{record}");
    parse_time(&record["uploaded_at"]);
    assert!(
        record["fixtures"]["passed"].as_u64().is_some_and(|n| n > 0),
        "{record}"
    );
    assert!(
        record["fixtures"]["fuel_max"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{record}"
    );
    // Uploading does not bind.
    let after_upload = app.hold(&customer, &b.show_id, &["A-3"]).await;
    assert_eq!(
        app.pricing_component_of(owner, &s(&after_upload, "id"))
            .await,
        default
    );

    // Bind.
    let bound = app.bind_ok(owner, chain, "pricing", &single_id, None).await;
    assert_eq!(bound["hook"], "pricing", "{bound}");
    assert_eq!(bound["component_id"], single_id.as_str(), "{bound}");
    assert_eq!(bound["bound_component_id"], single_id.as_str(), "{bound}");
    assert_eq!(bound["default_component_id"], default.as_str(), "{bound}");
    assert_eq!(
        bound["on_failure"], "reject",
        "the default policy for pricing: {bound}"
    );
    assert_eq!(bound["breaker"]["state"], "closed", "{bound}");
    assert_eq!(bound["bound_by"], b.venue.owner_id.as_str(), "{bound}");
    parse_time(&bound["bound_at"]);
    assert_eq!(app.binding(owner, chain, "pricing").await, bound);
    // The other hooks still serve their defaults.
    for hook in ["booking-rules", "notify-templates", "seat-picker"] {
        let other = app.binding(owner, chain, hook).await;
        assert!(other["bound_component_id"].is_null(), "{other}");
        assert_eq!(other["component_id"], default_of(&app, hook).await.as_str());
    }
    let listed = components_of(&app, owner, chain).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], single_id.as_str());
    assert_eq!(listed[0]["bound"], true);
    assert!(
        listed[0]["fixtures"]["passed"]
            .as_u64()
            .is_some_and(|n| n > 0)
    );

    let priced = app.hold(&customer, &b.show_id, &["A-4", "A-5"]).await;
    assert_eq!(total(&priced), 2 * STANDARD);
    assert_eq!(
        labels(&priced),
        ["Seat A-4", "Seat A-5"],
        "well-behaved's labels"
    );
    assert_eq!(
        app.pricing_component_of(owner, &s(&priced, "id")).await,
        single_id
    );

    // Rebind to another component, with the other policy.
    let record = app.upload_ok(owner, chain, "pricing", double.clone()).await;
    assert_eq!(record["id"], double_id.as_str());
    let rebound = app
        .bind_ok(owner, chain, "pricing", &double_id, Some("fallback"))
        .await;
    assert_eq!(rebound["component_id"], double_id.as_str(), "{rebound}");
    assert_eq!(rebound["on_failure"], "fallback", "{rebound}");
    let listed = components_of(&app, owner, chain).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    for c in &listed {
        assert_eq!(c["bound"], c["id"] == double_id.as_str(), "{c}");
    }
    let doubled = app.hold(&customer, &b.show_id, &["A-6", "B-1"]).await;
    assert_eq!(total(&doubled), 2 * STANDARD + 2 * PREMIUM);
    let amounts: Vec<i64> = doubled["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["amount_minor"].as_i64().expect("amount"))
        .collect();
    assert_eq!(amounts, [2 * STANDARD, 2 * PREMIUM]);
    assert_eq!(
        app.pricing_component_of(owner, &s(&doubled, "id")).await,
        double_id
    );
    // A booking priced by a chain's component is paid at its price.
    let payment = app.pay(&customer, &doubled).await;
    assert_eq!(
        payment["amount_minor"],
        2 * STANDARD + 2 * PREMIUM,
        "{payment}"
    );
    assert_eq!(
        app.booking(&customer, &s(&doubled, "id")).await["status"],
        "confirmed"
    );

    // Unbind: the default again.
    expect_status(app.unbind(owner, chain, "pricing").await, 204).await;
    let binding = app.binding(owner, chain, "pricing").await;
    assert_eq!(binding["component_id"], default.as_str(), "{binding}");
    assert!(binding["bound_component_id"].is_null(), "{binding}");
    assert_eq!(binding["breaker"]["state"], "closed", "{binding}");
    let after = app.hold(&customer, &b.show_id, &["A-7", "A-8"]).await;
    assert_eq!(total(&after), 2 * STANDARD);
    assert_eq!(
        labels(&after),
        ["Seat A-7 (standard)", "Seat A-8 (standard)"]
    );
    assert_eq!(
        app.pricing_component_of(owner, &s(&after, "id")).await,
        default
    );
    // The components stay, for a later rebind.
    let listed = components_of(&app, owner, chain).await;
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|c| c["bound"] == false), "{listed:?}");
    // Unbinding again: nothing is bound.
    assert_problem(app.unbind(owner, chain, "pricing").await, 404, "not_found").await;

    // The trail: every change, in order, with who and what it replaced.
    let entries = trail(&app, owner, chain).await;
    let summary: Vec<(String, String)> = entries
        .iter()
        .map(|e| (s(e, "kind"), s(e, "component_id")))
        .collect();
    assert_eq!(
        summary,
        [
            ("uploaded".to_owned(), single_id.clone()),
            ("bound".to_owned(), single_id.clone()),
            ("uploaded".to_owned(), double_id.clone()),
            ("bound".to_owned(), double_id.clone()),
            ("unbound".to_owned(), double_id.clone()),
        ],
        "{entries:?}"
    );
    for e in &entries {
        assert_eq!(e["hook"], "pricing", "{e}");
        assert_eq!(e["actor_id"], b.venue.owner_id.as_str(), "{e}");
        parse_time(&e["at"]);
    }
    assert!(entries[1]["detail"]["previous"].is_null(), "{}", entries[1]);
    assert_eq!(
        entries[1]["detail"]["on_failure"], "reject",
        "{}",
        entries[1]
    );
    assert_eq!(
        entries[3]["detail"]["previous"],
        single_id.as_str(),
        "{}",
        entries[3]
    );
    assert_eq!(
        entries[3]["detail"]["on_failure"], "fallback",
        "{}",
        entries[3]
    );
    assert!(
        entries[0]["detail"]["fixtures_passed"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{}",
        entries[0]
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// 2. Upload edge cases

#[sqlx::test(migrations = "../migrations")]
async fn the_same_bytes_again_are_the_same_record_and_another_chain_gets_its_own(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let a = app.venue("Again").await;
    let b = app.venue("Other").await;
    let bytes = hostile("well-behaved");

    let first = app
        .upload_ok(&a.token, &a.chain_id, "pricing", bytes.clone())
        .await;
    let again = expect_json(
        app.upload(&a.token, &a.chain_id, "pricing", bytes.clone())
            .await,
        200,
    )
    .await;
    assert_eq!(again, first, "the same record");
    assert_eq!(components_of(&app, &a.token, &a.chain_id).await.len(), 1);
    let uploads = trail(&app, &a.token, &a.chain_id).await;
    assert_eq!(uploads.len(), 1, "one upload in the trail: {uploads:?}");

    // New to chain B: 201, its own record (the bytes are stored once).
    let theirs = app
        .upload_ok(&b.token, &b.chain_id, "pricing", bytes.clone())
        .await;
    assert_eq!(theirs["id"], first["id"]);
    let stored: i64 = sqlx::query_scalar("select count(*) from components where id = $1")
        .bind(s(&first, "id"))
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(stored, 1);
    assert_eq!(trail(&app, &b.token, &b.chain_id).await.len(), 1);

    // An admin may upload for any chain.
    let admin = app.admin_token().await;
    let by_admin = app
        .upload_ok(&admin, &a.chain_id, "pricing", hostile("double"))
        .await;
    assert_eq!(components_of(&app, &a.token, &a.chain_id).await.len(), 2);
    assert_eq!(by_admin["hook"], "pricing");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn uploads_that_are_not_components_of_the_hook_are_refused_with_the_reason(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Refused").await;
    let (token, chain) = (v.token.as_str(), v.chain_id.as_str());
    let path = format!("/chains/{chain}/components?hook=pricing");

    // Not application/wasm.
    for content_type in [
        Some("application/octet-stream"),
        Some("application/json"),
        None,
    ] {
        let res = app
            .post_raw(&path, Some(token), content_type, hostile("well-behaved"))
            .await;
        assert_problem(res, 415, "unsupported_media_type").await;
    }
    // Empty.
    let problem = assert_problem(
        app.upload(token, chain, "pricing", Vec::new()).await,
        422,
        "invalid_component",
    )
    .await;
    assert!(s(&problem, "detail").contains("empty"), "{problem}");
    // Garbage.
    let problem = assert_problem(
        app.upload(token, chain, "pricing", b"not wasm at all".to_vec())
            .await,
        422,
        "invalid_component",
    )
    .await;
    assert!(
        s(&problem, "detail").contains("not a WebAssembly component"),
        "{problem}"
    );
    // A core module: the smallest valid one.
    let problem = assert_problem(
        app.upload(token, chain, "pricing", b"\0asm\x01\0\0\0".to_vec())
            .await,
        422,
        "invalid_component",
    )
    .await;
    assert!(
        s(&problem, "detail").contains("core WebAssembly module"),
        "{problem}"
    );
    // A truncated component.
    let mut truncated = hostile("well-behaved");
    truncated.truncate(600);
    assert_problem(
        app.upload(token, chain, "pricing", truncated).await,
        422,
        "invalid_component",
    )
    .await;
    // The wrong world: the pricing default uploaded as booking rules, and the other way round.
    for (hook, bytes) in [
        ("booking-rules", component("pricing.wasm")),
        ("pricing", component("booking-rules.wasm")),
        ("notify-templates", hostile("well-behaved")),
    ] {
        let problem = assert_problem(
            app.upload(token, chain, hook, bytes).await,
            422,
            "invalid_component",
        )
        .await;
        assert!(
            s(&problem, "detail").contains("does not implement"),
            "{hook}: {problem}"
        );
    }
    // An unknown hook.
    let res = app
        .upload(token, chain, "discounts", hostile("well-behaved"))
        .await;
    assert_invalid(res, "hook").await;

    // Nothing was stored or audited.
    assert!(components_of(&app, token, chain).await.is_empty());
    assert!(trail(&app, token, chain).await.is_empty());
    // The right bytes for the right hook are accepted, each for their own hook.
    app.upload_ok(
        token,
        chain,
        "booking-rules",
        component("booking-rules.wasm"),
    )
    .await;
    app.upload_ok(
        token,
        chain,
        "notify-templates",
        component("notify-templates.wasm"),
    )
    .await;
    app.upload_ok(token, chain, "pricing", component("pricing.wasm"))
        .await;
    assert_eq!(components_of(&app, token, chain).await.len(), 3);
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn an_upload_over_the_size_cap_is_413(pool: PgPool) {
    // The defaults are 78–105 KB (they keep their name section); a cap of 150 000 bytes
    // still loads them.
    let cap: usize = 150_000;
    let limits = Limits {
        max_component_bytes: u64::try_from(cap).expect("fits"),
        ..Limits::default()
    };
    let app = TestApp::spawn_with(pool, limits).await;
    let v = app.venue("Capped").await;
    let (token, chain) = (v.token.as_str(), v.chain_id.as_str());

    // A real component padded past the cap (the size is checked before anything else).
    let mut big = hostile("well-behaved");
    big.resize(cap + 1, 0);
    let problem = assert_problem(
        app.upload(token, chain, "pricing", big).await,
        413,
        "component_too_large",
    )
    .await;
    assert!(
        s(&problem, "detail").contains(&cap.to_string()),
        "{problem}"
    );
    // Exactly at the cap is not refused for its size (but is no valid component).
    let mut at_cap = hostile("well-behaved");
    at_cap.resize(cap, 0);
    assert_problem(
        app.upload(token, chain, "pricing", at_cap).await,
        422,
        "invalid_component",
    )
    .await;
    // Under the cap: fine.
    app.upload_ok(token, chain, "pricing", hostile("well-behaved"))
        .await;
    assert_eq!(components_of(&app, token, chain).await.len(), 1);
    app.stop().await;
}

/// With the default cap (2 MiB), anything larger is `component_too_large` too — not only
/// bodies between the cap and the server's general body limit.
#[sqlx::test(migrations = "../migrations")]
async fn an_upload_well_over_the_default_cap_is_413_component_too_large(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Huge").await;
    let cap = usize::try_from(Limits::default().max_component_bytes).expect("fits");
    for size in [cap + 1, cap + 1024, 3 * cap] {
        let mut huge = hostile("well-behaved");
        huge.resize(size, 0);
        let problem = assert_problem(
            app.upload(&v.token, &v.chain_id, "pricing", huge).await,
            413,
            "component_too_large",
        )
        .await;
        assert!(
            s(&problem, "detail").contains(&cap.to_string()),
            "{size}: {problem}"
        );
    }
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn each_hostile_upload_is_refused_naming_the_fixture_and_the_failure(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let v = app.venue("Hostile").await;
    let (token, chain) = (v.token.as_str(), v.chain_id.as_str());
    let fixtures: Value = serde_json::from_str(include_str!(
        "../../host/src/plugins/hooks/pricing/fixtures.json"
    ))
    .expect("pricing fixtures");
    let names: Vec<String> = fixtures["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| s(c, "name"))
        .collect();

    for (guest, kinds) in [
        ("loop", &["out_of_fuel", "timeout"][..]),
        ("memory-bomb", &["memory_limit"][..]),
        ("huge-output", &["output_too_large"][..]),
        ("panic", &["trap"][..]),
        ("bad-quote", &["invalid_output"][..]),
    ] {
        let problem = assert_problem(
            app.upload(token, chain, "pricing", hostile(guest)).await,
            422,
            "invalid_component",
        )
        .await;
        let detail = s(&problem, "detail");
        assert!(
            names
                .iter()
                .any(|n| detail.contains(&format!("fixture {n:?}"))),
            "{guest}: the detail names the fixture: {detail}"
        );
        assert!(
            kinds.iter().any(|k| detail.contains(&format!("({k})"))),
            "{guest}: the detail names the failure kind ({kinds:?}): {detail}"
        );
    }
    assert!(components_of(&app, token, chain).await.is_empty());
    assert!(trail(&app, token, chain).await.is_empty());
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from components c where not exists \
         (select 1 from platform_defaults d where d.component_id = c.id)",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(stored, 0, "refused bytes are not stored");

    // The chain can still upload a good one.
    app.upload_ok(token, chain, "pricing", hostile("well-behaved"))
        .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn only_the_chains_staff_may_upload(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Staff").await;
    let other = app.venue("Stranger").await;
    let (_, customer) = app.customer("Cust").await;
    let (_, _, pending) = app.pending_owner("Pending").await;
    let bytes = hostile("well-behaved");

    let res = app
        .post_raw(
            &format!("/chains/{}/components?hook=pricing", v.chain_id),
            None,
            Some("application/wasm"),
            bytes.clone(),
        )
        .await;
    assert_problem(res, 401, "unauthorized").await;
    assert_problem(
        app.upload(&customer, &v.chain_id, "pricing", bytes.clone())
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.upload(&pending, &v.chain_id, "pricing", bytes.clone())
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.upload(&other.token, &v.chain_id, "pricing", bytes.clone())
            .await,
        404,
        "not_found",
    )
    .await;
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_problem(
        app.upload(&v.token, &unknown, "pricing", bytes.clone())
            .await,
        404,
        "not_found",
    )
    .await;
    assert!(components_of(&app, &v.token, &v.chain_id).await.is_empty());
    // Customers see none of it either.
    assert_problem(
        app.get_auth(
            &format!("/chains/{}/components", v.chain_id),
            Some(&customer),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// 3. Bind errors

#[sqlx::test(migrations = "../migrations")]
async fn binding_needs_one_of_the_chains_components_for_that_hook(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Binder").await;
    let other = app.venue("Elsewhere").await;
    let (token, chain) = (v.token.as_str(), v.chain_id.as_str());
    let mine = s(
        &app.upload_ok(token, chain, "pricing", hostile("well-behaved"))
            .await,
        "id",
    );
    let theirs = s(
        &app.upload_ok(&other.token, &other.chain_id, "pricing", hostile("double"))
            .await,
        "id",
    );

    // Unknown, another chain's, the platform default the chain never uploaded.
    let default = default_of(&app, "pricing").await;
    for id in [&"0".repeat(64), &theirs, &default, &"not-a-sha".to_owned()] {
        let res = app.bind(token, chain, "pricing", id, None).await;
        assert_invalid(res, "component_id").await;
    }
    // A pricing component for another hook.
    for hook in ["booking-rules", "notify-templates", "seat-picker"] {
        let res = app.bind(token, chain, hook, &mine, None).await;
        assert_invalid(res, "component_id").await;
    }
    // An unknown hook, a bad policy.
    assert_invalid(
        app.bind(token, chain, "discounts", &mine, None).await,
        "hook",
    )
    .await;
    for policy in ["ignore", "REJECT", ""] {
        let res = app.bind(token, chain, "pricing", &mine, Some(policy)).await;
        assert_invalid(res, "on_failure").await;
    }
    // Unknown fields and a missing component_id.
    let path = format!("/chains/{chain}/bindings/pricing");
    let res = app
        .put_json(
            &path,
            Some(token),
            json!({"component_id": mine, "priority": 1}),
        )
        .await;
    assert_problem(res, 400, "bad_request").await;
    let res = app.put_json(&path, Some(token), json!({})).await;
    assert!(
        matches!(res.status().as_u16(), 400 | 422),
        "a missing component_id: {}",
        res.status()
    );
    // Unbinding what is not bound, or an unknown hook.
    assert_problem(app.unbind(token, chain, "pricing").await, 404, "not_found").await;
    assert_invalid(app.unbind(token, chain, "discounts").await, "hook").await;

    // Nothing changed: no binding, only the upload in the trail.
    let binding = app.binding(token, chain, "pricing").await;
    assert!(binding["bound_component_id"].is_null(), "{binding}");
    let entries = trail(&app, token, chain).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["kind"], "uploaded");

    // And the good request works.
    app.bind_ok(token, chain, "pricing", &mine, Some("reject"))
        .await;
    // Binding the same again is allowed (and audited: it also closes a breaker).
    app.bind_ok(token, chain, "pricing", &mine, None).await;
    assert_eq!(trail(&app, token, chain).await.len(), 3);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// 4. Dry run and statistics

#[sqlx::test(migrations = "../migrations")]
async fn a_dry_run_answers_with_its_cost_and_touches_no_data(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let v = app.venue("Dry").await;
    let (token, chain) = (v.token.as_str(), v.chain_id.as_str());
    let double = s(
        &app.upload_ok(token, chain, "pricing", hostile("double"))
            .await,
        "id",
    );
    let invoke = |id: &str| format!("/chains/{chain}/components/{id}/invoke");
    let quote = serde_json::to_value(inputs::quote_request(2)).expect("quote input");

    let res = app
        .post_json(&invoke(&double), Some(token), json!({"input": quote}))
        .await;
    let run = expect_json(res, 200).await;
    let ok = &run["output"]["ok"];
    // seats(2) is one standard and one premium seat.
    assert_eq!(ok["total_minor"], 2 * (STANDARD + PREMIUM), "{run}");
    assert_eq!(ok["items"].as_array().map(Vec::len), Some(2), "{run}");
    assert!(run["error"].is_null(), "{run}");
    assert!(run["fuel_used"].as_u64().is_some_and(|f| f > 0), "{run}");
    assert!(run["duration_us"].is_u64(), "{run}");
    assert!(run["memory_bytes"].as_u64().is_some_and(|m| m > 0), "{run}");

    // A refusal is an answer.
    let mut promo = inputs::quote_request(1);
    promo.seats[0].class = cineflow::domain::hook_io::SeatClass::Vip;
    let res = app
        .post_json(
            &invoke(&double),
            Some(token),
            json!({"input": serde_json::to_value(promo).expect("input")}),
        )
        .await;
    let run = expect_json(res, 200).await;
    assert!(
        run["output"]["err"]
            .as_str()
            .is_some_and(|e| e.contains("not on sale")),
        "{run}"
    );

    // A component that fails on an input: the failure and its kind, still a 200.
    let trap = s(
        &app.upload_ok(token, chain, "pricing", hostile("trap-on-promo"))
            .await,
        "id",
    );
    let mut trapping = inputs::quote_request(1);
    trapping.promo_code = Some("TRAP".into());
    let res = app
        .post_json(
            &invoke(&trap),
            Some(token),
            json!({"input": serde_json::to_value(trapping).expect("input")}),
        )
        .await;
    let run = expect_json(res, 200).await;
    assert!(run["output"].is_null(), "{run}");
    assert_eq!(run["error"]["kind"], "trap", "{run}");
    assert!(
        run["log"]
            .as_str()
            .is_some_and(|l| l.contains("traps on purpose")),
        "the panic message is in the log: {run}"
    );

    // Booking rules take the function name.
    let rules = s(
        &app.upload_ok(
            token,
            chain,
            "booking-rules",
            component("booking-rules.wasm"),
        )
        .await,
        "id",
    );
    let mut input = serde_json::to_value(inputs::hold_request(2)).expect("input");
    input["function"] = json!("check-hold");
    let run = expect_json(
        app.post_json(&invoke(&rules), Some(token), json!({"input": input}))
            .await,
        200,
    )
    .await;
    assert!(
        run["output"]["ok"]["hold_seconds"].as_u64().is_some(),
        "{run}"
    );

    // Inputs that do not fit the hook.
    for input in [
        json!({"foo": 1}),
        json!("a string"),
        serde_json::to_value(inputs::hold_request(1)).expect("a hold request"),
    ] {
        let res = app
            .post_json(&invoke(&double), Some(token), json!({"input": input}))
            .await;
        assert_invalid(res, "input").await;
    }
    let res = app
        .post_json(&invoke(&rules), Some(token), json!({"input": quote}))
        .await;
    assert_invalid(res, "input").await;
    // An unknown component.
    let res = app
        .post_json(
            &invoke(&"0".repeat(64)),
            Some(token),
            json!({"input": quote}),
        )
        .await;
    assert_problem(res, 404, "not_found").await;

    // Nothing was booked, bound or counted as a call.
    assert_eq!(bookings_count(&pool).await, 0);
    let binding = app.binding(token, chain, "pricing").await;
    assert!(binding["bound_component_id"].is_null(), "{binding}");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn stats_count_the_calls_of_live_holds(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Stats").await;
    let (token, chain) = (b.venue.token.as_str(), b.venue.chain_id.as_str());
    let (_, customer) = app.customer("Cust").await;
    let double = s(
        &app.upload_ok(token, chain, "pricing", hostile("double"))
            .await,
        "id",
    );
    let single = s(
        &app.upload_ok(token, chain, "pricing", hostile("well-behaved"))
            .await,
        "id",
    );
    let stats = |id: &str| format!("/chains/{chain}/components/{id}/stats");

    let fresh = app.get_ok(&stats(&double), Some(token)).await;
    assert_eq!(fresh["calls"], 0, "{fresh}");

    app.bind_ok(token, chain, "pricing", &double, None).await;
    let n = 4;
    for i in 1..=n {
        let seat = format!("A-{i}");
        app.hold(&customer, &b.show_id, &[seat.as_str()]).await;
    }
    let view = app.get_ok(&stats(&double), Some(token)).await;
    assert!(view["calls"].as_u64().is_some_and(|c| c >= n), "{view}");
    assert_eq!(view["failures"], json!({}), "{view}");
    let p50 = view["fuel_p50"].as_u64().expect("fuel_p50");
    let p99 = view["fuel_p99"].as_u64().expect("fuel_p99");
    assert!(p50 > 0 && p99 >= p50, "{view}");
    assert!(
        view["duration_us_p99"].as_u64() >= view["duration_us_p50"].as_u64(),
        "{view}"
    );
    assert!(view["window"].as_u64().is_some_and(|w| w >= n), "{view}");
    parse_time(&view["since"]);
    // The other component was not called.
    assert_eq!(app.get_ok(&stats(&single), Some(token)).await["calls"], 0);
    // An unknown component.
    assert_problem(
        app.get_auth(&stats(&"0".repeat(64)), Some(token)).await,
        404,
        "not_found",
    )
    .await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// 5. Tenant isolation

#[sqlx::test(migrations = "../migrations")]
async fn another_chain_can_neither_see_nor_change_a_chains_components(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let a = app.bookable("Tenant A").await;
    let b = app.bookable("Tenant B").await;
    let (_, customer) = app.customer("Cust").await;
    let (a_token, a_chain) = (a.venue.token.as_str(), a.venue.chain_id.as_str());
    let b_token = b.venue.token.as_str();
    let double = s(
        &app.upload_ok(a_token, a_chain, "pricing", hostile("double"))
            .await,
        "id",
    );
    let single = s(
        &app.upload_ok(a_token, a_chain, "pricing", hostile("well-behaved"))
            .await,
        "id",
    );
    app.bind_ok(a_token, a_chain, "pricing", &double, None)
        .await;
    let held = app.hold(&customer, &a.show_id, &["A-1"]).await;
    assert_eq!(total(&held), 2 * STANDARD);
    let quote = serde_json::to_value(inputs::quote_request(1)).expect("input");

    // Every route of A's, as B's owner: 404.
    let attempts: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/chains/{a_chain}/components"), None),
        (Method::GET, format!("/chains/{a_chain}/bindings"), None),
        (
            Method::GET,
            format!("/chains/{a_chain}/component-audit"),
            None,
        ),
        (
            Method::GET,
            format!("/chains/{a_chain}/components/{double}/stats"),
            None,
        ),
        (
            Method::POST,
            format!("/chains/{a_chain}/components/{double}/invoke"),
            Some(json!({"input": quote})),
        ),
        (
            Method::PUT,
            format!("/chains/{a_chain}/bindings/pricing"),
            Some(json!({"component_id": single})),
        ),
        (
            Method::DELETE,
            format!("/chains/{a_chain}/bindings/pricing"),
            None,
        ),
    ];
    for (method, path, body) in attempts {
        let res = app
            .request(method.clone(), &path, Some(b_token), body)
            .await;
        assert_problem(res, 404, "not_found").await;
    }
    assert_problem(
        app.upload(b_token, a_chain, "pricing", hostile("noisy"))
            .await,
        404,
        "not_found",
    )
    .await;

    // Through B's own chain, A's components do not exist either.
    let b_chain = b.venue.chain_id.as_str();
    assert!(components_of(&app, b_token, b_chain).await.is_empty());
    assert_problem(
        app.post_json(
            &format!("/chains/{b_chain}/components/{double}/invoke"),
            Some(b_token),
            json!({"input": quote}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.get_auth(
            &format!("/chains/{b_chain}/components/{double}/stats"),
            Some(b_token),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_invalid(
        app.bind(b_token, b_chain, "pricing", &double, None).await,
        "component_id",
    )
    .await;
    assert!(trail(&app, b_token, b_chain).await.is_empty());

    // A is untouched, and B's shows are still priced by the default.
    let binding = app.binding(a_token, a_chain, "pricing").await;
    assert_eq!(binding["bound_component_id"], double.as_str(), "{binding}");
    assert_eq!(trail(&app, a_token, a_chain).await.len(), 3);
    let theirs = app.hold(&customer, &b.show_id, &["A-1"]).await;
    assert_eq!(total(&theirs), STANDARD);
    let again = app.hold(&customer, &a.show_id, &["A-2"]).await;
    assert_eq!(total(&again), 2 * STANDARD);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// 6. Failure policy and breaker

#[sqlx::test(migrations = "../migrations")]
async fn the_breaker_opens_after_n_failures_in_a_row_and_the_default_takes_over(pool: PgPool) {
    let app = TestApp::spawn_config(pool.clone(), app_config_with_breaker(3)).await;
    let b = app.bookable("Breaker").await;
    let (token, chain) = (b.venue.token.as_str(), b.venue.chain_id.as_str());
    let (_, customer) = app.customer("Cust").await;
    let default = default_of(&app, "pricing").await;
    let trap = s(
        &app.upload_ok(token, chain, "pricing", hostile("trap-on-promo"))
            .await,
        "id",
    );
    app.bind_ok(token, chain, "pricing", &trap, Some("reject"))
        .await;
    let stats_path = format!("/chains/{chain}/components/{trap}/stats");

    let ok = app.hold(&customer, &b.show_id, &["A-1"]).await;
    assert_eq!(total(&ok), 2 * STANDARD, "priced by trap-on-promo");

    // Failures that are not consecutive do not trip it.
    let fail = |seat: &'static str| {
        let app = &app;
        let customer = customer.clone();
        let show = b.show_id.clone();
        async move {
            let problem = assert_problem(
                app.try_hold_promo(&customer, &show, &[seat], "TRAP").await,
                503,
                "plugin_unavailable",
            )
            .await;
            assert!(s(&problem, "detail").contains("trap"), "{problem}");
        }
    };
    fail("A-2").await;
    fail("A-2").await;
    app.hold(&customer, &b.show_id, &["A-2"]).await;
    assert_eq!(
        app.binding(token, chain, "pricing").await["breaker"]["state"],
        "closed"
    );
    // Three in a row do.
    fail("A-3").await;
    fail("A-3").await;
    assert_eq!(
        app.binding(token, chain, "pricing").await["breaker"]["state"],
        "closed",
        "two failures in a row are below the threshold"
    );
    fail("A-3").await;
    let binding = app.binding(token, chain, "pricing").await;
    assert_eq!(binding["breaker"]["state"], "open", "{binding}");
    assert_eq!(
        binding["component_id"],
        default.as_str(),
        "the default serves: {binding}"
    );
    assert_eq!(
        binding["bound_component_id"],
        trap.as_str(),
        "still bound: {binding}"
    );
    let reason = s(&binding["breaker"], "reason");
    assert!(
        reason.contains("3 failures") && reason.contains("trap"),
        "{reason}"
    );
    assert!(
        reason.contains("the component panicked at")
            && reason.contains("promo code TRAP traps on purpose"),
        "the breaker's reason carries the guest's panic: {reason}"
    );
    parse_time(&binding["breaker"]["tripped_at"]);
    let entries = trail(&app, token, chain).await;
    let tripped: Vec<&Value> = entries
        .iter()
        .filter(|e| e["kind"] == "breaker-tripped")
        .collect();
    assert_eq!(tripped.len(), 1, "{entries:?}");
    assert_eq!(tripped[0]["component_id"], trap.as_str());
    assert_eq!(tripped[0]["hook"], "pricing");
    assert!(tripped[0]["actor_id"].is_null(), "{}", tripped[0]);
    assert_eq!(tripped[0]["detail"]["reason"], reason.as_str());
    let stats = app.get_ok(&stats_path, Some(token)).await;
    assert_eq!(stats["failures"]["trap"], 5, "{stats}");
    let calls = stats["calls"].clone();

    // Bookings go on under the default: a hold is priced by it, and the trap input now gets
    // the default's answer (it refuses every promo code), not a 503.
    let after = app.hold(&customer, &b.show_id, &["A-4"]).await;
    assert_eq!(total(&after), STANDARD);
    assert_eq!(
        app.pricing_component_of(token, &s(&after, "id")).await,
        default
    );
    let problem = assert_problem(
        app.try_hold_promo(&customer, &b.show_id, &["A-5"], "TRAP")
            .await,
        422,
        // No voucher has the code and the serving pricing refused it.
        "voucher_unknown",
    )
    .await;
    assert!(
        s(&problem, "detail").contains("unknown promo code"),
        "{problem}"
    );
    assert_eq!(
        app.get_ok(&stats_path, Some(token)).await["calls"],
        calls,
        "the tripped component is not called"
    );
    assert_eq!(bookings_count(&pool).await, 3);

    // Binding again closes the breaker.
    let rebound = app.bind_ok(token, chain, "pricing", &trap, None).await;
    assert_eq!(rebound["breaker"]["state"], "closed", "{rebound}");
    assert!(rebound["breaker"]["reason"].is_null(), "{rebound}");
    assert_eq!(rebound["component_id"], trap.as_str(), "{rebound}");
    let back = app.hold(&customer, &b.show_id, &["A-6"]).await;
    assert_eq!(total(&back), 2 * STANDARD);
    assert_eq!(app.pricing_component_of(token, &s(&back, "id")).await, trap);
    let last = trail(&app, token, chain).await;
    let last = last.last().expect("entries");
    assert_eq!(last["kind"], "bound", "{last}");
    assert_eq!(last["detail"]["previous"], trap.as_str(), "{last}");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn with_fallback_the_default_answers_at_once_for_a_failing_call(pool: PgPool) {
    let app = TestApp::spawn_config(pool.clone(), app_config_with_breaker(3)).await;
    let b = app.bookable("Fallback").await;
    let (token, chain) = (b.venue.token.as_str(), b.venue.chain_id.as_str());
    let (_, customer) = app.customer("Cust").await;
    let default = default_of(&app, "pricing").await;
    let trap = s(
        &app.upload_ok(token, chain, "pricing", hostile("trap-on-promo"))
            .await,
        "id",
    );
    app.bind_ok(token, chain, "pricing", &trap, Some("fallback"))
        .await;

    // The trapping call is answered by the default, with the default's own answer (a refusal
    // of the promo code: the default accepts none) instead of a 503.
    let problem = assert_problem(
        app.try_hold_promo(&customer, &b.show_id, &["A-1"], "TRAP")
            .await,
        422,
        "voucher_unknown",
    )
    .await;
    assert!(
        s(&problem, "detail").contains("unknown promo code"),
        "{problem}"
    );
    // The refusal is recorded against the component that gave it: the default.
    let refused: Vec<String> = sqlx::query_scalar(
        "select component_id from booking_audit where booking_id is null \
         and kind = 'decision' and hook = 'pricing'",
    )
    .fetch_all(&pool)
    .await
    .expect("refusals");
    assert_eq!(refused.as_slice(), std::slice::from_ref(&default));

    // The binding stays (one failure), and other holds are priced by it.
    let binding = app.binding(token, chain, "pricing").await;
    assert_eq!(binding["breaker"]["state"], "closed", "{binding}");
    let ok = app.hold(&customer, &b.show_id, &["A-1", "A-2"]).await;
    assert_eq!(total(&ok), 4 * STANDARD);
    assert_eq!(app.pricing_component_of(token, &s(&ok, "id")).await, trap);

    // The breaker counts fallback failures too.
    for _ in 0..3 {
        assert_problem(
            app.try_hold_promo(&customer, &b.show_id, &["A-3"], "TRAP")
                .await,
            422,
            "voucher_unknown",
        )
        .await;
    }
    let binding = app.binding(token, chain, "pricing").await;
    assert_eq!(binding["breaker"]["state"], "open", "{binding}");
    let after = app.hold(&customer, &b.show_id, &["A-4"]).await;
    assert_eq!(total(&after), STANDARD);
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// 7. Hot swap under load

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Eight streams of holds on one big show while the chain rebinds its pricing 100 times
/// between `well-behaved` (1x) and `double` (2x). Prints the hold latency p50/p99 before and
/// during the rebinds (`--nocapture`); note `#[sqlx::test]` runs everything — the server, the
/// components and the clients — on one current-thread runtime.
#[sqlx::test(migrations = "../migrations")]
async fn rebinding_100_times_under_load_fails_no_hold_and_mixes_no_versions(
    pool_opts: PgPoolOptions,
    connect_opts: PgConnectOptions,
) {
    const TASKS: u32 = 8;
    const ROWS_PER_TASK: u32 = 5;
    const SEATS_PER_ROW: u32 = 100;
    const REBINDS: usize = 100;

    // The test pool's 5 connections would make the 8 streams queue for connections; give
    // each stream one, plus a few for the rebinds.
    let pool = pool_opts
        .max_connections(TASKS + 4)
        .connect_with(connect_opts)
        .await
        .expect("test pool");
    // Fuel stays the default; the wall-clock deadline is raised because here one thread runs
    // the server, the eight clients and every component call, and a call's deadline counts the
    // time it waits for that thread (with the default 100 ms, the default booking rules
    // occasionally time out under this load: 503 plugin_unavailable).
    let limits = Limits {
        deadline: Duration::from_secs(2),
        ..Limits::default()
    };
    let app = std::sync::Arc::new(TestApp::spawn_with(pool.clone(), limits).await);
    let venue = app.venue("Swap").await;
    let show = app
        .big_show(&venue, TASKS * ROWS_PER_TASK, SEATS_PER_ROW)
        .await;
    let (token, chain) = (venue.token.as_str(), venue.chain_id.as_str());
    let single = s(
        &app.upload_ok(token, chain, "pricing", hostile("well-behaved"))
            .await,
        "id",
    );
    let double = s(
        &app.upload_ok(token, chain, "pricing", hostile("double"))
            .await,
        "id",
    );
    app.bind_ok(token, chain, "pricing", &single, None).await;

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let epoch = Instant::now();
    let mut workers = Vec::new();
    for task in 0..TASKS {
        let (_, customer) = app.customer("Swapper").await;
        let (app, stop, show) = (app.clone(), stop.clone(), show.clone());
        workers.push(tokio::spawn(async move {
            // (started, latency, booking) of every hold; each holds 2 standard seats of the
            // task's own rows.
            let mut done: Vec<(Duration, Duration, Value)> = Vec::new();
            'rows: for r in task * ROWS_PER_TASK..(task + 1) * ROWS_PER_TASK {
                let row = row_label(r);
                for pair in 0..SEATS_PER_ROW / 2 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break 'rows;
                    }
                    let seats = [
                        format!("{row}-{}", 2 * pair + 1),
                        format!("{row}-{}", 2 * pair + 2),
                    ];
                    let seats: Vec<&str> = seats.iter().map(String::as_str).collect();
                    let started = Instant::now();
                    let res = app.try_hold(&customer, &show, &seats).await;
                    let latency = started.elapsed();
                    let booking = expect_json(res, 201).await;
                    // Released at once (the seats are never asked for again): the default
                    // rules cap a customer's unpaid seats of a show at 10.
                    let release = format!("/bookings/{}/cancel", s(&booking, "id"));
                    expect_json(
                        app.post_json(&release, Some(&customer), json!({})).await,
                        200,
                    )
                    .await;
                    done.push((started - epoch, latency, booking));
                }
            }
            done
        }));
    }

    // Steady state first, then the rebinds.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let swap_from = epoch.elapsed();
    let mut bind_latencies = Vec::with_capacity(REBINDS);
    for i in 0..REBINDS {
        let to = if i % 2 == 0 { &double } else { &single };
        let started = Instant::now();
        let bound = app.bind_ok(token, chain, "pricing", to, None).await;
        bind_latencies.push(started.elapsed());
        assert_eq!(bound["component_id"], to.as_str());
    }
    let swap_to = epoch.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);

    let mut holds = Vec::new();
    for worker in workers {
        holds.extend(worker.await.expect("no hold failed"));
    }

    // Every booking is priced entirely by one version: each item at 1x (well-behaved) or 2x
    // (double) the standard price, all items alike, total = their sum.
    let (mut by_single, mut by_double, mut during) = (0, 0, 0);
    let mut steady: Vec<Duration> = Vec::new();
    let mut swapping: Vec<Duration> = Vec::new();
    for (started, latency, booking) in &holds {
        let amounts: Vec<i64> = booking["items"]
            .as_array()
            .unwrap_or_else(|| panic!("items in {booking}"))
            .iter()
            .map(|i| i["amount_minor"].as_i64().expect("amount"))
            .collect();
        assert_eq!(amounts.len(), 2, "{booking}");
        assert_eq!(amounts.iter().sum::<i64>(), total(booking), "{booking}");
        match total(booking) {
            t if t == 2 * STANDARD => {
                assert_eq!(amounts, [STANDARD, STANDARD], "{booking}");
                assert!(
                    labels(booking).iter().all(|l| !l.ends_with("x2")),
                    "{booking}"
                );
                by_single += 1;
            }
            t if t == 4 * STANDARD => {
                assert_eq!(amounts, [2 * STANDARD, 2 * STANDARD], "{booking}");
                assert!(
                    labels(booking).iter().all(|l| l.ends_with("x2")),
                    "{booking}"
                );
                by_double += 1;
            }
            other => panic!("a total of neither version ({other}): {booking}"),
        }
        if *started >= swap_from && *started <= swap_to {
            during += 1;
            swapping.push(*latency);
        } else if *started < swap_from {
            steady.push(*latency);
        }
    }
    // The audit names the component that priced each booking, and it agrees with the price.
    let decided: Vec<(String, String, i64)> = sqlx::query_as(
        "select a.component_id, b.id::text, b.total_minor from booking_audit a \
         join bookings b on b.id = a.booking_id \
         where a.kind = 'decision' and a.hook = 'pricing' and b.show_id = $1::uuid",
    )
    .bind(&show)
    .fetch_all(&pool)
    .await
    .expect("decisions");
    assert_eq!(decided.len(), holds.len());
    for (component, booking, total_minor) in &decided {
        let expected = if *total_minor == 2 * STANDARD {
            &single
        } else {
            &double
        };
        assert_eq!(component, expected, "booking {booking} ({total_minor})");
    }

    let stats = |id: &str| format!("/chains/{chain}/components/{id}/stats");
    let single_stats = app.get_ok(&stats(&single), Some(token)).await;
    let double_stats = app.get_ok(&stats(&double), Some(token)).await;
    eprintln!(
        "hot swap: pricing call duration p50/p99 (us): well-behaved {}/{}, double {}/{}",
        single_stats["duration_us_p50"],
        single_stats["duration_us_p99"],
        double_stats["duration_us_p50"],
        double_stats["duration_us_p99"],
    );
    for view in [&single_stats, &double_stats] {
        assert_eq!(view["failures"], json!({}), "{view}");
    }
    steady.sort_unstable();
    swapping.sort_unstable();
    bind_latencies.sort_unstable();
    eprintln!(
        "hot swap: {} holds ({} during {} rebinds over {:?}; {by_single} by well-behaved, \
         {by_double} by double); hold latency steady p50 {:?} p99 {:?} (n={}), during rebinds \
         p50 {:?} p99 {:?} (n={}); rebind p50 {:?} p99 {:?}",
        holds.len(),
        during,
        REBINDS,
        swap_to - swap_from,
        percentile(&steady, 0.5),
        percentile(&steady, 0.99),
        steady.len(),
        percentile(&swapping, 0.5),
        percentile(&swapping, 0.99),
        swapping.len(),
        percentile(&bind_latencies, 0.5),
        percentile(&bind_latencies, 0.99),
    );
    assert!(
        during >= 20,
        "enough holds ran during the rebinds ({during})"
    );
    assert!(by_single > 0 && by_double > 0, "both versions priced holds");
    let final_binding = app.binding(token, chain, "pricing").await;
    assert_eq!(
        final_binding["component_id"],
        single.as_str(),
        "{final_binding}"
    );
    assert_eq!(
        trail(&app, token, chain)
            .await
            .iter()
            .filter(|e| e["kind"] == "bound")
            .count(),
        REBINDS + 1
    );
    match std::sync::Arc::try_unwrap(app) {
        Ok(app) => app.stop().await,
        Err(_) => panic!("the workers still hold the app"),
    }
    pool.close().await;
}

// ---------------------------------------------------------------------------------------
// 8. Two host processes on one database

/// Holds one seat after another on `app` until a hold costs `want`; returns when (after
/// `since`) the first such hold was sent, or `None` if no hold sent within `within` of `since`
/// was.
async fn priced_since(
    app: &TestApp,
    customer: &str,
    show: &str,
    seats: &mut impl Iterator<Item = String>,
    want: i64,
    since: Instant,
    within: Duration,
) -> Option<Duration> {
    loop {
        let sent = since.elapsed();
        if sent > within {
            return None;
        }
        let seat = seats.next().expect("enough seats");
        let booking = app.hold(customer, show, &[seat.as_str()]).await;
        if total(&booking) == want {
            return Some(sent);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// How long until `app` (in process) resolves the chain's pricing to `component`.
async fn resolved_since(
    app: &TestApp,
    chain: &str,
    component: &str,
    since: Instant,
) -> Option<Duration> {
    let chain = crate::support::client::uuid_of(chain);
    while since.elapsed() <= Duration::from_secs(5) {
        let now = app
            .state
            .components
            .resolve(chain, cineflow::plugins::Hook::Pricing)
            .map(|r| r.component.id.clone());
        if now.as_deref() == Some(component) {
            return Some(since.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    None
}

#[sqlx::test(migrations = "../migrations")]
async fn a_binding_made_on_one_replica_is_in_force_on_another_promptly(pool: PgPool) {
    let a = TestApp::spawn(pool.clone()).await;
    let b = TestApp::spawn(pool.clone()).await;
    let venue = a.venue("Replicas").await;
    let show = a.big_show(&venue, 1, 100).await;
    let (token, chain) = (venue.token.as_str(), venue.chain_id.as_str());
    let (_, customer) = a.customer("Cust").await;
    let mut seats = (1..=100).map(|n| format!("A-{n}"));
    let double = s(
        &a.upload_ok(token, chain, "pricing", hostile("double"))
            .await,
        "id",
    );
    let default = default_of(&a, "pricing").await;
    // How long a replica may take to follow. The design aims at well under a second (LISTEN
    // then one reload; the figure is printed below); the test allows a loaded machine's
    // scheduling on top, because timing is measured by benchmarks, not asserted in tests.
    let second = Duration::from_secs(4);
    // B serves the default before.
    let before = b
        .hold(&customer, &show, &[seats.next().expect("seat").as_str()])
        .await;
    assert_eq!(total(&before), STANDARD);

    // Bound on A: in force on A when the response is sent, on B promptly.
    a.bind_ok(token, chain, "pricing", &double, None).await;
    let bound_at = Instant::now();
    let switched = resolved_since(&b, chain, &double, bound_at).await;
    eprintln!("bind on A in force on B after {switched:?}");
    let switched = switched.expect("B switches");
    assert!(switched <= second, "B switched after {switched:?}");
    let on_b = b
        .hold(&customer, &show, &[seats.next().expect("seat").as_str()])
        .await;
    assert_eq!(
        total(&on_b),
        2 * STANDARD,
        "a hold through B is priced by the new component"
    );
    let on_a = a
        .hold(&customer, &show, &[seats.next().expect("seat").as_str()])
        .await;
    assert_eq!(total(&on_a), 2 * STANDARD);
    // B's view of the bindings is the same.
    assert_eq!(
        b.binding(token, chain, "pricing").await,
        a.binding(token, chain, "pricing").await
    );

    // Unbound on B: A is back on the default promptly, seen over HTTP (a hold sent within
    // the bound is priced by the default).
    expect_status(b.unbind(token, chain, "pricing").await, 204).await;
    let unbound_at = Instant::now();
    let on_a = priced_since(
        &a, &customer, &show, &mut seats, STANDARD, unbound_at, second,
    )
    .await;
    eprintln!("unbind on B: the first hold on A priced by the default was sent after {on_a:?}");
    assert!(on_a.is_some(), "A back on the default within {second:?}");
    assert_eq!(
        resolved_since(&a, chain, &default, unbound_at)
            .await
            .map(|_| ()),
        Some(())
    );

    // And again (B keeps following).
    a.bind_ok(token, chain, "pricing", &double, None).await;
    let bound_at = Instant::now();
    let on_b = priced_since(
        &b,
        &customer,
        &show,
        &mut seats,
        2 * STANDARD,
        bound_at,
        second,
    )
    .await;
    eprintln!("second bind on A: the first hold on B priced by it was sent after {on_b:?}");
    assert!(
        on_b.is_some(),
        "B follows the second bind within {second:?}"
    );

    // A component B has already compiled (a dry run through B) switches without compiling:
    // compare with the first bind above, which B had to compile.
    let single = s(
        &a.upload_ok(token, chain, "pricing", hostile("well-behaved"))
            .await,
        "id",
    );
    let quote = serde_json::to_value(inputs::quote_request(1)).expect("input");
    expect_json(
        b.post_json(
            &format!("/chains/{chain}/components/{single}/invoke"),
            Some(token),
            json!({"input": quote}),
        )
        .await,
        200,
    )
    .await;
    a.bind_ok(token, chain, "pricing", &single, None).await;
    let warm = resolved_since(&b, chain, &single, Instant::now()).await;
    eprintln!("bind on A of a component B had compiled: in force on B after {warm:?}");
    assert!(warm.is_some_and(|t| t <= second), "{warm:?}");
    b.stop().await;
    a.stop().await;
}

/// A bound component that no longer loads on a replica (here: its stored bytes went bad)
/// fails closed under `reject` — 503, no seat taken — instead of quietly pricing with the
/// platform default; under `fallback` the default serves.
#[sqlx::test(migrations = "../migrations")]
async fn a_bound_component_that_does_not_load_fails_closed_under_reject(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let b = app.bookable("Broken").await;
    let (owner, chain) = (b.venue.token.as_str(), b.venue.chain_id.as_str());
    let (_, customer) = app.customer("Cust").await;
    let double = hostile("double");
    let double_id = sha256_hex(&double);
    app.upload_ok(owner, chain, "pricing", double).await;
    app.bind_ok(owner, chain, "pricing", &double_id, Some("reject"))
        .await;

    // The stored bytes go bad and this replica forgets its compiled copy.
    sqlx::query(
        "update components set bytes = '\\x0061736d01000000'::bytea, size_bytes = 8 where id = $1",
    )
    .bind(&double_id)
    .execute(&pool)
    .await
    .expect("corrupt the stored component");
    app.state
        .plugins
        .forget(&double_id, cineflow::plugins::Hook::Pricing);
    app.state
        .components
        .reload_chain(crate::support::client::uuid_of(chain))
        .await
        .expect("reload");

    let res = app.try_hold(&customer, &b.show_id, &["A-1"]).await;
    assert_problem(res, 503, "plugin_unavailable").await;
    assert_eq!(app.seat_states(&b.show_id).await["A-1"], "available");

    app.bind_ok(owner, chain, "pricing", &double_id, Some("fallback"))
        .await;
    let held = app.hold(&customer, &b.show_id, &["A-1"]).await;
    assert_eq!(total(&held), STANDARD, "the default priced it");
    app.stop().await;
}
