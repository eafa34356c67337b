//! The shadow runner: calls each queued candidate with the input the serving component had,
//! after the answer went out, one call at a time on the chain's own share, and adds what it
//! found to the shadow's record every half second. It never touches an answer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::diff::{After, Tally};
use crate::db::shadows::{self as db, ShadowDelta};
use crate::plugins::registry::ShadowJob;
use crate::plugins::{Hook, PluginRuntime, Tenant, invoke};

/// Example diffs a shadow keeps.
pub const SHADOW_EXAMPLES: usize = 10;
const FLUSH_EVERY: Duration = Duration::from_millis(500);

type Key = (Uuid, Hook, String);

pub(super) async fn run(
    pool: PgPool,
    plugins: Arc<PluginRuntime>,
    mut queue: mpsc::Receiver<ShadowJob>,
) {
    let mut pending: HashMap<Key, Tally> = HashMap::new();
    let mut flush = tokio::time::interval(FLUSH_EVERY);
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            job = queue.recv() => {
                let Some(job) = job else {
                    save(&pool, &mut pending).await;
                    return;
                };
                let after = After::of(
                    invoke::invoke(
                        &plugins,
                        Tenant::Chain(job.chain),
                        &job.candidate,
                        (*job.context.input).clone(),
                    )
                    .await,
                );
                let tally = pending
                    .entry((job.chain, job.hook, job.candidate.id.clone()))
                    .or_default();
                tally.add(
                    (job.hook, job.context.function),
                    None,
                    job.served.as_ref(),
                    &after,
                    SHADOW_EXAMPLES,
                );
            }
            _ = flush.tick() => save(&pool, &mut pending).await,
        }
    }
}

async fn save(pool: &PgPool, pending: &mut HashMap<Key, Tally>) {
    if pending.is_empty() {
        return;
    }
    let Ok(mut conn) = pool.acquire().await else {
        // Kept for the next tick; shadows are evidence, and the database comes back.
        return;
    };
    for ((chain, hook, component), tally) in pending.drain() {
        let delta = ShadowDelta {
            runs: tally.runs,
            same: tally.same,
            changed: tally.changed,
            failures: tally.failures,
            revenue_delta_minor: tally.revenue_after_minor - tally.revenue_before_minor,
            examples: tally.examples,
        };
        let keep = i32::try_from(SHADOW_EXAMPLES).unwrap_or(i32::MAX);
        if let Err(e) = db::add(&mut conn, chain, hook.as_str(), &component, &delta, keep).await {
            tracing::warn!(error = %e, %chain, %hook, "could not save a shadow's counts; dropped them");
        }
    }
}
