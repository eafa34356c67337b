//! What a chain may use of a replica (its slots, its fuel per second, how long it waits), and
//! why a call over it is refused.

use std::time::Duration;

/// Settings of the fair share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShareSettings {
    /// Instance slots one chain may hold at once.
    pub max_concurrent_calls: u32,
    /// Fuel one chain may burn per second on this replica.
    pub fuel_per_second: u64,
    /// How long a call waits for one of its chain's slots, or for a free pool slot.
    pub queue_wait: Duration,
}

impl ShareSettings {
    /// The defaults for a pool of `pool` slots and a per-call budget of `fuel` fuel or
    /// `deadline` of running time, on a replica of `cores` CPUs: an eighth of the pool (at
    /// least one slot); an eighth of the replica's CPU in fuel (a call that burns its whole
    /// budget is taken to have used its whole deadline of one core), at least one call's
    /// budget; and two seconds of waiting for a slot, so that a burst of a chain's own calls
    /// queues behind its share rather than failing, while a flood is refused.
    ///
    /// On 16 cores with the default limits the fuel is 20 full-budget calls a second; on 2
    /// cores 2.5. A well-behaved call uses a few ten-thousandths of its budget, so the cap only
    /// meets chains whose calls burn theirs (docs/BENCHMARKS.md, row 9).
    pub fn defaults(pool: u32, fuel: u64, deadline: Duration, cores: u32) -> Self {
        let per_core_second =
            fuel as f64 * (Duration::from_secs(1).as_secs_f64() / deadline.as_secs_f64().max(1e-6));
        let eighth = per_core_second * f64::from(cores.max(1)) / 8.0;
        Self {
            max_concurrent_calls: (pool / 8).max(1),
            fuel_per_second: (eighth as u64).max(fuel).max(1),
            queue_wait: Duration::from_secs(2),
        }
    }

    /// [`ShareSettings::defaults`] for this machine's CPUs.
    pub fn defaults_here(pool: u32, fuel: u64, deadline: Duration) -> Self {
        let cores = std::thread::available_parallelism()
            .map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX));
        Self::defaults(pool, fuel, deadline, cores)
    }
}

/// Why a call was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The chain holds all the slots it may: its own calls must finish first.
    ChainBusy {
        /// When to try again.
        retry_after: Duration,
    },
    /// The chain has burnt its fuel for now.
    ChainOutOfFuel {
        /// When its bucket has refilled enough to admit a call.
        retry_after: Duration,
    },
    /// Every slot of the pool is taken (by many chains at once).
    PoolFull,
}

impl Refusal {
    /// A sentence for logs and the dry-run report.
    pub fn message(&self, share: &ShareSettings) -> String {
        match self {
            Refusal::ChainBusy { .. } => format!(
                "the chain already has {} component calls running on this replica (its fair share)",
                share.max_concurrent_calls
            ),
            Refusal::ChainOutOfFuel { retry_after } => format!(
                "the chain has used its {} fuel per second on this replica; next call in {} ms",
                share.fuel_per_second,
                retry_after.as_millis()
            ),
            Refusal::PoolFull => "every instance slot of this replica is in use".to_owned(),
        }
    }

    /// How long the caller should wait before trying again.
    pub fn retry_after(&self) -> Duration {
        match self {
            Refusal::ChainBusy { retry_after } | Refusal::ChainOutOfFuel { retry_after } => {
                *retry_after
            }
            Refusal::PoolFull => Duration::from_secs(1),
        }
    }
}
