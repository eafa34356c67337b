//! Table `chain_test_cases`: a chain's own test cases per hook, one JSON document each.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// A chain's test cases for one hook.
#[derive(Debug, Clone)]
pub struct StoredCases {
    /// `{"cases": [...]}`, as validated when stored.
    pub cases: Value,
    /// When they were last replaced.
    pub updated_at: DateTime<Utc>,
    /// Who replaced them.
    pub updated_by: Option<Uuid>,
}

/// The chain's cases for `hook`, if it has any.
#[tracing::instrument(skip_all)]
pub async fn find(
    conn: &mut PgConnection,
    chain: Uuid,
    hook: &str,
) -> Result<Option<StoredCases>, sqlx::Error> {
    sqlx::query_as!(
        StoredCases,
        r#"select cases, updated_at, updated_by from chain_test_cases
         where chain_id = $1 and hook = $2"#,
        chain,
        hook,
    )
    .fetch_optional(conn)
    .await
}

/// Stores (or replaces) the chain's cases for `hook`.
#[tracing::instrument(skip_all)]
pub async fn put(
    conn: &mut PgConnection,
    chain: Uuid,
    hook: &str,
    cases: &Value,
    by: Uuid,
) -> Result<StoredCases, sqlx::Error> {
    sqlx::query_as!(
        StoredCases,
        r#"insert into chain_test_cases (chain_id, hook, cases, updated_by)
         values ($1, $2, $3, $4)
         on conflict (chain_id, hook)
         do update set cases = excluded.cases, updated_at = now(), updated_by = excluded.updated_by
         returning cases, updated_at, updated_by"#,
        chain,
        hook,
        cases,
        by,
    )
    .fetch_one(conn)
    .await
}

/// Removes the chain's cases for `hook`; `false` when it had none.
#[tracing::instrument(skip_all)]
pub async fn delete(conn: &mut PgConnection, chain: Uuid, hook: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"delete from chain_test_cases where chain_id = $1 and hook = $2"#,
        chain,
        hook,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
