//! A decision: one call through the registry, with the answer taken apart into what the
//! callers use (the value or the component's refusal, who answered, what it cost, whether the
//! default stood in). Failures stay in the plugins layer's terms; each caller maps them once.

use std::future::Future;
use std::sync::Arc;

use uuid::Uuid;

use serde_json::Value;

use super::{Answered, CallContext, ComponentRegistry, output_json};
use crate::plugins::{CallError, CallStats, Called, FailureKind, Hook, LoadedComponent, Tenant};

/// What a component decided, who decided it and what it cost.
#[derive(Debug)]
pub struct Decision<T> {
    /// The answer: `Err` is the component's own refusal, with its reason.
    pub output: Result<T, String>,
    /// The component that answered (the bound one, or the default it fell back to).
    pub component: Arc<LoadedComponent>,
    /// Fuel, time and memory.
    pub stats: CallStats,
    /// True when the bound component failed and the default answered (policy `fallback`).
    pub fell_back: bool,
    /// True when the binding's canary answered.
    pub canary: bool,
    /// What the call was given.
    pub context: CallContext,
    /// The answer in the dry-run form (`{"ok": ...}` or `{"err": ...}`).
    pub output_json: Value,
}

/// Why no decision came back: the binding's policy did not absorb the failure.
#[derive(Debug)]
pub enum DecideError {
    /// No component serves the hook at all (not even a platform default).
    NoComponent(Hook),
    /// The chain is over its fair share; `retry_after` on the error says when to come back.
    Busy(CallError),
    /// The component failed (a trap, fuel, the deadline, an answer the checks refused, …).
    Failed(CallError),
}

impl DecideError {
    fn from_call(e: Option<CallError>, hook: Hook) -> Self {
        match e {
            None => DecideError::NoComponent(hook),
            Some(e) if e.kind == FailureKind::Busy => DecideError::Busy(e),
            Some(e) => DecideError::Failed(e),
        }
    }
}

impl<T: serde::Serialize> Decision<T> {
    fn of(a: Answered<T>, context: &CallContext) -> Self {
        let Answered {
            called: Called { output, stats, .. },
            component,
            fell_back,
            canary,
        } = a;
        Decision {
            output_json: output_json(&output),
            output,
            component,
            stats,
            fell_back,
            canary,
            context: context.clone(),
        }
    }
}

impl ComponentRegistry {
    /// Asks `chain`'s component of `hook` for a decision, under the binding's failure policy
    /// and breaker (see [`ComponentRegistry::call`]).
    pub async fn decide<T, F, Fut>(
        &self,
        chain: Uuid,
        hook: Hook,
        context: CallContext,
        call: F,
    ) -> Result<Decision<T>, DecideError>
    where
        T: serde::Serialize,
        F: Fn(Arc<LoadedComponent>, Tenant) -> Fut,
        Fut: Future<Output = Result<Called<T>, CallError>>,
    {
        self.call(chain, hook, &context, call)
            .await
            .map(|a| Decision::of(a, &context))
            .map_err(|e| DecideError::from_call(e, hook))
    }

    /// Asks the platform default of `hook` for a decision, on the platform's share: for work
    /// that belongs to no chain (platform mail). There is no binding, so no policy or breaker.
    pub async fn decide_as_platform<T, F, Fut>(
        &self,
        hook: Hook,
        context: CallContext,
        call: F,
    ) -> Result<Decision<T>, DecideError>
    where
        T: serde::Serialize,
        F: FnOnce(Arc<LoadedComponent>, Tenant) -> Fut,
        Fut: Future<Output = Result<Called<T>, CallError>>,
    {
        let component = self
            .default_for(hook)
            .ok_or(DecideError::NoComponent(hook))?;
        let Called { output, stats, .. } = call(component.clone(), Tenant::Platform)
            .await
            .map_err(|e| DecideError::from_call(Some(e), hook))?;
        Ok(Decision {
            output_json: output_json(&output),
            output,
            component,
            stats,
            fell_back: false,
            canary: false,
            context,
        })
    }
}
