//! `cineflow component run`: the component author's local runner. Same engine, sandbox,
//! limits and output checks as the service; prints the decision and what it cost.

use std::path::Path;

use anyhow::Context;
use serde_json::json;

use crate::cli::RunArgs;
use crate::config::runtime_config;
use crate::plugins::invoke;
use crate::plugins::{PluginRuntime, Tenant};

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
    let invocation = invoke::invoke(&runtime, Tenant::Platform, &component, input)
        .await
        .map_err(anyhow::Error::msg)?;
    let mut report = invocation.report();
    if let Some(map) = report.as_object_mut() {
        map.insert("component".into(), json!(component.id));
    }
    Ok((report, invocation.outcome.is_ok()))
}

async fn read_json(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text = tokio::fs::read_to_string(path)
        .await
        .with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}
