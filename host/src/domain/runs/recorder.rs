//! The run log's writer and the shadows' runner: the registry's [`CallObserver`], on bounded
//! queues. A call hands its record over with `try_send` and goes on; when a queue is full the
//! record is dropped and counted (`cineflow_run_log_dropped_total`), so recording never
//! slows or fails a booking. One task per replica writes the records in batches, with customer
//! addresses replaced by pseudonyms; another runs shadow calls one at a time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::PgPool;
use tokio::sync::mpsc::{self, error::TrySendError};

use super::RunLogSettings;
use super::pseudonym::Pseudonymizer;
use super::shadow;
use crate::db::runs::{self as db, NewRun};
use crate::plugins::PluginRuntime;
use crate::plugins::registry::{CallObserver, RunRecord, ShadowJob};

/// The longest guest log a run keeps.
pub const MAX_RUN_LOG_BYTES: usize = 4096;
/// Records written per statement.
const BATCH: usize = 500;
/// How long the writer gathers records after the first of a batch.
const GATHER: std::time::Duration = std::time::Duration::from_millis(50);

/// The registry's observer on this replica.
pub struct Recorder {
    enabled: bool,
    runs: mpsc::Sender<RunRecord>,
    shadows: mpsc::Sender<ShadowJob>,
    progress: Arc<Progress>,
}

/// Records handed to the writer, and records it finished with (written or dropped): what a
/// reader on this replica waits for to see its own calls.
#[derive(Default)]
struct Progress {
    queued: AtomicU64,
    finished: AtomicU64,
}

impl Recorder {
    /// Starts the writer and the shadow runner on the current runtime.
    pub fn start(
        pool: PgPool,
        plugins: Arc<PluginRuntime>,
        settings: &RunLogSettings,
        pseudonyms: Pseudonymizer,
    ) -> Arc<Self> {
        let (runs, run_queue) = mpsc::channel(settings.buffer.max(1));
        let (shadows, shadow_queue) = mpsc::channel(settings.shadow_queue.max(1));
        let progress = Arc::new(Progress::default());
        tokio::spawn(write_runs(
            pool.clone(),
            run_queue,
            pseudonyms,
            progress.clone(),
        ));
        tokio::spawn(shadow::run(pool, plugins, shadow_queue));
        Arc::new(Self {
            enabled: settings.enabled,
            runs,
            shadows,
            progress,
        })
    }

    /// Waits (at most `limit`) until every record this replica queued so far is written, so
    /// that a read right after a call sees it.
    pub async fn settle(&self, limit: std::time::Duration) {
        let target = self.progress.queued.load(Ordering::Acquire);
        let deadline = tokio::time::Instant::now() + limit;
        while self.progress.finished.load(Ordering::Acquire) < target
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }
}

impl CallObserver for Recorder {
    fn ran(&self, run: RunRecord) {
        if !self.enabled {
            return;
        }
        match self.runs.try_send(run) {
            Ok(()) => {
                self.progress.queued.fetch_add(1, Ordering::AcqRel);
            }
            Err(TrySendError::Full(_)) => {
                metrics::counter!("cineflow_run_log_dropped_total", "queue" => "runs").increment(1);
            }
            Err(TrySendError::Closed(_)) => {}
        }
    }

    fn shadow(&self, job: ShadowJob) {
        match self.shadows.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                metrics::counter!("cineflow_run_log_dropped_total", "queue" => "shadows")
                    .increment(1);
            }
            Err(TrySendError::Closed(_)) => {}
        }
    }
}

/// Writes queued records in batches until the queue closes. A batch that cannot be written
/// (the database is down) is dropped and counted: the run log is evidence, not a ledger, and
/// holding it back would grow without bound.
async fn write_runs(
    pool: PgPool,
    mut queue: mpsc::Receiver<RunRecord>,
    pseudonyms: Pseudonymizer,
    progress: Arc<Progress>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        if queue.recv_many(&mut batch, BATCH).await == 0 {
            return;
        }
        // Gather a little longer: one statement of many rows costs the database far less
        // than many statements of one, and nobody waits for these rows.
        if batch.len() < BATCH {
            tokio::time::sleep(GATHER).await;
            while batch.len() < BATCH {
                match queue.try_recv() {
                    Ok(run) => batch.push(run),
                    Err(_) => break,
                }
            }
        }
        let rows: Vec<NewRun> = batch.drain(..).map(|r| row(r, &pseudonyms)).collect();
        let written = async {
            let mut conn = pool.acquire().await?;
            db::insert(&mut conn, &rows).await
        }
        .await;
        match written {
            Ok(()) => {
                metrics::counter!("cineflow_run_log_written_total").increment(rows.len() as u64);
            }
            Err(e) => {
                metrics::counter!("cineflow_run_log_dropped_total", "queue" => "write_failed")
                    .increment(rows.len() as u64);
                tracing::warn!(error = %e, runs = rows.len(), "could not write run records; dropped them");
            }
        }
        progress
            .finished
            .fetch_add(rows.len() as u64, Ordering::AcqRel);
    }
}

fn row(r: RunRecord, pseudonyms: &Pseudonymizer) -> NewRun {
    let mut input = (*r.context.input).clone();
    pseudonyms.scrub(&mut input);
    let mut output = r.output;
    if let Some(out) = &mut output {
        pseudonyms.scrub(out);
    }
    let mut log = pseudonyms.scrub_text(&r.log);
    cut(&mut log, MAX_RUN_LOG_BYTES);
    let mut error = r.error.map(|e| pseudonyms.scrub_text(&e));
    if let Some(e) = &mut error {
        cut(e, MAX_RUN_LOG_BYTES);
    }
    let counter = |v: u128| i64::try_from(v).unwrap_or(i64::MAX);
    NewRun {
        id: r.id,
        chain_id: r.chain,
        at: r.at,
        hook: r.hook.as_str(),
        function: r.context.function,
        component_id: r.component_id,
        booking_id: r.context.booking,
        notification_id: r.context.notification,
        outcome: r.outcome.as_str(),
        canary: r.canary,
        fuel_used: counter(u128::from(r.stats.fuel_used)),
        duration_us: counter(r.stats.duration.as_micros()),
        memory_bytes: counter(u128::from(r.stats.peak_memory_bytes)),
        input,
        output,
        error,
        log,
    }
}

/// Cuts `text` to at most `max` bytes at a character boundary, marking the cut.
fn cut(text: &mut String, max: usize) {
    if text.len() <= max {
        return;
    }
    let mut end = max.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push('…');
}
