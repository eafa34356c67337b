//! The sweeper: claims due notifications (SKIP LOCKED + a lease), renders and sends them
//! with bounded concurrency, and records each outcome — sent, retried with exponential
//! backoff and jitter, or failed for good. Any number of sweepers (tasks or replicas) can
//! share one database: a row is only ever claimed by one of them at a time, and a claim
//! whose sweeper died runs out and is taken again (delivery is at-least-once; the stable
//! Message-ID lets receivers drop the rare duplicate).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt;
use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_cron_scheduler::{Job, JobScheduler};
use tokio_util::sync::CancellationToken;

use crate::db::outbox::{self, Claimed};
use crate::mail::render::{self, RenderedBy};
use crate::mail::smtp::{Mailer, Outgoing};
use crate::plugins::ComponentRegistry;
use crate::plugins::PluginRuntime;

/// The channel new notifications are announced on (migration 0005's trigger).
pub const CHANNEL: &str = "cineflow_outbox";

/// How the sweeper runs.
#[derive(Debug, Clone)]
pub struct SweepSettings {
    /// When to sweep even without a wake-up: 6-field cron (with seconds), UTC.
    pub cron: String,
    /// Rows claimed at once.
    pub batch: u32,
    /// Rows one sweep claims at most (in batches of `batch`). A sweep that reaches it stops,
    /// and [`Sweeper::run`] starts the next one at once: a backlog of any size drains at full
    /// speed, while each sweep stays bounded in time and work, and a shutdown between two
    /// sweeps is noticed.
    pub per_sweep: u32,
    /// Emails in flight at once.
    pub concurrency: usize,
    /// Attempts before a notification is `failed`.
    pub max_attempts: u32,
    /// How long a claim lasts; a sweeper that dies mid-send loses its rows after this.
    pub lease: Duration,
    /// Delay before the first retry; doubled each time, up to `retry_max`.
    pub retry_base: Duration,
    /// Longest delay between two attempts.
    pub retry_max: Duration,
}

impl Default for SweepSettings {
    fn default() -> Self {
        Self {
            cron: "*/10 * * * * *".to_owned(),
            batch: 100,
            per_sweep: 1000,
            concurrency: 8,
            max_attempts: 10,
            lease: Duration::from_secs(120),
            retry_base: Duration::from_secs(10),
            retry_max: Duration::from_secs(3600),
        }
    }
}

/// What one sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    /// Rows claimed.
    pub claimed: usize,
    /// Delivered.
    pub sent: usize,
    /// Failed this time, due again later.
    pub retried: usize,
    /// Failed for good.
    pub failed: usize,
    /// Rendered with the built-in template because the component failed.
    pub fallbacks: usize,
    /// Results not recorded because another sweeper had re-claimed the row.
    pub lost_claims: usize,
    /// The first temporary failure, for the log line.
    pub first_error: Option<String>,
    /// The sweep stopped at `per_sweep` rows with the last batch full: more may be due.
    pub more: bool,
}

impl SweepReport {
    fn add(&mut self, other: SweepReport) {
        self.claimed += other.claimed;
        self.sent += other.sent;
        self.retried += other.retried;
        self.failed += other.failed;
        self.fallbacks += other.fallbacks;
        self.lost_claims += other.lost_claims;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

enum Outcome {
    Sent,
    Retry(String),
    Failed,
    LostClaim,
}

/// Delivers queued notifications.
pub struct Sweeper {
    db: PgPool,
    plugins: Arc<PluginRuntime>,
    registry: Arc<ComponentRegistry>,
    mailer: Mailer,
    settings: SweepSettings,
}

impl Sweeper {
    /// A sweeper sending through `mailer`.
    pub fn new(
        db: PgPool,
        plugins: Arc<PluginRuntime>,
        registry: Arc<ComponentRegistry>,
        mailer: Mailer,
        settings: SweepSettings,
    ) -> Self {
        Self {
            db,
            plugins,
            registry,
            mailer,
            settings,
        }
    }

    /// Sends what is due now, batch after batch, until a claim comes back short or
    /// `per_sweep` rows were claimed (then `more` is set; the last batch is cut to fit).
    pub async fn sweep(&self) -> Result<SweepReport, sqlx::Error> {
        let mut report = SweepReport::default();
        let cap = self.settings.per_sweep.max(1) as usize;
        loop {
            let size = self.batch_size().min(cap.saturating_sub(report.claimed));
            let batch = self.sweep_up_to(size).await?;
            let full = batch.claimed >= size;
            report.add(batch);
            if !full {
                return Ok(report);
            }
            if report.claimed >= cap {
                report.more = true;
                return Ok(report);
            }
        }
    }

    /// Claims one batch (never past `per_sweep`) and delivers it.
    pub async fn sweep_batch(&self) -> Result<SweepReport, sqlx::Error> {
        self.sweep_up_to(self.batch_size()).await
    }

    fn batch_size(&self) -> usize {
        self.settings.batch.clamp(1, self.settings.per_sweep.max(1)) as usize
    }

    async fn sweep_up_to(&self, size: usize) -> Result<SweepReport, sqlx::Error> {
        let claims = {
            let mut conn = self.db.acquire().await?;
            outbox::claim(
                &mut conn,
                i64::try_from(size).unwrap_or(i64::MAX),
                self.settings.lease,
            )
            .await?
        };
        let mut report = SweepReport {
            claimed: claims.len(),
            ..SweepReport::default()
        };
        let mut outcomes = futures_util::stream::iter(claims)
            .map(|claim| self.deliver(claim))
            .buffer_unordered(self.settings.concurrency.max(1));
        while let Some(result) = outcomes.next().await {
            let (outcome, by) = result?;
            if by == Some(RenderedBy::Builtin) {
                report.fallbacks += 1;
            }
            match outcome {
                Outcome::Sent => report.sent += 1,
                Outcome::Retry(error) => {
                    report.retried += 1;
                    report.first_error.get_or_insert(error);
                }
                Outcome::Failed => report.failed += 1,
                Outcome::LostClaim => report.lost_claims += 1,
            }
        }
        Ok(report)
    }

    async fn deliver(&self, claim: Claimed) -> Result<(Outcome, Option<RenderedBy>), sqlx::Error> {
        let n = &claim.notification;
        let attempts = u32::try_from(n.attempts).unwrap_or(u32::MAX);
        if attempts > self.settings.max_attempts {
            // Every attempt was claimed and none came back: the sender keeps dying on it.
            let error = format!(
                "gave up after {} attempts that never finished (the sender stopped mid-send)",
                self.settings.max_attempts
            );
            return Ok((self.finish_failed(&claim, &error).await?, None));
        }
        let Some(event) = render::event_of(n) else {
            let error = format!("unknown notification kind {:?}", n.kind);
            return Ok((self.finish_failed(&claim, &error).await?, None));
        };
        let (email, by) =
            render::render(&self.plugins, &self.registry, (n.chain_id, n.id), &event).await;
        let message = match self.mailer.message(&Outgoing {
            id: n.id,
            to: &n.recipient_emails,
            email: &email,
        }) {
            Ok(m) => m,
            Err(e) => return Ok((self.finish_failed(&claim, &e.message).await?, Some(by))),
        };
        let started = std::time::Instant::now();
        let sent = self.mailer.send(message).await;
        metrics::histogram!("cineflow_mail_send_seconds").record(started.elapsed().as_secs_f64());
        let mut conn = self.db.acquire().await?;
        let outcome = match sent {
            Ok(()) => {
                if outbox::mark_sent(&mut conn, &claim, &email.subject).await? {
                    metrics::counter!("cineflow_mail_sent_total").increment(1);
                    Outcome::Sent
                } else {
                    Outcome::LostClaim
                }
            }
            Err(e) if e.permanent || attempts >= self.settings.max_attempts => {
                drop(conn);
                let error = if e.permanent {
                    format!("permanent: {}", e.message)
                } else {
                    format!("after {attempts} attempts: {}", e.message)
                };
                self.finish_failed(&claim, &error).await?
            }
            Err(e) => {
                let at = Utc::now()
                    + chrono::Duration::from_std(self.backoff(attempts))
                        .unwrap_or(chrono::Duration::hours(1));
                if outbox::mark_failed(&mut conn, &claim, &e.message, Some(at)).await? {
                    metrics::counter!("cineflow_mail_retries_total").increment(1);
                    Outcome::Retry(e.message)
                } else {
                    Outcome::LostClaim
                }
            }
        };
        if matches!(outcome, Outcome::LostClaim) {
            metrics::counter!("cineflow_mail_lost_claims_total").increment(1);
            tracing::warn!(notification = %n.id, "another sweeper re-claimed this email while it was being sent; its result was not recorded");
        }
        Ok((outcome, Some(by)))
    }

    async fn finish_failed(&self, claim: &Claimed, error: &str) -> Result<Outcome, sqlx::Error> {
        let mut conn = self.db.acquire().await?;
        if outbox::mark_failed(&mut conn, claim, error, None).await? {
            metrics::counter!("cineflow_mail_failed_total").increment(1);
            tracing::warn!(notification = %claim.notification.id, %error, "email failed for good");
            Ok(Outcome::Failed)
        } else {
            Ok(Outcome::LostClaim)
        }
    }

    /// Delay before the attempt after `attempts`: `retry_base · 2^(attempts-1)`, capped at
    /// `retry_max`, then a random point in its upper half so that mail that failed together
    /// (a server outage) does not come back together.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let exp = attempts.saturating_sub(1).min(30);
        let full = self
            .settings
            .retry_base
            .saturating_mul(1u32 << exp)
            .min(self.settings.retry_max);
        full.mul_f64(0.5 + fastrand::f64() / 2.0)
    }

    /// Sweeps on the cron cadence and whenever a notification is queued, until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) -> anyhow::Result<()> {
        let wake = Arc::new(Notify::new());
        let mut scheduler = JobScheduler::new().await?;
        let tick = wake.clone();
        scheduler
            .add(Job::new_async(self.settings.cron.as_str(), move |_, _| {
                let tick = tick.clone();
                Box::pin(async move { tick.notify_one() })
            })?)
            .await?;
        scheduler.start().await?;
        let listener = tokio::spawn(listen(self.db.clone(), wake.clone(), shutdown.clone()));
        tracing::info!(server = %self.mailer.server(), cron = %self.settings.cron,
            "email sweeper started");
        wake.notify_one();
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                () = wake.notified() => {}
            }
            match self.sweep().await {
                Ok(report) => {
                    log_report(&report, self.mailer.server());
                    if report.more {
                        // Stopped at its bound with more due: go again, after the shutdown check.
                        wake.notify_one();
                    }
                }
                Err(e) => tracing::warn!(error = %e, "email sweep failed; next sweep will retry"),
            }
        }
        listener.abort();
        scheduler.shutdown().await?;
        Ok(())
    }
}

fn log_report(report: &SweepReport, server: &str) {
    if report.claimed == 0 {
        return;
    }
    if let Some(error) = &report.first_error {
        tracing::warn!(sent = report.sent, retried = report.retried, failed = report.failed,
            %server, %error,
            "emails could not be sent now; they stay queued and are retried with backoff");
    } else {
        tracing::info!(
            sent = report.sent,
            failed = report.failed,
            fallbacks = report.fallbacks,
            "email sweep done"
        );
    }
}

/// Wakes the sweeper when a notification is queued (LISTEN); reconnects after errors.
async fn listen(db: PgPool, wake: Arc<Notify>, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let result: Result<(), sqlx::Error> = async {
            let mut listener = crate::db::listener(&db).await?;
            listener.listen(CHANNEL).await?;
            // Anything queued while we were not listening is picked up by this sweep.
            wake.notify_one();
            // `try_recv`, not `recv`: `recv` reconnects silently, and a notification sent
            // while the connection was down is lost, so a reconnection (`None`) sweeps too.
            loop {
                listener.try_recv().await?;
                wake.notify_one();
            }
        }
        .await;
        if let Err(e) = result {
            tracing::debug!(error = %e, "LISTEN connection lost; reconnecting");
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }
}
