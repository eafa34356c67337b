//! Table `shadows`: candidates running beside bound components on live traffic.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

/// A shadow and its running diff.
#[derive(Debug, Clone)]
pub struct Shadow {
    /// Chain.
    pub chain_id: Uuid,
    /// Hook.
    pub hook: String,
    /// The candidate.
    pub component_id: String,
    /// Share of calls shadowed.
    pub sample_percent: i32,
    /// Since when.
    pub since: DateTime<Utc>,
    /// Shadow calls.
    pub runs: i64,
    /// Same answer.
    pub same: i64,
    /// Different answer.
    pub changed: i64,
    /// Candidate failures by kind.
    pub failures: Json<std::collections::BTreeMap<String, i64>>,
    /// Sum of the candidate's total minus the served total (pricing).
    pub revenue_delta_minor: i64,
    /// Example diffs.
    pub examples: serde_json::Value,
}

/// Starts (or replaces) the shadow of `hook`; a new candidate or sample starts a new record.
#[tracing::instrument(skip_all)]
pub async fn put(
    conn: &mut PgConnection,
    chain: Uuid,
    hook: &str,
    component: &str,
    sample_percent: i32,
    actor: Uuid,
) -> Result<Shadow, sqlx::Error> {
    sqlx::query_as!(
        Shadow,
        r#"insert into shadows (chain_id, hook, component_id, sample_percent, started_by)
         values ($1, $2, $3, $4, $5)
         on conflict (chain_id, hook) do update
            set component_id = excluded.component_id, sample_percent = excluded.sample_percent,
                started_by = excluded.started_by, since = now(), runs = 0, same = 0,
                changed = 0, failures = '{}'::jsonb, revenue_delta_minor = 0,
                examples = '[]'::jsonb
         returning chain_id, hook, component_id, sample_percent, since, runs, same, changed,
                failures as "failures: Json<std::collections::BTreeMap<String, i64>>",
                revenue_delta_minor, examples"#,
        chain,
        hook,
        component,
        sample_percent,
        actor,
    )
    .fetch_one(conn)
    .await
}

/// The shadow of `hook`, if one runs.
#[tracing::instrument(skip_all)]
pub async fn find(
    conn: &mut PgConnection,
    chain: Uuid,
    hook: &str,
) -> Result<Option<Shadow>, sqlx::Error> {
    sqlx::query_as!(
        Shadow,
        r#"select chain_id, hook, component_id, sample_percent, since, runs, same, changed,
                failures as "failures: Json<std::collections::BTreeMap<String, i64>>",
                revenue_delta_minor, examples
         from shadows where chain_id = $1 and hook = $2"#,
        chain,
        hook,
    )
    .fetch_optional(conn)
    .await
}

/// Every shadow of `chain`, or of every chain with `None` (what replicas follow).
#[tracing::instrument(skip_all)]
pub async fn all(conn: &mut PgConnection, chain: Option<Uuid>) -> Result<Vec<Shadow>, sqlx::Error> {
    sqlx::query_as!(
        Shadow,
        r#"select chain_id, hook, component_id, sample_percent, since, runs, same, changed,
                failures as "failures: Json<std::collections::BTreeMap<String, i64>>",
                revenue_delta_minor, examples
         from shadows where $1::uuid is null or chain_id = $1 order by chain_id, hook"#,
        chain,
    )
    .fetch_all(conn)
    .await
}

/// Stops the shadow of `hook`; returns its candidate.
#[tracing::instrument(skip_all)]
pub async fn delete(
    conn: &mut PgConnection,
    chain: Uuid,
    hook: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"delete from shadows where chain_id = $1 and hook = $2 returning component_id"#,
        chain,
        hook,
    )
    .fetch_optional(conn)
    .await
}

/// What a replica's shadow calls added since its last flush.
#[derive(Debug, Default, Clone)]
pub struct ShadowDelta {
    /// Calls.
    pub runs: i64,
    /// Same answers.
    pub same: i64,
    /// Different answers.
    pub changed: i64,
    /// Failures by kind.
    pub failures: std::collections::BTreeMap<String, i64>,
    /// Revenue difference.
    pub revenue_delta_minor: i64,
    /// New example diffs.
    pub examples: Vec<serde_json::Value>,
}

/// Adds `delta` to the shadow of `hook` if it still runs `component` (examples up to `keep`).
#[tracing::instrument(skip_all)]
pub async fn add(
    conn: &mut PgConnection,
    chain: Uuid,
    hook: &str,
    component: &str,
    delta: &ShadowDelta,
    keep: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update shadows set runs = runs + $4, same = same + $5, changed = changed + $6,
                failures = (select coalesce(jsonb_object_agg(k, v), '{}'::jsonb) from (
                    select k, sum(v::bigint) as v from (
                        select key as k, value as v from jsonb_each_text(failures)
                        union all select key, value from jsonb_each_text($7::jsonb)) a
                    group by k) b),
                revenue_delta_minor = revenue_delta_minor + $8,
                examples = (select coalesce(jsonb_agg(e), '[]'::jsonb) from (
                    select e from jsonb_array_elements(examples || $9::jsonb) e limit $10) x)
         where chain_id = $1 and hook = $2 and component_id = $3"#,
        chain,
        hook,
        component,
        delta.runs,
        delta.same,
        delta.changed,
        Json(&delta.failures) as _,
        delta.revenue_delta_minor,
        Json(&delta.examples) as _,
        i64::from(keep),
    )
    .execute(conn)
    .await?;
    Ok(())
}
