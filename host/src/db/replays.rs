//! Table `replays`: candidate runs over recorded inputs, claimed by any replica.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

/// A replay and its report so far.
#[derive(Debug, Clone)]
pub struct Replay {
    /// Id.
    pub id: Uuid,
    /// Chain.
    pub chain_id: Uuid,
    /// Hook.
    pub hook: String,
    /// The candidate.
    pub component_id: String,
    /// Window start.
    pub from_at: Option<DateTime<Utc>>,
    /// Window end.
    pub to_at: Option<DateTime<Utc>>,
    /// At most this many runs.
    pub max_runs: i32,
    /// `queued`, `running`, `done`, `failed`.
    pub status: String,
    /// Asked for.
    pub created_at: DateTime<Utc>,
    /// Started.
    pub started_at: Option<DateTime<Utc>>,
    /// Finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// Runs to replay.
    pub total: i32,
    /// Runs replayed.
    pub done: i32,
    /// Same answer.
    pub same: i32,
    /// Different answer.
    pub changed: i32,
    /// Allowed before, refused now.
    pub newly_refused: i32,
    /// Refused before, allowed now.
    pub newly_allowed: i32,
    /// Seat-picker runs choosing other seats.
    pub seats_changed: i32,
    /// Candidate failures by kind.
    pub failures: Json<std::collections::BTreeMap<String, i64>>,
    /// Pricing totals before.
    pub revenue_before_minor: i64,
    /// Pricing totals after.
    pub revenue_after_minor: i64,
    /// Refunds before.
    pub refunds_before_minor: i64,
    /// Refunds after.
    pub refunds_after_minor: i64,
    /// Example diffs.
    pub examples: serde_json::Value,
    /// Why it failed.
    pub error: Option<String>,
}

/// A replay to queue.
#[derive(Debug)]
pub struct NewReplay<'a> {
    /// Chain.
    pub chain_id: Uuid,
    /// Hook.
    pub hook: &'a str,
    /// Candidate.
    pub component_id: &'a str,
    /// Who asked.
    pub requested_by: Uuid,
    /// Window.
    pub from_at: Option<DateTime<Utc>>,
    /// Window.
    pub to_at: Option<DateTime<Utc>>,
    /// Cap.
    pub max_runs: i32,
}

// Every statement answers the whole row: the macro needs its SQL as literals, joined by `+`.
macro_rules! replays {
    ($head:literal, $tail:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Replay,
            $head
                + r#" id, chain_id, hook, component_id, from_at, to_at, max_runs, status,
           created_at, started_at, finished_at, total, done, same, changed, newly_refused,
           newly_allowed, seats_changed,
           failures as "failures: Json<std::collections::BTreeMap<String, i64>>",
           revenue_before_minor, revenue_after_minor, refunds_before_minor, refunds_after_minor,
           examples, error "#
                + $tail
            $(, $arg)*
        )
    };
}

/// Queues a replay.
#[tracing::instrument(skip_all)]
pub async fn insert(conn: &mut PgConnection, new: &NewReplay<'_>) -> Result<Replay, sqlx::Error> {
    replays!(
        r#"insert into replays (id, chain_id, hook, component_id, requested_by, from_at, to_at,
                max_runs)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         returning"#,
        "",
        Uuid::now_v7(),
        new.chain_id,
        new.hook,
        new.component_id,
        new.requested_by,
        new.from_at,
        new.to_at,
        new.max_runs,
    )
    .fetch_one(conn)
    .await
}

/// One replay of the chain.
#[tracing::instrument(skip_all)]
pub async fn find(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
) -> Result<Option<Replay>, sqlx::Error> {
    replays!(
        "select",
        "from replays where chain_id = $1 and id = $2",
        chain,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// The chain's replays, newest first, before the cursor.
#[tracing::instrument(skip_all)]
pub async fn list(
    conn: &mut PgConnection,
    chain: Uuid,
    before: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Replay>, sqlx::Error> {
    replays!(
        "select",
        "from replays where chain_id = $1 and ($2::uuid is null or id < $2)
         order by id desc limit $3",
        chain,
        before,
        fetch,
    )
    .fetch_all(conn)
    .await
}

/// Claims the oldest queued replay, or a running one whose replica stopped beating for
/// `stale_seconds`; the claim starts it afresh (its counts from zero).
#[tracing::instrument(skip_all)]
pub async fn claim(
    conn: &mut PgConnection,
    stale_seconds: f64,
) -> Result<Option<Replay>, sqlx::Error> {
    replays!(
        r#"update replays r set status = 'running', started_at = now(), heartbeat_at = now(),
                total = 0, done = 0, same = 0, changed = 0, newly_refused = 0, newly_allowed = 0,
                seats_changed = 0, failures = '{}'::jsonb, revenue_before_minor = 0,
                revenue_after_minor = 0, refunds_before_minor = 0, refunds_after_minor = 0,
                examples = '[]'::jsonb
         from (select chain_id as claimed_chain, id as claimed_id from replays
               where status = 'queued'
                  or (status = 'running'
                      and heartbeat_at < now() - make_interval(secs => $1::float8))
               order by created_at limit 1 for update skip locked) next
         where r.chain_id = next.claimed_chain and r.id = next.claimed_id
         returning"#,
        "",
        stale_seconds,
    )
    .fetch_optional(conn)
    .await
}

/// Saves the progress of a running replay (and beats its heartbeat); `false` when it is no
/// longer this claim's (another replica took it over).
#[tracing::instrument(skip_all)]
pub async fn save(conn: &mut PgConnection, r: &Replay) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"update replays set heartbeat_at = now(), total = $3, done = $4, same = $5,
                changed = $6, newly_refused = $7, newly_allowed = $8, seats_changed = $9,
                failures = $10, revenue_before_minor = $11, revenue_after_minor = $12,
                refunds_before_minor = $13, refunds_after_minor = $14, examples = $15,
                status = $16, error = $17,
                finished_at = case when $16 in ('done', 'failed') then now() end
         where chain_id = $1 and id = $2 and status = 'running' and started_at = $18"#,
        r.chain_id,
        r.id,
        r.total,
        r.done,
        r.same,
        r.changed,
        r.newly_refused,
        r.newly_allowed,
        r.seats_changed,
        Json(&r.failures.0) as _,
        r.revenue_before_minor,
        r.revenue_after_minor,
        r.refunds_before_minor,
        r.refunds_after_minor,
        &r.examples,
        &r.status,
        r.error.as_deref(),
        r.started_at,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
