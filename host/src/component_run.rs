//! `cineflow component run`: the component author's local runner. Same engine, sandbox,
//! limits and output checks as the service; prints the decision and what it cost.

use std::path::Path;

use anyhow::Context;
use serde::Deserialize;
use serde_json::json;

use crate::cli::RunArgs;
use crate::config::runtime_config;
use crate::domain::hook_io::{CancelRequest, EmailEvent, HoldRequest, QuoteRequest};
use crate::plugins::{CallError, CallStats, Called, Hook, PluginRuntime};

/// Booking-rules input: which function, and its request.
#[derive(Debug, Deserialize)]
#[serde(tag = "function", rename_all = "kebab-case")]
pub enum BookingRulesInput {
    /// `check-hold`.
    CheckHold(HoldRequest),
    /// `cancel`.
    Cancel(CancelRequest),
}

/// The report printed (and returned) by a run.
pub type Report = serde_json::Value;

/// Runs the component once and returns the JSON report; `Err` only for unusable arguments
/// (missing file, bad JSON, a component that does not load).
pub async fn run(args: &RunArgs) -> anyhow::Result<(Report, bool)> {
    let bytes = tokio::fs::read(&args.wasm)
        .await
        .with_context(|| format!("reading {}", args.wasm.display()))?;
    let input = read_json(&args.input).await?;
    let runtime = PluginRuntime::new(runtime_config(&args.limits, None))?;
    let component = runtime.load(args.hook, &bytes).await?;
    let report = match args.hook {
        Hook::Pricing => {
            let req: QuoteRequest = parse(input)?;
            report(runtime.quote(&component, &req).await)
        }
        Hook::NotifyTemplates => {
            let ev: EmailEvent = parse(input)?;
            report(runtime.render(&component, &ev).await)
        }
        Hook::BookingRules => match parse(input)? {
            BookingRulesInput::CheckHold(req) => report(runtime.check_hold(&component, &req).await),
            BookingRulesInput::Cancel(req) => report(runtime.cancel(&component, &req).await),
        },
    };
    let ok = report.get("error").is_none();
    Ok((with_component(report, &component.id), ok))
}

async fn read_json(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text = tokio::fs::read_to_string(path)
        .await
        .with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

fn parse<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> anyhow::Result<T> {
    serde_json::from_value(value).context("the input does not match the hook's input record")
}

fn stats_json(stats: &CallStats) -> serde_json::Value {
    json!({
        "fuel_used": stats.fuel_used,
        "duration_us": stats.duration.as_micros() as u64,
        "memory_bytes": stats.peak_memory_bytes,
    })
}

fn report<T: serde::Serialize>(result: Result<Called<T>, CallError>) -> Report {
    match result {
        Ok(called) => {
            let output = match &called.output {
                Ok(v) => json!({ "ok": v }),
                Err(reason) => json!({ "err": reason }),
            };
            json!({ "output": output, "stats": stats_json(&called.stats), "log": called.log })
        }
        Err(e) => json!({
            "error": { "kind": e.kind.as_str(), "message": e.message },
            "stats": stats_json(&e.stats),
            "log": e.log,
        }),
    }
}

fn with_component(mut report: Report, id: &str) -> Report {
    if let Some(map) = report.as_object_mut() {
        map.insert("component".into(), json!(id));
    }
    report
}
