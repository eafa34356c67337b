//! The registry's settings: the breaker's threshold, how often bindings are reconciled, and
//! what one chain may store.

use std::time::Duration;

/// Settings of the registry.
#[derive(Debug, Clone, Copy)]
pub struct RegistrySettings {
    /// Consecutive failures of a bound component that trip its breaker.
    pub breaker_failures: u32,
    /// How often every binding is re-read, in case a notification was missed.
    pub reconcile_every: Duration,
    /// What one chain may store.
    pub quota: ComponentQuota,
}

impl Default for RegistrySettings {
    fn default() -> Self {
        Self {
            breaker_failures: 5,
            reconcile_every: Duration::from_secs(30),
            quota: ComponentQuota::default(),
        }
    }
}

/// What one chain may store: uploads past it are 409 `quota_exceeded` (earlier versions stay
/// for rollback, so a chain that uploads on every change reaches it and must clean up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComponentQuota {
    /// Components (`CINEFLOW_CHAIN_MAX_COMPONENTS`).
    pub max_components: u32,
    /// Their bytes together (`CINEFLOW_CHAIN_COMPONENT_BYTES`).
    pub max_bytes: u64,
}

impl Default for ComponentQuota {
    fn default() -> Self {
        Self {
            max_components: 50,
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

impl ComponentQuota {
    /// Why one more component of `size` bytes does not fit beside `count` components of
    /// `bytes` bytes, if it does not.
    pub fn refuses(&self, count: i64, bytes: i64, size: u64) -> Option<String> {
        let count = u64::try_from(count).unwrap_or(0);
        let bytes = u64::try_from(bytes).unwrap_or(0);
        if count >= u64::from(self.max_components) {
            return Some(format!(
                "the chain already stores {count} components; the quota is {}",
                self.max_components
            ));
        }
        if bytes.saturating_add(size) > self.max_bytes {
            return Some(format!(
                "the chain's components take {bytes} bytes; {size} more would pass the quota of {}",
                self.max_bytes
            ));
        }
        None
    }
}
