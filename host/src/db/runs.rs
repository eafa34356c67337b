//! Table `component_runs`: the run log.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

/// A run to store (already pseudonymised).
#[derive(Debug)]
pub struct NewRun {
    /// Id (UUID v7).
    pub id: Uuid,
    /// Chain.
    pub chain_id: Uuid,
    /// When the call ended.
    pub at: DateTime<Utc>,
    /// Hook.
    pub hook: &'static str,
    /// Function.
    pub function: &'static str,
    /// Component.
    pub component_id: String,
    /// The booking served.
    pub booking_id: Option<Uuid>,
    /// The notification served.
    pub notification_id: Option<Uuid>,
    /// `ok`, `refused` or a failure kind.
    pub outcome: &'static str,
    /// Served by a canary.
    pub canary: bool,
    /// Fuel.
    pub fuel_used: i64,
    /// Time.
    pub duration_us: i64,
    /// Peak memory.
    pub memory_bytes: i64,
    /// Input (dry-run form).
    pub input: serde_json::Value,
    /// Output (dry-run form), none for a failure.
    pub output: Option<serde_json::Value>,
    /// The failure's message.
    pub error: Option<String>,
    /// What the guest printed (capped).
    pub log: String,
}

/// Stores `runs` in one statement.
#[tracing::instrument(skip_all, fields(runs = runs.len()))]
pub async fn insert(conn: &mut PgConnection, runs: &[NewRun]) -> Result<(), sqlx::Error> {
    let ids: Vec<Uuid> = runs.iter().map(|r| r.id).collect();
    let chains: Vec<Uuid> = runs.iter().map(|r| r.chain_id).collect();
    let ats: Vec<DateTime<Utc>> = runs.iter().map(|r| r.at).collect();
    let hooks: Vec<&str> = runs.iter().map(|r| r.hook).collect();
    let functions: Vec<&str> = runs.iter().map(|r| r.function).collect();
    let components: Vec<&str> = runs.iter().map(|r| r.component_id.as_str()).collect();
    let bookings: Vec<Option<Uuid>> = runs.iter().map(|r| r.booking_id).collect();
    let notifications: Vec<Option<Uuid>> = runs.iter().map(|r| r.notification_id).collect();
    let outcomes: Vec<&str> = runs.iter().map(|r| r.outcome).collect();
    let canaries: Vec<bool> = runs.iter().map(|r| r.canary).collect();
    let fuel: Vec<i64> = runs.iter().map(|r| r.fuel_used).collect();
    let durations: Vec<i64> = runs.iter().map(|r| r.duration_us).collect();
    let memory: Vec<i64> = runs.iter().map(|r| r.memory_bytes).collect();
    let inputs: Vec<&serde_json::Value> = runs.iter().map(|r| &r.input).collect();
    let outputs: Vec<Option<&serde_json::Value>> = runs.iter().map(|r| r.output.as_ref()).collect();
    let errors: Vec<Option<&str>> = runs.iter().map(|r| r.error.as_deref()).collect();
    let logs: Vec<&str> = runs.iter().map(|r| r.log.as_str()).collect();
    sqlx::query!(
        r#"insert into component_runs (id, chain_id, at, hook, function, component_id, booking_id,
            notification_id, outcome, canary, fuel_used, duration_us, memory_bytes, input, output,
            error, log)
         select * from unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[],
            $6::text[], $7::uuid[], $8::uuid[], $9::text[], $10::bool[], $11::bigint[],
            $12::bigint[], $13::bigint[], $14::jsonb[], $15::jsonb[], $16::text[], $17::text[])
         on conflict do nothing"#,
        &ids,
        &chains,
        &ats,
        &hooks as &[&str],
        &functions as &[&str],
        &components as &[&str],
        &bookings as &[Option<Uuid>],
        &notifications as &[Option<Uuid>],
        &outcomes as &[&str],
        &canaries,
        &fuel,
        &durations,
        &memory,
        &inputs as &[&serde_json::Value],
        &outputs as &[Option<&serde_json::Value>],
        &errors as &[Option<&str>],
        &logs as &[&str],
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A run as listed.
#[derive(Debug, Clone)]
pub struct Run {
    /// Id.
    pub id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
    /// Hook.
    pub hook: String,
    /// Function.
    pub function: String,
    /// Component.
    pub component_id: String,
    /// Booking.
    pub booking_id: Option<Uuid>,
    /// Notification.
    pub notification_id: Option<Uuid>,
    /// Outcome.
    pub outcome: String,
    /// Served by a canary.
    pub canary: bool,
    /// Fuel.
    pub fuel_used: i64,
    /// Time.
    pub duration_us: i64,
    /// Memory.
    pub memory_bytes: i64,
}

/// A run with what it was given and answered.
#[derive(Debug, Clone)]
pub struct RunDetail {
    /// The listed fields.
    pub run: Run,
    /// Input.
    pub input: serde_json::Value,
    /// Output.
    pub output: Option<serde_json::Value>,
    /// Failure message.
    pub error: Option<String>,
    /// Guest log.
    pub log: String,
}

/// Which runs to list.
#[derive(Debug, Default, Clone)]
pub struct RunFilter {
    /// Hook.
    pub hook: Option<String>,
    /// Component.
    pub component_id: Option<String>,
    /// Outcome.
    pub outcome: Option<String>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
}

/// A page of the chain's runs, newest first, after the cursor `before` (an id).
#[tracing::instrument(skip_all)]
pub async fn list(
    conn: &mut PgConnection,
    chain: Uuid,
    filter: &RunFilter,
    before: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Run>, sqlx::Error> {
    sqlx::query_as!(
        Run,
        r#"select id, at, hook, function, component_id, booking_id, notification_id, outcome,
                canary, fuel_used, duration_us, memory_bytes
         from component_runs
         where chain_id = $1 and ($2::text is null or hook = $2)
           and ($3::text is null or component_id = $3) and ($4::text is null or outcome = $4)
           and ($5::timestamptz is null or at >= $5) and ($6::timestamptz is null or at < $6)
           and ($7::uuid is null or id < $7)
         order by id desc limit $8"#,
        chain,
        filter.hook.as_deref(),
        filter.component_id.as_deref(),
        filter.outcome.as_deref(),
        filter.from,
        filter.to,
        before,
        fetch,
    )
    .fetch_all(conn)
    .await
}

/// One run of the chain.
#[tracing::instrument(skip_all)]
pub async fn find(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
) -> Result<Option<RunDetail>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select id, at, hook, function, component_id, booking_id, notification_id, outcome,
                canary, fuel_used, duration_us, memory_bytes, input, output, error, log
         from component_runs where chain_id = $1 and id = $2"#,
        chain,
        id,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| RunDetail {
        run: Run {
            id: r.id,
            at: r.at,
            hook: r.hook,
            function: r.function,
            component_id: r.component_id,
            booking_id: r.booking_id,
            notification_id: r.notification_id,
            outcome: r.outcome,
            canary: r.canary,
            fuel_used: r.fuel_used,
            duration_us: r.duration_us,
            memory_bytes: r.memory_bytes,
        },
        input: r.input,
        output: r.output,
        error: r.error,
        log: r.log,
    }))
}

/// A recorded input for a replay.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The run.
    pub id: Uuid,
    /// Its function.
    pub function: String,
    /// Input.
    pub input: serde_json::Value,
    /// Output (none for a failure).
    pub output: Option<serde_json::Value>,
    /// Outcome.
    pub outcome: String,
}

/// How many runs of `hook` lie in the window.
#[tracing::instrument(skip_all)]
pub async fn count_window(
    conn: &mut PgConnection,
    chain: Uuid,
    hook: &str,
    (from, to): (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "count!" from component_runs
         where chain_id = $1 and hook = $2 and ($3::timestamptz is null or at >= $3)
           and ($4::timestamptz is null or at < $4)"#,
        chain,
        hook,
        from,
        to,
    )
    .fetch_one(conn)
    .await
}

/// The next page of recorded runs of `hook` in the window, oldest first, after `after`.
#[tracing::instrument(skip_all)]
pub async fn page_window(
    conn: &mut PgConnection,
    chain: Uuid,
    hook: &str,
    (from, to): (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    after: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Recorded>, sqlx::Error> {
    sqlx::query_as!(
        Recorded,
        r#"select id, function, input, output, outcome from component_runs
         where chain_id = $1 and hook = $2 and ($3::timestamptz is null or at >= $3)
           and ($4::timestamptz is null or at < $4) and ($5::uuid is null or id > $5)
         order by id limit $6"#,
        chain,
        hook,
        from,
        to,
        after,
        fetch,
    )
    .fetch_all(conn)
    .await
}

/// A component's calls across replicas, from the run log.
#[derive(Debug, Clone)]
pub struct RunStats {
    /// Calls.
    pub calls: i64,
    /// Failures by kind.
    pub failures: Json<std::collections::BTreeMap<String, i64>>,
    /// Refusals.
    pub refused: i64,
    /// Fuel median.
    pub fuel_p50: Option<f64>,
    /// Fuel p99.
    pub fuel_p99: Option<f64>,
    /// Duration median (µs).
    pub duration_p50_us: Option<f64>,
    /// Duration p99 (µs).
    pub duration_p99_us: Option<f64>,
    /// The oldest run counted.
    pub since: Option<DateTime<Utc>>,
}

/// The run-log statistics of `component` for `chain`.
#[tracing::instrument(skip_all)]
pub async fn stats(
    conn: &mut PgConnection,
    chain: Uuid,
    component: &str,
) -> Result<RunStats, sqlx::Error> {
    sqlx::query_as!(
        RunStats,
        r#"select count(*) as "calls!",
                count(*) filter (where outcome = 'refused') as "refused!",
                coalesce((select jsonb_object_agg(outcome, n) from (
                    select outcome, count(*) as n from component_runs
                    where chain_id = $1 and component_id = $2
                      and outcome not in ('ok', 'refused') group by outcome) f),
                  '{}'::jsonb) as "failures!: Json<std::collections::BTreeMap<String, i64>>",
                percentile_cont(0.5) within group (order by fuel_used) as fuel_p50,
                percentile_cont(0.99) within group (order by fuel_used) as fuel_p99,
                percentile_cont(0.5) within group (order by duration_us) as duration_p50_us,
                percentile_cont(0.99) within group (order by duration_us) as duration_p99_us,
                min(at) as since
         from component_runs where chain_id = $1 and component_id = $2"#,
        chain,
        component,
    )
    .fetch_one(conn)
    .await
}

/// Calls and failures of `component` since `since` (a canary's record).
#[tracing::instrument(skip_all)]
pub async fn canary_counts(
    conn: &mut PgConnection,
    chain: Uuid,
    component: &str,
    since: DateTime<Utc>,
) -> Result<(i64, i64), sqlx::Error> {
    let row = sqlx::query!(
        r#"select count(*) as "calls!",
                count(*) filter (where outcome not in ('ok', 'refused')) as "failures!"
         from component_runs where chain_id = $1 and component_id = $2 and canary and at >= $3"#,
        chain,
        component,
        since,
    )
    .fetch_one(conn)
    .await?;
    Ok((row.calls, row.failures))
}

/// Deletes runs older than `before`, and beyond the newest `keep` of each chain; returns how
/// many went.
#[tracing::instrument(skip_all)]
pub async fn prune(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
    keep: i64,
) -> Result<u64, sqlx::Error> {
    let old = sqlx::query!(r#"delete from component_runs where at < $1"#, before)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let over = sqlx::query!(
        r#"delete from component_runs r using (
             select chain_id, id from (
               select chain_id, id,
                      row_number() over (partition by chain_id order by id desc) as n
               from component_runs) ranked
             where n > $1) gone
         where r.chain_id = gone.chain_id and r.id = gone.id"#,
        keep,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(old + over)
}
