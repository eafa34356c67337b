//! One module per hook, each owning everything about its hook: the `bindgen!` output of every
//! supported version, linking and the probe, the conversions between `domain::hook_io` and the
//! WIT types with the typed calls, the output checks, the fixtures, the default failure
//! policy and the JSON mapping of dry runs. WIT types stay inside these modules.
//!
//! The generic code (loading, the registry, dry runs, the fixtures runner) reaches a hook only
//! through [`module`], the one place a [`Hook`] meets its module.

pub(crate) mod booking_rules;
pub(crate) mod notify_templates;
pub(crate) mod pricing;
pub(crate) mod seat_picker;
mod types;

use std::any::Any;

use futures_util::future::BoxFuture;
use serde_json::Value;
use wasmtime::Store;
use wasmtime::component::InstancePre;

use super::hook::Hook;
use super::invoke::Invocation;
use super::registry::OnFailure;
use super::store::CallState;
use super::{LoadedComponent, PluginRuntime, Tenant};

/// A hook's `Pre` with one variant per supported version of its world, each probed alike
/// (`Linked`): `linked_versions!(Current(current::XPre<CallState>), V0_1(v0_1::XPre<CallState>))`.
macro_rules! linked_versions {
    ($($(#[$doc:meta])* $variant:ident($pre:ty)),+ $(,)?) => {
        /// A component of this hook, linked at its version.
        pub(crate) enum Pre {
            $($(#[$doc])* $variant($pre)),+
        }

        impl $crate::plugins::hooks::Linked for Pre {
            fn probe<'a>(
                &'a self,
                store: &'a mut ::wasmtime::Store<$crate::plugins::store::CallState>,
            ) -> ::futures_util::future::BoxFuture<'a, ::wasmtime::Result<()>> {
                Box::pin(async move {
                    match self {
                        $(Pre::$variant(pre) => pre.instantiate_async(store).await.map(drop)),+
                    }
                })
            }
        }
    };
}
pub(crate) use linked_versions;

/// One call written once for every supported version of a hook declared with
/// [`linked_versions!`]: `$body` is expanded once per listed version, with `$instance` the
/// freshly instantiated component and `$wit` that version's generated interface module (the
/// module's `wit`, `wit_v0_2`, `wit_v0_1`), whose types differ even where the records are the
/// same: `at_its_version!(linked, store, [Current => wit, V0_1 => wit_v0_1], |instance, w| ..)`.
macro_rules! at_its_version {
    ($linked:expr, $store:ident, [$($variant:ident => $witmod:ident),+ $(,)?], |$instance:ident, $wit:ident| $body:expr) => {
        match $linked {
            $(Pre::$variant(pre) => {
                let $instance = pre
                    .instantiate_async(&mut *$store)
                    .await
                    .map_err($crate::plugins::hooks::instantiation_failed)?;
                use $witmod as $wit;
                $body
            })+
        }
    };
}
pub(crate) use at_its_version;

/// What a hook's module declares; [`HookModule`] is its object-safe face.
pub(crate) trait HookSpec: Send + Sync + 'static {
    /// The hook.
    const HOOK: Hook;
    /// The policy of a binding that does not say.
    const ON_FAILURE: OnFailure;
    /// The fixtures every upload must pass (JSON, `{"cases": [...]}`).
    const FIXTURES: &'static str;
    /// The component linked for this hook: one variant per supported version.
    type Pre: Linked;
    /// The hook's input as JSON (dry runs, fixtures, test cases) parses into this.
    type Input: serde::de::DeserializeOwned + crate::domain::hook_io::WireSize;

    /// Links `pre` as this hook, newest version first; the error is the current version's.
    fn link(pre: InstancePre<CallState>) -> wasmtime::Result<Self::Pre>;

    /// Calls the component with `input` as JSON (the dry-run mapping of the hook).
    fn invoke<'a>(
        runtime: &'a PluginRuntime,
        tenant: Tenant,
        component: &'a LoadedComponent,
        input: Value,
    ) -> BoxFuture<'a, Result<Invocation, String>>;
}

/// A hook's pre-instantiation, type-erased for [`HookPre`].
pub(crate) trait Linked: Any + Send + Sync {
    /// Instantiates once and throws the instance away. Wasmtime checks the exported
    /// functions' *types* only when the typed bindings are instantiated (linking checks their
    /// names), so without this a component with the right names and wrong types would load
    /// and then fail every call.
    fn probe<'a>(&'a self, store: &'a mut Store<CallState>) -> BoxFuture<'a, wasmtime::Result<()>>;
}

/// What the generic code asks of a hook.
pub(crate) trait HookModule: Send + Sync {
    /// See [`HookSpec::HOOK`].
    fn hook(&self) -> Hook;
    /// Links `pre` as the hook (see [`HookSpec::link`]).
    fn link(&self, pre: InstancePre<CallState>) -> wasmtime::Result<HookPre>;
    /// See [`HookSpec::ON_FAILURE`].
    fn on_failure(&self) -> OnFailure;
    /// See [`HookSpec::FIXTURES`].
    fn fixtures(&self) -> &'static str;
    /// Parses `input` as the hook's input, answering its size on the wire (what the input
    /// cap limits).
    fn input_size(&self, input: Value) -> Result<usize, String>;
    /// See [`HookSpec::invoke`].
    fn invoke<'a>(
        &self,
        runtime: &'a PluginRuntime,
        tenant: Tenant,
        component: &'a LoadedComponent,
        input: Value,
    ) -> BoxFuture<'a, Result<Invocation, String>>;
}

impl<S: HookSpec> HookModule for S {
    fn hook(&self) -> Hook {
        S::HOOK
    }

    fn link(&self, pre: InstancePre<CallState>) -> wasmtime::Result<HookPre> {
        Ok(HookPre(Box::new(S::link(pre)?)))
    }

    fn on_failure(&self) -> OnFailure {
        S::ON_FAILURE
    }

    fn fixtures(&self) -> &'static str {
        S::FIXTURES
    }

    fn input_size(&self, input: Value) -> Result<usize, String> {
        use crate::domain::hook_io::WireSize as _;
        super::invoke::parse::<S::Input>(input).map(|i| i.wire_size())
    }

    fn invoke<'a>(
        &self,
        runtime: &'a PluginRuntime,
        tenant: Tenant,
        component: &'a LoadedComponent,
        input: Value,
    ) -> BoxFuture<'a, Result<Invocation, String>> {
        S::invoke(runtime, tenant, component, input)
    }
}

/// The module of `hook`: the one dispatch point a new hook adds an arm to.
pub(crate) fn module(hook: Hook) -> &'static dyn HookModule {
    match hook {
        Hook::BookingRules => &booking_rules::BookingRules,
        Hook::Pricing => &pricing::Pricing,
        Hook::NotifyTemplates => &notify_templates::NotifyTemplates,
        Hook::SeatPicker => &seat_picker::SeatPicker,
    }
}

/// A component linked for its hook, with its exports type-checked against the world: at the
/// current version or at a version the host still supports (docs/wit-versioning.md).
pub(crate) struct HookPre(Box<dyn Linked>);

impl HookPre {
    /// Fails when the component's exports match neither the hook's current world nor an older
    /// supported version of it.
    pub(crate) fn new(hook: Hook, pre: InstancePre<CallState>) -> wasmtime::Result<Self> {
        let module = module(hook);
        debug_assert_eq!(
            module.hook(),
            hook,
            "`module` maps every hook to its own module"
        );
        module.link(pre)
    }

    /// See [`Linked::probe`].
    pub(crate) async fn probe(&self, store: &mut Store<CallState>) -> wasmtime::Result<()> {
        self.0.probe(store).await
    }

    /// The hook's own pre-instantiation; an error when the component was linked for another
    /// hook (a host bug, reported as a trap-like failure).
    pub(crate) fn get<P: Linked>(&self, expected: Hook) -> wasmtime::Result<&P> {
        let any: &dyn Any = &*self.0;
        any.downcast_ref::<P>().ok_or_else(|| {
            wasmtime::format_err!("component is not linked as a {expected} component")
        })
    }
}

/// Instantiation failed for a reason other than the guest's own code (a trap in a start
/// function stays a trap): typically every instance slot of the pool is in use.
#[derive(Debug, thiserror::Error)]
#[error("could not instantiate the component: {0}")]
pub(crate) struct InstantiationFailed(String);

/// Marks an instantiation error as such, for `classify`.
pub(crate) fn instantiation_failed(e: wasmtime::Error) -> wasmtime::Error {
    let guest_fault = e.downcast_ref::<wasmtime::Trap>().is_some()
        || e.chain().any(|c| c.is::<super::MemoryLimitExceeded>());
    if guest_fault {
        e
    } else {
        wasmtime::Error::new(InstantiationFailed(format!("{e:#}")))
    }
}

/// Tries the current version's link, then an older one's; the error is the current one's.
/// A 0.1 component's export names (`…@0.1.0`) never match 0.2 names, so the first version
/// that links is the component's.
pub(crate) fn newest_first<P>(
    current: wasmtime::Result<P>,
    older: impl FnOnce() -> wasmtime::Result<P>,
) -> wasmtime::Result<P> {
    current.or_else(|e| older().map_err(|_| e))
}

/// [`newest_first`] over three versions: the current one, then 0.2, then 0.1.
pub(crate) fn newest_of_three<P>(
    current: wasmtime::Result<P>,
    v0_2: impl FnOnce() -> wasmtime::Result<P>,
    v0_1: impl FnOnce() -> wasmtime::Result<P>,
) -> wasmtime::Result<P> {
    newest_first(current, || newest_first(v0_2(), v0_1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hook_dispatches_to_its_own_module() {
        for hook in Hook::ALL {
            assert_eq!(module(hook).hook(), hook);
        }
    }
}
