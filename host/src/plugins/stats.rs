//! Per-chain, per-component call statistics kept by each replica: calls, failures by kind,
//! and fuel and duration percentiles over the most recent calls. Kept in memory because
//! writing a row per call would double the database work of a hold; each replica reports
//! what it served (the response says which replica and since when).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::plugins::CallStats;

/// Calls whose fuel and duration are kept for the percentiles.
const WINDOW: usize = 1024;

#[derive(Debug, Default, Clone)]
struct Series {
    calls: u64,
    failures: BTreeMap<&'static str, u64>,
    recent: VecDeque<(u64, u64)>,
}

/// Statistics of one component for one chain.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct StatsView {
    /// Calls since this replica started.
    pub calls: u64,
    /// Failed calls by kind (`trap`, `out_of_fuel`, `timeout`, ...).
    pub failures: BTreeMap<String, u64>,
    /// Fuel per call over the last calls (up to 1024).
    pub fuel_p50: u64,
    /// 99th percentile of the fuel.
    pub fuel_p99: u64,
    /// Wall time per call in microseconds, median.
    pub duration_us_p50: u64,
    /// 99th percentile of the wall time.
    pub duration_us_p99: u64,
    /// Calls the percentiles are computed over.
    pub window: usize,
    /// Since when this replica counts.
    pub since: DateTime<Utc>,
}

/// The statistics of every (chain, component) this replica called.
#[derive(Debug)]
pub struct ComponentStats {
    since: DateTime<Utc>,
    series: Mutex<HashMap<(Uuid, String), Series>>,
}

impl Default for ComponentStats {
    fn default() -> Self {
        Self {
            since: Utc::now(),
            series: Mutex::default(),
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

impl ComponentStats {
    /// Records one call; `failure` is the failure kind, if it failed.
    pub fn record(
        &self,
        chain: Uuid,
        component: &str,
        stats: &CallStats,
        failure: Option<&'static str>,
    ) {
        let mut all = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let series = all.entry((chain, component.to_owned())).or_default();
        series.calls += 1;
        if let Some(kind) = failure {
            *series.failures.entry(kind).or_default() += 1;
        }
        if series.recent.len() == WINDOW {
            series.recent.pop_front();
        }
        let micros = u64::try_from(stats.duration.as_micros()).unwrap_or(u64::MAX);
        series.recent.push_back((stats.fuel_used, micros));
    }

    /// The statistics of `component` for `chain` (zeros when never called here).
    pub fn view(&self, chain: Uuid, component: &str) -> StatsView {
        let series = self
            .series
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(chain, component.to_owned()))
            .cloned()
            .unwrap_or_default();
        let mut fuel: Vec<u64> = series.recent.iter().map(|(f, _)| *f).collect();
        let mut micros: Vec<u64> = series.recent.iter().map(|(_, d)| *d).collect();
        fuel.sort_unstable();
        micros.sort_unstable();
        StatsView {
            calls: series.calls,
            failures: series
                .failures
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect(),
            fuel_p50: percentile(&fuel, 0.5),
            fuel_p99: percentile(&fuel, 0.99),
            duration_us_p50: percentile(&micros, 0.5),
            duration_us_p99: percentile(&micros, 0.99),
            window: fuel.len(),
            since: self.since,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn percentiles_and_failures_are_per_chain_and_component() {
        let stats = ComponentStats::default();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        for i in 1..=100u64 {
            let call = CallStats {
                fuel_used: i * 10,
                duration: Duration::from_micros(i),
                peak_memory_bytes: 0,
            };
            stats.record(a, "c1", &call, (i % 10 == 0).then_some("trap"));
        }
        let view = stats.view(a, "c1");
        assert_eq!(view.calls, 100);
        assert_eq!(view.failures.get("trap"), Some(&10));
        assert_eq!((view.fuel_p50, view.fuel_p99), (500, 990));
        assert_eq!((view.duration_us_p50, view.duration_us_p99), (50, 99));
        assert_eq!(stats.view(b, "c1").calls, 0, "another chain sees nothing");
    }
}
