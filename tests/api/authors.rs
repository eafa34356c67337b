//! Issue 15, item 7: authors see what went wrong. A panicking component's message, backtrace
//! and log reach its author in the upload refusal, the dry run and the breaker's reason
//! (tests/api/components.rs, the breaker).
//!
//! Guests (tests/guests/hostile): `panic` prints a line and panics on every call;
//! `trap-on-promo` charges twice the class price and panics on the promo code `TRAP`;
//! `well-behaved` charges the class price; `double` twice the class price.

use serde_json::json;
use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::client::{assert_problem, expect_json, s};
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
            "the component panicked at tests/guests/hostile/src/lib.rs:132:17: hostile guest panicked on purpose"
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
