//! Hook `pricing`: `quote`.

use crate::domain::hook_io as io;
use crate::plugins::bindings::pricing::exports::cineflow::plugins::pricer as wit;
use crate::plugins::bindings::v0_1::pricing::exports::cineflow::plugins::pricer as wit_v0_1;
use crate::plugins::{CallError, Called, Hook, LoadedComponent, PluginRuntime, Tenant, checks};

use super::{HookPre, instantiation_failed, types, wrong_hook};

// 0.1.0 and 0.2.0 quote the same records; only the generated types differ.
macro_rules! conversions {
    ($wit:ident) => {
        impl From<&io::QuoteRequest> for $wit::QuoteRequest {
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

        impl From<$wit::PriceQuote> for io::PriceQuote {
            fn from(q: $wit::PriceQuote) -> Self {
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
    };
}
conversions!(wit);
conversions!(wit_v0_1);

impl PluginRuntime {
    /// Asks a pricing component for a quote.
    pub async fn quote(
        &self,
        tenant: Tenant,
        component: &LoadedComponent,
        req: &io::QuoteRequest,
    ) -> Result<Called<io::PriceQuote>, CallError> {
        let bounds = &self.config.bounds;
        self.call(
            tenant,
            component,
            req,
            async |pre, store| match pre {
                HookPre::Pricing(pre) => {
                    let instance = pre
                        .instantiate_async(&mut *store)
                        .await
                        .map_err(instantiation_failed)?;
                    let out = instance
                        .cineflow_plugins_pricer()
                        .call_quote(&mut *store, &wit::QuoteRequest::from(req))
                        .await?;
                    Ok(out.map(io::PriceQuote::from))
                }
                HookPre::PricingV0_1(pre) => {
                    let instance = pre
                        .instantiate_async(&mut *store)
                        .await
                        .map_err(instantiation_failed)?;
                    let out = instance
                        .cineflow_plugins_pricer()
                        .call_quote(&mut *store, &wit_v0_1::QuoteRequest::from(req))
                        .await?;
                    Ok(out.map(io::PriceQuote::from))
                }
                _ => Err(wrong_hook(Hook::Pricing)),
            },
            |quote| checks::quote(quote, bounds),
        )
        .await
    }
}
