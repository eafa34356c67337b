//! One chain cannot hurt another (issue 13), over HTTP: a bound component that tries to wait
//! is answered at once and counted by its breaker, a chain over its fair share gets 503
//! `plugin_busy` with `Retry-After` while another chain books, and a templates component that
//! tries to sleep delays no other chain's email through the real sweeper.

use std::time::{Duration, Instant};

use cineflow::config::MailConfig;
use cineflow::mail::{Mailer, SmtpSettings, SweepSettings, Sweeper};
use cineflow::plugins::{ComponentQuota, RegistrySettings};
use cineflow::plugins::{Limits, ShareSettings};
use futures_util::future::join_all;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::support::app::{TestApp, config};
use crate::support::client::*;
use crate::support::smtp::SmtpServer;
use crate::support::{component, hostile, inputs};

/// Seats of [`screen_body`] that can be held.
const SEATS: [&str; 16] = [
    "A-1", "A-2", "A-3", "A-4", "A-5", "A-6", "A-7", "A-8", "A-9", "A-10", "B-1", "B-2", "B-3",
    "B-4", "B-5", "B-6",
];

/// The dry-run input of pricing with the promo code that makes `sleep-on-promo` sleep.
fn sleepy_quote_input() -> Value {
    let mut input = serde_json::to_value(inputs::quote_request(1)).expect("input serialises");
    input["promo_code"] = json!("SLEEP");
    input
}

/// The acceptance of issue 13: with 8 instance slots, a chain whose bound pricing component
/// sleeps gets each dry run answered at once with the failure kind, while a different
/// chain's holds, sent all at once meanwhile, all get 201. The sleeping chain's own holds
/// fail closed (503 `plugin_unavailable`) and its breaker counts them until it trips.
#[sqlx::test(migrations = "../migrations")]
async fn a_sleeping_pricer_answers_at_once_trips_its_breaker_and_another_chain_books(pool: PgPool) {
    let mut config = config(Limits::default());
    config.runtime.max_concurrent_calls = 8;
    config.registry = RegistrySettings {
        breaker_failures: 3,
        ..RegistrySettings::default()
    };
    let app = TestApp::spawn_config(pool.clone(), config).await;
    let sleepy = app.bookable("Sleepy").await;
    let calm = app.bookable("Calm").await;
    let (token, chain) = (sleepy.venue.token.as_str(), sleepy.venue.chain_id.as_str());
    let sleeper = s(
        &app.upload_ok(token, chain, "pricing", hostile("sleep-on-promo"))
            .await,
        "id",
    );
    app.bind_ok(token, chain, "pricing", &sleeper, Some("reject"))
        .await;
    let mut customers = Vec::new();
    for i in 0..SEATS.len() {
        customers.push(app.customer(&format!("Calm {i}")).await.1);
    }
    let (_, sleepy_customer) = app.customer("Sleepy customer").await;

    let dry_run_path = format!("/chains/{chain}/components/{sleeper}/invoke");
    let dry_runs = async {
        let mut answers = Vec::new();
        for _ in 0..3 {
            // Eight at once: as many as the pool has slots.
            let batch = (0..8).map(|_| async {
                let started = Instant::now();
                let res = app
                    .post_json(
                        &dry_run_path,
                        Some(token),
                        json!({ "input": sleepy_quote_input() }),
                    )
                    .await;
                (expect_json(res, 200).await, started.elapsed())
            });
            answers.extend(join_all(batch).await);
        }
        answers
    };
    let (app_ref, calm_show) = (&app, calm.show_id.as_str());
    let holds = join_all(
        SEATS
            .iter()
            .zip(&customers)
            .map(|(seat, customer)| async move {
                app_ref
                    .post_json("/bookings", Some(customer), hold_body(calm_show, &[seat]))
                    .await
                    .status()
                    .as_u16()
            }),
    );
    let (answers, statuses) = tokio::join!(dry_runs, holds);

    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    for (answer, took) in &answers {
        assert_eq!(answer["error"]["kind"], "timeout", "{answer}");
        let message = s(&answer["error"], "message");
        assert!(message.contains("cannot wait"), "{message}");
        // The contract's bound is 1 s; the margin is for a loaded CI machine.
        assert!(*took < Duration::from_secs(3), "a dry run took {took:?}");
    }
    let slowest = answers.iter().map(|(_, t)| *t).max().unwrap_or_default();
    println!("24 dry runs of a sleeping pricer: slowest answered in {slowest:?}");

    // Its own customers' holds fail closed, each one counted, until the breaker opens and
    // the platform default prices them.
    for seat in ["A-1", "A-2", "A-3"] {
        assert_problem(
            app.try_hold_promo(&sleepy_customer, &sleepy.show_id, &[seat], "SLEEP")
                .await,
            503,
            "plugin_unavailable",
        )
        .await;
    }
    let binding = app.binding(token, chain, "pricing").await;
    assert_eq!(binding["breaker"]["state"], "open", "{binding}");
    assert!(
        s(&binding["breaker"], "reason").contains("timeout"),
        "{binding}"
    );
    app.hold(&sleepy_customer, &sleepy.show_id, &["A-4"]).await;
    app.stop().await;
}

/// A chain that has burnt its fuel per second gets 503 `plugin_busy` with `Retry-After` on
/// its holds, leaves no booking behind, and the bindings list shows its debt while another
/// chain's usage is untouched (the runtime tests show the other chain being served).
#[sqlx::test(migrations = "../migrations")]
async fn a_chain_over_its_fuel_share_is_busy_and_another_chain_is_not(pool: PgPool) {
    let mut config = config(Limits::default());
    config.runtime.share = Some(ShareSettings {
        max_concurrent_calls: 4,
        // Less than one hold's two calls: the second call of the chain in a second is refused.
        fuel_per_second: 1,
        queue_wait: Duration::from_millis(200),
    });
    let app = TestApp::spawn_config(pool.clone(), config).await;
    let busy = app.bookable("Busy").await;
    let other = app.bookable("Other").await;
    let (_, customer) = app.customer("Cust").await;

    // The first call is admitted (the bucket is not empty), the hold's second is not.
    let problem = assert_problem(
        app.post_json(
            "/bookings",
            Some(&customer),
            hold_body(&busy.show_id, &["A-1"]),
        )
        .await,
        503,
        "plugin_busy",
    )
    .await;
    assert!(s(&problem, "detail").contains("fair share"), "{problem}");
    let res = app
        .post_json(
            "/bookings",
            Some(&customer),
            hold_body(&busy.show_id, &["A-2"]),
        )
        .await;
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!(retry >= 1, "{retry}");
    assert_problem(res, 503, "plugin_busy").await;

    // The other chain's own bucket is full: its first call is admitted; it is charged for it
    // alone, and the busy chain's debt is not its concern.
    let usage = app
        .get_ok(
            &format!("/chains/{}/bindings", busy.venue.chain_id),
            Some(&busy.venue.token),
        )
        .await["usage"]
        .clone();
    assert_eq!(usage["fuel_per_second"], 1, "{usage}");
    assert!(
        usage["fuel_available"].as_i64().expect("fuel") < 0,
        "{usage}"
    );
    assert!(
        usage["refused_total"].as_u64().expect("refused") >= 2,
        "{usage}"
    );
    let others = app
        .get_ok(
            &format!("/chains/{}/bindings", other.venue.chain_id),
            Some(&other.venue.token),
        )
        .await["usage"]
        .clone();
    assert_eq!(others["refused_total"], 0, "{others}");
    assert_eq!(others["calls_in_flight"], 0, "{others}");
    assert_eq!(others["max_concurrent_calls"], 4, "{others}");
    assert_no_bookings_of(&pool, &busy.show_id).await;
    app.stop().await;
}

async fn assert_no_bookings_of(pool: &PgPool, show_id: &str) {
    let n: i64 = sqlx::query_scalar("select count(*) from bookings where show_id = $1")
        .bind(uuid_of(show_id))
        .fetch_one(pool)
        .await
        .expect("count");
    assert_eq!(n, 0, "a refused hold leaves nothing behind");
}

/// A templates component that sleeps on one chain's mail delays no other chain's email: one
/// sweep of a batch holding both chains' confirmations sends both at once, the sleepy chain's
/// by its binding's fallback (the platform default), the calm chain's by its own component.
#[sqlx::test(migrations = "../migrations")]
async fn a_sleeping_template_delays_no_other_chains_email(pool: PgPool) {
    let server = SmtpServer::start().await;
    let mut config = config(Limits::default());
    config.mail = MailConfig {
        run_sweeper: false,
        ..MailConfig::default()
    };
    let app = TestApp::spawn_config(pool.clone(), config).await;
    let sleepy = app.bookable("Sleepy mail").await;
    let calm = app.bookable("Calm mail").await;
    for venue in [&sleepy.venue, &calm.venue] {
        let id = s(
            &app.upload_ok(
                &venue.token,
                &venue.chain_id,
                "notify-templates",
                component("hostile/sleepy-templates.wasm"),
            )
            .await,
            "id",
        );
        app.bind_ok(&venue.token, &venue.chain_id, "notify-templates", &id, None)
            .await;
    }
    // The sleepy chain's movie carries the marker into its confirmation's fields.
    sqlx::query("update movies set title = 'SLEEP: The Long Night' where id = $1")
        .bind(uuid_of(&sleepy.venue.movie_id))
        .execute(&pool)
        .await
        .expect("retitle");
    let (_, customer) = app.customer("Mail customer").await;
    for show in [&sleepy.show_id, &calm.show_id] {
        let booking = app.hold(&customer, show, &["A-1"]).await;
        app.pay(&customer, &booking).await;
    }

    let sweeper = Sweeper::new(
        pool.clone(),
        app.state.plugins.clone(),
        app.state.components.clone(),
        Mailer::new(
            &SmtpSettings {
                url: server.url(),
                pool_size: 4,
                timeout: Duration::from_secs(5),
            },
            &"Cineflow Test <mail@test.cineflow.local>"
                .parse()
                .expect("sender"),
        )
        .expect("mailer"),
        SweepSettings {
            cron: "0 0 0 * * *".to_owned(),
            batch: 20,
            per_sweep: 1000,
            concurrency: 1,
            max_attempts: 3,
            lease: Duration::from_secs(60),
            retry_base: Duration::from_millis(50),
            retry_max: Duration::from_millis(200),
        },
    );
    let started = Instant::now();
    let report = sweeper.sweep().await.expect("sweep");
    let took = started.elapsed();
    // Whatever is queued (theatre-created emails too), every message is sent.
    assert_eq!(report.sent, report.claimed, "{report:?}");
    assert_eq!(report.failed, 0, "{report:?}");
    // The sleep asked for 30 s; one sweep with one send at a time finishes long before.
    assert!(took < Duration::from_secs(10), "the sweep took {took:?}");
    let got = server.wait_for(report.sent, Duration::from_secs(5)).await;
    let parsed: Vec<(String, String)> = got
        .iter()
        .map(|m| {
            let p = mail_parser::MessageParser::default().parse(m.data.as_bytes());
            let subject = p
                .as_ref()
                .and_then(|p| p.subject().map(str::to_owned))
                .unwrap_or_default();
            let text = p
                .as_ref()
                .and_then(|p| p.body_text(0).map(|t| t.into_owned()))
                .unwrap_or_default();
            (subject, text)
        })
        .collect();
    // The calm chain's confirmation was rendered by its component...
    assert_eq!(
        parsed
            .iter()
            .filter(|(s, text)| s.starts_with("[sleepy]") && text.contains("booking-id: "))
            .count(),
        1,
        "{parsed:?}"
    );
    // ...and the sleepy chain's, whose render tried to sleep, went out at once by the
    // binding's fallback (the platform default), in the same sweep.
    let (subject, _) = parsed
        .iter()
        .find(|(_, text)| text.contains("SLEEP: The Long Night"))
        .unwrap_or_else(|| panic!("the sleepy chain's confirmation was sent: {parsed:?}"));
    assert!(!subject.starts_with("[sleepy]"), "{subject}");
    app.stop().await;
}

/// Uploads are bounded per chain: past the component count or the byte quota an upload is
/// 409 `quota_exceeded` (before anything is compiled or stored), bytes the chain already has
/// are still 200, and another chain has its own quota.
#[sqlx::test(migrations = "../migrations")]
async fn uploads_past_a_chains_quota_are_409_and_other_chains_have_their_own(pool: PgPool) {
    let mut config = config(Limits::default());
    config.registry = RegistrySettings {
        quota: ComponentQuota {
            max_components: 2,
            max_bytes: 64 * 1024 * 1024,
        },
        ..RegistrySettings::default()
    };
    let app = TestApp::spawn_config(pool.clone(), config).await;
    let v = app.venue("Quota").await;
    let other = app.venue("Quota other").await;
    let (token, chain) = (v.token.as_str(), v.chain_id.as_str());
    app.upload_ok(token, chain, "pricing", hostile("well-behaved"))
        .await;
    app.upload_ok(token, chain, "pricing", hostile("double"))
        .await;
    let problem = assert_problem(
        app.upload(token, chain, "pricing", hostile("trap-on-promo"))
            .await,
        409,
        "quota_exceeded",
    )
    .await;
    assert!(s(&problem, "detail").contains("quota is 2"), "{problem}");
    // Bytes the chain already stores are not a new component.
    expect_json(
        app.upload(token, chain, "pricing", hostile("double")).await,
        200,
    )
    .await;
    app.upload_ok(
        &other.token,
        &other.chain_id,
        "pricing",
        hostile("trap-on-promo"),
    )
    .await;
    let stored: i64 =
        sqlx::query_scalar("select count(*) from chain_components where chain_id = $1")
            .bind(uuid_of(chain))
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(stored, 2);
    app.stop().await;

    // The byte quota: less than two components' worth.
    let size = hostile("well-behaved").len() as u64;
    let mut config = crate::support::app::config(Limits::default());
    config.registry = RegistrySettings {
        quota: ComponentQuota {
            max_components: 50,
            max_bytes: size + size / 2,
        },
        ..RegistrySettings::default()
    };
    let app = TestApp::spawn_config(pool.clone(), config).await;
    let v = app.venue("Bytes").await;
    app.upload_ok(&v.token, &v.chain_id, "pricing", hostile("well-behaved"))
        .await;
    let problem = assert_problem(
        app.upload(&v.token, &v.chain_id, "pricing", hostile("double"))
            .await,
        409,
        "quota_exceeded",
    )
    .await;
    assert!(s(&problem, "detail").contains("bytes"), "{problem}");
    app.stop().await;
}
