//! A binding's canary: a stable share of the chain's customers served by a candidate, with
//! its own breaker. Too many canary failures in a row remove the canary (stored, audited and
//! seen by every replica) and everyone is back on the stable component; until then a failed
//! canary call is answered by the stable component, so a customer never pays for a trial.

use std::sync::Arc;

use uuid::Uuid;

use super::{ComponentRegistry, in_canary};
use crate::plugins::{CallError, FailureKind, Hook, LoadedComponent};

impl ComponentRegistry {
    /// The canary that serves `customer`'s call of `hook`, if the binding has one, its breaker
    /// is closed and the customer's stable bucket falls in its share.
    pub(super) fn canary_for(
        &self,
        chain: Uuid,
        hook: Hook,
        customer: Option<Uuid>,
    ) -> Option<Arc<LoadedComponent>> {
        let customer = customer?;
        let active = self.active.read().unwrap_or_else(|e| e.into_inner());
        let a = active.get(&(chain, hook))?;
        // A tripped binding serves the default to everyone; a canary does not outlive that.
        if a.tripped || a.component.is_none() {
            return None;
        }
        let canary = a.canary.as_ref()?;
        in_canary(customer, hook, canary.percent).then(|| canary.component.clone())
    }

    pub(super) fn canary_succeeded(&self, chain: Uuid, hook: Hook) {
        let mut failures = self
            .canary_failures
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        failures.remove(&(chain, hook));
    }

    /// Counts a canary failure; the Nth in a row removes the canary on every replica.
    pub(super) async fn canary_failed(
        &self,
        chain: Uuid,
        hook: Hook,
        canary: &LoadedComponent,
        e: &CallError,
    ) {
        if matches!(
            e.kind,
            FailureKind::Unavailable | FailureKind::InputTooLarge | FailureKind::Busy
        ) {
            return;
        }
        let count = {
            let mut failures = self
                .canary_failures
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let count = failures.entry((chain, hook)).or_default();
            *count += 1;
            *count
        };
        if count < self.settings.breaker_failures {
            return;
        }
        let reason = crate::plugins::report::cap(
            &format!("{count} canary failures in a row; the last: {}", e.report()),
            super::failure::TRIP_REASON_BYTES,
        );
        match self
            .breaker
            .trip_canary(chain, hook, &canary.id, &reason)
            .await
        {
            Ok(removed) => {
                if removed {
                    metrics::counter!("cineflow_component_canary_trips_total", "hook" => hook.as_str())
                        .increment(1);
                    tracing::warn!(%chain, %hook, component = %canary.id, reason, "canary breaker tripped: the canary is removed and every customer is back on the stable component");
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, %chain, %hook, "could not remove the tripped canary; will retry on the next failure");
                return;
            }
        }
        // Off here at once; other replicas follow the notification.
        if let Some(active) = self
            .active
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&(chain, hook))
            && active
                .canary
                .as_ref()
                .is_some_and(|c| c.component.id == canary.id)
        {
            active.canary = None;
        }
        self.canary_succeeded(chain, hook);
    }
}
