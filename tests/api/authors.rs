//! Issue 15, item 7: authors see what went wrong. A panicking component's message, backtrace
//! and log reach its author in the upload refusal, the dry run and the breaker's reason; a
//! chain's own test cases are stored, read, removed and checked at every upload of the chain.
//!
//! Guests (tests/guests/hostile): `panic` prints a line and panics on every call;
//! `trap-on-promo` charges twice the class price and panics on the promo code `TRAP`;
//! `well-behaved` charges the class price; `double` twice the class price.

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::client::{assert_problem, expect_json, expect_status, s};
use crate::support::{hostile, inputs};

#[sqlx::test(migrations = "../migrations")]
async fn an_upload_that_panics_is_refused_with_the_panic_message_and_the_guests_names(
    pool: PgPool,
) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Panicky").await;
    let problem = assert_problem(
        app.upload(&v.token, &v.chain_id, "pricing", hostile("panic"))
            .await,
        422,
        "invalid_component",
    )
    .await;
    let detail = s(&problem, "detail");
    assert!(detail.contains("(trap)"), "{detail}");
    assert!(
        detail.contains(
            "the component panicked at tests/guests/hostile/src/lib.rs:133:17: hostile guest panicked on purpose"
        ),
        "the panic message and where: {detail}"
    );
    assert!(
        detail.contains("hostile guest: about to panic"),
        "the guest's log: {detail}"
    );
    // The guests keep their name section (profile `wasm`: strip = "debuginfo").
    assert!(
        detail.contains("hostile_guest::Component"),
        "function names in the backtrace: {detail}"
    );
    assert!(!detail.contains("<wasm function"), "{detail}");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_dry_run_that_traps_shows_the_panic_the_backtrace_and_the_report(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Dry").await;
    let (token, chain) = (v.token.as_str(), v.chain_id.as_str());
    let trap = s(
        &app.upload_ok(token, chain, "pricing", hostile("trap-on-promo"))
            .await,
        "id",
    );
    let mut input = inputs::quote_request(1);
    input.promo_code = Some("TRAP".into());
    let run = expect_json(
        app.post_json(
            &format!("/chains/{chain}/components/{trap}/invoke"),
            Some(token),
            json!({ "input": input }),
        )
        .await,
        200,
    )
    .await;
    let error = &run["error"];
    assert_eq!(error["kind"], "trap", "{run}");
    assert!(
        s(error, "message").contains("unreachable"),
        "the cause, without the backtrace: {run}"
    );
    assert!(
        s(error, "panic").ends_with("hostile guest: promo code TRAP traps on purpose"),
        "{run}"
    );
    assert!(s(error, "backtrace").contains("quote"), "{run}");
    let report = s(error, "report");
    assert!(report.starts_with("pricing (trap): "), "{report}");
    assert!(report.contains("traps on purpose"), "{report}");
    assert!(report.contains("guest log:"), "{report}");
    app.stop().await;
}

/// The chain's cases for pricing: the well-behaved guest's answers to a one- and a two-seat
/// quote, the first named as the weekday matinee it stands for.
fn pricing_cases(one: &Value, two: &Value) -> Value {
    json!({"cases": [
        {"name": "weekday matinee, one standard seat", "input": inputs::quote_request(1), "expect": {"ok": one}},
        {"name": "two seats", "input": inputs::quote_request(2), "expect": {"ok": two}},
    ]})
}

/// What `component` of the chain answers to `input` in a dry run.
async fn dry_run_ok(
    app: &TestApp,
    token: &str,
    chain: &str,
    component: &str,
    input: Value,
) -> Value {
    let run = expect_json(
        app.post_json(
            &format!("/chains/{chain}/components/{component}/invoke"),
            Some(token),
            json!({ "input": input }),
        )
        .await,
        200,
    )
    .await;
    assert!(run["output"]["ok"].is_object(), "{run}");
    run["output"]["ok"].clone()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_chains_test_cases_are_stored_read_removed_and_checked_at_every_upload(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Cases").await;
    let (token, chain) = (v.token.as_str(), v.chain_id.as_str());
    let path = format!("/chains/{chain}/test-cases/pricing");

    // None yet.
    assert_problem(app.get_auth(&path, Some(token)).await, 404, "not_found").await;
    assert_problem(app.delete(&path, Some(token)).await, 404, "not_found").await;

    // What the well-behaved pricer answers, as the chain's expectation.
    let good = s(
        &app.upload_ok(token, chain, "pricing", hostile("well-behaved"))
            .await,
        "id",
    );
    let one = dry_run_ok(&app, token, chain, &good, json!(inputs::quote_request(1))).await;
    let two = dry_run_ok(&app, token, chain, &good, json!(inputs::quote_request(2))).await;
    let cases = pricing_cases(&one, &two);
    let stored = expect_json(
        app.request(Method::PUT, &path, Some(token), Some(cases.clone()))
            .await,
        200,
    )
    .await;
    assert_eq!(stored["hook"], "pricing");
    assert_eq!(stored["cases"], cases["cases"], "{stored}");
    let read = app.get_ok(&path, Some(token)).await;
    assert_eq!(read["cases"], cases["cases"]);

    // An upload that does not add up is refused, naming the case, expected and got.
    let problem = assert_problem(
        app.upload(token, chain, "pricing", hostile("double")).await,
        422,
        "invalid_component",
    )
    .await;
    let detail = s(&problem, "detail");
    assert!(
        detail.starts_with(
            "test case \"weekday matinee, one standard seat\" (cases[0]): expected {\"ok\":"
        ),
        "{detail}"
    );
    let doubled = one["total_minor"].as_i64().unwrap_or_default() * 2;
    assert!(
        detail.contains("got {\"ok\":") && detail.contains(&format!("\"total_minor\":{doubled}")),
        "{detail}"
    );

    // A component that panics on a case's input: the case, and the panic.
    let mut trapping = inputs::quote_request(1);
    trapping.promo_code = Some("TRAP".into());
    let trap_case = json!({"cases": [
        {"name": "a promo code that traps", "input": trapping, "expect": {"err": null}},
    ]});
    expect_status(
        app.request(Method::PUT, &path, Some(token), Some(trap_case))
            .await,
        200,
    )
    .await;
    let problem = assert_problem(
        app.upload(token, chain, "pricing", hostile("trap-on-promo"))
            .await,
        422,
        "invalid_component",
    )
    .await;
    let detail = s(&problem, "detail");
    assert!(
        detail.starts_with("test case \"a promo code that traps\" (cases[0]): expected {\"err\":\"<any reason>\"}, the component failed: pricing (trap)"),
        "{detail}"
    );
    assert!(detail.contains("traps on purpose"), "the panic: {detail}");

    // With the cases back, a component that passes: 201 (or 200 for bytes the chain has)
    // with `cases_passed`, run again at every upload.
    expect_status(
        app.request(Method::PUT, &path, Some(token), Some(cases))
            .await,
        200,
    )
    .await;
    let again = expect_json(
        app.upload(token, chain, "pricing", hostile("well-behaved"))
            .await,
        200,
    )
    .await;
    assert_eq!(again["fixtures"]["cases_passed"], 2, "{again}");
    let listed = app
        .get_ok(&format!("/chains/{chain}/components"), Some(token))
        .await;
    assert!(
        listed["items"][0]["fixtures"]["cases_passed"].is_null(),
        "{listed}"
    );

    // Cases of another hook do not apply to pricing; removing them lets `double` in.
    expect_status(app.delete(&path, Some(token)).await, 204).await;
    assert_problem(app.get_auth(&path, Some(token)).await, 404, "not_found").await;
    let created = app
        .upload_ok(token, chain, "pricing", hostile("double"))
        .await;
    assert_eq!(created["fixtures"]["cases_passed"], 0, "{created}");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn test_cases_are_checked_and_only_the_chains_staff_see_them(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let v = app.venue("Checked").await;
    let other = app.venue("Other").await;
    let (_, customer) = app.customer("Cust").await;
    let (token, chain) = (v.token.as_str(), v.chain_id.as_str());
    let path = format!("/chains/{chain}/test-cases/pricing");
    let good = json!({"cases": [{"name": "one", "input": inputs::quote_request(1), "expect": {"err": null}}]});

    // A case whose input does not parse for the hook: 422 naming the case.
    let mut bad_input = good.clone();
    bad_input["cases"]
        .as_array_mut()
        .expect("cases")
        .push(json!({"name": "two", "input": inputs::hold_request(1), "expect": {"err": null}}));
    let problem = assert_problem(
        app.request(Method::PUT, &path, Some(token), Some(bad_input))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(problem["errors"]["cases[1].input"].is_array(), "{problem}");
    // Two cases of one name, none at all, more than 200, an unknown hook.
    let mut twice = good.clone();
    twice["cases"]
        .as_array_mut()
        .expect("cases")
        .push(good["cases"][0].clone());
    let problem = assert_problem(
        app.request(Method::PUT, &path, Some(token), Some(twice))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(problem["errors"]["cases[1].name"].is_array(), "{problem}");
    for body in [
        json!({"cases": []}),
        json!({"cases": (0..201).map(|i| json!({"name": i.to_string(), "input": {}, "expect": {"err": null}})).collect::<Vec<_>>()}),
    ] {
        assert_problem(
            app.request(Method::PUT, &path, Some(token), Some(body))
                .await,
            422,
            "validation_failed",
        )
        .await;
    }
    assert_problem(
        app.request(
            Method::PUT,
            &format!("/chains/{chain}/test-cases/discounts"),
            Some(token),
            Some(good.clone()),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    // An `expect` that is neither ok nor err: 422 on that field; an unknown field: 400.
    let problem = assert_problem(
        app.request(
            Method::PUT,
            &path,
            Some(token),
            Some(json!({"cases": [{"name": "x", "input": {}, "expect": {"maybe": 1}}]})),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(problem["errors"]["cases[0].expect"].is_array(), "{problem}");
    assert_problem(
        app.request(
            Method::PUT,
            &path,
            Some(token),
            Some(json!({"cases": [], "extra": 1})),
        )
        .await,
        400,
        "bad_request",
    )
    .await;

    expect_status(
        app.request(Method::PUT, &path, Some(token), Some(good.clone()))
            .await,
        200,
    )
    .await;
    // Another chain's staff: not found; a customer: forbidden; nobody: 401.
    assert_problem(
        app.get_auth(&path, Some(&other.token)).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.request(Method::PUT, &path, Some(&other.token), Some(good.clone()))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.delete(&path, Some(&other.token)).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(app.get_auth(&path, Some(&customer)).await, 403, "forbidden").await;
    expect_status(app.get_auth(&path, None).await, 401).await;
    // An admin may.
    let admin = app.admin_token().await;
    app.get_ok(&path, Some(&admin)).await;
    // The other chain's uploads are not checked against this chain's cases.
    app.upload_ok(&other.token, &other.chain_id, "pricing", hostile("double"))
        .await;
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_failed_production_call_is_in_the_run_log_with_the_panic(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let b = app.bookable("Logged").await;
    let (token, chain) = (b.venue.token.as_str(), b.venue.chain_id.as_str());
    let (_, customer) = app.customer("Cust").await;
    let trap = s(
        &app.upload_ok(token, chain, "pricing", hostile("trap-on-promo"))
            .await,
        "id",
    );
    app.bind_ok(token, chain, "pricing", &trap, Some("reject"))
        .await;
    assert_problem(
        app.try_hold_promo(&customer, &b.show_id, &["A-1"], "TRAP")
            .await,
        503,
        "plugin_unavailable",
    )
    .await;
    // Recording is asynchronous: wait for the run.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let run = loop {
        let page = app
            .get_ok(&format!("/chains/{chain}/runs?outcome=trap"), Some(token))
            .await;
        if let Some(run) = page["items"].as_array().and_then(|items| items.first()) {
            break run.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no trap run: {page}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let detail = app
        .get_ok(
            &format!("/chains/{chain}/runs/{}", s(&run, "id")),
            Some(token),
        )
        .await;
    let error = s(&detail, "error");
    assert!(error.starts_with("pricing (trap): "), "{detail}");
    assert!(
        error.contains("the component panicked at") && error.contains("traps on purpose"),
        "{detail}"
    );
    assert!(s(&detail, "log").contains("traps on purpose"), "{detail}");
    app.stop().await;
}
