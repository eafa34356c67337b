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
use bindings::v0_2::exports::cineflow::plugins::pricer as wit_v0_2;

use super::{HookSpec, newest_of_three, types};

/// The pricing hook.
pub(crate) struct Pricing;

super::linked_versions!(
    /// The current world.
    Current(bindings::current::PricingPre<CallState>),
    /// 0.2.x.
    V0_2(bindings::v0_2::PricingPre<CallState>),
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
        newest_of_three(
            bindings::current::PricingPre::new(pre.clone()).map(Pre::Current),
            || bindings::v0_2::PricingPre::new(pre.clone()).map(Pre::V0_2),
            || bindings::v0_1::PricingPre::new(pre.clone()).map(Pre::V0_1),
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

/// A version's line item as the host's.
macro_rules! line_item {
    ($wit:ident) => {
        |i: $wit::LineItem| io::LineItem {
            label: i.label,
            seat_id: i.seat_id,
            amount_minor: i.amount_minor,
        }
    };
}

impl From<&io::QuoteRequest> for wit::QuoteRequest {
    fn from(r: &io::QuoteRequest) -> Self {
        Self {
            show: (&r.show).into(),
            seats: types::seats(&r.seats),
            customer: (&r.customer).into(),
            promo_code: r.promo_code.clone(),
            now_ms: r.now_ms,
            voucher: r.voucher.as_ref().map(|v| wit::Voucher {
                code: v.code.clone(),
                discount: match v.discount {
                    io::Discount::Percent(p) => wit::Discount::Percent(p),
                    io::Discount::AmountMinor(a) => wit::Discount::AmountMinor(a),
                },
            }),
        }
    }
}

impl From<wit::PriceQuote> for io::PriceQuote {
    fn from(q: wit::PriceQuote) -> Self {
        Self {
            items: q.items.into_iter().map(line_item!(wit)).collect(),
            total_minor: q.total_minor,
            discount_minor: q.discount_minor,
        }
    }
}

// 0.1 and 0.2 quote the same records, without the voucher or the discount.
macro_rules! older_conversions {
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
                    items: q.items.into_iter().map(line_item!($wit)).collect(),
                    total_minor: q.total_minor,
                    discount_minor: 0,
                }
            }
        }
    };
}
older_conversions!(wit_v0_2);
older_conversions!(wit_v0_1);

/// What a component of 0.1 or 0.2, which is not told about vouchers, gets from the host: the
/// voucher's discount taken off its quote, from the last line up (a percentage rounds down,
/// an amount stops at the total), so the items still add up to the total and none goes
/// negative.
pub(crate) fn apply_voucher(mut quote: io::PriceQuote, discount: io::Discount) -> io::PriceQuote {
    let total = quote.total_minor.max(0);
    let off = match discount {
        io::Discount::Percent(p) => {
            let p = i128::from(p.min(100));
            i64::try_from(i128::from(total) * p / 100).unwrap_or(total)
        }
        io::Discount::AmountMinor(a) => a.clamp(0, total),
    };
    let mut left = off;
    for item in quote.items.iter_mut().rev() {
        if left == 0 {
            break;
        }
        let take = item.amount_minor.clamp(0, left);
        item.amount_minor -= take;
        left -= take;
    }
    quote.total_minor -= off - left;
    quote.discount_minor = off - left;
    quote
}

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
                let current = matches!(linked, Pre::Current(_));
                let out = super::at_its_version!(linked, store, [Current => wit, V0_2 => wit_v0_2, V0_1 => wit_v0_1], |instance, w| {
                    let out = instance
                        .cineflow_plugins_pricer()
                        .call_quote(&mut *store, &w::QuoteRequest::from(req))
                        .await?;
                    out.map(io::PriceQuote::from)
                });
                Ok(match (&req.voucher, current) {
                    (Some(v), false) => out.map(|q| apply_voucher(q, v.discount)),
                    _ => out,
                })
            },
            |q| check_quote(q, bounds).and_then(|()| check_discount(q, req)),
        )
        .await
    }
}

/// A discount is never negative, and there is none without a voucher (it would be printed on
/// a receipt for a price nobody lowered).
pub(crate) fn check_discount(quote: &io::PriceQuote, req: &io::QuoteRequest) -> Result<(), String> {
    match (quote.discount_minor, &req.voucher) {
        (d, _) if d < 0 => Err(format!("discount-minor {d} is negative")),
        (d, None) if d > 0 => Err(format!("discount-minor {d} without a voucher")),
        _ => Ok(()),
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
