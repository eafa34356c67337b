//! What the registry tells the rest of the host about each production call: a run record for
//! the run log, and a shadow job when a candidate shadows the hook. Both go through
//! [`CallObserver`], which must never block or fail a call (the domain implements it with
//! bounded queues that drop, and count, what does not fit).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::plugins::{CallError, CallStats, Called, FailureKind, Hook, LoadedComponent};

/// What a production call is about: the function, its input in the dry-run form (so a replay,
/// a shadow or `cineflow component run` can call any component with it) and whom it serves.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// The hook's function (`quote`, `check-hold`, `cancel`, `pick-seats`, `render`).
    pub function: &'static str,
    /// The input as in dry runs (booking-rules carries `"function"`).
    pub input: Arc<Value>,
    /// The customer the call decides for: picks the canary, stably.
    pub customer: Option<Uuid>,
    /// The booking the call served (a hold's id is chosen before its components run).
    pub booking: Option<Uuid>,
    /// The notification the call served.
    pub notification: Option<Uuid>,
}

impl CallContext {
    /// A context for `function` with `input` (already in the dry-run form).
    pub fn new(function: &'static str, input: Value) -> Self {
        Self {
            function,
            input: Arc::new(input),
            customer: None,
            booking: None,
            notification: None,
        }
    }

    /// The lowercase hex sha256 of the input's JSON bytes (compact, keys sorted).
    pub fn input_sha256(&self) -> String {
        input_sha256(&self.input)
    }
}

/// The lowercase hex sha256 of `input` as compact JSON with its keys sorted (serde_json's
/// map is ordered by key), which is how the receipt states what a component was given.
pub fn input_sha256(input: &Value) -> String {
    let bytes = serde_json::to_vec(input).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

/// How a run ended, in the run log's words (API.md, "Run logs").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// An answer.
    Ok,
    /// The component's own refusal.
    Refused,
    /// A failure of this kind.
    Failed(FailureKind),
}

impl RunOutcome {
    /// The stored and API name: `ok`, `refused` or the failure's kind.
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Ok => "ok",
            RunOutcome::Refused => "refused",
            RunOutcome::Failed(kind) => failure_name(kind),
        }
    }

    /// Every stored name, for parsing filters.
    pub const NAMES: [&'static str; 8] = [
        "ok",
        "refused",
        "trap",
        "out_of_fuel",
        "timeout",
        "memory",
        "bad_output",
        "unavailable",
    ];
}

/// The run log's name of a failure: the host's own kinds folded into what an author acts on
/// (an answer the checks refused or that was too big is a bad output; a call that could not
/// be made — no slot, over the chain's share, an input over the cap — is unavailable).
pub fn failure_name(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::Trap => "trap",
        FailureKind::OutOfFuel => "out_of_fuel",
        FailureKind::Timeout => "timeout",
        FailureKind::MemoryLimit => "memory",
        FailureKind::InvalidOutput | FailureKind::OutputTooLarge => "bad_output",
        FailureKind::Unavailable | FailureKind::Busy | FailureKind::InputTooLarge => "unavailable",
    }
}

/// One production call, as the run log keeps it.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// UUID v7, taken when the call ended.
    pub id: Uuid,
    /// When the call ended.
    pub at: DateTime<Utc>,
    /// The chain.
    pub chain: Uuid,
    /// The hook.
    pub hook: Hook,
    /// What the call was about.
    pub context: CallContext,
    /// The component that ran.
    pub component_id: String,
    /// Served by the binding's canary.
    pub canary: bool,
    /// How it ended.
    pub outcome: RunOutcome,
    /// Fuel, time and memory.
    pub stats: CallStats,
    /// `{"ok": ...}` or `{"err": ...}`; `None` for a failure.
    pub output: Option<Value>,
    /// The failure's message.
    pub error: Option<String>,
    /// What the guest printed.
    pub log: String,
}

/// A shadow call to make after the answer: the candidate, the input and what the serving
/// component answered.
#[derive(Debug, Clone)]
pub struct ShadowJob {
    /// The chain.
    pub chain: Uuid,
    /// The hook.
    pub hook: Hook,
    /// The candidate.
    pub candidate: Arc<LoadedComponent>,
    /// The input the serving component had.
    pub context: CallContext,
    /// The serving component's answer (`None` when it failed).
    pub served: Option<Value>,
}

/// Receives what the registry reports about production calls. Implementations must return
/// at once: a full queue drops the report (and counts it), never waits.
pub trait CallObserver: Send + Sync {
    /// A call ended.
    fn ran(&self, run: RunRecord);
    /// A shadow call is wanted.
    fn shadow(&self, job: ShadowJob);
}

/// Observes nothing: for tools and tests that run without a run log.
pub struct Unobserved;

impl CallObserver for Unobserved {
    fn ran(&self, _run: RunRecord) {}
    fn shadow(&self, _job: ShadowJob) {}
}

/// The output of a call in the dry-run form.
pub fn output_json<T: serde::Serialize>(output: &Result<T, String>) -> Value {
    match output {
        Ok(v) => json!({ "ok": serde_json::to_value(v).unwrap_or(Value::Null) }),
        Err(reason) => json!({ "err": reason }),
    }
}

/// The run record of one attempt.
pub(super) fn record_of<T: serde::Serialize>(
    (chain, hook): (Uuid, Hook),
    context: &CallContext,
    component: &str,
    canary: bool,
    result: Result<&Called<T>, &CallError>,
) -> RunRecord {
    let (outcome, stats, output, error, log) = match result {
        Ok(c) => (
            if c.output.is_ok() {
                RunOutcome::Ok
            } else {
                RunOutcome::Refused
            },
            c.stats,
            Some(output_json(&c.output)),
            None,
            c.log.clone(),
        ),
        Err(e) => (
            RunOutcome::Failed(e.kind),
            e.stats,
            None,
            // What the author reads in `GET /runs/{id}`: the cause, the panic, the backtrace.
            Some(e.report()),
            e.log.clone(),
        ),
    };
    RunRecord {
        id: Uuid::now_v7(),
        at: Utc::now(),
        chain,
        hook,
        context: context.clone(),
        component_id: component.to_owned(),
        canary,
        outcome,
        stats,
        output,
        error,
        log,
    }
}

/// Whether `customer` falls in the first `percent` of 100 stable buckets of `hook`: the same
/// customer lands in the same bucket on every replica and every call, so they keep one version.
pub fn in_canary(customer: Uuid, hook: Hook, percent: u8) -> bool {
    let mut h = Sha256::new();
    h.update(customer.as_bytes());
    h.update(hook.as_str().as_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % 100 < u64::from(percent)
}

/// Whether a call with this run id is in a `percent` sample (the id's random bits decide).
pub fn sampled(id: Uuid, percent: u8) -> bool {
    let bytes = id.as_bytes();
    let mut last = [0u8; 8];
    last.copy_from_slice(&bytes[8..]);
    u64::from_be_bytes(last) % 100 < u64::from(percent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_canary_takes_about_its_share_and_keeps_each_customer() {
        let customers: Vec<Uuid> = (0..2000).map(|_| Uuid::new_v4()).collect();
        let inside = customers
            .iter()
            .filter(|c| in_canary(**c, Hook::Pricing, 50))
            .count();
        assert!((800..1200).contains(&inside), "{inside} of 2000 at 50 %");
        for c in &customers[..50] {
            assert_eq!(
                in_canary(*c, Hook::Pricing, 50),
                in_canary(*c, Hook::Pricing, 50)
            );
        }
        assert!(customers.iter().all(|c| !in_canary(*c, Hook::Pricing, 0)));
    }

    #[test]
    fn the_input_hash_does_not_depend_on_key_order() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":[1,2]}"#).expect("json");
        let b: Value = serde_json::from_str(r#"{"a":[1,2],"b":1}"#).expect("json");
        assert_eq!(input_sha256(&a), input_sha256(&b));
        assert_eq!(input_sha256(&a).len(), 64);
    }
}
