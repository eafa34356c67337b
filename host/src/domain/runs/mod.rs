//! Confidence in a component change: the run log of every production call (recorded off the
//! request's path, pseudonymised), replays of a candidate over recorded inputs, shadows of a
//! candidate beside the bound component on live traffic, and each booking's receipt. Every use
//! case is for the chain's staff and admins, except the receipt, which the booking's customer
//! may read too.

mod diff;
mod pseudonym;
mod recorder;
mod replay;
mod shadow;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::{ChainAccess, DomainError};
use crate::db;
use crate::plugins::registry::{CallContext, RunOutcome};
use crate::plugins::{ComponentRegistry, Hook};

pub use crate::db::replays::Replay;
pub use crate::db::runs::{Run, RunDetail, RunFilter, RunStats};
pub use crate::db::shadows::Shadow;
pub use diff::{After, Tally};
pub use pseudonym::Pseudonymizer;
pub use recorder::{MAX_RUN_LOG_BYTES, Recorder};
pub use replay::{REPLAY_EXAMPLES, work as replay_worker};

/// How the run log behaves on this replica.
#[derive(Debug, Clone)]
pub struct RunLogSettings {
    /// Record production calls at all.
    pub enabled: bool,
    /// Records waiting to be written; past it they are dropped (and counted).
    pub buffer: usize,
    /// Shadow calls waiting to run; past it they are dropped (and counted).
    pub shadow_queue: usize,
    /// Runs older than this many days are deleted.
    pub retention_days: u32,
    /// At most this many runs are kept per chain (the oldest go first).
    pub max_runs_per_chain: u32,
}

impl Default for RunLogSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            buffer: 10_000,
            shadow_queue: 1_000,
            retention_days: 30,
            max_runs_per_chain: 1_000_000,
        }
    }
}

/// The context of a production call: `input` in the dry-run form (booking-rules functions
/// carry `"function"`, as a dry run's input does).
pub fn context<T: Serialize>(hook: Hook, function: &'static str, input: &T) -> CallContext {
    let mut value = serde_json::to_value(input).unwrap_or(Value::Null);
    if hook == Hook::BookingRules
        && let Value::Object(map) = &mut value
    {
        map.insert("function".into(), Value::String(function.into()));
    }
    CallContext::new(function, value)
}

/// A replay to start.
#[derive(Debug, Clone)]
pub struct ReplayRequest {
    /// The candidate (stored for the chain, of `hook`).
    pub component_id: String,
    /// The hook whose recorded inputs it replays.
    pub hook: Hook,
    /// Window start (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Window end (exclusive).
    pub to: Option<DateTime<Utc>>,
    /// At most this many runs (the oldest first).
    pub limit: Option<u32>,
}

/// The most runs one replay covers.
pub const MAX_REPLAY_RUNS: u32 = 1_000_000;
/// What a replay covers when it does not say.
pub const DEFAULT_REPLAY_RUNS: u32 = 100_000;

/// The confidence service.
#[derive(Clone)]
pub struct Runs {
    pool: PgPool,
    registry: Arc<ComponentRegistry>,
    recorder: Arc<Recorder>,
    settings: RunLogSettings,
}

impl Runs {
    /// Over `pool`; shadow changes are loaded into `registry` at once (other replicas follow
    /// the notification).
    pub fn new(
        pool: PgPool,
        registry: Arc<ComponentRegistry>,
        recorder: Arc<Recorder>,
        settings: RunLogSettings,
    ) -> Self {
        Self {
            pool,
            registry,
            recorder,
            settings,
        }
    }

    async fn reload(&self, chain: Uuid) -> Result<(), DomainError> {
        self.registry.reload_chain(chain).await.map_err(|e| {
            DomainError::Internal(format!("the change is stored but not loaded here: {e}"))
        })
    }

    /// A page of the chain's runs, newest first.
    pub async fn list(
        &self,
        access: &ChainAccess,
        filter: &RunFilter,
        before: Option<Uuid>,
        fetch: i64,
    ) -> Result<Vec<Run>, DomainError> {
        if let Some(outcome) = &filter.outcome
            && !RunOutcome::NAMES.contains(&outcome.as_str())
        {
            return Err(DomainError::invalid(
                "outcome",
                format!("must be one of {}", RunOutcome::NAMES.join(", ")),
            ));
        }
        let mut conn = self.pool.acquire().await?;
        Ok(db::runs::list(&mut conn, access.chain(), filter, before, fetch).await?)
    }

    /// One of the chain's runs with its input, output and log.
    pub async fn find(&self, access: &ChainAccess, id: Uuid) -> Result<RunDetail, DomainError> {
        let mut conn = self.pool.acquire().await?;
        db::runs::find(&mut conn, access.chain(), id)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such run".into()))
    }

    /// A component's calls across every replica, from the run log (after this replica's own
    /// records are written, so a caller sees the calls it just made), and as this replica
    /// counted them.
    pub async fn stats(
        &self,
        access: &ChainAccess,
        component: &str,
    ) -> Result<(RunStats, crate::plugins::stats::StatsView), DomainError> {
        let chain = access.chain();
        let mut conn = self.pool.acquire().await?;
        db::bindings::component(&mut conn, chain, component)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such component".into()))?;
        drop(conn);
        self.recorder
            .settle(std::time::Duration::from_millis(500))
            .await;
        let mut conn = self.pool.acquire().await?;
        let all = db::runs::stats(&mut conn, chain, component).await?;
        Ok((all, self.registry.stats.view(chain, component)))
    }

    /// Queues a replay of `req.component_id` over the chain's recorded `req.hook` inputs.
    pub async fn start_replay(
        &self,
        access: &ChainAccess,
        req: &ReplayRequest,
    ) -> Result<Replay, DomainError> {
        let chain = access.chain();
        if let (Some(from), Some(to)) = (req.from, req.to)
            && from >= to
        {
            return Err(DomainError::invalid("to", "must be after `from`"));
        }
        let max_runs = req.limit.unwrap_or(DEFAULT_REPLAY_RUNS);
        if !(1..=MAX_REPLAY_RUNS).contains(&max_runs) {
            return Err(DomainError::invalid(
                "limit",
                format!("must be between 1 and {MAX_REPLAY_RUNS}"),
            ));
        }
        let mut tx = self.pool.begin().await?;
        stored_candidate(&mut tx, chain, &req.component_id, req.hook).await?;
        let replay = db::replays::insert(
            &mut tx,
            &db::replays::NewReplay {
                chain_id: chain,
                hook: req.hook.as_str(),
                component_id: &req.component_id,
                requested_by: access.actor().id(),
                from_at: req.from,
                to_at: req.to,
                max_runs: i32::try_from(max_runs).unwrap_or(i32::MAX),
            },
        )
        .await?;
        db::bindings::audit(
            &mut tx,
            chain,
            "replay-requested",
            req.hook.as_str(),
            Some(&req.component_id),
            Some(access.actor().id()),
            serde_json::json!({ "replay_id": replay.id, "max_runs": max_runs }),
        )
        .await?;
        tx.commit().await?;
        Ok(replay)
    }

    /// One of the chain's replays, with its report so far.
    pub async fn replay(&self, access: &ChainAccess, id: Uuid) -> Result<Replay, DomainError> {
        let mut conn = self.pool.acquire().await?;
        db::replays::find(&mut conn, access.chain(), id)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such replay".into()))
    }

    /// The chain's replays, newest first.
    pub async fn replays(
        &self,
        access: &ChainAccess,
        before: Option<Uuid>,
        fetch: i64,
    ) -> Result<Vec<Replay>, DomainError> {
        let mut conn = self.pool.acquire().await?;
        Ok(db::replays::list(&mut conn, access.chain(), before, fetch).await?)
    }

    /// Starts (or replaces) the shadow of `hook`.
    pub async fn start_shadow(
        &self,
        access: &ChainAccess,
        hook: Hook,
        component: &str,
        sample_percent: u8,
    ) -> Result<Shadow, DomainError> {
        if !(1..=100).contains(&sample_percent) {
            return Err(DomainError::invalid(
                "sample_percent",
                "must be between 1 and 100",
            ));
        }
        let chain = access.chain();
        let mut tx = self.pool.begin().await?;
        stored_candidate(&mut tx, chain, component, hook).await?;
        let shadow = db::shadows::put(
            &mut tx,
            chain,
            hook.as_str(),
            component,
            i32::from(sample_percent),
            access.actor().id(),
        )
        .await?;
        db::bindings::audit(
            &mut tx,
            chain,
            "shadow-started",
            hook.as_str(),
            Some(component),
            Some(access.actor().id()),
            serde_json::json!({ "sample_percent": sample_percent }),
        )
        .await?;
        tx.commit().await?;
        self.reload(chain).await?;
        Ok(shadow)
    }

    /// The shadow of `hook` and its running diff.
    pub async fn shadow(&self, access: &ChainAccess, hook: Hook) -> Result<Shadow, DomainError> {
        let mut conn = self.pool.acquire().await?;
        db::shadows::find(&mut conn, access.chain(), hook.as_str())
            .await?
            .ok_or_else(|| DomainError::NotFound("no shadow runs for this hook".into()))
    }

    /// Stops the shadow of `hook`.
    pub async fn stop_shadow(&self, access: &ChainAccess, hook: Hook) -> Result<(), DomainError> {
        let chain = access.chain();
        let mut tx = self.pool.begin().await?;
        let Some(component) = db::shadows::delete(&mut tx, chain, hook.as_str()).await? else {
            return Err(DomainError::NotFound("no shadow runs for this hook".into()));
        };
        db::bindings::audit(
            &mut tx,
            chain,
            "shadow-stopped",
            hook.as_str(),
            Some(&component),
            Some(access.actor().id()),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        self.reload(chain).await
    }

    /// Deletes runs past their retention (every replica; the deletes are idempotent).
    pub async fn prune(&self) -> Result<u64, DomainError> {
        let before = Utc::now() - chrono::Duration::days(i64::from(self.settings.retention_days));
        let mut conn = self.pool.acquire().await?;
        Ok(db::runs::prune(
            &mut conn,
            before,
            i64::from(self.settings.max_runs_per_chain),
        )
        .await?)
    }

    /// The settings in force.
    pub fn settings(&self) -> &RunLogSettings {
        &self.settings
    }
}

/// The candidate must be one of the chain's stored components, of `hook`.
async fn stored_candidate(
    conn: &mut sqlx::PgConnection,
    chain: Uuid,
    component: &str,
    hook: Hook,
) -> Result<(), DomainError> {
    let stored = db::bindings::component(conn, chain, component)
        .await?
        .ok_or_else(|| DomainError::NotFound("no such component".into()))?;
    if stored.hook != hook.as_str() {
        return Err(DomainError::invalid(
            "component_id",
            format!("the component implements {}, not {hook}", stored.hook),
        ));
    }
    Ok(())
}
