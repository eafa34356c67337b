//! Tables `chain_components` (a chain's uploads), `bindings` (which upload each hook of a
//! chain uses) and `component_audit` (every change to either).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// A component a chain uploaded.
#[derive(Debug, Clone)]
pub struct ChainComponent {
    /// Chain.
    pub chain_id: Uuid,
    /// sha256.
    pub component_id: String,
    /// Hook it implements.
    pub hook: String,
    /// Size in bytes.
    pub size_bytes: i32,
    /// First uploaded by this chain.
    pub uploaded_at: DateTime<Utc>,
    /// Who uploaded it.
    pub uploaded_by: Option<Uuid>,
    /// Fixtures passed at upload.
    pub fixtures_passed: i32,
    /// Most fuel a fixture used.
    pub fuel_max: i64,
}

/// A component a chain is adding, with its fixture results.
#[derive(Debug)]
pub struct NewChainComponent<'a> {
    /// Chain.
    pub chain_id: Uuid,
    /// sha256.
    pub component_id: &'a str,
    /// Hook it implements.
    pub hook: &'a str,
    /// Who uploads it.
    pub uploaded_by: Uuid,
    /// Fixtures passed.
    pub fixtures_passed: i32,
    /// Most fuel a fixture used.
    pub fuel_max: i64,
}

/// Records that the chain has the component; `false` when it already had it.
#[tracing::instrument(skip_all)]
pub async fn add_component(
    conn: &mut PgConnection,
    c: &NewChainComponent<'_>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"insert into chain_components (chain_id, component_id, hook, uploaded_by, fixtures_passed, fuel_max)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (chain_id, component_id) do nothing"#,
        c.chain_id,
        c.component_id,
        c.hook,
        c.uploaded_by,
        c.fixtures_passed,
        c.fuel_max,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many components a chain has stored and their bytes together. With `lock`, the chain's
/// row is locked first (call inside the upload's transaction), so two uploads racing for the
/// last place of the quota are counted one after the other.
#[tracing::instrument(skip_all)]
pub async fn stored_usage(
    conn: &mut PgConnection,
    chain: Uuid,
    lock: bool,
) -> Result<(i64, i64), sqlx::Error> {
    if lock {
        sqlx::query!(r#"select id from chains where id = $1 for update"#, chain,)
            .fetch_optional(&mut *conn)
            .await?;
    }
    let usage = sqlx::query!(
        r#"select count(*) as "count!", coalesce(sum(c.size_bytes), 0)::bigint as "bytes!"
         from chain_components cc join components c on c.id = cc.component_id
         where cc.chain_id = $1"#,
        chain,
    )
    .fetch_one(conn)
    .await?;
    Ok((usage.count, usage.bytes))
}

/// One of the chain's components.
#[tracing::instrument(skip_all)]
pub async fn component(
    conn: &mut PgConnection,
    chain: Uuid,
    id: &str,
) -> Result<Option<ChainComponent>, sqlx::Error> {
    sqlx::query_as!(
        ChainComponent,
        r#"select cc.chain_id, cc.component_id, cc.hook, c.size_bytes,
    cc.uploaded_at, cc.uploaded_by, cc.fixtures_passed, cc.fuel_max from chain_components cc join components c on c.id = cc.component_id
         where cc.chain_id = $1 and cc.component_id = $2"#,
        chain,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// The chain's components, newest first.
#[tracing::instrument(skip_all)]
pub async fn components(
    conn: &mut PgConnection,
    chain: Uuid,
) -> Result<Vec<ChainComponent>, sqlx::Error> {
    sqlx::query_as!(
        ChainComponent,
        r#"select cc.chain_id, cc.component_id, cc.hook, c.size_bytes,
    cc.uploaded_at, cc.uploaded_by, cc.fixtures_passed, cc.fuel_max from chain_components cc join components c on c.id = cc.component_id
         where cc.chain_id = $1 order by cc.uploaded_at desc, cc.component_id"#,
        chain,
    )
    .fetch_all(conn)
    .await
}

/// The bytes of a stored component.
#[tracing::instrument(skip_all)]
pub async fn bytes(conn: &mut PgConnection, id: &str) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar!(r#"select bytes from components where id = $1"#, id,)
        .fetch_optional(conn)
        .await
}

/// A chain's hook bound to one of its components.
#[derive(Debug, Clone)]
pub struct Binding {
    /// Chain.
    pub chain_id: Uuid,
    /// Hook.
    pub hook: String,
    /// The component.
    pub component_id: String,
    /// `reject` or `fallback`.
    pub on_failure: String,
    /// Who bound it.
    pub bound_by: Option<Uuid>,
    /// When.
    pub bound_at: DateTime<Utc>,
    /// When the breaker tripped (calls go to the default since).
    pub tripped_at: Option<DateTime<Utc>>,
    /// Why.
    pub trip_reason: Option<String>,
    /// The canary's component, if the binding has one.
    pub canary_component_id: Option<String>,
    /// The share of customers it serves.
    pub canary_percent: Option<i32>,
    /// Since when.
    pub canary_since: Option<DateTime<Utc>>,
}

/// The chain's bindings.
#[tracing::instrument(skip_all)]
pub async fn bindings(conn: &mut PgConnection, chain: Uuid) -> Result<Vec<Binding>, sqlx::Error> {
    sqlx::query_as!(
        Binding,
        r#"select chain_id, hook, component_id, on_failure, bound_by, bound_at, tripped_at,
                 trip_reason, canary_component_id, canary_percent, canary_since
         from bindings where chain_id = $1 order by hook"#,
        chain,
    )
    .fetch_all(conn)
    .await
}

/// Every binding of every chain (start-up and the periodic reconcile).
#[tracing::instrument(skip_all)]
pub async fn all_bindings(conn: &mut PgConnection) -> Result<Vec<Binding>, sqlx::Error> {
    sqlx::query_as!(
        Binding,
        r#"select chain_id, hook, component_id, on_failure, bound_by, bound_at, tripped_at,
                 trip_reason, canary_component_id, canary_percent, canary_since
         from bindings order by chain_id, hook"#,
    )
    .fetch_all(conn)
    .await
}

/// Binds the hook (replacing any binding and closing its breaker); returns the previous
/// component, if any.
#[tracing::instrument(skip_all)]
pub async fn bind(
    conn: &mut PgConnection,
    chain: Uuid,
    hook: &str,
    component: &str,
    on_failure: &str,
    actor: Uuid,
    canary: Option<(&str, i32)>,
) -> Result<(Binding, Option<String>), sqlx::Error> {
    let previous: Option<String> = sqlx::query_scalar!(
        r#"select component_id from bindings where chain_id = $1 and hook = $2 for update"#,
        chain,
        hook,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let binding = sqlx::query_as!(
        Binding,
        r#"insert into bindings (chain_id, hook, component_id, on_failure, bound_by,
                canary_component_id, canary_percent, canary_since)
         values ($1, $2, $3, $4, $5, $6, $7, case when $6::text is null then null else now() end)
         on conflict (chain_id, hook) do update
            set component_id = excluded.component_id, on_failure = excluded.on_failure,
                bound_by = excluded.bound_by, bound_at = now(), tripped_at = null,
                trip_reason = null, canary_component_id = excluded.canary_component_id,
                canary_percent = excluded.canary_percent,
                -- The same canary set again keeps its record; a new one starts afresh.
                canary_since = case
                    when excluded.canary_component_id is null then null
                    when bindings.canary_component_id = excluded.canary_component_id
                        then coalesce(bindings.canary_since, now())
                    else now() end
         returning chain_id, hook, component_id, on_failure, bound_by, bound_at, tripped_at,
                trip_reason, canary_component_id, canary_percent, canary_since"#,
        chain,
        hook,
        component,
        on_failure,
        actor,
        canary.map(|c| c.0),
        canary.map(|c| c.1),
    )
    .fetch_one(conn)
    .await?;
    Ok((binding, previous))
}

/// Removes the binding; returns the component it pointed at.
#[tracing::instrument(skip_all)]
pub async fn unbind(
    conn: &mut PgConnection,
    chain: Uuid,
    hook: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"delete from bindings where chain_id = $1 and hook = $2 returning component_id"#,
        chain,
        hook,
    )
    .fetch_optional(conn)
    .await
}

/// Opens the breaker of a binding (if it still points at `component`); `false` when it was
/// already open or the binding changed meanwhile.
#[tracing::instrument(skip_all)]
pub async fn trip(
    conn: &mut PgConnection,
    chain: Uuid,
    hook: &str,
    component: &str,
    reason: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"update bindings set tripped_at = now(), trip_reason = $4
         where chain_id = $1 and hook = $2 and component_id = $3 and tripped_at is null"#,
        chain,
        hook,
        component,
        reason,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes `chain`'s canary `component` of `hook` (its breaker tripped); `false` when that
/// canary was no longer set.
#[tracing::instrument(skip_all)]
pub async fn remove_canary(
    conn: &mut PgConnection,
    chain: Uuid,
    hook: &str,
    component: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"update bindings set canary_component_id = null, canary_percent = null,
                canary_since = null
         where chain_id = $1 and hook = $2 and canary_component_id = $3"#,
        chain,
        hook,
        component,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An entry of a chain's component trail.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// Id (time-ordered).
    pub id: Uuid,
    /// `uploaded`, `bound`, `unbound` or `breaker-tripped`.
    pub kind: String,
    /// Hook.
    pub hook: Option<String>,
    /// Component.
    pub component_id: Option<String>,
    /// Who (none for the breaker).
    pub actor_id: Option<Uuid>,
    /// Details (previous component, reason, fixtures).
    pub detail: Value,
    /// When.
    pub at: DateTime<Utc>,
}

/// Appends to the chain's trail.
#[tracing::instrument(skip_all)]
pub async fn audit(
    conn: &mut PgConnection,
    chain: Uuid,
    kind: &str,
    hook: &str,
    component: Option<&str>,
    actor: Option<Uuid>,
    detail: Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into component_audit (id, chain_id, kind, hook, component_id, actor_id, detail)
         values ($1, $2, $3, $4, $5, $6, $7)"#,
        Uuid::now_v7(),
        chain,
        kind,
        hook,
        component,
        actor,
        detail,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The chain's trail in time order, keyset-paged.
#[tracing::instrument(skip_all)]
pub async fn audit_trail(
    conn: &mut PgConnection,
    chain: Uuid,
    after: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    sqlx::query_as!(
        AuditEntry,
        r#"select id, kind, hook, component_id, actor_id, detail, at from component_audit
         where chain_id = $1 and ($2::uuid is null or id > $2) order by id limit $3"#,
        chain,
        after,
        fetch,
    )
    .fetch_all(conn)
    .await
}
