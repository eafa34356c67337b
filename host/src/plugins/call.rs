//! One call of a component: the input cap, admission under the fair share, a fresh store, the
//! hard timeout, then measuring, classifying the failure, the output cap and checks, and the
//! metrics.

use std::time::Instant;

use wasmtime::{Store, Trap};

use super::store::{self, CallState};
use super::{
    CallError, CallStats, Called, FailureKind, LoadedComponent, MemoryLimitExceeded, PluginRuntime,
    Refusal, Tenant, WaitRefused, hooks, metrics, share,
};
use crate::domain::hook_io::WireSize;

impl PluginRuntime {
    /// Runs one call of `component`: checks the input size, builds a fresh store,
    /// instantiates, calls `invoke`, then classifies, measures, checks and records.
    pub(super) async fn call<I, O, F>(
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
                stats,
                log,
                ..CallError::new(hook, component.id.clone(), kind, message)
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
                let (message, backtrace) = super::report::split(&e);
                return Err(CallError {
                    backtrace,
                    ..fail(kind, message, stats, log)
                });
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
    use std::path::PathBuf;

    use super::*;
    use crate::plugins::{Hook, Limits, RuntimeConfig, fixtures, invoke};

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
}
