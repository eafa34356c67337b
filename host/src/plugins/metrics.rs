//! Prometheus metrics of component calls (`cineflow_component_*`).
//!
//! The `component` label is bounded: chains upload components at will, and a label value per
//! upload would grow the exporter's memory and every scrape without end. The first
//! [`MAX_COMPONENT_LABELS`] components this process calls get their own value (the platform
//! defaults are called first, at start-up, so they always do); later ones share `other`.
//! Every component's own numbers are in `GET /api/v1/chains/{id}/components/{cid}/stats`.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use super::cache::Compiled;
use super::hook::Hook;
use super::store::CallStats;

/// Distinct `component` label values per process; beyond it, calls are labelled `other`.
pub const MAX_COMPONENT_LABELS: usize = 64;

/// The label value of the components past the cap.
pub const OTHER: &str = "other";

/// Records one call. `outcome` is `ok`, `refused` or a `FailureKind` label.
pub fn record_call(hook: Hook, component: &str, outcome: &'static str, stats: &CallStats) {
    let labels = [
        ("hook", hook.as_str().to_owned()),
        ("component", component_label(labelled(), component)),
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

/// The process's labelled components (short ids).
fn labelled() -> &'static Mutex<HashSet<String>> {
    static LABELLED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    LABELLED.get_or_init(Mutex::default)
}

/// The `component` label of `sha256`: its short id while `seen` has room or already holds it,
/// else [`OTHER`].
fn component_label(seen: &Mutex<HashSet<String>>, sha256: &str) -> String {
    let id = short(sha256);
    // A poisoned lock only means another call panicked mid-insert; the set is still usable.
    let mut seen = seen
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if seen.contains(&id) {
        return id;
    }
    if seen.len() < MAX_COMPONENT_LABELS {
        seen.insert(id.clone());
        return id;
    }
    OTHER.to_owned()
}

/// The first 12 hex digits: unique enough for a label, short enough for dashboards.
fn short(sha256: &str) -> String {
    sha256.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use metrics_exporter_prometheus::PrometheusBuilder;

    use super::*;

    /// A distinct sha256 per `i`, distinct in its first 12 digits too.
    fn sha(i: usize) -> String {
        format!("{i:012x}{}", "f".repeat(52))
    }

    #[test]
    fn component_labels_stop_growing_at_the_cap() {
        let seen = Mutex::default();
        for i in 0..MAX_COMPONENT_LABELS {
            assert_eq!(component_label(&seen, &sha(i)), short(&sha(i)));
        }
        for i in MAX_COMPONENT_LABELS..MAX_COMPONENT_LABELS * 3 {
            assert_eq!(component_label(&seen, &sha(i)), OTHER);
        }
        // The ones labelled before the cap keep their label.
        assert_eq!(component_label(&seen, &sha(0)), short(&sha(0)));
        assert_eq!(
            seen.lock().map(|s| s.len()).ok(),
            Some(MAX_COMPONENT_LABELS)
        );
    }

    /// Thousands of uploads, each called once with every outcome: the exported series stay
    /// bounded by the cap, not by the number of components.
    #[test]
    fn exported_series_stay_bounded_as_components_grow() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let stats = CallStats::default();
        metrics::with_local_recorder(&recorder, || {
            for i in 0..1000 {
                for outcome in ["ok", "trap", "out_of_fuel"] {
                    record_call(Hook::Pricing, &sha(i + 1_000_000), outcome, &stats);
                }
            }
        });
        let text = handle.render();
        let values: BTreeSet<&str> = text
            .lines()
            .filter(|l| l.starts_with("cineflow_component_calls_total{"))
            .filter_map(|l| l.split("component=\"").nth(1)?.split('"').next())
            .collect();
        // Other tests of this process may have taken some of the labels first.
        assert!(
            values.len() <= MAX_COMPONENT_LABELS + 1,
            "{} values",
            values.len()
        );
        assert!(values.contains(OTHER), "{values:?}");
        let series = text
            .lines()
            .filter(|l| l.starts_with("cineflow_component_calls_total{"))
            .count();
        assert!(series <= (MAX_COMPONENT_LABELS + 1) * 3, "{series} series");
    }
}
