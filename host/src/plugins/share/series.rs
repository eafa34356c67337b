//! The fair share's metric series, with a bounded number of chain labels.

use std::sync::Mutex;

use uuid::Uuid;

/// Chains that get a label of their own in the metrics; the rest are summed under `other`,
/// so the number of series stays bounded whatever number of chains signs up.
const LABELLED_CHAINS: usize = 64;

pub(crate) fn chain_label(chain: Uuid) -> String {
    static SEEN: Mutex<Vec<Uuid>> = Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if seen.contains(&chain) {
        return chain.to_string();
    }
    if seen.len() < LABELLED_CHAINS {
        seen.push(chain);
        return chain.to_string();
    }
    "other".to_owned()
}

pub(super) fn record_refusal_metric(chain: Uuid, why: &'static str) {
    metrics::counter!(
        "cineflow_chain_component_refusals_total",
        "chain" => chain_label(chain),
        "reason" => why
    )
    .increment(1);
}

pub(super) fn record_charge_metric(chain: Uuid, fuel: u64) {
    metrics::counter!("cineflow_chain_component_fuel_charged_total", "chain" => chain_label(chain))
        .increment(fuel);
}
