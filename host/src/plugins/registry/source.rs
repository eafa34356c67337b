//! What the registry needs from storage, as traits the domain implements: the registry runs
//! guests and keeps its table, the domain owns where bindings, bytes and breaker trips live.
//! Boxed futures keep the traits object-safe, so the registry is not generic over storage.

use futures_util::future::BoxFuture;
use uuid::Uuid;

use crate::plugins::Hook;

/// A chain's hook bound to one of its components, as the registry needs it.
#[derive(Debug, Clone)]
pub struct BoundComponent {
    /// The chain.
    pub chain: Uuid,
    /// The hook's stored name; rows of a hook this build does not know are skipped.
    pub hook: String,
    /// The component's sha256.
    pub component_id: String,
    /// The stored policy name (`reject`, `fallback`).
    pub on_failure: String,
    /// The breaker tripped: the chain's calls go to the default until it binds again.
    pub tripped: bool,
    /// A share of the customers served by a candidate.
    pub canary: Option<CanarySpec>,
}

/// A binding's canary.
#[derive(Debug, Clone)]
pub struct CanarySpec {
    /// The candidate's sha256.
    pub component_id: String,
    /// The share of customers it serves, 1..=99.
    pub percent: u8,
}

/// A candidate shadowing a chain's hook.
#[derive(Debug, Clone)]
pub struct ShadowSpec {
    /// The chain.
    pub chain: Uuid,
    /// The hook's stored name.
    pub hook: String,
    /// The candidate's sha256.
    pub component_id: String,
    /// The share of calls it shadows, 1..=100.
    pub sample_percent: u8,
}

/// Where the registry reads bindings and component bytes.
pub trait BindingSource: Send + Sync {
    /// The bindings of `chain`, or of every chain with `None`.
    fn bindings(&self, chain: Option<Uuid>) -> BoxFuture<'_, anyhow::Result<Vec<BoundComponent>>>;

    /// The shadows of `chain`, or of every chain with `None`.
    fn shadows(&self, chain: Option<Uuid>) -> BoxFuture<'_, anyhow::Result<Vec<ShadowSpec>>>;

    /// The stored bytes of component `id`, if any.
    fn bytes<'a>(&'a self, id: &'a str) -> BoxFuture<'a, anyhow::Result<Option<Vec<u8>>>>;
}

/// Where a breaker trip is recorded (durably, audited, and announced to every replica).
pub trait BreakerLog: Send + Sync {
    /// Marks `chain`'s binding of `hook` to `component` tripped with `reason`; `false` when
    /// it was already tripped or is no longer bound to that component.
    fn trip<'a>(
        &'a self,
        chain: Uuid,
        hook: Hook,
        component: &'a str,
        reason: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<bool>>;

    /// Removes `chain`'s canary `component` of `hook` after its breaker tripped, with
    /// `reason` (audited); `false` when that canary was no longer set.
    fn trip_canary<'a>(
        &'a self,
        chain: Uuid,
        hook: Hook,
        component: &'a str,
        reason: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<bool>>;
}
