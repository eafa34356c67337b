//! Hook `booking-rules`: `check-hold` and `cancel`. Its bindings (current and 0.1.0, and
//! the shared `types` every world reuses), linking, conversions, the typed calls, the output
//! checks, the fixtures and the dry-run mapping.

pub(crate) mod bindings;
mod checks;

use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::Value;
use wasmtime::component::InstancePre;

use crate::domain::hook_io as io;
use crate::plugins::invoke::{Invocation, done, parse};
use crate::plugins::registry::OnFailure;
use crate::plugins::store::CallState;
use crate::plugins::{CallError, Called, Hook, LoadedComponent, PluginRuntime, Tenant};
use bindings::current::exports::cineflow::plugins::rules as wit;
use bindings::v0_1::exports::cineflow::plugins::rules as wit_v0_1;

use super::{HookSpec, newest_first, types};

/// The booking-rules hook.
pub(crate) struct BookingRules;

super::linked_versions!(
    /// The current world.
    Current(bindings::current::BookingRulesPre<CallState>),
    /// 0.1.0.
    V0_1(bindings::v0_1::BookingRulesPre<CallState>),
);

/// Booking-rules input of a dry run: which function, and its request.
#[derive(Debug, Deserialize)]
#[serde(tag = "function", rename_all = "kebab-case")]
pub enum BookingRulesInput {
    /// `check-hold`.
    CheckHold(io::HoldRequest),
    /// `cancel`.
    Cancel(io::CancelRequest),
}

impl crate::domain::hook_io::WireSize for BookingRulesInput {
    fn wire_size(&self) -> usize {
        match self {
            BookingRulesInput::CheckHold(req) => req.wire_size(),
            BookingRulesInput::Cancel(req) => req.wire_size(),
        }
    }
}

impl HookSpec for BookingRules {
    const HOOK: Hook = Hook::BookingRules;
    /// No seat is sold on a broken rule.
    const ON_FAILURE: OnFailure = OnFailure::Reject;
    const FIXTURES: &'static str = include_str!("fixtures.json");
    type Input = BookingRulesInput;
    type Pre = Pre;

    fn link(pre: InstancePre<CallState>) -> wasmtime::Result<Pre> {
        newest_first(
            bindings::current::BookingRulesPre::new(pre.clone()).map(Pre::Current),
            || bindings::v0_1::BookingRulesPre::new(pre).map(Pre::V0_1),
        )
    }

    fn invoke<'a>(
        runtime: &'a PluginRuntime,
        tenant: Tenant,
        component: &'a LoadedComponent,
        input: Value,
    ) -> BoxFuture<'a, Result<Invocation, String>> {
        Box::pin(async move {
            Ok(match parse::<BookingRulesInput>(input)? {
                BookingRulesInput::CheckHold(req) => {
                    done(runtime.check_hold(tenant, component, &req).await)
                }
                BookingRulesInput::Cancel(req) => {
                    done(runtime.cancel(tenant, component, &req).await)
                }
            })
        })
    }
}

impl From<&io::HoldRequest> for wit::HoldRequest {
    fn from(r: &io::HoldRequest) -> Self {
        Self {
            show: (&r.show).into(),
            seats: types::seats(&r.seats),
            row_seats: r
                .row_seats
                .iter()
                .map(|s| wit::SeatState {
                    seat: (&s.seat).into(),
                    taken: s.taken,
                })
                .collect(),
            customer: (&r.customer).into(),
            now_ms: r.now_ms,
            customer_holds: wit::CustomerHolds {
                show_seats: r.customer_holds.show_seats,
                chain_seats: r.customer_holds.chain_seats,
            },
        }
    }
}

/// 0.1.0 components are not told the customer's holds (the field is new in 0.2.0): they
/// decide as they always did.
impl From<&io::HoldRequest> for wit_v0_1::HoldRequest {
    fn from(r: &io::HoldRequest) -> Self {
        Self {
            show: (&r.show).into(),
            seats: types::seats(&r.seats),
            row_seats: r
                .row_seats
                .iter()
                .map(|s| wit_v0_1::SeatState {
                    seat: (&s.seat).into(),
                    taken: s.taken,
                })
                .collect(),
            customer: (&r.customer).into(),
            now_ms: r.now_ms,
        }
    }
}

macro_rules! cancel_request {
    ($wit:ident) => {
        impl From<&io::CancelRequest> for $wit::CancelRequest {
            fn from(r: &io::CancelRequest) -> Self {
                Self {
                    show: (&r.show).into(),
                    seats: types::seats(&r.seats),
                    paid_minor: r.paid_minor,
                    confirmed: r.confirmed,
                    now_ms: r.now_ms,
                }
            }
        }
    };
}
cancel_request!(wit);
cancel_request!(wit_v0_1);

impl PluginRuntime {
    /// Asks a booking-rules component whether a hold is allowed and for how long.
    pub async fn check_hold(
        &self,
        tenant: Tenant,
        component: &LoadedComponent,
        req: &io::HoldRequest,
    ) -> Result<Called<io::HoldPolicy>, CallError> {
        let bounds = &self.config.bounds;
        self.call(
            tenant,
            component,
            req,
            async |pre, store| {
                let linked = pre.get::<Pre>(BookingRules::HOOK)?;
                let out = super::at_its_version!(linked, store, |instance, w| {
                    instance
                        .cineflow_plugins_rules()
                        .call_check_hold(&mut *store, &w::HoldRequest::from(req))
                        .await?
                        .map(|p| p.hold_seconds)
                });
                Ok(out.map(|hold_seconds| io::HoldPolicy { hold_seconds }))
            },
            |policy| checks::hold_policy(policy, bounds),
        )
        .await
    }

    /// Asks a booking-rules component what a cancellation refunds.
    pub async fn cancel(
        &self,
        tenant: Tenant,
        component: &LoadedComponent,
        req: &io::CancelRequest,
    ) -> Result<Called<i64>, CallError> {
        let paid = req.paid_minor;
        self.call(
            tenant,
            component,
            req,
            async |pre, store| {
                let linked = pre.get::<Pre>(BookingRules::HOOK)?;
                super::at_its_version!(linked, store, |instance, w| {
                    instance
                        .cineflow_plugins_rules()
                        .call_cancel(&mut *store, &w::CancelRequest::from(req))
                        .await
                })
            },
            |refund| checks::refund(*refund, paid),
        )
        .await
    }
}
