//! A pricing instance kept alive across calls. Production never does this (a trapped
//! instance cannot be re-entered, and state would leak between customers); it exists so the
//! benchmarks can show what a fresh instance per call costs.

use wasmtime::Store;

use super::store::{self, CallState};
use super::{LoadedComponent, PluginRuntime};
use crate::domain::hook_io::{PriceQuote, QuoteRequest};
use crate::plugins::hooks::pricing::Pre;
use crate::plugins::hooks::pricing::bindings::current::Pricing;
use crate::plugins::hooks::pricing::bindings::current::exports::cineflow::plugins::pricer as wit;

/// One pricing instance and its store, reused for every call.
pub struct ReusedPricing {
    store: Store<CallState>,
    instance: Pricing,
    fuel: u64,
}

impl PluginRuntime {
    /// Instantiates `component` (a pricing component) once, for repeated calls.
    pub async fn reused_pricing(
        &self,
        component: &LoadedComponent,
    ) -> anyhow::Result<ReusedPricing> {
        let Ok(Pre::Current(pre)) = component.pre.get::<Pre>(component.hook) else {
            anyhow::bail!("{} is not a pricing component", component.id);
        };
        let limits = self.limits(component.hook);
        let mut store = store::new_store(&self.engine, &limits)?;
        let instance = pre.instantiate_async(&mut store).await?;
        Ok(ReusedPricing {
            store,
            instance,
            fuel: limits.fuel,
        })
    }
}

impl ReusedPricing {
    /// Calls `quote` on the kept instance with a full fuel tank and a fresh deadline.
    pub async fn quote(
        &mut self,
        req: &QuoteRequest,
    ) -> anyhow::Result<Result<PriceQuote, String>> {
        self.store.set_fuel(self.fuel)?;
        store::restart_clock(&mut self.store);
        let arg = wit::QuoteRequest::from(req);
        let out = self
            .instance
            .cineflow_plugins_pricer()
            .call_quote(&mut self.store, &arg)
            .await?;
        Ok(out.map(PriceQuote::from))
    }
}
