//! Prometheus metrics of component calls (`cineflow_component_*`).

use super::cache::Compiled;
use super::hook::Hook;
use super::store::CallStats;

/// Records one call. `outcome` is `ok`, `refused` or a `FailureKind` label.
pub fn record_call(hook: Hook, component: &str, outcome: &'static str, stats: &CallStats) {
    let labels = [
        ("hook", hook.as_str().to_owned()),
        ("component", short(component)),
        ("outcome", outcome.to_owned()),
    ];
    metrics::counter!("cineflow_component_calls_total", &labels).increment(1);
    let labels = &labels[..2];
    metrics::histogram!("cineflow_component_call_duration_seconds", labels)
        .record(stats.duration.as_secs_f64());
    metrics::histogram!("cineflow_component_fuel_used", labels).record(stats.fuel_used as f64);
    metrics::histogram!("cineflow_component_peak_memory_bytes", labels)
        .record(stats.peak_memory_bytes as f64);
}

/// Records a component load.
pub fn record_load(hook: Hook, how: Compiled) {
    metrics::counter!(
        "cineflow_component_loads_total",
        "hook" => hook.as_str(),
        "source" => how.as_str()
    )
    .increment(1);
}

/// The first 12 hex digits: unique enough for a label, short enough for dashboards.
fn short(sha256: &str) -> String {
    sha256.chars().take(12).collect()
}
