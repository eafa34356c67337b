//! Which component serves each chain's hook, on this replica: the chain's binding (loaded
//! from PostgreSQL, compiled once per replica thanks to the artifact cache) or the platform
//! default. Storage is the domain's, behind [`BindingSource`] and [`BreakerLog`]. Bindings
//! change atomically — a call holds an `Arc` to the component it started
//! with, so calls in flight finish on the old version — and reach every replica through
//! LISTEN/NOTIFY (`cineflow_bindings`, fired by a trigger on `bindings`), with a periodic
//! reconcile as a safety net (the follower is the domain's: `domain::components::follow`).
//!
//! Calls go through [`ComponentRegistry::call`], which applies the binding's failure policy
//! (`reject`: the failure is the answer; `fallback`: the platform default answers instead),
//! counts consecutive failures and trips the breaker after too many (the binding then serves
//! the default until it is bound again; the trip is stored, audited and seen by all replicas).

mod canary;
mod decide;
mod failure;
mod observe;
mod reload;
mod settings;
mod source;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};

use uuid::Uuid;

use crate::defaults::PlatformDefaults;
use crate::plugins::stats::ComponentStats;
use crate::plugins::{
    CallError, Called, FailureKind, Hook, LoadedComponent, PluginRuntime, Tenant,
};

pub use decide::{DecideError, Decision};
pub use failure::OnFailure;
pub use observe::{
    CallContext, CallObserver, RunOutcome, RunRecord, ShadowJob, Unobserved, failure_name,
    in_canary, input_sha256, output_json, sampled,
};
pub use settings::{ComponentQuota, RegistrySettings};
pub use source::{BindingSource, BoundComponent, BreakerLog, CanarySpec, ShadowSpec};

#[derive(Clone)]
struct Active {
    /// `None` when the bound component does not load on this replica (`broken` says why).
    component: Option<Arc<LoadedComponent>>,
    component_id: String,
    broken: Option<String>,
    on_failure: OnFailure,
    tripped: bool,
    /// The binding's canary, when it has one that loads on this replica.
    canary: Option<ActiveCanary>,
}

#[derive(Clone)]
struct ActiveCanary {
    component: Arc<LoadedComponent>,
    percent: u8,
}

/// A candidate shadowing a chain's hook on this replica.
#[derive(Clone)]
struct ActiveShadow {
    component: Arc<LoadedComponent>,
    sample_percent: u8,
}

/// The component a call will use.
#[derive(Clone)]
pub struct Resolved {
    /// The component.
    pub component: Arc<LoadedComponent>,
    /// The chain's binding policy, or `None` when this is the platform default.
    pub bound: Option<OnFailure>,
}

/// A successful call and which component gave the answer.
#[derive(Debug)]
pub struct Answered<T> {
    /// The answer.
    pub called: Called<T>,
    /// The component that answered.
    pub component: Arc<LoadedComponent>,
    /// True when the bound component failed and the default answered (policy `fallback`).
    pub fell_back: bool,
    /// True when the binding's canary answered.
    pub canary: bool,
}

/// This replica's view of every chain's bindings.
pub struct ComponentRegistry {
    source: Arc<dyn BindingSource>,
    breaker: Arc<dyn BreakerLog>,
    plugins: Arc<PluginRuntime>,
    defaults: Arc<PlatformDefaults>,
    settings: RegistrySettings,
    active: RwLock<HashMap<(Uuid, Hook), Active>>,
    shadows: RwLock<HashMap<(Uuid, Hook), ActiveShadow>>,
    failures: Mutex<HashMap<(Uuid, Hook), u32>>,
    canary_failures: Mutex<HashMap<(Uuid, Hook), u32>>,
    observer: Arc<dyn CallObserver>,
    /// Reloads read and swap under this lock, so a reload that read older rows can never
    /// install them over a newer one's.
    reloading: tokio::sync::Mutex<()>,
    /// Call statistics per chain and component.
    pub stats: ComponentStats,
}

impl ComponentRegistry {
    /// An empty registry; call [`ComponentRegistry::reload_all`] before serving.
    pub fn new(
        source: Arc<dyn BindingSource>,
        breaker: Arc<dyn BreakerLog>,
        plugins: Arc<PluginRuntime>,
        defaults: Arc<PlatformDefaults>,
        settings: RegistrySettings,
        observer: Arc<dyn CallObserver>,
    ) -> Self {
        Self {
            source,
            breaker,
            plugins,
            defaults,
            settings,
            active: RwLock::default(),
            shadows: RwLock::default(),
            failures: Mutex::default(),
            canary_failures: Mutex::default(),
            observer,
            reloading: tokio::sync::Mutex::new(()),
            stats: ComponentStats::default(),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &RegistrySettings {
        &self.settings
    }

    /// The platform default of `hook`.
    pub fn default_for(&self, hook: Hook) -> Option<Arc<LoadedComponent>> {
        self.defaults.get(hook).cloned()
    }

    /// The component that serves `hook` for `chain` right now.
    pub fn resolve(&self, chain: Uuid, hook: Hook) -> Option<Resolved> {
        let active = self
            .active
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(chain, hook))
            .cloned();
        match active {
            Some(Active {
                component: Some(component),
                on_failure,
                tripped: false,
                ..
            }) => Some(Resolved {
                component,
                bound: Some(on_failure),
            }),
            _ => self.default_for(hook).map(|component| Resolved {
                component,
                bound: None,
            }),
        }
    }

    /// Calls `chain`'s component for `hook` with `call`, applying the binding's canary,
    /// failure policy and breaker, and reports every attempt to the observer (the run log) and
    /// the answer to a shadow, if one runs. `None` inside the error means no component exists
    /// at all. `call` gets the component and whose fair share the call counts against: the
    /// chain's, except when the chain was over its share and its binding falls back to the
    /// default.
    pub async fn call<T, F, Fut>(
        &self,
        chain: Uuid,
        hook: Hook,
        context: &CallContext,
        call: F,
    ) -> Result<Answered<T>, Option<CallError>>
    where
        T: serde::Serialize,
        F: Fn(Arc<LoadedComponent>, Tenant) -> Fut,
        Fut: Future<Output = Result<Called<T>, CallError>>,
    {
        let answer = self.serve(chain, hook, context, &call).await;
        self.offer_shadow(chain, hook, context, &answer);
        answer
    }

    async fn serve<T, F, Fut>(
        &self,
        chain: Uuid,
        hook: Hook,
        context: &CallContext,
        call: &F,
    ) -> Result<Answered<T>, Option<CallError>>
    where
        T: serde::Serialize,
        F: Fn(Arc<LoadedComponent>, Tenant) -> Fut,
        Fut: Future<Output = Result<Called<T>, CallError>>,
    {
        if let Some(refusal) = self.refusal(chain, hook) {
            self.observe::<T>(
                (chain, hook),
                context,
                &refusal.component,
                false,
                Err(&refusal),
            );
            return Err(Some(refusal));
        }
        let tenant = Tenant::Chain(chain);
        if let Some(canary) = self.canary_for(chain, hook, context.customer) {
            let tried = call(canary.clone(), tenant).await;
            self.observe((chain, hook), context, &canary.id, true, tried.as_ref());
            match tried {
                Ok(called) => {
                    self.canary_succeeded(chain, hook);
                    return Ok(Answered {
                        called,
                        component: canary,
                        fell_back: false,
                        canary: true,
                    });
                }
                // A failing canary never costs the customer an answer: the stable component
                // serves this call, and enough failures in a row remove the canary.
                Err(e) => self.canary_failed(chain, hook, &canary, &e).await,
            }
        }
        let resolved = self.resolve(chain, hook).ok_or(None)?;
        let first = call(resolved.component.clone(), tenant).await;
        self.observe(
            (chain, hook),
            context,
            &resolved.component.id,
            false,
            first.as_ref(),
        );
        let answered = |called, component, fell_back| Answered {
            called,
            component,
            fell_back,
            canary: false,
        };
        let Some(policy) = resolved.bound else {
            return first
                .map(|called| answered(called, resolved.component, false))
                .map_err(Some);
        };
        match first {
            Ok(called) => {
                self.succeeded(chain, hook);
                Ok(answered(called, resolved.component, false))
            }
            Err(e) => {
                self.failed(chain, hook, &resolved.component, &e).await;
                if policy == OnFailure::Reject {
                    return Err(Some(e));
                }
                // Over its share, a falling-back chain is answered by the platform's own
                // component on the platform's slots: the default is cheap and well behaved,
                // and the chain's share is what refused it.
                let tenant = if e.kind == FailureKind::Busy {
                    Tenant::Platform
                } else {
                    tracing::warn!(%chain, %hook, component = %e.component, kind = e.kind.as_str(), report = %e.report(), "bound component failed; the platform default answers (fallback)");
                    tenant
                };
                let default = self.default_for(hook).ok_or(Some(e))?;
                let second = call(default.clone(), tenant).await;
                self.observe((chain, hook), context, &default.id, false, second.as_ref());
                second
                    .map(|called| answered(called, default, true))
                    .map_err(Some)
            }
        }
    }

    /// Reports one attempt to the observer and the per-replica statistics.
    fn observe<T: serde::Serialize>(
        &self,
        (chain, hook): (Uuid, Hook),
        context: &CallContext,
        component: &str,
        canary: bool,
        result: Result<&Called<T>, &CallError>,
    ) {
        match result {
            Ok(c) => self.stats.record(chain, component, &c.stats, None),
            Err(e) => self
                .stats
                .record(chain, component, &e.stats, Some(e.kind.as_str())),
        }
        let run = observe::record_of((chain, hook), context, component, canary, result);
        // Per chain, hook and outcome, with the chain labels bounded (`share::chain_label`).
        metrics::counter!(
            "cineflow_chain_component_runs_total",
            "chain" => crate::plugins::share::chain_label(chain),
            "hook" => hook.as_str(),
            "outcome" => run.outcome.as_str(),
            "canary" => if canary { "true" } else { "false" },
        )
        .increment(1);
        self.observer.ran(run);
    }

    /// Hands the answer to the hook's shadow, when one runs and this call is in its sample.
    fn offer_shadow<T: serde::Serialize>(
        &self,
        chain: Uuid,
        hook: Hook,
        context: &CallContext,
        answer: &Result<Answered<T>, Option<CallError>>,
    ) {
        let shadow = self
            .shadows
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(chain, hook))
            .cloned();
        let Some(shadow) = shadow else {
            return;
        };
        if !sampled(Uuid::new_v4(), shadow.sample_percent) {
            return;
        }
        let served = match answer {
            Ok(a) => Some(output_json(&a.called.output)),
            Err(_) => None,
        };
        self.observer.shadow(ShadowJob {
            chain,
            hook,
            candidate: shadow.component,
            context: context.clone(),
            served,
        });
    }

    /// A bound component that does not load on this replica, under `reject`: the call fails
    /// closed rather than quietly using the default (under `fallback` the default serves).
    fn refusal(&self, chain: Uuid, hook: Hook) -> Option<CallError> {
        let active = self.active.read().unwrap_or_else(|e| e.into_inner());
        let a = active.get(&(chain, hook))?;
        if a.component.is_some() || a.tripped || a.on_failure != OnFailure::Reject {
            return None;
        }
        Some(CallError::new(
            hook,
            a.component_id.clone(),
            FailureKind::Unavailable,
            format!(
                "the bound component does not load on this replica: {}",
                a.broken.as_deref().unwrap_or("unknown reason")
            ),
        ))
    }
}
