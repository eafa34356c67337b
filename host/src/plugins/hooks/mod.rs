//! One file per hook: conversions between the host's `domain::hook_io` types and the
//! generated WIT types, and the typed call functions. WIT types stay inside this module.

mod booking_rules;
mod notify_templates;
mod pricing;
mod seat_picker;
mod types;

use wasmtime::component::InstancePre;

use super::bindings;
use super::hook::Hook;
use super::store::CallState;

/// A component linked for its hook, with its exports type-checked against the world: at the
/// current version (0.2.0) or at a version the host still supports (0.1.0,
/// docs/wit-versioning.md).
pub(crate) enum HookPre {
    BookingRules(bindings::booking_rules::BookingRulesPre<CallState>),
    Pricing(bindings::pricing::PricingPre<CallState>),
    NotifyTemplates(bindings::notify_templates::NotifyTemplatesPre<CallState>),
    SeatPicker(bindings::seat_picker::SeatPickerPre<CallState>),
    BookingRulesV0_1(bindings::v0_1::booking_rules::BookingRulesPre<CallState>),
    PricingV0_1(bindings::v0_1::pricing::PricingPre<CallState>),
    NotifyTemplatesV0_1(bindings::v0_1::notify_templates::NotifyTemplatesPre<CallState>),
}

impl HookPre {
    /// Fails when the component's exports match neither the hook's current world nor an older
    /// supported version of it. The newest version is tried first; a 0.1 component's export
    /// names (`…@0.1.0`) never match 0.2 names, so the first version that links is the
    /// component's. The error is the current version's.
    pub(crate) fn new(hook: Hook, pre: InstancePre<CallState>) -> wasmtime::Result<Self> {
        use bindings::v0_1;
        Ok(match hook {
            Hook::BookingRules => {
                match bindings::booking_rules::BookingRulesPre::new(pre.clone()) {
                    Ok(p) => Self::BookingRules(p),
                    Err(e) => Self::BookingRulesV0_1(
                        v0_1::booking_rules::BookingRulesPre::new(pre).map_err(|_| e)?,
                    ),
                }
            }
            Hook::Pricing => match bindings::pricing::PricingPre::new(pre.clone()) {
                Ok(p) => Self::Pricing(p),
                Err(e) => Self::PricingV0_1(v0_1::pricing::PricingPre::new(pre).map_err(|_| e)?),
            },
            // There is no 0.1 seat-picker: the hook is new in 0.2.1.
            Hook::SeatPicker => Self::SeatPicker(bindings::seat_picker::SeatPickerPre::new(pre)?),
            Hook::NotifyTemplates => {
                match bindings::notify_templates::NotifyTemplatesPre::new(pre.clone()) {
                    Ok(p) => Self::NotifyTemplates(p),
                    Err(e) => Self::NotifyTemplatesV0_1(
                        v0_1::notify_templates::NotifyTemplatesPre::new(pre).map_err(|_| e)?,
                    ),
                }
            }
        })
    }
}

impl HookPre {
    /// Instantiates once and throws the instance away. Wasmtime checks the exported
    /// functions' *types* only when the typed bindings are instantiated (linking checks their
    /// names), so without this a component with the right names and wrong types would load
    /// and then fail every call.
    pub(crate) async fn probe(
        &self,
        store: &mut wasmtime::Store<CallState>,
    ) -> wasmtime::Result<()> {
        match self {
            Self::BookingRules(pre) => pre.instantiate_async(&mut *store).await.map(drop),
            Self::Pricing(pre) => pre.instantiate_async(&mut *store).await.map(drop),
            Self::NotifyTemplates(pre) => pre.instantiate_async(&mut *store).await.map(drop),
            Self::SeatPicker(pre) => pre.instantiate_async(&mut *store).await.map(drop),
            Self::BookingRulesV0_1(pre) => pre.instantiate_async(&mut *store).await.map(drop),
            Self::PricingV0_1(pre) => pre.instantiate_async(&mut *store).await.map(drop),
            Self::NotifyTemplatesV0_1(pre) => pre.instantiate_async(&mut *store).await.map(drop),
        }
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

/// The component was linked for another hook: a host bug, reported as a trap-like failure.
fn wrong_hook(expected: Hook) -> wasmtime::Error {
    wasmtime::format_err!("component is not linked as a {expected} component")
}
