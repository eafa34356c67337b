//! Hook `pricing`: `quote`. Its bindings (current and 0.1.0), linking, conversions, the
//! typed call, the output check, the fixtures and the dry-run mapping.

pub(crate) mod bindings;

use futures_util::future::BoxFuture;
use serde_json::Value;
use wasmtime::component::InstancePre;

use crate::domain::hook_io as io;
use crate::plugins::invoke::{Invocation, done, parse};
use crate::plugins::limits::OutputBounds;
use crate::plugins::registry::OnFailure;
use crate::plugins::store::CallState;
use crate::plugins::{CallError, Called, Hook, LoadedComponent, PluginRuntime, Tenant};
use bindings::current::exports::cineflow::plugins::pricer as wit;
use bindings::v0_1::exports::cineflow::plugins::pricer as wit_v0_1;

use super::{HookSpec, newest_first, types};

/// The pricing hook.
pub(crate) struct Pricing;

super::linked_versions!(
    /// The current world.
    Current(bindings::current::PricingPre<CallState>),
    /// 0.1.0.
    V0_1(bindings::v0_1::PricingPre<CallState>),
);

impl HookSpec for Pricing {
    const HOOK: Hook = Hook::Pricing;
    /// No seat is sold on a broken price.
    const ON_FAILURE: OnFailure = OnFailure::Reject;
    const FIXTURES: &'static str = include_str!("fixtures.json");
    type Input = io::QuoteRequest;
    type Pre = Pre;

    fn link(pre: InstancePre<CallState>) -> wasmtime::Result<Pre> {
        newest_first(
            bindings::current::PricingPre::new(pre.clone()).map(Pre::Current),
            || bindings::v0_1::PricingPre::new(pre).map(Pre::V0_1),
        )
    }

    fn invoke<'a>(
        runtime: &'a PluginRuntime,
        tenant: Tenant,
        component: &'a LoadedComponent,
        input: Value,
    ) -> BoxFuture<'a, Result<Invocation, String>> {
        Box::pin(async move {
            let req = parse::<io::QuoteRequest>(input)?;
            Ok(done(runtime.quote(tenant, component, &req).await))
        })
    }
}

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
                    discount_minor: 0,
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
            async |pre, store| {
                let linked = pre.get::<Pre>(Pricing::HOOK)?;
                super::at_its_version!(linked, store, |instance, w| {
                    let out = instance
                        .cineflow_plugins_pricer()
                        .call_quote(&mut *store, &w::QuoteRequest::from(req))
                        .await?;
                    Ok(out.map(io::PriceQuote::from))
                })
            },
            |q| check_quote(q, bounds),
        )
        .await
    }
}

/// Items are non-negative and add up to the total exactly.
pub(crate) fn check_quote(quote: &io::PriceQuote, bounds: &OutputBounds) -> Result<(), String> {
    if quote.items.is_empty() {
        return Err("a quote needs at least one line item".into());
    }
    if quote.items.len() > bounds.max_line_items {
        return Err(format!(
            "{} line items exceed the maximum of {}",
            quote.items.len(),
            bounds.max_line_items
        ));
    }
    let mut sum: i64 = 0;
    for item in &quote.items {
        if item.amount_minor < 0 {
            return Err(format!(
                "line item `{}` has a negative amount {}",
                item.label, item.amount_minor
            ));
        }
        if item.label.trim().is_empty() {
            return Err("a line item has an empty label".into());
        }
        sum = sum
            .checked_add(item.amount_minor)
            .ok_or("line items overflow a 64-bit amount")?;
    }
    if quote.total_minor < 0 {
        return Err(format!("total {} is negative", quote.total_minor));
    }
    if sum != quote.total_minor {
        return Err(format!(
            "line items add up to {sum} but the total is {}",
            quote.total_minor
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::hook_io::{LineItem, PriceQuote};

    fn item(amount: i64) -> LineItem {
        LineItem {
            label: "Seat A-1".into(),
            seat_id: Some("A-1".into()),
            amount_minor: amount,
        }
    }

    #[test]
    fn quote_items_must_sum_to_the_total() {
        let b = OutputBounds::default();
        let ok = PriceQuote {
            items: vec![item(100), item(250)],
            total_minor: 350,
            discount_minor: 0,
        };
        assert!(check_quote(&ok, &b).is_ok());
        let off = PriceQuote {
            items: vec![item(100)],
            total_minor: 1,
            discount_minor: 0,
        };
        assert!(
            check_quote(&off, &b)
                .expect_err("refused")
                .contains("add up to 100")
        );
    }

    #[test]
    fn quote_refuses_negative_amounts_and_overflow() {
        let b = OutputBounds::default();
        let neg = PriceQuote {
            items: vec![item(-5), item(10)],
            total_minor: 5,
            discount_minor: 0,
        };
        assert!(
            check_quote(&neg, &b)
                .expect_err("refused")
                .contains("negative")
        );
        let big = PriceQuote {
            items: vec![item(i64::MAX), item(1)],
            total_minor: 0,
            discount_minor: 0,
        };
        assert!(
            check_quote(&big, &b)
                .expect_err("refused")
                .contains("overflow")
        );
        let empty = PriceQuote {
            items: vec![],
            total_minor: 0,
            discount_minor: 0,
        };
        assert!(check_quote(&empty, &b).is_err());
    }
}
