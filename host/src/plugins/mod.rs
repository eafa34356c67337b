//! The component runtime: loads chain components and calls them in a sandbox.
//!
//! One wasmtime [`Engine`] for the process (pooling allocator, fuel, epoch ticker); each
//! component is compiled once (cached on disk by sha256 + engine fingerprint) and linked once
//! into an `InstancePre`; every call gets a fresh `Store` under the hook's [`Limits`], runs
//! asynchronously (yielding to tokio), and has its output checked before the host uses it.
//!
//! Above the runtime, the chains' own components: which component serves each chain's hook on
//! this replica, with the binding's failure policy and breaker ([`registry`]); the hooks'
//! fixtures every upload must pass ([`fixtures`]); calls with the input given as JSON, for dry
//! runs, the fixtures and the local runner ([`invoke`]); and per-replica call statistics
//! ([`stats`]).
#![deny(missing_docs)]

pub mod cache;
mod call;
pub mod cases;
pub mod engine;
mod error;
pub mod fixtures;
pub mod hook;
mod hooks;
pub mod invoke;
pub mod limits;
mod load;
mod metrics;
pub mod registry;
pub mod report;
mod reuse;
mod share;
pub mod stats;
mod store;
mod wasi;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Linker;

pub use call::HardTimeout;
pub use error::{CallError, FailureKind, LoadError};
pub use hook::Hook;
pub use limits::{Limits, OutputBounds};
pub use load::COMPILE_TIMEOUT;
pub use registry::{ComponentQuota, ComponentRegistry, OnFailure, RegistrySettings};
pub use reuse::ReusedPricing;
pub use share::{ChainUsage, FairShare, Refusal, ShareSettings, Tenant};
pub use store::{CallStats, MemoryLimitExceeded};
pub use wasi::WaitRefused;

use cache::ArtifactCache;
use store::CallState;

/// Settings of the runtime.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Limits per hook.
    pub limits: HashMap<Hook, Limits>,
    /// Bounds on outputs.
    pub bounds: OutputBounds,
    /// Where compiled artifacts are cached; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Instance slots in the pool (concurrent calls).
    pub max_concurrent_calls: u32,
    /// Each chain's share of the pool and the CPU; `None`: the defaults for the pool.
    pub share: Option<ShareSettings>,
}

impl RuntimeConfig {
    /// The same limits for every hook.
    pub fn uniform(limits: Limits, cache_dir: Option<PathBuf>) -> Self {
        Self {
            limits: Hook::ALL.into_iter().map(|h| (h, limits.clone())).collect(),
            bounds: OutputBounds::default(),
            cache_dir,
            max_concurrent_calls: 1000,
            share: None,
        }
    }
}

/// The lowercase hex sha256 of `bytes`: a component's identity.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A component compiled and linked for one hook, ready to be called.
pub struct LoadedComponent {
    /// Lowercase hex sha256 of the component's bytes.
    pub id: String,
    /// The hook it was linked for.
    pub hook: Hook,
    /// Size of the component's bytes.
    pub size_bytes: u64,
    pre: hooks::HookPre,
}

impl std::fmt::Debug for LoadedComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedComponent")
            .field("id", &self.id)
            .field("hook", &self.hook)
            .field("size_bytes", &self.size_bytes)
            .finish_non_exhaustive()
    }
}

/// The answer of a successful call: the component's decision (`Err` is a refusal with the
/// component's reason, not a failure) and what it cost.
#[derive(Debug, Clone)]
pub struct Called<T> {
    /// The decision.
    pub output: Result<T, String>,
    /// Fuel, time and memory used.
    pub stats: CallStats,
    /// What the component wrote to stdout/stderr (capped).
    pub log: String,
}

/// The plugin runtime; cheap to share behind an `Arc`.
pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<CallState>,
    cache: ArtifactCache,
    config: RuntimeConfig,
    loaded: RwLock<HashMap<(String, Hook), Arc<LoadedComponent>>>,
    /// One compilation at a time per replica; the permit travels into the blocking task,
    /// so a compile whose caller gave up still holds it until it really ends.
    compiling: Arc<tokio::sync::Semaphore>,
    /// Chains with a compilation running: one each, so no chain can queue the compiler up.
    compiling_for: Arc<std::sync::Mutex<std::collections::HashSet<uuid::Uuid>>>,
    share: FairShare,
}

impl PluginRuntime {
    /// Builds the engine, the WASI linker and the artifact cache.
    pub fn new(config: RuntimeConfig) -> anyhow::Result<Self> {
        let pool =
            engine::PoolSize::for_limits(config.limits.values(), config.max_concurrent_calls);
        let engine = engine::build(&pool)?;
        let mut linker = Linker::new(&engine);
        // Std guests import wasi:cli and wasi:io even when they never use them; they get an
        // empty context (see `store::new_store`) and a clock that cannot wait (`wasi`).
        wasi::add_to_linker(&mut linker)?;
        let cache = ArtifactCache::new(config.cache_dir.clone(), &engine);
        let biggest = config
            .limits
            .values()
            .max_by_key(|l| l.fuel)
            .cloned()
            .unwrap_or_default();
        let share = FairShare::new(
            config.max_concurrent_calls,
            config.share.unwrap_or_else(|| {
                ShareSettings::defaults_here(
                    config.max_concurrent_calls,
                    biggest.fuel,
                    biggest.deadline,
                )
            }),
        );
        Ok(Self {
            share,
            engine,
            linker,
            cache,
            config,
            loaded: RwLock::new(HashMap::new()),
            compiling: Arc::new(tokio::sync::Semaphore::new(1)),
            compiling_for: Arc::default(),
        })
    }

    /// The limits calls of `hook` run under.
    pub fn limits(&self, hook: Hook) -> Limits {
        self.config.limits.get(&hook).cloned().unwrap_or_default()
    }

    /// Each chain's share of this replica's pool and CPU.
    pub fn share(&self) -> &FairShare {
        &self.share
    }

    /// The engine, for benchmarks and tools.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Drops a loaded component from this replica's table (calls holding it finish first);
    /// used for uploads that fail their fixtures.
    pub fn forget(&self, id: &str, hook: Hook) {
        let mut map = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        map.remove(&(id.to_owned(), hook));
    }

    /// The component if this replica has already loaded it for `hook`.
    pub fn cached(&self, id: &str, hook: Hook) -> Option<Arc<LoadedComponent>> {
        let map = self.loaded.read().unwrap_or_else(|e| e.into_inner());
        map.get(&(id.to_owned(), hook)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
