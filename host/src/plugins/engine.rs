//! The one wasmtime `Engine` of the process: Cranelift, pooling allocator, fuel and epochs.

use std::hash::{Hash, Hasher};
use std::thread;
use std::time::Duration;

use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig,
    WasmBacktraceDetails,
};

use super::limits::Limits;

/// How often the epoch advances. Each tick lets a running guest yield to the async executor
/// and re-checks its wall-clock deadline, so it bounds how late a deadline can fire.
pub const EPOCH_TICK: Duration = Duration::from_millis(2);

/// Bytes of a slot's linear memory reset in place (rather than decommitted) after a call.
const KEEP_RESIDENT: usize = 2 * 1024 * 1024;

/// Sizing of the instance pool.
#[derive(Debug, Clone)]
pub struct PoolSize {
    /// Component instances alive at once, i.e. concurrent calls across all hooks.
    pub max_concurrent_calls: u32,
    /// Largest linear memory any hook may configure.
    pub max_memory_bytes: u64,
}

impl PoolSize {
    /// A pool large enough for every hook's limits.
    pub fn for_limits<'a>(limits: impl IntoIterator<Item = &'a Limits>, calls: u32) -> Self {
        let max_memory_bytes = limits
            .into_iter()
            .map(|l| l.max_memory_bytes)
            .max()
            .unwrap_or(Limits::default().max_memory_bytes);
        Self {
            max_concurrent_calls: calls,
            max_memory_bytes,
        }
    }
}

/// Builds the engine and starts its epoch ticker. The ticker holds only a weak reference,
/// so it ends by itself when the last clone of the engine is dropped.
pub fn build(pool: &PoolSize) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.consume_fuel(true);
    config.epoch_interruption(true);
    // Backtraces name each frame's function from the component's `name` section, which
    // wasmtime always reads. DWARF (file and line) is not parsed, whatever
    // WASMTIME_BACKTRACE_DETAILS says: a chain's upload could carry megabytes of it, and the
    // guest's panic message already names the file and line.
    config.wasm_backtrace_details(WasmBacktraceDetails::Disable);
    let memory = usize::try_from(pool.max_memory_bytes).unwrap_or(usize::MAX);
    // Reserving only what the largest limit allows (instead of 4 GiB per slot) keeps a
    // thousand-slot pool at a few GiB of address space; bounds checks become explicit.
    config.memory_reservation(pool.max_memory_bytes);
    config.memory_guard_size(64 * 1024);
    config.max_wasm_stack(512 * 1024);
    let calls = pool.max_concurrent_calls;
    let mut pooling = PoolingAllocationConfig::default();
    pooling
        .total_component_instances(calls)
        // A wasip2 guest is one core module plus a few shim instances.
        .total_core_instances(calls.saturating_mul(8))
        .max_core_instances_per_component(16)
        .max_memories_per_component(2)
        .max_tables_per_component(8)
        .total_memories(calls.saturating_mul(2))
        .total_tables(calls.saturating_mul(8))
        .total_stacks(calls)
        .max_memory_size(memory)
        // Reset a returned slot by zeroing only the pages the call dirtied (PAGEMAP_SCAN,
        // Linux >= 6.7) instead of madvise: the next call then takes no page faults on its
        // stack and heap. This halved the fresh-instance call time (docs/BENCHMARKS.md).
        .pagemap_scan(Enabled::Auto)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(64 * 1024)
        .async_stack_keep_resident(64 * 1024);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    let engine = Engine::new(&config)?;
    start_ticker(&engine);
    Ok(engine)
}

fn start_ticker(engine: &Engine) {
    let weak = engine.weak();
    let spawned = thread::Builder::new()
        .name("wasm-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                thread::sleep(EPOCH_TICK);
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not start the epoch ticker; deadlines will not fire");
    }
}

/// Identifies compiled artifacts this engine can load: wasmtime's version, the target and
/// every setting that changes generated code.
pub fn fingerprint(engine: &Engine) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("wasmtime{}-{:016x}", wasmtime_version(), hasher.finish())
}

fn wasmtime_version() -> &'static str {
    // The dependency is pinned to 48 in the workspace; the hash above covers the exact
    // patch release as well.
    "48"
}
