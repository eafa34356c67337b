//! Table `booking_audit`.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// One audit entry.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// Id (time-ordered).
    pub id: Uuid,
    /// The booking (none for a refused hold).
    pub booking_id: Option<Uuid>,
    /// The show.
    pub show_id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
    /// `state` or `decision`.
    pub kind: String,
    /// Previous status (state entries).
    pub from_status: Option<String>,
    /// New status (state entries).
    pub to_status: Option<String>,
    /// Who caused it (none for the expiry job).
    pub actor_id: Option<Uuid>,
    /// Hook consulted (decision entries).
    pub hook: Option<String>,
    /// Component sha256 (decision entries).
    pub component_id: Option<String>,
    /// Fuel the component used.
    pub fuel_used: Option<i64>,
    /// Time the component took.
    pub duration_us: Option<i64>,
    /// What was decided.
    pub detail: serde_json::Value,
}

/// A new entry.
#[derive(Debug, Default)]
pub struct NewEntry {
    /// `state` or `decision`.
    pub kind: &'static str,
    /// Previous status.
    pub from_status: Option<&'static str>,
    /// New status.
    pub to_status: Option<&'static str>,
    /// Who.
    pub actor_id: Option<Uuid>,
    /// Hook.
    pub hook: Option<&'static str>,
    /// Component.
    pub component_id: Option<String>,
    /// Fuel.
    pub fuel_used: Option<i64>,
    /// Duration.
    pub duration_us: Option<i64>,
    /// Detail.
    pub detail: serde_json::Value,
    /// What the component was given and answered (decision entries; the receipt).
    pub run: Option<DecisionRun>,
}

/// The exact input and output of a decision, kept for the booking's receipt.
#[derive(Debug)]
pub struct DecisionRun {
    /// The hook's function.
    pub function: &'static str,
    /// The input in the dry-run form.
    pub input: std::sync::Arc<serde_json::Value>,
    /// Its sha256 (hex).
    pub input_sha256: String,
    /// `{"ok": ...}` or `{"err": ...}`.
    pub output: serde_json::Value,
    /// Served by the binding's canary.
    pub canary: bool,
}

/// Entries as the columns of an `unnest(...)` insert (one array per column, in step).
pub(crate) struct Columns<'a> {
    pub(crate) ids: Vec<Uuid>,
    pub(crate) kinds: Vec<&'a str>,
    pub(crate) from: Vec<Option<&'a str>>,
    pub(crate) to: Vec<Option<&'a str>>,
    pub(crate) actors: Vec<Option<Uuid>>,
    pub(crate) hooks: Vec<Option<&'a str>>,
    pub(crate) components: Vec<Option<&'a str>>,
    pub(crate) fuel: Vec<Option<i64>>,
    pub(crate) durations: Vec<Option<i64>>,
    pub(crate) details: Vec<&'a serde_json::Value>,
    pub(crate) functions: Vec<Option<&'a str>>,
    pub(crate) inputs: Vec<Option<&'a serde_json::Value>>,
    pub(crate) hashes: Vec<Option<&'a str>>,
    pub(crate) outputs: Vec<Option<&'a serde_json::Value>>,
    pub(crate) canaries: Vec<bool>,
}

impl<'a> Columns<'a> {
    /// The columns of `entries`, each with a new id.
    pub(crate) fn of(entries: &'a [NewEntry]) -> Self {
        let runs = || entries.iter().map(|e| e.run.as_ref());
        Self {
            ids: entries.iter().map(|_| Uuid::now_v7()).collect(),
            kinds: entries.iter().map(|e| e.kind).collect(),
            from: entries.iter().map(|e| e.from_status).collect(),
            to: entries.iter().map(|e| e.to_status).collect(),
            actors: entries.iter().map(|e| e.actor_id).collect(),
            hooks: entries.iter().map(|e| e.hook).collect(),
            components: entries.iter().map(|e| e.component_id.as_deref()).collect(),
            fuel: entries.iter().map(|e| e.fuel_used).collect(),
            durations: entries.iter().map(|e| e.duration_us).collect(),
            details: entries.iter().map(|e| &e.detail).collect(),
            functions: runs().map(|r| r.map(|r| r.function)).collect(),
            inputs: runs().map(|r| r.map(|r| &*r.input)).collect(),
            hashes: runs().map(|r| r.map(|r| r.input_sha256.as_str())).collect(),
            outputs: runs().map(|r| r.map(|r| &r.output)).collect(),
            canaries: runs().map(|r| r.is_some_and(|r| r.canary)).collect(),
        }
    }
}

/// Appends entries to a booking's trail (`booking` is `None` for a refused hold), in one
/// statement.
#[tracing::instrument(skip_all)]
pub async fn record(
    conn: &mut PgConnection,
    chain: Uuid,
    show: Uuid,
    booking: Option<Uuid>,
    entries: &[NewEntry],
) -> Result<(), sqlx::Error> {
    let c = Columns::of(entries);
    sqlx::query!(
        r#"insert into booking_audit (id, chain_id, show_id, booking_id, kind, from_status, to_status,
            actor_id, hook, component_id, fuel_used, duration_us, detail, function, input,
            input_sha256, output, canary)
         select e.id, $1, $2, $3, e.kind, e.from_status, e.to_status, e.actor_id, e.hook,
                e.component_id, e.fuel_used, e.duration_us, e.detail, e.function, e.input,
                e.input_sha256, e.output, e.canary
         from unnest($4::uuid[], $5::text[], $6::text[], $7::text[], $8::uuid[], $9::text[],
                     $10::text[], $11::bigint[], $12::bigint[], $13::jsonb[], $14::text[],
                     $15::jsonb[], $16::text[], $17::jsonb[], $18::bool[])
            as e(id, kind, from_status, to_status, actor_id, hook, component_id, fuel_used,
                 duration_us, detail, function, input, input_sha256, output, canary)"#,
        chain,
        show,
        booking as Option<Uuid>,
        &c.ids,
        &c.kinds as &[&str],
        &c.from as &[Option<&str>],
        &c.to as &[Option<&str>],
        &c.actors as &[Option<Uuid>],
        &c.hooks as &[Option<&str>],
        &c.components as &[Option<&str>],
        &c.fuel as &[Option<i64>],
        &c.durations as &[Option<i64>],
        &c.details as &[&serde_json::Value],
        &c.functions as &[Option<&str>],
        &c.inputs as &[Option<&serde_json::Value>],
        &c.hashes as &[Option<&str>],
        &c.outputs as &[Option<&serde_json::Value>],
        &c.canaries,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A booking's trail, oldest first.
#[tracing::instrument(skip_all)]
pub async fn of_booking(
    conn: &mut PgConnection,
    chain: Uuid,
    booking: Uuid,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    sqlx::query_as!(
        AuditEntry,
        r#"select id, booking_id, show_id, at, kind, from_status, to_status, actor_id, hook,
                 component_id,
                fuel_used, duration_us, detail
         from booking_audit where chain_id = $1 and booking_id = $2 order by id"#,
        chain,
        booking,
    )
    .fetch_all(conn)
    .await
}

/// A page of a chain's trail, newest last (refused holds included).
#[tracing::instrument(skip_all)]
pub async fn of_chain(
    conn: &mut PgConnection,
    chain: Uuid,
    after: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    sqlx::query_as!(
        AuditEntry,
        r#"select id, booking_id, show_id, at, kind, from_status, to_status, actor_id, hook,
                 component_id,
                fuel_used, duration_us, detail
         from booking_audit where chain_id = $1 and ($2::uuid is null or id > $2)
         order by id limit $3"#,
        chain,
        after,
        fetch,
    )
    .fetch_all(conn)
    .await
}

/// One decision behind a booking, as its receipt shows it.
#[derive(Debug, Clone)]
pub struct ReceiptDecision {
    /// The hook.
    pub hook: String,
    /// Its function.
    pub function: String,
    /// The component.
    pub component_id: String,
    /// The input's sha256.
    pub input_sha256: String,
    /// The input in the dry-run form.
    pub input: serde_json::Value,
    /// The answer.
    pub output: serde_json::Value,
    /// Served by a canary.
    pub canary: bool,
    /// When.
    pub at: DateTime<Utc>,
}

/// The decisions behind a booking that kept their input, oldest first.
#[tracing::instrument(skip_all)]
pub async fn receipt(
    conn: &mut PgConnection,
    chain: Uuid,
    booking: Uuid,
) -> Result<Vec<ReceiptDecision>, sqlx::Error> {
    sqlx::query_as!(
        ReceiptDecision,
        r#"select hook as "hook!", function as "function!", component_id as "component_id!",
                input_sha256 as "input_sha256!", input as "input!", output as "output!", canary, at
         from booking_audit
         where chain_id = $1 and booking_id = $2 and kind = 'decision' and input is not null
         order by id"#,
        chain,
        booking,
    )
    .fetch_all(conn)
    .await
}
