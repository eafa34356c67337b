//! Fair shares: how the instance pool and the CPU are divided between chains.
//!
//! Every call takes one of the pool's instance slots. Without a bound per chain, one chain
//! whose component is slow (or whose customers are many) could hold every slot and every
//! other chain's bookings would fail. So each chain may hold at most `max_concurrent_calls`
//! slots of this replica at once, and may burn at most `fuel_per_second` (a token bucket
//! holding one second's worth). A call is charged the larger of the fuel it used and the
//! share of its deadline it spent running, converted at the hook's fuel-per-deadline rate,
//! so a guest that hogs time in host calls without burning fuel is charged too.
//!
//! A chain over its share waits a little for one of its own slots (a burst of well-behaved
//! calls queues for milliseconds), then is refused with [`Refusal::ChainBusy`]; a chain out
//! of fuel is refused at once with the time until its bucket refills. Neither touches any
//! other chain's slots or fuel. Platform calls (load probes, the local runner) use the pool
//! without a chain share.

mod series;
mod settings;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

pub(crate) use series::chain_label;
use series::{record_charge_metric, record_refusal_metric};

pub use settings::{Refusal, ShareSettings};

/// Who a call is made for: whose share it counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tenant {
    /// A chain's booking, email, dry run or upload check (bound or default component).
    Chain(Uuid),
    /// The platform itself: load-time probes, the local runner, benchmarks.
    Platform,
}

/// One chain's usage on this replica, for metrics and `GET /chains/{id}/bindings`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ChainUsage {
    /// Calls of the chain running now.
    pub calls_in_flight: u32,
    /// The most it may run at once.
    pub max_concurrent_calls: u32,
    /// Fuel it may burn per second.
    pub fuel_per_second: u64,
    /// Fuel left in its bucket now (negative: in debt after a costly call).
    pub fuel_available: i64,
    /// Fuel it has been charged since this replica started.
    pub fuel_charged_total: u64,
    /// Calls refused because it was over its share, since this replica started.
    pub refused_total: u64,
}

struct ChainState {
    slots: Arc<Semaphore>,
    /// Calls admitted and not finished, and the signal that one finished.
    live: Arc<Live>,
    /// Fuel in the bucket at `refilled`; may go below zero.
    fuel: f64,
    /// What a call of the chain is taken to cost while it runs: the cost of its last costly
    /// call, halved by every cheaper one (`None`: no call yet, so a whole budget).
    typical: Option<f64>,
    refilled: Instant,
    charged_total: u64,
    refused_total: u64,
}

impl ChainState {
    fn new(settings: &ShareSettings) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(settings.max_concurrent_calls as usize)),
            live: Arc::default(),
            fuel: settings.fuel_per_second as f64,
            typical: None,
            refilled: Instant::now(),
            charged_total: 0,
            refused_total: 0,
        }
    }

    fn refill(&mut self, settings: &ShareSettings, now: Instant) {
        let rate = settings.fuel_per_second as f64;
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.fuel = (self.fuel + elapsed * rate).min(rate);
        self.refilled = now;
    }
}

/// The fair-share book of one replica.
pub struct FairShare {
    settings: ShareSettings,
    pool: Arc<Semaphore>,
    chains: Mutex<HashMap<Uuid, ChainState>>,
}

/// A chain's calls in flight, for the fuel check of the next one.
#[derive(Default)]
struct Live {
    running: std::sync::atomic::AtomicU32,
    finished: tokio::sync::Notify,
}

/// Slots held for one call; dropping it gives them back.
pub(crate) struct Admitted {
    chain: Option<Uuid>,
    live: Option<Arc<Live>>,
    _chain_slot: Option<OwnedSemaphorePermit>,
    _pool_slot: OwnedSemaphorePermit,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if let Some(live) = &self.live {
            live.running
                .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
            live.finished.notify_waiters();
        }
        if let Some(chain) = self.chain {
            metrics::gauge!("cineflow_chain_component_calls_in_flight", "chain" => chain_label(chain))
                .decrement(1.0);
        }
    }
}

impl Admitted {
    /// The chain the call counts against, if any.
    pub(crate) fn chain(&self) -> Option<Uuid> {
        self.chain
    }
}

impl FairShare {
    /// A book for a pool of `pool` slots.
    pub fn new(pool: u32, settings: ShareSettings) -> Self {
        Self {
            settings,
            pool: Arc::new(Semaphore::new(pool.max(1) as usize)),
            chains: Mutex::new(HashMap::new()),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &ShareSettings {
        &self.settings
    }

    /// Takes a slot of `tenant`'s share and one of the pool, waiting at most `queue_wait`
    /// for each. `budget` is the most fuel the call may burn. A chain's calls in flight count
    /// at what its calls have been costing (a whole budget before its first call, and after
    /// any call that burnt one), so a burst is admitted only as far as the bucket could pay
    /// for all of it (the rest wait for a call to finish): a chain whose calls burn their
    /// budget cannot run more of them at once than its fuel allows, while a well-behaved
    /// chain's cheap calls are bounded only by its slots.
    pub(crate) async fn admit(&self, tenant: Tenant, budget: u64) -> Result<Admitted, Refusal> {
        let wait = self.settings.queue_wait;
        let (chain, live, chain_slot) = match tenant {
            Tenant::Platform => (None, None, None),
            Tenant::Chain(chain) => {
                let started = Instant::now();
                let (slots, live) = self.reserve_fuel(chain, budget, started + wait).await?;
                let left = wait.saturating_sub(started.elapsed());
                let permit = match tokio::time::timeout(left, slots.acquire_owned()).await {
                    Ok(Ok(permit)) => permit,
                    // Closed never happens (the semaphores are never closed); treat as busy.
                    Ok(Err(_)) | Err(_) => {
                        release(&live);
                        return Err(self.refused(
                            chain,
                            Refusal::ChainBusy {
                                retry_after: Duration::from_secs(1),
                            },
                        ));
                    }
                };
                (Some(chain), Some(live), Some(permit))
            }
        };
        let pool_slot = match tokio::time::timeout(wait, self.pool.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) | Err(_) => {
                if let Some(live) = &live {
                    release(live);
                }
                if let Some(chain) = chain {
                    return Err(self.refused(chain, Refusal::PoolFull));
                }
                return Err(Refusal::PoolFull);
            }
        };
        if let Some(chain) = chain {
            metrics::gauge!("cineflow_chain_component_calls_in_flight", "chain" => chain_label(chain))
                .increment(1.0);
        }
        Ok(Admitted {
            chain,
            live,
            _chain_slot: chain_slot,
            _pool_slot: pool_slot,
        })
    }

    /// A slot of the pool, however long it takes (every call ends by its hard timeout, so
    /// the wait is bounded): for load-time probes, which must not fail an upload because
    /// other chains are busy.
    pub(crate) async fn pool_slot(&self) -> Option<OwnedSemaphorePermit> {
        self.pool.clone().acquire_owned().await.ok()
    }

    /// Counts one more call of `chain` in flight once its bucket can pay for it and for every
    /// call already in flight at `budget` each; waits for calls to finish until `until`.
    /// A chain in debt with nothing in flight is refused at once with the time to refill.
    async fn reserve_fuel(
        &self,
        chain: Uuid,
        budget: u64,
        until: Instant,
    ) -> Result<(Arc<Semaphore>, Arc<Live>), Refusal> {
        let rate = self.settings.fuel_per_second as f64;
        loop {
            let live = {
                let mut chains = self.chains.lock().unwrap_or_else(|e| e.into_inner());
                let state = chains
                    .entry(chain)
                    .or_insert_with(|| ChainState::new(&self.settings));
                state.refill(&self.settings, Instant::now());
                let running = state
                    .live
                    .running
                    .load(std::sync::atomic::Ordering::Acquire);
                // A cost above the bucket's size could never be paid: ask for the bucket.
                let need = state.typical.unwrap_or(budget as f64).min(rate).max(1.0);
                // One call runs whenever the bucket is in credit; more at once only as far as
                // it could pay what each is taken to cost.
                let admit = if running == 0 {
                    state.fuel > 0.0
                } else {
                    state.fuel - f64::from(running + 1) * need >= 0.0
                };
                if admit {
                    state
                        .live
                        .running
                        .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                    return Ok((state.slots.clone(), state.live.clone()));
                }
                if running == 0 {
                    // Real debt: until the bucket is back above zero, in whole milliseconds.
                    let secs = (-state.fuel / rate).max(0.001);
                    let retry_after = Duration::from_millis((secs * 1000.0).ceil() as u64);
                    state.refused_total += 1;
                    record_refusal_metric(chain, "out_of_fuel");
                    return Err(Refusal::ChainOutOfFuel { retry_after });
                }
                state.live.clone()
            };
            let now = Instant::now();
            if now >= until {
                return Err(self.refused(
                    chain,
                    Refusal::ChainBusy {
                        retry_after: Duration::from_secs(1),
                    },
                ));
            }
            // Woken when a call of the chain finishes; re-checked every few milliseconds too,
            // so a wake-up that came between the check and the wait is never waited out.
            let nap = (until - now).min(Duration::from_millis(5));
            let _ = tokio::time::timeout(nap, live.finished.notified()).await;
        }
    }

    fn refused(&self, chain: Uuid, refusal: Refusal) -> Refusal {
        let mut chains = self.chains.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(state) = chains.get_mut(&chain) {
            state.refused_total += 1;
        }
        let why = match refusal {
            Refusal::ChainBusy { .. } => "busy",
            Refusal::ChainOutOfFuel { .. } => "out_of_fuel",
            Refusal::PoolFull => "pool_full",
        };
        record_refusal_metric(chain, why);
        refusal
    }

    /// Charges a finished call to its chain: `fuel` units.
    pub(crate) fn charge(&self, admitted: &Admitted, fuel: u64) {
        let Some(chain) = admitted.chain() else {
            return;
        };
        let mut chains = self.chains.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(state) = chains.get_mut(&chain) {
            state.refill(&self.settings, Instant::now());
            state.fuel -= fuel as f64;
            state.charged_total = state.charged_total.saturating_add(fuel);
            // A costly call counts in full at once; cheap ones bring the estimate down fast,
            // so a well-behaved chain's concurrency is bounded by its slots, not its fuel.
            let cost = fuel as f64;
            state.typical = Some(state.typical.map_or(cost, |t| cost.max(t / 2.0)));
        }
        drop(chains);
        record_charge_metric(chain, fuel);
    }

    /// When `chain` is in fuel debt with no call of it running: how long until its bucket is
    /// back in credit. A caller about to do work for the chain (database reads for a hold)
    /// can refuse at once, as the component call would be refused after that work anyway.
    pub fn in_debt(&self, chain: Uuid) -> Option<Duration> {
        let mut chains = self.chains.lock().unwrap_or_else(|e| e.into_inner());
        let state = chains.get_mut(&chain)?;
        state.refill(&self.settings, Instant::now());
        let running = state
            .live
            .running
            .load(std::sync::atomic::Ordering::Acquire);
        if state.fuel > 0.0 || running > 0 {
            return None;
        }
        state.refused_total += 1;
        record_refusal_metric(chain, "out_of_fuel");
        let secs = (-state.fuel / self.settings.fuel_per_second as f64).max(0.001);
        Some(Duration::from_millis((secs * 1000.0).ceil() as u64))
    }

    /// `chain`'s usage on this replica now.
    pub fn usage(&self, chain: Uuid) -> ChainUsage {
        let mut chains = self.chains.lock().unwrap_or_else(|e| e.into_inner());
        let max = self.settings.max_concurrent_calls;
        match chains.get_mut(&chain) {
            None => ChainUsage {
                calls_in_flight: 0,
                max_concurrent_calls: max,
                fuel_per_second: self.settings.fuel_per_second,
                fuel_available: i64::try_from(self.settings.fuel_per_second).unwrap_or(i64::MAX),
                fuel_charged_total: 0,
                refused_total: 0,
            },
            Some(state) => {
                state.refill(&self.settings, Instant::now());
                let free = u32::try_from(state.slots.available_permits()).unwrap_or(max);
                ChainUsage {
                    calls_in_flight: max.saturating_sub(free),
                    max_concurrent_calls: max,
                    fuel_per_second: self.settings.fuel_per_second,
                    fuel_available: state.fuel as i64,
                    fuel_charged_total: state.charged_total,
                    refused_total: state.refused_total,
                }
            }
        }
    }
}

/// Gives back a call counted in flight that was refused before it ran.
fn release(live: &Live) {
    live.running
        .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    live.finished.notify_waiters();
}

/// What a call is charged: the larger of its fuel and the part of its deadline it ran,
/// expressed in fuel (`budget` fuel per `deadline`).
pub(crate) fn charge_for(fuel_used: u64, ran: Duration, budget: u64, deadline: Duration) -> u64 {
    let deadline_us = deadline.as_micros().max(1);
    let by_time = (budget as u128).saturating_mul(ran.as_micros()) / deadline_us;
    fuel_used.max(u64::try_from(by_time).unwrap_or(u64::MAX))
}
