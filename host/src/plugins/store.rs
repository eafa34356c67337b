//! One `Store` per call: an empty WASI world, a memory limiter that records the peak, a
//! captured and capped log, fuel and an epoch deadline.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, ResourceLimiter, Store, UpdateDeadline};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use super::limits::Limits;

/// Everything a single call's store holds.
pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryLimiter,
    log: CappedLog,
    started: Instant,
    /// When the epoch callback last ran.
    last_tick: Instant,
    /// Time the guest spent running (what the deadline limits).
    ran: Duration,
    deadline: Duration,
}

/// The most one epoch callback adds to the running time: a couple of ticks.
const MAX_STEP: Duration = Duration::from_millis(2 * super::engine::EPOCH_TICK.as_millis() as u64);

/// A call that has taken this many times its deadline in wall-clock time is stopped, however
/// little of that it spent running: the epoch callback's half of the hard timeout (the other
/// half, for time spent inside host calls, is the `tokio::time::timeout` around every call).
pub(crate) const WALL_FACTOR: u32 = 10;

/// Entries a call may keep in its WASI resource table at once (streams, pollables, sockets
/// refused before they exist). A std guest keeps a handful; wasmtime's own default is a
/// million, which a loop of `get-stdout` calls would fill with host memory.
pub(crate) const MAX_RESOURCES: usize = 1_000;

/// The most `get-random-bytes` may ask for in one call (wasmtime-wasi's default is 64 MiB,
/// allocated on the host before the guest's memory limit could refuse it).
pub(crate) const MAX_RANDOM_BYTES: u64 = 64 * 1024;

impl CallState {
    /// The call's resource table, for host functions the host defines itself.
    pub(crate) fn table_mut(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    /// Guest running time so far, as the epoch callback measured it.
    pub(crate) fn ran(&self) -> Duration {
        self.ran
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// What one call cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CallStats {
    /// Fuel (roughly, wasm instructions) consumed.
    pub fuel_used: u64,
    /// Wall time from instantiation to the returned value.
    pub duration: Duration,
    /// Largest linear memory the instance grew to, in bytes.
    pub peak_memory_bytes: u64,
}

/// A guest tried to grow its memory past the configured cap.
#[derive(Debug, thiserror::Error)]
#[error("memory limit exceeded: the component asked for {desired} bytes, the limit is {limit}")]
pub struct MemoryLimitExceeded {
    /// Bytes requested.
    pub desired: u64,
    /// The cap.
    pub limit: u64,
}

/// Builds a fresh store for one call under `limits`.
pub(crate) fn new_store(engine: &Engine, limits: &Limits) -> wasmtime::Result<Store<CallState>> {
    let log = CappedLog::new(usize::try_from(limits.max_log_bytes).unwrap_or(usize::MAX));
    // An empty world: no args, env, preopens or network (the builder's defaults), frozen
    // clocks and a fixed random stream, so that a call depends on its input alone.
    let wasi = WasiCtx::builder()
        .stdout(log.clone())
        .stderr(log.clone())
        .wall_clock(FrozenClock)
        .monotonic_clock(FrozenClock)
        .secure_random(wasmtime_wasi::Deterministic::new(vec![
            0x5a, 0xc3, 0x96, 0x3c,
        ]))
        .insecure_random(wasmtime_wasi::Deterministic::new(vec![
            0x3c, 0x96, 0xc3, 0x5a,
        ]))
        .insecure_random_seed(0)
        .max_random_size(MAX_RANDOM_BYTES)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build();
    let mut table = ResourceTable::new();
    table.set_max_capacity(MAX_RESOURCES);
    let state = CallState {
        wasi,
        table,
        limiter: MemoryLimiter {
            limit: limits.max_memory_bytes,
            peak: 0,
        },
        log,
        started: Instant::now(),
        last_tick: Instant::now(),
        ran: Duration::ZERO,
        deadline: limits.deadline,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    store.set_fuel(limits.fuel)?;
    // Yield to the async executor every ~1 M instructions so a busy guest never holds a
    // tokio worker for long; the deadline check below is the hard stop.
    store.fuel_async_yield_interval(Some(1_000_000))?;
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|mut ctx| {
        let state = ctx.data_mut();
        let now = Instant::now();
        // Count the time the guest ran, not the time it waited for a thread: while it runs,
        // this callback fires every epoch tick; a longer gap means the call was parked (it
        // yields at every tick and every 1 M fuel), so the gap counts as one tick at most.
        let step = now.saturating_duration_since(state.last_tick);
        state.ran += step.min(MAX_STEP);
        state.last_tick = now;
        let wall = now.saturating_duration_since(state.started);
        if state.ran >= state.deadline || wall >= state.deadline.saturating_mul(WALL_FACTOR) {
            Ok(UpdateDeadline::Interrupt)
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    Ok(store)
}

/// Reads the measurements out of a finished store.
pub(crate) fn stats(store: &Store<CallState>, fuel_budget: u64) -> CallStats {
    let state = store.data();
    CallStats {
        fuel_used: fuel_budget.saturating_sub(store.get_fuel().unwrap_or(0)),
        duration: state.started.elapsed(),
        peak_memory_bytes: state.limiter.peak,
    }
}

/// Starts the deadline over, for a store that is used for more than one call.
pub(crate) fn restart_clock(store: &mut Store<CallState>) {
    let state = store.data_mut();
    state.started = Instant::now();
    state.last_tick = state.started;
    state.ran = Duration::ZERO;
}

/// What the guest wrote to stdout and stderr.
pub(crate) fn log(store: &Store<CallState>) -> String {
    store.data().log.contents()
}

struct MemoryLimiter {
    limit: u64,
    peak: u64,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let desired = desired as u64;
        if desired > self.limit {
            // An error (not `Ok(false)`) traps at once with a clear cause instead of letting
            // the guest's allocator turn a failed grow into an opaque abort.
            return Err(wasmtime::Error::new(MemoryLimitExceeded {
                desired,
                limit: self.limit,
            }));
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// A clock that always reads zero: components get the time in their input.
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// stdout/stderr of a call: kept up to a cap, the rest silently dropped. Dropping (rather
/// than failing the write, as wasmtime-wasi's `MemoryOutputPipe` does) keeps a chatty but
/// correct component working.
#[derive(Clone)]
struct CappedLog {
    cap: usize,
    buf: Arc<Mutex<Vec<u8>>>,
}

impl CappedLog {
    fn new(cap: usize) -> Self {
        Self {
            cap,
            buf: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn append(&self, bytes: &[u8]) {
        let mut buf = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        let room = self.cap.saturating_sub(buf.len());
        buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn contents(&self) -> String {
        let buf = self.buf.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&buf).into_owned()
    }
}

impl IsTerminal for CappedLog {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedLog {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl OutputStream for CappedLog {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CappedLog {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for CappedLog {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.append(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}
