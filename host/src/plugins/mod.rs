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

mod bindings;
pub mod cache;
mod checks;
pub mod engine;
mod error;
pub mod fixtures;
pub mod hook;
mod hooks;
pub mod invoke;
pub mod limits;
mod metrics;
pub mod registry;
mod reuse;
mod share;
pub mod stats;
mod store;
mod wasi;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store, Trap};

use crate::domain::hook_io::WireSize;

pub use error::{CallError, FailureKind, LoadError};
pub use hook::Hook;
pub use limits::{Limits, OutputBounds};
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

/// How long a compilation may take before the upload is refused (the compile itself runs
/// on and keeps its permit until it ends; it cannot be interrupted).
pub const COMPILE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Frees a chain's compile mark when its compile ends (it travels into the blocking task, so
/// a compile whose upload timed out still counts against the chain until it is done).
struct CompileMark {
    set: Arc<std::sync::Mutex<std::collections::HashSet<uuid::Uuid>>>,
    chain: Option<uuid::Uuid>,
}

impl Drop for CompileMark {
    fn drop(&mut self) {
        if let Some(chain) = self.chain {
            self.set
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&chain);
        }
    }
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

    /// Checks `bytes` and makes them callable as `hook`, for the platform (defaults, bindings
    /// being followed, the local runner). See [`PluginRuntime::load_for`].
    pub async fn load(&self, hook: Hook, bytes: &[u8]) -> Result<Arc<LoadedComponent>, LoadError> {
        self.load_for(Tenant::Platform, hook, bytes).await
    }

    /// Checks `bytes` and makes them callable as `hook`. Loading the same bytes for the same
    /// hook again returns the already linked component. A chain compiles one component at a
    /// time (a second upload meanwhile is [`LoadError::Busy`]), and a compilation that takes
    /// longer than [`COMPILE_TIMEOUT`] is refused while it runs on, still counted.
    pub async fn load_for(
        &self,
        tenant: Tenant,
        hook: Hook,
        bytes: &[u8],
    ) -> Result<Arc<LoadedComponent>, LoadError> {
        let limits = self.limits(hook);
        let size = bytes.len() as u64;
        if size > limits.max_component_bytes {
            return Err(LoadError::TooLarge {
                size,
                limit: limits.max_component_bytes,
            });
        }
        sniff(bytes)?;
        let id = sha256_hex(bytes);
        if let Some(hit) = self.cached(&id, hook) {
            return Ok(hit);
        }
        let chain = match tenant {
            Tenant::Chain(chain) => Some(chain),
            Tenant::Platform => None,
        };
        if let Some(chain) = chain
            && !self
                .compiling_for
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(chain)
        {
            return Err(LoadError::Busy(
                "this chain already has a component compiling on this replica".to_owned(),
            ));
        }
        let mark = CompileMark {
            set: self.compiling_for.clone(),
            chain,
        };
        // One compilation at a time per replica: a component asked for twice at once (an
        // upload's precompile racing a bind's reload) is compiled once, the second caller
        // finds it loaded.
        let permit = self
            .compiling
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| LoadError::Invalid("the compiler is shut down".to_owned()))?;
        if let Some(hit) = self.cached(&id, hook) {
            return Ok(hit);
        }
        let engine = self.engine.clone();
        let cache = self.cache.clone();
        let owned = bytes.to_vec();
        let sha = id.clone();
        // Compiling is CPU-bound for tens of milliseconds: keep it off the async workers.
        let compile = tokio::task::spawn_blocking(move || {
            let (_permit, _mark) = (permit, mark);
            cache.load_or_compile(&engine, &sha, &owned)
        });
        let (component, how) = tokio::time::timeout(COMPILE_TIMEOUT, compile)
            .await
            .map_err(|_| {
                LoadError::Invalid(format!(
                    "compilation took longer than {} s",
                    COMPILE_TIMEOUT.as_secs()
                ))
            })?
            .map_err(|e| LoadError::Invalid(format!("compilation was interrupted: {e}")))?
            .map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
        metrics::record_load(hook, how);
        let pre = self.link(hook, &component)?;
        // The probe instantiates, so it needs a slot of the pool like any call.
        let _slot = self.share.pool_slot().await;
        let mut store = store::new_store(&self.engine, &limits)
            .map_err(|e| LoadError::Invalid(format!("{e:#}")))?;
        pre.probe(&mut store)
            .await
            .map_err(|e| LoadError::WrongWorld {
                hook,
                world: hook.world(),
                reason: format!("{e:#}"),
            })?;
        drop(store);
        let loaded = Arc::new(LoadedComponent {
            id: id.clone(),
            hook,
            size_bytes: size,
            pre,
        });
        let mut map = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        Ok(map.entry((id, hook)).or_insert(loaded).clone())
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

    fn link(&self, hook: Hook, component: &Component) -> Result<hooks::HookPre, LoadError> {
        let instance_pre = self
            .linker
            .instantiate_pre(component)
            .map_err(|e| LoadError::UnsupportedImports(format!("{e:#}")))?;
        hooks::HookPre::new(hook, instance_pre).map_err(|e| LoadError::WrongWorld {
            hook,
            world: hook.world(),
            reason: format!("{e:#}"),
        })
    }

    /// Runs one call of `component`: checks the input size, builds a fresh store,
    /// instantiates, calls `invoke`, then classifies, measures, checks and records.
    async fn call<I, O, F>(
        &self,
        tenant: Tenant,
        component: &LoadedComponent,
        input: &I,
        invoke: F,
        check: impl FnOnce(&O) -> Result<(), String>,
    ) -> Result<Called<O>, CallError>
    where
        I: WireSize,
        O: WireSize,
        F: AsyncFnOnce(
            &hooks::HookPre,
            &mut Store<CallState>,
        ) -> wasmtime::Result<Result<O, String>>,
    {
        let hook = component.hook;
        let limits = self.limits(hook);
        let fail = |kind, message: String, stats, log| {
            metrics::record_call(hook, &component.id, FailureKind::as_str(kind), &stats);
            CallError {
                hook,
                component: component.id.clone(),
                kind,
                message,
                stats,
                log,
                retry_after: None,
            }
        };
        let input_size = input.wire_size() as u64;
        if input_size > limits.max_input_bytes {
            return Err(fail(
                FailureKind::InputTooLarge,
                format!(
                    "input of ~{input_size} bytes exceeds {}",
                    limits.max_input_bytes
                ),
                CallStats::default(),
                String::new(),
            ));
        }
        let admitted = self
            .share
            .admit(tenant, limits.fuel)
            .await
            .map_err(|refusal| {
                let kind = match refusal {
                    Refusal::PoolFull => FailureKind::Unavailable,
                    Refusal::ChainBusy { .. } | Refusal::ChainOutOfFuel { .. } => FailureKind::Busy,
                };
                CallError {
                    retry_after: Some(refusal.retry_after()),
                    ..fail(
                        kind,
                        refusal.message(self.share.settings()),
                        CallStats::default(),
                        String::new(),
                    )
                }
            })?;
        let started = Instant::now();
        let mut store = store::new_store(&self.engine, &limits).map_err(|e| {
            fail(
                FailureKind::Unavailable,
                format!("{e:#}"),
                CallStats::default(),
                String::new(),
            )
        })?;
        // The hard timeout: whatever the guest does (a host call that parks, a wait the WASI
        // layer did not refuse), the call ends here and dropping the store frees its slot.
        let hard = hard_timeout(limits.deadline);
        let result = match tokio::time::timeout(hard, invoke(&component.pre, &mut store)).await {
            Ok(result) => result,
            Err(_) => Err(wasmtime::Error::new(HardTimeout { after: hard })),
        };
        let mut stats = store::stats(&store, limits.fuel);
        stats.duration = started.elapsed();
        let log = store::log(&store);
        let ran = store.data().ran();
        drop(store);
        self.share.charge(
            &admitted,
            share::charge_for(stats.fuel_used, ran, limits.fuel, limits.deadline),
        );
        drop(admitted);
        let output = match result {
            Ok(output) => output,
            Err(e) => {
                let kind = classify(&e);
                return Err(fail(kind, format!("{e:#}"), stats, log));
            }
        };
        let output_size = match &output {
            Ok(v) => v.wire_size(),
            Err(reason) => reason.len(),
        } as u64;
        if output_size > limits.max_output_bytes {
            return Err(fail(
                FailureKind::OutputTooLarge,
                format!(
                    "output of ~{output_size} bytes exceeds {}",
                    limits.max_output_bytes
                ),
                stats,
                log,
            ));
        }
        match &output {
            Ok(value) => {
                if let Err(why) = check(value) {
                    return Err(fail(FailureKind::InvalidOutput, why, stats, log));
                }
                metrics::record_call(hook, &component.id, "ok", &stats);
            }
            Err(_) => metrics::record_call(hook, &component.id, "refused", &stats),
        }
        Ok(Called { output, stats, log })
    }
}

/// The wall-clock time after which a call is stopped whatever it is doing: a few times its
/// deadline (which counts running time only, so a call waiting for a CPU on a busy machine is
/// not stopped early), and never less than a quarter of a second.
pub(crate) fn hard_timeout(deadline: std::time::Duration) -> std::time::Duration {
    deadline
        .saturating_mul(store::WALL_FACTOR)
        .max(std::time::Duration::from_millis(250))
}

/// The host stopped a call that had run past its hard timeout.
#[derive(Debug, thiserror::Error)]
#[error("the host stopped the call after {} ms of wall-clock time (the hard timeout)", after.as_millis())]
pub struct HardTimeout {
    after: std::time::Duration,
}

/// Components start with `\0asm` and a layer/version word: `0d 00 01 00` for a component,
/// `01 00 00 00` for a core module.
fn sniff(bytes: &[u8]) -> Result<(), LoadError> {
    match bytes.get(..8) {
        Some([0x00, 0x61, 0x73, 0x6d, _, _, 0x01, 0x00]) => Ok(()),
        Some([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]) => Err(LoadError::CoreModule),
        _ => Err(LoadError::NotWasm),
    }
}

fn classify(e: &wasmtime::Error) -> FailureKind {
    if e.chain().any(|c| c.is::<MemoryLimitExceeded>()) {
        return FailureKind::MemoryLimit;
    }
    if e.chain()
        .any(|c| c.is::<HardTimeout>() || c.is::<WaitRefused>())
    {
        return FailureKind::Timeout;
    }
    // A full resource table: the guest kept too many WASI handles alive.
    if e.chain().any(|c| {
        matches!(
            c.downcast_ref::<wasmtime::component::ResourceTableError>(),
            Some(wasmtime::component::ResourceTableError::Full)
        )
    }) {
        return FailureKind::MemoryLimit;
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => FailureKind::OutOfFuel,
        Some(Trap::Interrupt) => FailureKind::Timeout,
        Some(_) => FailureKind::Trap,
        None if e.is::<hooks::InstantiationFailed>() => FailureKind::Unavailable,
        None => FailureKind::Trap,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_tells_components_from_core_modules() {
        assert!(sniff(&[0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]).is_ok());
        assert!(matches!(
            sniff(&[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
            Err(LoadError::CoreModule)
        ));
        assert!(matches!(sniff(b"hello world"), Err(LoadError::NotWasm)));
        assert!(matches!(sniff(b""), Err(LoadError::NotWasm)));
    }

    fn default_pricing() -> Vec<u8> {
        let dir = std::env::var("CINEFLOW_COMPONENTS_DIR").map_or_else(
            |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/components"),
            PathBuf::from,
        );
        let path = dir.join("pricing.wasm");
        std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; run scripts/build-components.sh", path.display()))
    }

    /// No guest can park inside a host call any more (the WASI layer refuses waits), so the
    /// hard timeout is shown with a call whose host side parks: it ends by the timeout, not
    /// after the minute the future would take, and the one slot of the pool is free again.
    #[tokio::test]
    async fn the_hard_timeout_ends_a_call_parked_in_the_host_and_frees_its_slot() {
        let limits = Limits {
            deadline: std::time::Duration::from_millis(20),
            ..Limits::default()
        };
        let mut config = RuntimeConfig::uniform(limits, None);
        config.max_concurrent_calls = 1;
        let rt = PluginRuntime::new(config).expect("runtime");
        let pricing = rt
            .load(Hook::Pricing, &default_pricing())
            .await
            .expect("loads");
        let started = Instant::now();
        let parked = rt
            .call(
                Tenant::Platform,
                &pricing,
                &String::new(),
                async |_, _| {
                    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                    Ok(Ok(String::new()))
                },
                |_| Ok(()),
            )
            .await
            .expect_err("stopped");
        assert_eq!(parked.kind, FailureKind::Timeout, "{}", parked.message);
        assert!(
            parked.message.contains("hard timeout"),
            "{}",
            parked.message
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "ended by the hard timeout ({:?}), not by the parked future",
            started.elapsed()
        );
        let fixture = fixtures::of(Hook::Pricing).expect("fixtures").remove(0);
        let after = invoke::invoke(&rt, Tenant::Platform, &pricing, fixture.input)
            .await
            .expect("input fits");
        assert!(
            after.outcome.is_ok(),
            "the slot is free for the next call: {:?}",
            after.outcome.err()
        );
    }

    #[test]
    fn the_hard_timeout_is_a_few_deadlines_and_at_least_a_quarter_second() {
        use std::time::Duration;
        assert_eq!(
            hard_timeout(Duration::from_millis(100)),
            Duration::from_secs(1)
        );
        assert_eq!(
            hard_timeout(Duration::from_millis(1)),
            Duration::from_millis(250)
        );
    }

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
