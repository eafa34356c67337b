//! Emails per second the sweeper delivers, against the limit: a bare lettre send loop with
//! the same pool size and concurrency to the same SMTP sink, measured in the same run.
//!
//! Each round queues N custom notifications in a fresh database and sweeps until none is due
//! (claim, render through the default notify-templates component, send, record), then sends N
//! messages of the same shape with the same sender alone (no database, no rendering). The
//! sink is SMTP_URL when set (bench/all.sh points it at postfix's `smtp-sink`, and compares
//! with postfix's `smtp-source` too), else the SMTP server of the tests
//! (tests/api/support/smtp.rs) on a real loopback socket in this process, so both sides pay
//! for it alike. Run with `bench/mail_sweep.sh` (release build, load recorded) or
//! `PARTS=mail bash bench/all.sh`.
//!
//! Prints `round,sweeper_per_s,bare_per_s,ratio` per round, then `message_bytes,B`: the size
//! of one message as the sweeper sends it (headers and body), for `smtp-source -l`.
//!
//! Env: DATABASE_URL (server; a database `cineflow_bench_mail` is recreated), N (10000),
//! ROUNDS (3), CONCURRENCY (8), BATCH (100), SMTP_URL (unset: the in-process sink).

#[path = "../tests/api/support/smtp.rs"]
#[allow(dead_code)]
mod smtp;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cineflow::defaults;
use cineflow::domain::components::StoredComponents;
use cineflow::domain::hook_io::RenderedEmail;
use cineflow::mail::smtp::Outgoing;
use cineflow::mail::{Mailer, SmtpSettings, SweepSettings, Sweeper};
use cineflow::plugins::{ComponentRegistry, RegistrySettings};
use cineflow::plugins::{Limits, PluginRuntime, RuntimeConfig};
use futures_util::StreamExt;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use uuid::Uuid;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn components_dir() -> PathBuf {
    std::env::var("CINEFLOW_COMPONENTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/components"))
}

async fn fresh_database(server_url: &str) -> anyhow::Result<PgPool> {
    let mut admin = PgConnection::connect(server_url).await?;
    sqlx::raw_sql("drop database if exists cineflow_bench_mail with (force)")
        .execute(&mut admin)
        .await?;
    sqlx::raw_sql("create database cineflow_bench_mail")
        .execute(&mut admin)
        .await?;
    let base = server_url.split('?').next().unwrap_or(server_url);
    let (server, _) = base.rsplit_once('/').unwrap_or((base, ""));
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .connect(&format!("{server}/cineflow_bench_mail"))
        .await?;
    cineflow::db::migrate(&pool).await?;
    Ok(pool)
}

async fn queue(pool: &PgPool, n: i64) -> anyhow::Result<()> {
    sqlx::query(
        "insert into notifications (id, kind, recipient_emails, fields, subject)
         select gen_random_uuid(), 'custom', array['guest' || g || '@example.com'],
                jsonb_build_object('subject', 'Your booking ' || g,
                                   'content', 'Booking ' || g || ' is confirmed. Enjoy the show!'),
                'Your booking ' || g
         from generate_series(1, $1) g",
    )
    .bind(n)
    .execute(pool)
    .await?;
    Ok(())
}

/// The limit: lettre alone, same pool and concurrency, messages of the same shape.
async fn bare_loop(mailer: &Mailer, n: usize, concurrency: usize) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut sends = futures_util::stream::iter(0..n)
        .map(|i| async move {
            let to = [format!("guest{i}@example.com")];
            let email = RenderedEmail {
                subject: format!("Your booking {i}"),
                text: format!("Booking {i} is confirmed. Enjoy the show!"),
                html: Some(format!("<p>Booking {i} is confirmed. Enjoy the show!</p>")),
            };
            let message = mailer.message(&Outgoing {
                id: Uuid::now_v7(),
                to: &to,
                email: &email,
            })?;
            mailer.send(message).await
        })
        .buffer_unordered(concurrency);
    while let Some(sent) = sends.next().await {
        sent?;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let n: usize = env_or("N", 10_000);
    let rounds: usize = env_or("ROUNDS", 3);
    let concurrency: usize = env_or("CONCURRENCY", 8);
    let batch: u32 = env_or("BATCH", 100);

    let pool = fresh_database(&url).await?;
    let plugins = Arc::new(PluginRuntime::new(RuntimeConfig::uniform(
        Limits::default(),
        None,
    ))?);
    let stored = Arc::new(StoredComponents::new(pool.clone()));
    let defaults = Arc::new(defaults::load(&components_dir(), &plugins, &*stored).await?);
    let registry = Arc::new(ComponentRegistry::new(
        stored.clone(),
        stored,
        plugins.clone(),
        defaults,
        RegistrySettings::default(),
        Arc::new(cineflow::plugins::registry::Unobserved),
    ));
    // Kept alive for the whole run when used.
    let (_sink, url) = match std::env::var("SMTP_URL") {
        Ok(url) => (None, url),
        Err(_) => {
            let sink = smtp::SmtpServer::start().await;
            let url = sink.url();
            (Some(sink), url)
        }
    };
    let from = "Cineflow <no-reply@cineflow.local>".parse()?;
    let settings = SmtpSettings {
        url,
        pool_size: u32::try_from(concurrency)?,
        timeout: Duration::from_secs(30),
    };
    let sweeper = Sweeper::new(
        pool.clone(),
        plugins.clone(),
        registry.clone(),
        Mailer::new(&settings, &from)?,
        SweepSettings {
            batch,
            concurrency,
            ..SweepSettings::default()
        },
    );
    let bare = Mailer::new(&settings, &from)?;

    let mut message_bytes = 0;
    println!("round,sweeper_per_s,bare_per_s,ratio");
    for round in 1..=rounds {
        sqlx::query("truncate notifications").execute(&pool).await?;
        queue(&pool, n as i64).await?;
        sqlx::query("analyze notifications").execute(&pool).await?;
        if message_bytes == 0 {
            message_bytes = sample_size(&pool, &plugins, &registry, &bare).await?;
        }
        let started = Instant::now();
        let mut sent = 0;
        while sent < n {
            let report = sweeper.sweep().await?;
            anyhow::ensure!(
                report.failed == 0 && report.retried == 0,
                "sweep failed: {report:?}"
            );
            if report.claimed == 0 {
                break;
            }
            sent += report.sent;
        }
        let sweep_rate = sent as f64 / started.elapsed().as_secs_f64();
        anyhow::ensure!(sent == n, "the sweeper sent {sent} of {n}");
        let bare_rate = bare_loop(&bare, n, concurrency).await?;
        println!(
            "{round},{sweep_rate:.0},{bare_rate:.0},{:.2}",
            sweep_rate / bare_rate
        );
    }
    println!("message_bytes,{message_bytes}");
    Ok(())
}

/// The size of the first queued email as the sweeper would send it.
async fn sample_size(
    pool: &PgPool,
    plugins: &PluginRuntime,
    registry: &ComponentRegistry,
    mailer: &Mailer,
) -> anyhow::Result<usize> {
    let mut conn = pool.acquire().await?;
    let first = cineflow::db::outbox::list(&mut conn, None, None, None, 1).await?;
    let n = first
        .first()
        .ok_or_else(|| anyhow::anyhow!("nothing queued"))?;
    let event = cineflow::mail::render::event_of(n)
        .ok_or_else(|| anyhow::anyhow!("unknown kind {}", n.kind))?;
    let (email, _) =
        cineflow::mail::render::render(plugins, registry, (n.chain_id, n.id), &event).await;
    let message = mailer.message(&Outgoing {
        id: n.id,
        to: &n.recipient_emails,
        email: &email,
    })?;
    Ok(message.formatted().len())
}
