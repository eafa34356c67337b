//! The replay worker: every replica polls for a queued replay, claims it (`for update skip
//! locked`, so one replica runs it), calls the candidate with each recorded input of the hook
//! in the window, oldest first, and saves the report after every page, which also beats the
//! heartbeat: a replay whose replica died is claimed again and starts over.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sqlx::PgPool;
use sqlx::types::Json;
use tokio_util::sync::CancellationToken;

use super::diff::{After, Tally};
use crate::db::replays::{self as db, Replay};
use crate::db::runs;
use crate::plugins::{FailureKind, Hook, LoadedComponent, PluginRuntime, Tenant, invoke};

/// Example diffs a replay keeps.
pub const REPLAY_EXAMPLES: usize = 20;
const PAGE: i64 = 500;
/// Candidate calls a replay runs at once (on the chain's share, which bounds them too).
const CONCURRENT_CALLS: usize = 4;
/// A running replay saves its report (its heartbeat) at least this often, whatever its pace.
const SAVE_EVERY: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_secs(1);
/// A running replay whose heartbeat is older than this is taken over.
const STALE_SECONDS: f64 = 30.0;

/// Runs replays until `stop`.
pub async fn work(pool: PgPool, plugins: Arc<PluginRuntime>, stop: CancellationToken) {
    loop {
        let claimed = async {
            let mut conn = pool.acquire().await?;
            db::claim(&mut conn, STALE_SECONDS).await
        }
        .await;
        match claimed {
            Ok(Some(replay)) => {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = run_one(&pool, &plugins, replay) => continue,
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not claim a replay; will retry"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

async fn run_one(pool: &PgPool, plugins: &Arc<PluginRuntime>, mut replay: Replay) {
    let result = replay_runs(pool, plugins, &mut replay).await;
    match result {
        Ok(true) => replay.status = "done".into(),
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(error = %e, replay = %replay.id, "replay failed");
            replay.status = "failed".into();
            replay.error = Some(e.to_string());
        }
    }
    if let Err(e) = save(pool, &replay).await {
        tracing::warn!(error = %e, replay = %replay.id, "could not save a finished replay; another replica will run it again");
    }
}

/// Replays every page; `Ok(false)` when another replica took the replay over. The next page
/// is read while this one is replayed, and [`CONCURRENT_CALLS`] calls run at once (each on a
/// task of its own, so a replay can use more than one core), answers taken in run order.
async fn replay_runs(
    pool: &PgPool,
    plugins: &Arc<PluginRuntime>,
    replay: &mut Replay,
) -> anyhow::Result<bool> {
    let hook: Hook = replay
        .hook
        .parse()
        .map_err(|_| anyhow::anyhow!("this build does not know hook {}", replay.hook))?;
    let candidate = load_candidate(pool, plugins, hook, &replay.component_id).await?;
    let window = (replay.from_at, replay.to_at);
    let mut conn = pool.acquire().await?;
    let recorded = runs::count_window(&mut conn, replay.chain_id, &replay.hook, window).await?;
    replay.total = i32::try_from(recorded.min(i64::from(replay.max_runs))).unwrap_or(i32::MAX);
    drop(conn);
    if !save(pool, replay).await? {
        return Ok(false);
    }
    let mut tally = Tally::default();
    let mut saved = Instant::now();
    let (chain, hook_name) = (replay.chain_id, replay.hook.clone());
    let fetch = |after: Option<uuid::Uuid>, fetch: i64| {
        let (pool, hook) = (pool.clone(), hook_name.clone());
        tokio::spawn(async move {
            let mut conn = pool.acquire().await?;
            runs::page_window(&mut conn, chain, &hook, window, after, fetch).await
        })
    };
    let mut next = Some(fetch(None, PAGE.min(i64::from(replay.total))));
    while let Some(pending) = next.take() {
        let page = pending.await??;
        let Some(last) = page.last() else {
            // Runs pruned meanwhile: the report covers what was there.
            replay.total = replay.done;
            break;
        };
        let read = i64::from(replay.done) + page.len() as i64;
        let left = i64::from(replay.total) - read;
        if left > 0 {
            next = Some(fetch(Some(last.id), PAGE.min(left)));
        }
        let mut answers = futures_util::stream::iter(page.into_iter().map(|run| {
            let (plugins, candidate) = (plugins.clone(), candidate.clone());
            tokio::spawn(async move {
                let answer = call(&plugins, chain, &candidate, run.input).await;
                (run.id, run.function, run.output, answer)
            })
        }))
        .buffered(CONCURRENT_CALLS);
        while let Some(done) = answers.next().await {
            let (id, function, before, answer) = done?;
            tally.add(
                (hook, &function),
                Some(id),
                before.as_ref(),
                &answer,
                REPLAY_EXAMPLES,
            );
            replay.done += 1;
            // A slow candidate must not look dead: beat within the page as well.
            if saved.elapsed() >= SAVE_EVERY {
                fill(replay, &tally);
                if !save(pool, replay).await? {
                    return Ok(false);
                }
                saved = Instant::now();
            }
        }
        fill(replay, &tally);
        if !save(pool, replay).await? {
            return Ok(false);
        }
        saved = Instant::now();
    }
    fill(replay, &tally);
    Ok(true)
}

/// One candidate call on the chain's share; when the chain is over its share (its live
/// traffic comes first), the replay waits and tries again rather than counting a failure.
async fn call(
    plugins: &PluginRuntime,
    chain: uuid::Uuid,
    candidate: &LoadedComponent,
    input: serde_json::Value,
) -> After {
    for attempt in 0..50u32 {
        let invocation =
            invoke::invoke(plugins, Tenant::Chain(chain), candidate, input.clone()).await;
        if let Ok(inv) = &invocation
            && let Err(e) = &inv.outcome
            && e.kind == FailureKind::Busy
        {
            let wait = e.retry_after.unwrap_or(Duration::from_millis(50));
            tokio::time::sleep(wait.min(Duration::from_millis(500)) * (attempt.min(4) + 1)).await;
            continue;
        }
        return After::of(invocation);
    }
    After::Failed("unavailable", "the chain stayed over its fair share".into())
}

async fn load_candidate(
    pool: &PgPool,
    plugins: &PluginRuntime,
    hook: Hook,
    id: &str,
) -> anyhow::Result<Arc<LoadedComponent>> {
    if let Some(hit) = plugins.cached(id, hook) {
        return Ok(hit);
    }
    let mut conn = pool.acquire().await?;
    let bytes = crate::db::bindings::bytes(&mut conn, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("component {id} is not stored"))?;
    drop(conn);
    plugins
        .load(hook, &bytes)
        .await
        .map_err(|e| anyhow::anyhow!("the candidate does not load: {e}"))
}

fn fill(replay: &mut Replay, t: &Tally) {
    let n = |v: i64| i32::try_from(v).unwrap_or(i32::MAX);
    replay.same = n(t.same);
    replay.changed = n(t.changed);
    replay.newly_refused = n(t.newly_refused);
    replay.newly_allowed = n(t.newly_allowed);
    replay.seats_changed = n(t.seats_changed);
    replay.failures = Json(t.failures.clone());
    replay.revenue_before_minor = t.revenue_before_minor;
    replay.revenue_after_minor = t.revenue_after_minor;
    replay.refunds_before_minor = t.refunds_before_minor;
    replay.refunds_after_minor = t.refunds_after_minor;
    replay.examples = serde_json::Value::Array(t.examples.clone());
}

async fn save(pool: &PgPool, replay: &Replay) -> Result<bool, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    db::save(&mut conn, replay).await
}
