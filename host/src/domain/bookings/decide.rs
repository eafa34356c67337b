//! Asking a chain's component for a decision: the one place booking code calls the registry,
//! maps a failure under the fail-closed policy to a [`DomainError`], and writes audit entries
//! for decisions and refusals.

use std::future::Future;
use std::sync::Arc;

use serde_json::json;
use uuid::Uuid;

use super::Bookings;
use crate::db::audit::{self, DecisionRun, NewEntry};
use crate::domain::DomainError;
use crate::domain::types::BookingStatus;
use crate::plugins::registry::{CallContext, DecideError};
use crate::plugins::{CallError, CallStats, Called, Hook, LoadedComponent, Tenant};

pub(super) use crate::plugins::registry::Decision;

/// The audit entry of a decision; a trait because [`Decision`] is the plugins layer's type
/// and the audit trail is the domain's.
pub(super) trait DecisionEntry {
    /// The audit entry of this decision with `detail`.
    fn entry(&self, hook: Hook, detail: serde_json::Value) -> NewEntry;
}

impl<T> DecisionEntry for Decision<T> {
    fn entry(&self, hook: Hook, detail: serde_json::Value) -> NewEntry {
        let mut entry = decision_entry(hook, &self.component.id, &self.stats, detail);
        entry.run = Some(DecisionRun {
            function: self.context.function,
            input: self.context.input.clone(),
            input_sha256: self.context.input_sha256(),
            output: self.output_json.clone(),
            canary: self.canary,
        });
        if self.canary
            && let serde_json::Value::Object(detail) = &mut entry.detail
        {
            detail.insert("canary".into(), serde_json::Value::Bool(true));
        }
        entry
    }
}

impl Bookings {
    /// Calls the chain's component of `hook`; a failure the binding's policy does not absorb
    /// is an error here (`plugin_unavailable` or `plugin_busy`).
    pub(super) async fn decide<T, F, Fut>(
        &self,
        chain: Uuid,
        hook: Hook,
        context: CallContext,
        call: F,
    ) -> Result<Decision<T>, DomainError>
    where
        T: serde::Serialize,
        F: Fn(Arc<LoadedComponent>, Tenant) -> Fut,
        Fut: Future<Output = Result<Called<T>, CallError>>,
    {
        self.components
            .decide(chain, hook, context, call)
            .await
            .map_err(failed)
    }

    /// Records a refusal (a hold, which has no booking yet, or a cancellation) in the chain's
    /// audit trail; failing to record does not change the answer to the customer.
    pub(super) async fn record_refusal<T>(
        &self,
        (chain, show, booking): (Uuid, Uuid, Option<Uuid>),
        actor: Uuid,
        hook: Hook,
        decision: &Decision<T>,
        reason: &str,
    ) {
        let mut entry = decision.entry(hook, json!({ "refused": reason }));
        entry.actor_id = Some(actor);
        let result = async {
            let mut conn = self.pool.acquire().await?;
            audit::record(&mut conn, chain, show, booking, &[entry]).await
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not record a refused decision in the audit trail");
        }
    }
}

pub(super) fn decision_entry(
    hook: Hook,
    component: &str,
    stats: &CallStats,
    detail: serde_json::Value,
) -> NewEntry {
    NewEntry {
        kind: "decision",
        hook: Some(hook.as_str()),
        component_id: Some(component.to_owned()),
        fuel_used: i64::try_from(stats.fuel_used).ok(),
        duration_us: i64::try_from(stats.duration.as_micros()).ok(),
        detail,
        ..NewEntry::default()
    }
}

/// A state change of a booking, for the audit trail.
pub(super) fn state_entry(
    from: Option<BookingStatus>,
    to: BookingStatus,
    actor: Option<Uuid>,
) -> NewEntry {
    NewEntry {
        kind: "state",
        from_status: from.map(BookingStatus::as_str),
        to_status: Some(to.as_str()),
        actor_id: actor,
        ..NewEntry::default()
    }
}

/// A component failure under the fail-closed policy (or no component at all).
fn failed(e: DecideError) -> DomainError {
    match e {
        DecideError::NoComponent(hook) => {
            DomainError::PluginUnavailable(format!("no {hook} component is configured"))
        }
        DecideError::Busy(e) => DomainError::PluginBusy {
            message: format!(
                "the chain's {} calls are over their fair share: {}",
                e.hook, e.message
            ),
            retry_after: e.retry_after.unwrap_or(std::time::Duration::from_secs(1)),
        },
        DecideError::Failed(e) => {
            tracing::warn!(hook = %e.hook, component = %e.component, kind = e.kind.as_str(), report = %e.report(), "component failed; refusing (fail closed)");
            DomainError::PluginUnavailable(format!(
                "the chain's {} component failed ({}); try again later",
                e.hook,
                e.kind.as_str()
            ))
        }
    }
}
