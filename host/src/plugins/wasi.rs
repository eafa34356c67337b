//! The WASI a guest sees, made so that no import can wait or hog the host.
//!
//! Std guests import `wasi:cli`, `wasi:io` and (through the preview1 adapter) `wasi:clocks`
//! and `wasi:filesystem` even though a pure function needs none of them, so the host links
//! wasmtime-wasi's p2 interfaces over an empty context (see `store::new_store`) and then
//! replaces the one interface that can park a call: `wasi:clocks/monotonic-clock`.
//! wasmtime-wasi's own `subscribe-duration` returns a pollable backed by a real tokio sleep,
//! so a guest calling `std::thread::sleep` would sit inside a host call where fuel does not
//! run and the epoch check never fires. Here the clock is frozen at zero and a request to
//! wait for any time at all fails the call at once ([`WaitRefused`], kind `timeout`): a
//! component's time arrives in its input, it has nothing to wait for.
//!
//! Every other pollable the context can hand out is ready at once: stdin is closed, stdout
//! and stderr are the capped log (always writable), there are no preopened directories and
//! no network (sockets are refused before any OS socket is made). What is left is bounded
//! by the store: the resource table's capacity (`store::MAX_RESOURCES`), the size of random
//! byte requests (`store::MAX_RANDOM_BYTES`) and the running-time deadline; the host's hard
//! timeout (`PluginRuntime::call`) backs all of them up.

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock;
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};

use super::store::CallState;

/// A guest asked to wait (`subscribe-duration` or `subscribe-instant` in the future).
#[derive(Debug, thiserror::Error)]
#[error(
    "the component tried to wait ({what}); components cannot wait: the time arrives in their input as now-ms"
)]
pub struct WaitRefused {
    what: String,
}

/// Links every WASI p2 interface the host offers, with the monotonic clock replaced.
pub(crate) fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    // Replace wasmtime-wasi's definitions of the same names; nothing else is shadowed.
    linker.allow_shadowing(true);
    monotonic_clock::add_to_linker::<CallState, FrozenMonotonic>(linker, |state| {
        FrozenMonotonicView {
            table: state.table_mut(),
        }
    })?;
    linker.allow_shadowing(false);
    Ok(())
}

/// `HasData` marker of the replacement clock.
struct FrozenMonotonic;

impl HasData for FrozenMonotonic {
    type Data<'a> = FrozenMonotonicView<'a>;
}

/// What the replacement clock needs of a call's state: its resource table.
struct FrozenMonotonicView<'a> {
    table: &'a mut ResourceTable,
}

impl monotonic_clock::Host for FrozenMonotonicView<'_> {
    fn now(&mut self) -> wasmtime::Result<monotonic_clock::Instant> {
        Ok(0)
    }

    fn resolution(&mut self) -> wasmtime::Result<monotonic_clock::Duration> {
        Ok(1_000_000_000)
    }

    fn subscribe_instant(
        &mut self,
        when: monotonic_clock::Instant,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        // The clock reads zero for the whole call, so only instant 0 has already come.
        if when > 0 {
            return Err(wasmtime::Error::new(WaitRefused {
                what: format!("wasi:clocks/monotonic-clock subscribe-instant {when} ns"),
            }));
        }
        ready(self.table)
    }

    fn subscribe_duration(
        &mut self,
        duration: monotonic_clock::Duration,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        if duration > 0 {
            return Err(wasmtime::Error::new(WaitRefused {
                what: format!(
                    "wasi:clocks/monotonic-clock subscribe-duration {} ms",
                    duration / 1_000_000
                ),
            }));
        }
        ready(self.table)
    }
}

/// A pollable that is ready at once (a zero-length wait, which std uses to yield).
fn ready(table: &mut ResourceTable) -> wasmtime::Result<Resource<DynPollable>> {
    let inner = table.push(Ready)?;
    subscribe(table, inner)
}

struct Ready;

#[wasmtime_wasi::async_trait]
impl Pollable for Ready {
    async fn ready(&mut self) {}
}
