//! Email: the outbox sweeper against an SMTP server on a real socket — one email per
//! confirmed booking with its Message-ID, retries through an outage, permanent failures,
//! expired claims, two sweepers sharing a queue, the template fallback (SEED N1–N4, C10).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use cineflow::app::App;
use cineflow::config::MailConfig;
use cineflow::db::outbox;
use cineflow::mail::{Mailer, SmtpSettings, SweepSettings, Sweeper};
use cineflow::state::AppState;
use lettre::message::Mailbox;
use mail_parser::MessageParser;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::support::app::{TestApp, config};
use crate::support::client::{expect_json, s};
use crate::support::smtp::{Mode, Received, SmtpServer};

fn smtp_settings(server: &SmtpServer) -> SmtpSettings {
    SmtpSettings {
        url: server.url(),
        pool_size: 4,
        timeout: Duration::from_secs(5),
    }
}

fn sender() -> Mailbox {
    "Cineflow Test <mail@test.cineflow.local>"
        .parse()
        .expect("sender")
}

/// Fast retries so that tests of backoff finish quickly.
fn fast_settings() -> SweepSettings {
    SweepSettings {
        cron: "0 0 0 * * *".to_owned(),
        batch: 20,
        per_sweep: 1000,
        concurrency: 4,
        max_attempts: 3,
        lease: Duration::from_secs(60),
        retry_base: Duration::from_millis(50),
        retry_max: Duration::from_millis(200),
    }
}

/// A sweeper on `pool` sending to `server`, sharing the app's components.
fn sweeper(
    state: &AppState,
    pool: PgPool,
    server: &SmtpServer,
    settings: SweepSettings,
) -> Sweeper {
    Sweeper::new(
        pool,
        state.plugins.clone(),
        state.components.clone(),
        Mailer::new(&smtp_settings(server), &sender()).expect("mailer"),
        settings,
    )
}

/// An app that does not run its own sweeper (the test drives one by hand).
async fn app_without_sweeper(pool: PgPool) -> TestApp {
    let mut config = config(Default::default());
    config.mail = MailConfig {
        run_sweeper: false,
        ..MailConfig::default()
    };
    TestApp::spawn_config(pool, config).await
}

async fn queue_custom(app: &TestApp, token: &str, subject: &str, to: &str) -> Value {
    let res = app
        .post_json(
            "/notifications",
            Some(token),
            json!({ "subject": subject, "content": format!("Body of {subject}"), "recipient_emails": [to] }),
        )
        .await;
    expect_json(res, 201).await
}

async fn status_of(pool: &PgPool, id: &str) -> (String, i32, Option<String>) {
    sqlx::query_as("select status, attempts, last_error from notifications where id = $1::uuid")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("notification row")
}

fn parse(m: &Received) -> mail_parser::Message<'_> {
    MessageParser::default()
        .parse(m.data.as_bytes())
        .expect("a parsable message")
}

fn message_ids(messages: &[Received]) -> BTreeSet<String> {
    messages
        .iter()
        .map(|m| parse(m).message_id().unwrap_or_default().to_owned())
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_confirmed_booking_sends_exactly_one_email_with_its_details_and_message_id(pool: PgPool) {
    let server = SmtpServer::start().await;
    let mut config = config(Default::default());
    config.mail = MailConfig {
        smtp: Some(smtp_settings(&server)),
        from: sender(),
        // The cron would only fire at midnight: a prompt email proves LISTEN/NOTIFY woke it.
        sweep: fast_settings(),
        ..MailConfig::default()
    };
    let app = TestApp::spawn_config(pool.clone(), config).await;
    let b = app.bookable("mailroom").await;
    let (_, customer) = app.customer("Mira").await;
    let me = app.get_ok("/users/me", Some(&customer)).await;
    let email = s(&me, "email");
    let booking = app.hold(&customer, &b.show_id, &["A-1", "A-2"]).await;
    app.pay(&customer, &booking).await;
    let booking_id = s(&booking, "id");

    for _ in 0..100 {
        if server.messages().iter().any(|m| m.to.contains(&email)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Give a duplicate every chance to show up before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mine: Vec<Received> = server
        .messages()
        .into_iter()
        .filter(|m| m.to.contains(&email))
        .collect();
    assert_eq!(mine.len(), 1, "one email for one confirmed booking");
    assert_eq!(mine[0].from, "mail@test.cineflow.local", "envelope sender");
    let message = parse(&mine[0]);
    let text = message.body_text(0).expect("a text part").into_owned();
    let html = message.body_html(0).expect("an HTML part").into_owned();
    for needle in [booking_id.as_str(), "A-1", "A-2"] {
        assert!(text.contains(needle), "{needle} in the text: {text}");
        assert!(html.contains(needle), "{needle} in the HTML: {html}");
    }
    let show = app.get_ok(&format!("/shows/{}", b.show_id), None).await;
    let movie = app
        .get_ok(&format!("/movies/{}", s(&show, "movie_id")), None)
        .await;
    assert!(text.contains(&s(&movie, "title")), "movie title in {text}");
    // One link per ticket (its QR code, no sign-in needed), in both bodies.
    let links = format!("{}/api/v1/tickets/", app.url(""));
    assert_eq!(text.matches(&links).count(), 2, "ticket links in {text}");
    assert!(html.contains(&links), "ticket links in {html}");
    assert_eq!(
        message
            .from()
            .and_then(|f| f.first())
            .and_then(|a| a.address()),
        Some("mail@test.cineflow.local")
    );

    let admin = app.admin_token().await;
    let sent = app
        .get_ok("/notifications?status=sent&limit=200", Some(&admin))
        .await;
    let row = sent["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|n| n["kind"] == "booking-confirmed")
        .expect("the booking-confirmed notification is sent")
        .clone();
    assert_eq!(row["attempts"], 1);
    assert!(row["sent_at"].is_string());
    assert_eq!(
        message.message_id(),
        Some(format!("{}@test.cineflow.local", s(&row, "id")).as_str()),
        "the Message-ID is derived from the notification"
    );
    assert_eq!(
        s(&row, "message_id"),
        format!("<{}@test.cineflow.local>", s(&row, "id"))
    );
    assert_eq!(row["subject"].as_str(), message.subject());
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_sweeper_retries_through_an_outage_and_delivers_each_email_once(pool: PgPool) {
    let mut server = SmtpServer::start().await;
    let app = app_without_sweeper(pool.clone()).await;
    let admin = app.admin_token().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let n = queue_custom(&app, &admin, &format!("outage {i}"), "ops@example.com").await;
        ids.push(s(&n, "id"));
    }
    // Backoff of 0.5–1 s: long enough to see that nothing is due early.
    let settings = SweepSettings {
        retry_base: Duration::from_secs(1),
        retry_max: Duration::from_secs(1),
        ..fast_settings()
    };
    let sweeper = sweeper(&app.state, pool.clone(), &server, settings);

    server.stop().await;
    let down = sweeper.sweep().await.expect("sweep while down");
    assert_eq!((down.claimed, down.retried, down.sent), (5, 5, 0));
    for id in &ids {
        let (status, attempts, error) = status_of(&pool, id).await;
        assert_eq!((status.as_str(), attempts), ("pending", 1));
        assert!(error.is_some(), "the connection error is recorded");
    }
    let early = sweeper
        .sweep()
        .await
        .expect("sweep before the retry is due");
    assert_eq!(early.claimed, 0, "nothing is due before its backoff ends");

    server.restart().await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let up = sweeper.sweep().await.expect("sweep after the outage");
    assert_eq!((up.claimed, up.sent), (5, 5));
    let got = server.wait_for(5, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 5, "each email delivered once");
    assert_eq!(message_ids(&got).len(), 5);
    for id in &ids {
        let (status, attempts, error) = status_of(&pool, id).await;
        assert_eq!((status.as_str(), attempts, error), ("sent", 2, None));
    }
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_permanent_refusal_fails_at_once_and_a_temporary_one_after_the_last_attempt(
    pool: PgPool,
) {
    let server = SmtpServer::start().await;
    let app = app_without_sweeper(pool.clone()).await;
    let admin = app.admin_token().await;
    let sweeper = sweeper(&app.state, pool.clone(), &server, fast_settings());

    server.set_mode(Mode::Reject);
    let rejected = queue_custom(&app, &admin, "rejected", "nobody@example.com").await;
    let report = sweeper.sweep().await.expect("sweep");
    assert_eq!((report.claimed, report.failed), (1, 1));
    let (status, attempts, error) = status_of(&pool, &s(&rejected, "id")).await;
    assert_eq!((status.as_str(), attempts), ("failed", 1));
    assert!(
        error.unwrap_or_default().contains("550"),
        "the 5xx reply is kept"
    );

    server.set_mode(Mode::Defer);
    let deferred = queue_custom(&app, &admin, "deferred", "later@example.com").await;
    let id = s(&deferred, "id");
    for _ in 0..40 {
        sweeper.sweep().await.expect("sweep");
        if status_of(&pool, &id).await.0 == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    let (status, attempts, error) = status_of(&pool, &id).await;
    assert_eq!(
        (status.as_str(), attempts),
        ("failed", 3),
        "max_attempts = 3"
    );
    assert!(error.unwrap_or_default().contains("451"));
    assert!(server.messages().is_empty());

    let one = app
        .get_ok(&format!("/notifications/{id}"), Some(&admin))
        .await;
    assert_eq!(one["status"], "failed");
    assert_eq!(one["attempts"], 3);
    assert!(s(&one, "last_error").contains("451"));
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_claim_whose_sweeper_died_is_sent_again_and_the_dead_claim_cannot_overwrite_it(
    pool: PgPool,
) {
    let server = SmtpServer::start().await;
    let app = app_without_sweeper(pool.clone()).await;
    let admin = app.admin_token().await;
    let n = queue_custom(&app, &admin, "crash", "crash@example.com").await;

    // A sweeper claims the row and dies before sending: its lease runs out.
    let mut conn = pool.acquire().await.expect("connection");
    let dead = outbox::claim(&mut conn, 10, Duration::from_millis(1))
        .await
        .expect("claim");
    assert_eq!(dead.len(), 1);
    drop(conn);
    tokio::time::sleep(Duration::from_millis(20)).await;

    let sweeper = sweeper(&app.state, pool.clone(), &server, fast_settings());
    let report = sweeper.sweep().await.expect("sweep");
    assert_eq!((report.claimed, report.sent), (1, 1));
    assert_eq!(server.wait_for(1, Duration::from_secs(5)).await.len(), 1);
    let (status, attempts, _) = status_of(&pool, &s(&n, "id")).await;
    assert_eq!((status.as_str(), attempts), ("sent", 2));

    // The first sweeper wakes up and tries to record a failure: its claim is gone.
    let mut conn = pool.acquire().await.expect("connection");
    let recorded = outbox::mark_failed(&mut conn, &dead[0], "late", None)
        .await
        .expect("update");
    assert!(!recorded, "a lost claim records nothing");
    assert_eq!(status_of(&pool, &s(&n, "id")).await.0, "sent");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn two_sweepers_on_separate_pools_deliver_every_email_exactly_once(pool: PgPool) {
    const N: i64 = 300;
    let server = SmtpServer::start().await;
    let app = app_without_sweeper(pool.clone()).await;
    sqlx::query(
        "insert into notifications (id, kind, recipient_emails, fields, subject)
         select gen_random_uuid(), 'custom', array['r' || g || '@example.com'],
                jsonb_build_object('subject', 'n' || g, 'content', 'body ' || g), 'n' || g
         from generate_series(1, $1) g",
    )
    .bind(N)
    .execute(&pool)
    .await
    .expect("queue");

    let options = (*pool.connect_options()).clone();
    let mut sweepers = Vec::new();
    for _ in 0..2 {
        let own = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await
            .expect("a separate pool");
        sweepers.push(Arc::new(sweeper(
            &app.state,
            own,
            &server,
            SweepSettings {
                batch: 10,
                ..fast_settings()
            },
        )));
    }
    let runs: Vec<_> = sweepers
        .iter()
        .map(|sw| {
            let sw = sw.clone();
            tokio::spawn(async move { sw.sweep().await.expect("sweep") })
        })
        .collect();
    let mut sent = Vec::new();
    for run in runs {
        sent.push(run.await.expect("sweeper task").sent);
    }
    assert_eq!(
        sent.iter().sum::<usize>(),
        N as usize,
        "per sweeper: {sent:?}"
    );
    assert!(
        sent.iter().all(|&n| n > 0),
        "both sweepers took part: {sent:?}"
    );
    let got = server.wait_for(N as usize, Duration::from_secs(10)).await;
    assert_eq!(got.len(), N as usize, "no email twice, none lost");
    assert_eq!(message_ids(&got).len(), N as usize);
    let unsent: i64 =
        sqlx::query_scalar("select count(*) from notifications where status <> 'sent'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(unsent, 0);
    app.stop().await;
}

/// A sweep is bounded (issue 18 item 6): with more due than `per_sweep`, one sweep claims
/// `per_sweep` rows in whole batches and says `more`; the next sweep goes on from there, and
/// the last one, short, says it is done. Every email goes once.
#[sqlx::test(migrations = "../migrations")]
async fn a_sweep_stops_at_its_bound_and_the_next_one_goes_on(pool: PgPool) {
    const N: i64 = 25;
    let server = SmtpServer::start().await;
    let app = app_without_sweeper(pool.clone()).await;
    sqlx::query(
        "insert into notifications (id, kind, recipient_emails, fields, subject)
         select gen_random_uuid(), 'custom', array['b' || g || '@example.com'],
                jsonb_build_object('subject', 'b' || g, 'content', 'body ' || g), 'b' || g
         from generate_series(1, $1) g",
    )
    .bind(N)
    .execute(&pool)
    .await
    .expect("queue");
    let sweeper = sweeper(
        &app.state,
        pool.clone(),
        &server,
        SweepSettings {
            batch: 4,
            per_sweep: 10,
            ..fast_settings()
        },
    );
    let mut reports = Vec::new();
    for _ in 0..4 {
        let r = sweeper.sweep().await.expect("sweep");
        reports.push((r.claimed, r.sent, r.more));
    }
    // 4 + 4 + 2 (the last claim cut to the bound); 10 more; then 4 + the last 1, short.
    assert_eq!(
        reports,
        vec![(10, 10, true), (10, 10, true), (5, 5, false), (0, 0, false)],
        "claimed, sent, more per sweep"
    );
    let got = server.wait_for(N as usize, Duration::from_secs(10)).await;
    assert_eq!(message_ids(&got).len(), N as usize, "each email once");
    app.stop().await;
}

/// N2: sends are awaited with a bound. A slow server makes every send overlap with the
/// others; the server never sees more transactions at once than the sweeper's concurrency.
#[sqlx::test(migrations = "../migrations")]
async fn the_sweeper_never_has_more_sends_in_flight_than_its_concurrency(pool: PgPool) {
    const N: i64 = 24;
    const CONCURRENCY: usize = 3;
    let server = SmtpServer::start().await;
    server.set_data_delay(Duration::from_millis(150));
    let app = app_without_sweeper(pool.clone()).await;
    sqlx::query(
        "insert into notifications (id, kind, recipient_emails, fields, subject)
         select gen_random_uuid(), 'custom', array['c' || g || '@example.com'],
                jsonb_build_object('subject', 'c' || g, 'content', 'body ' || g), 'c' || g
         from generate_series(1, $1) g",
    )
    .bind(N)
    .execute(&pool)
    .await
    .expect("queue");
    // A connection pool wider than the bound, so only the sweeper's own limit can hold it.
    let smtp = SmtpSettings {
        pool_size: 16,
        ..smtp_settings(&server)
    };
    let sweeper = Sweeper::new(
        pool.clone(),
        app.state.plugins.clone(),
        app.state.components.clone(),
        Mailer::new(&smtp, &sender()).expect("mailer"),
        SweepSettings {
            batch: 100,
            concurrency: CONCURRENCY,
            ..fast_settings()
        },
    );
    let report = sweeper.sweep().await.expect("sweep");
    assert_eq!(report.sent, N as usize);
    assert_eq!(server.messages().len(), N as usize);
    let peak = server.peak_transactions();
    assert!(
        peak <= CONCURRENCY,
        "{peak} transactions at once with a concurrency of {CONCURRENCY}"
    );
    // The bound is a bound, not a queue of one: the sends did overlap.
    assert!(peak >= 2, "sends ran one at a time (peak {peak})");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_failing_template_component_falls_back_to_the_built_in_template(pool: PgPool) {
    let server = SmtpServer::start().await;
    let app = app_without_sweeper(pool.clone()).await;
    let admin = app.admin_token().await;
    // 80 KiB is a valid email but more than a component may be given (64 KiB): the
    // component call fails before it starts and the built-in template renders it.
    let content = "x".repeat(80 * 1024);
    let res = app
        .post_json(
            "/notifications",
            Some(&admin),
            json!({ "subject": "Big one", "content": content, "recipient_emails": ["big@example.com"] }),
        )
        .await;
    expect_json(res, 201).await;
    let sweeper = sweeper(&app.state, pool.clone(), &server, fast_settings());
    let report = sweeper.sweep().await.expect("sweep");
    assert_eq!((report.sent, report.fallbacks), (1, 1));
    let got = server.wait_for(1, Duration::from_secs(5)).await;
    let message = parse(&got[0]);
    assert_eq!(message.subject(), Some("Big one"));
    assert_eq!(
        message.body_text(0).map(|t| t.trim_end().len()),
        Some(80 * 1024)
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn every_event_sends_its_email(pool: PgPool) {
    let server = SmtpServer::start().await;
    let app = app_without_sweeper(pool.clone()).await;
    let b = app.bookable("events").await;
    let (_, customer) = app.customer("Eve").await;
    let paid = app.hold(&customer, &b.show_id, &["A-1"]).await;
    app.pay(&customer, &paid).await;
    let res = app.cancel_booking(Some(&customer), &s(&paid, "id")).await;
    assert!(res.status().is_success(), "cancel: {}", res.status());
    let lapsed = app.hold(&customer, &b.show_id, &["A-3"]).await;
    crate::support::client::expire_hold(&pool, &s(&lapsed, "id")).await;
    cineflow::domain::bookings::expire_due(&pool)
        .await
        .expect("expire");
    let kept = app.hold(&customer, &b.show_id, &["A-5"]).await;
    app.pay(&customer, &kept).await;
    let res = app
        .post_json(
            &format!("/shows/{}/cancel", b.show_id),
            Some(&b.venue.token),
            json!({}),
        )
        .await;
    assert!(res.status().is_success(), "show cancel: {}", res.status());

    let sweeper = sweeper(&app.state, pool.clone(), &server, fast_settings());
    let report = sweeper.sweep().await.expect("sweep");
    assert_eq!(report.failed + report.retried, 0, "{report:?}");
    let kinds: Vec<(String, String)> =
        sqlx::query_as("select kind, status from notifications order by created_at, id")
            .fetch_all(&pool)
            .await
            .expect("kinds");
    for kind in [
        "account-approved",
        "theatre-created",
        "booking-confirmed",
        "booking-cancelled",
        "booking-expired",
        "show-cancelled",
    ] {
        assert!(
            kinds.iter().any(|(k, st)| k == kind && st == "sent"),
            "{kind} was sent: {kinds:?}"
        );
    }
    let got = server.messages();
    assert_eq!(got.len(), kinds.len());
    assert_eq!(
        report.fallbacks, 0,
        "the default templates render every kind"
    );
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn the_run_command_without_smtp_keeps_mail_queued(pool: PgPool) {
    // No CINEFLOW_SMTP_URL: the app serves, mail is queued and stays pending.
    let app = TestApp::spawn(pool.clone()).await;
    let admin = app.admin_token().await;
    let n = queue_custom(&app, &admin, "queued", "q@example.com").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(status_of(&pool, &s(&n, "id")).await.0, "pending");
    app.stop().await;
}

#[sqlx::test(migrations = "../migrations")]
async fn a_bad_smtp_url_stops_the_start(pool: PgPool) {
    let mut config = config(Default::default());
    config.mail.smtp = Some(SmtpSettings {
        url: "http://not-smtp".to_owned(),
        pool_size: 1,
        timeout: Duration::from_secs(1),
    });
    let Err(e) = App::build_with_pool(config, pool).await else {
        panic!("an http:// URL must be refused");
    };
    assert!(e.to_string().contains("CINEFLOW_SMTP_URL"), "{e}");
}
