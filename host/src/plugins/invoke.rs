//! Calling a component with its hook's input given as JSON: the local runner, the dry-run
//! endpoint and the upload fixtures all go through here, so they agree on the input format
//! (the WIT input record, snake_case fields, kebab-case enum cases; booking-rules adds
//! `"function": "check-hold" | "cancel"`). Each hook's module maps its own input
//! (`HookSpec::invoke`); this is the shape of the answer they share.

use serde_json::{Value, json};

use crate::plugins::{CallError, CallStats, Called, LoadedComponent, PluginRuntime, Tenant, hooks};

/// What a call produced.
#[derive(Debug)]
pub struct Invocation {
    /// `Ok(Ok(v))` an answer, `Ok(Err(reason))` a refusal, `Err` a failure.
    pub outcome: Result<Result<Value, String>, CallError>,
    /// What it cost.
    pub stats: CallStats,
    /// What the component printed.
    pub log: String,
}

impl Invocation {
    /// The report shape of the runner and the dry-run endpoint.
    pub fn report(&self) -> Value {
        let stats = json!({
            "fuel_used": self.stats.fuel_used,
            "duration_us": u64::try_from(self.stats.duration.as_micros()).unwrap_or(u64::MAX),
            "memory_bytes": self.stats.peak_memory_bytes,
        });
        match &self.outcome {
            Ok(Ok(v)) => json!({ "output": { "ok": v }, "stats": stats, "log": self.log }),
            Ok(Err(reason)) => {
                json!({ "output": { "err": reason }, "stats": stats, "log": self.log })
            }
            Err(e) => json!({
                "error": error_json(e),
                "stats": stats,
                "log": self.log,
            }),
        }
    }
}

/// A failure as the runner and the dry-run endpoint show it: its kind and cause, the guest's
/// panic message (or null), its backtrace (or null) and the whole report for people
/// ([`CallError::report`]).
pub fn error_json(e: &CallError) -> Value {
    json!({
        "kind": e.kind.as_str(),
        "message": e.message,
        "panic": e.panic(),
        "backtrace": e.backtrace,
        "report": e.report(),
    })
}

pub(crate) fn parse<T: serde::de::DeserializeOwned>(input: Value) -> Result<T, String> {
    serde_json::from_value(input)
        .map_err(|e| format!("the input does not match the hook's input record: {e}"))
}

pub(crate) fn done<T: serde::Serialize>(result: Result<Called<T>, CallError>) -> Invocation {
    match result {
        Ok(called) => Invocation {
            outcome: Ok(called
                .output
                .map(|v| serde_json::to_value(v).unwrap_or(Value::Null))),
            stats: called.stats,
            log: called.log,
        },
        Err(e) => Invocation {
            stats: e.stats,
            log: e.log.clone(),
            outcome: Err(e),
        },
    }
}

/// Calls `component` with `input` for `tenant` (whose fair share it counts against); `Err`
/// when the input does not fit the hook.
pub async fn invoke(
    runtime: &PluginRuntime,
    tenant: Tenant,
    component: &LoadedComponent,
    input: Value,
) -> Result<Invocation, String> {
    hooks::module(component.hook)
        .invoke(runtime, tenant, component, input)
        .await
}

/// Checks that `input` parses as `hook`'s input and answers its size on the wire (what the
/// hook's `max_input_bytes` limits), without calling anything.
pub fn input_size(hook: crate::plugins::Hook, input: Value) -> Result<usize, String> {
    hooks::module(hook).input_size(input)
}
