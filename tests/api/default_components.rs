//! The platform's default components, run through the host.

use cineflow::plugins::{Hook, Tenant};
use sqlx::PgPool;

use crate::support::app::TestApp;
use crate::support::{component, inputs};

#[sqlx::test(migrations = "../migrations")]
async fn default_pricing_prices_each_seat_by_class(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let pricing = app
        .state
        .defaults
        .get(Hook::Pricing)
        .expect("default")
        .clone();
    let called = app
        .state
        .plugins
        .quote(Tenant::Platform, &pricing, &inputs::quote_request(4))
        .await
        .expect("call succeeds");
    let quote = called.output.expect("priced");
    // Seats 1 and 3 are standard (25 000), 2 and 4 premium (40 000).
    assert_eq!(quote.total_minor, 130_000);
    assert_eq!(quote.items.len(), 4);
    assert_eq!(quote.items[1].seat_id.as_deref(), Some("A-2"));
    assert_eq!(quote.items[1].amount_minor, 40_000);
    assert!(called.stats.fuel_used > 0);
    assert!(called.stats.peak_memory_bytes > 0);

    let mut promo = inputs::quote_request(2);
    promo.promo_code = Some("FREEBIE".into());
    let refused = app
        .state
        .plugins
        .quote(Tenant::Platform, &pricing, &promo)
        .await
        .expect("call succeeds");
    assert_eq!(refused.output.expect_err("refused"), "unknown promo code");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn default_booking_rules_hold_ten_minutes_and_cap_ten_seats(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let rules = app
        .state
        .defaults
        .get(Hook::BookingRules)
        .expect("default")
        .clone();
    let plugins = &app.state.plugins;

    let ok = plugins
        .check_hold(Tenant::Platform, &rules, &inputs::hold_request(2))
        .await
        .expect("call");
    assert_eq!(ok.output.expect("allowed").hold_seconds, 600);

    let too_many = plugins
        .check_hold(Tenant::Platform, &rules, &inputs::hold_request(11))
        .await
        .expect("call");
    assert!(too_many.output.expect_err("refused").contains("10"));

    let mut started = inputs::hold_request(1);
    started.now_ms = started.show.starts_at_ms;
    let late = plugins
        .check_hold(Tenant::Platform, &rules, &started)
        .await
        .expect("call");
    assert!(late.output.expect_err("refused").contains("started"));

    // Cancel: unpaid hold → 0; paid, 3 h before → full refund; paid, 1 h before → refused.
    let unpaid = plugins
        .cancel(Tenant::Platform, &rules, &inputs::cancel_request(0, 1))
        .await
        .expect("call");
    assert_eq!(unpaid.output, Ok(0));
    let early = plugins
        .cancel(Tenant::Platform, &rules, &inputs::cancel_request(50_000, 3))
        .await
        .expect("call");
    assert_eq!(early.output, Ok(50_000));
    let late = plugins
        .cancel(Tenant::Platform, &rules, &inputs::cancel_request(50_000, 1))
        .await
        .expect("call");
    assert!(late.output.is_err());
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn default_templates_render_the_confirmation_email(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let templates = app
        .state
        .defaults
        .get(Hook::NotifyTemplates)
        .expect("default")
        .clone();
    let called = app
        .state
        .plugins
        .render(Tenant::Platform, &templates, &inputs::booking_confirmed())
        .await
        .expect("call succeeds");
    let email = called.output.expect("rendered");
    assert_eq!(email.subject, "Your booking is successful");
    for expected in [
        "The Long Night",
        "Regal Central",
        "A-1, A-2",
        "INR 650.00",
        "00000000b00c",
    ] {
        assert!(
            email.text.contains(expected),
            "text lacks {expected}: {}",
            email.text
        );
    }
    assert!(email.html.expect("html body").contains("The Long Night"));
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn defaults_are_stored_content_addressed(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let rows: Vec<(String, String, i32)> = sqlx::query_as(
        "select d.hook, c.id, c.size_bytes from platform_defaults d join components c on c.id = d.component_id order by d.hook",
    )
    .fetch_all(&pool)
    .await
    .expect("query");
    assert_eq!(rows.len(), cineflow::plugins::Hook::ALL.len());
    for (hook, id, size) in rows {
        let bytes = component(&format!("{hook}.wasm"));
        assert_eq!(id, cineflow::plugins::sha256_hex(&bytes), "{hook}");
        assert_eq!(usize::try_from(size).ok(), Some(bytes.len()));
    }
    app.stop().await;
    // Loading again (a restart) neither duplicates nor fails.
    let again = TestApp::spawn(pool.clone()).await;
    let count: i64 = sqlx::query_scalar("select count(*) from components")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(count, cineflow::plugins::Hook::ALL.len() as i64);
    again.stop().await;
}

/// Every hook the binary knows is a row of `hooks` once start-up stored its default, with no
/// migration per hook; a component row naming a hook the host does not know is refused by the
/// database itself.
#[sqlx::test(migrations = "../migrations")]
async fn every_hook_is_registered_and_unknown_hooks_are_refused(pool: PgPool) {
    // A database that lost a hook's row (as one migrated before that hook existed would be).
    sqlx::query("delete from hooks where name = 'seat-picker'")
        .execute(&pool)
        .await
        .expect("delete");
    let app = TestApp::spawn(pool.clone()).await;
    let hooks: Vec<String> = sqlx::query_scalar("select name from hooks order by name")
        .fetch_all(&pool)
        .await
        .expect("hooks");
    let mut known: Vec<String> = cineflow::plugins::Hook::ALL
        .iter()
        .map(|h| h.as_str().to_owned())
        .collect();
    known.sort();
    assert_eq!(hooks, known);
    let refused = sqlx::query(
        "insert into platform_defaults (hook, component_id)
         select 'ticket-printer', id from components limit 1",
    )
    .execute(&pool)
    .await
    .expect_err("an unknown hook");
    let constraint = refused
        .as_database_error()
        .and_then(|e| e.constraint())
        .map(str::to_owned);
    assert_eq!(constraint.as_deref(), Some("platform_defaults_hook_fkey"));
    app.stop().await;
}
