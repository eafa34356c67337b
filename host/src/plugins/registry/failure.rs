//! What happens when a bound component fails: the binding's policy, and the breaker that
//! counts a component's failures in a row and, after too many, sends the chain's calls to the
//! platform default until the chain binds again (stored, audited, and seen by every replica).

use uuid::Uuid;

use super::ComponentRegistry;
use crate::plugins::{CallError, FailureKind, Hook, LoadedComponent};

/// What happens when a bound component fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// The failure is the answer (503 for bookings): no seat is sold on a broken rule.
    Reject,
    /// The platform default answers instead.
    Fallback,
}

impl OnFailure {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            OnFailure::Reject => "reject",
            OnFailure::Fallback => "fallback",
        }
    }

    /// Parses the stored and API name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reject" => Some(OnFailure::Reject),
            "fallback" => Some(OnFailure::Fallback),
            _ => None,
        }
    }

    /// The policy of a binding that does not say: each hook's module decides
    /// (`HookSpec::ON_FAILURE`).
    pub fn default_for(hook: Hook) -> Self {
        crate::plugins::hooks::module(hook).on_failure()
    }
}

/// The most of a failure report a breaker's reason keeps (stored with the binding and in the
/// chain's audit trail); the rest is cut at a line boundary with a marker.
pub const TRIP_REASON_BYTES: usize = 4096;

impl ComponentRegistry {
    pub(super) fn succeeded(&self, chain: Uuid, hook: Hook) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&(chain, hook));
    }

    /// Counts a failure of a bound component; the Nth in a row trips the breaker. A full
    /// instance pool or an oversized input is the host's state, not the component's fault.
    pub(super) async fn failed(
        &self,
        chain: Uuid,
        hook: Hook,
        component: &LoadedComponent,
        e: &CallError,
    ) {
        if matches!(
            e.kind,
            FailureKind::Unavailable | FailureKind::InputTooLarge | FailureKind::Busy
        ) {
            return;
        }
        let count = {
            let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            let count = failures.entry((chain, hook)).or_default();
            *count += 1;
            *count
        };
        if count < self.settings.breaker_failures {
            return;
        }
        let reason = crate::plugins::report::cap(
            &format!("{count} failures in a row; the last: {}", e.report()),
            TRIP_REASON_BYTES,
        );
        if let Err(err) = self.trip(chain, hook, &component.id, &reason).await {
            tracing::warn!(error = %err, %chain, %hook, "could not record the breaker trip; will retry on the next failure");
        }
    }

    async fn trip(
        &self,
        chain: Uuid,
        hook: Hook,
        component: &str,
        reason: &str,
    ) -> anyhow::Result<()> {
        if self.breaker.trip(chain, hook, component, reason).await? {
            metrics::counter!("cineflow_component_breaker_trips_total", "hook" => hook.as_str())
                .increment(1);
            tracing::warn!(%chain, %hook, component, reason, "breaker tripped: the chain's calls go to the platform default until it binds again");
        }
        // In force here at once; other replicas follow the notification.
        if let Some(active) = self
            .active
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&(chain, hook))
            && active.component_id == component
        {
            active.tripped = true;
        }
        self.succeeded(chain, hook);
        Ok(())
    }
}
