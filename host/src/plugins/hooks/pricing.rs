//! Hook `pricing`: `quote`.

use crate::domain::hook_io as io;
use crate::plugins::bindings::pricing::exports::cineflow::plugins::pricer as wit;
use crate::plugins::{CallError, Called, Hook, LoadedComponent, PluginRuntime, Tenant, checks};

use super::{HookPre, instantiation_failed, types, wrong_hook};

impl From<&io::QuoteRequest> for wit::QuoteRequest {
    fn from(r: &io::QuoteRequest) -> Self {
        Self {
            show: (&r.show).into(),
            seats: types::seats(&r.seats),
            customer: (&r.customer).into(),
            promo_code: r.promo_code.clone(),
            now_ms: r.now_ms,
        }
    }
}

impl From<wit::PriceQuote> for io::PriceQuote {
    fn from(q: wit::PriceQuote) -> Self {
        Self {
            items: q
                .items
                .into_iter()
                .map(|i| io::LineItem {
                    label: i.label,
                    seat_id: i.seat_id,
                    amount_minor: i.amount_minor,
                })
                .collect(),
            total_minor: q.total_minor,
        }
    }
}

impl PluginRuntime {
    /// Asks a pricing component for a quote.
    pub async fn quote(
        &self,
        tenant: Tenant,
        component: &LoadedComponent,
        req: &io::QuoteRequest,
    ) -> Result<Called<io::PriceQuote>, CallError> {
        let arg = wit::QuoteRequest::from(req);
        let bounds = &self.config.bounds;
        self.call(
            tenant,
            component,
            req,
            async |pre, store| {
                let HookPre::Pricing(pre) = pre else {
                    return Err(wrong_hook(Hook::Pricing));
                };
                let instance = pre
                    .instantiate_async(&mut *store)
                    .await
                    .map_err(instantiation_failed)?;
                let out = instance
                    .cineflow_plugins_pricer()
                    .call_quote(&mut *store, &arg)
                    .await?;
                Ok(out.map(io::PriceQuote::from))
            },
            |quote| checks::quote(quote, bounds),
        )
        .await
    }
}
