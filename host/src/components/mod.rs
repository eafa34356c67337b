//! Chains' own components: uploads checked against the hook's fixtures, bindings with a
//! failure policy and a breaker, dry runs, and call statistics.

pub mod fixtures;
pub mod invoke;
pub mod registry;
pub mod stats;

pub use registry::{ComponentQuota, ComponentRegistry, OnFailure, RegistrySettings};
