//! Hook `booking-rules`: `check-hold`, `cancel` and (new in 0.3.0) `check-waitlist`. Its
//! bindings (current, 0.2 and 0.1, and the shared `types` every world reuses), linking,
//! conversions, the typed calls, the output checks, the fixtures and the dry-run mapping.

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
use bindings::v0_2::exports::cineflow::plugins::rules as wit_v0_2;

use super::{HookSpec, newest_of_three, types};

/// The booking-rules hook.
pub(crate) struct BookingRules;

super::linked_versions!(
    /// The current world.
    Current(bindings::current::BookingRulesPre<CallState>),
    /// 0.2.x.
    V0_2(bindings::v0_2::BookingRulesPre<CallState>),
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
    /// `check-waitlist` (0.3.0).
    CheckWaitlist(io::WaitlistRequest),
}

impl crate::domain::hook_io::WireSize for BookingRulesInput {
    fn wire_size(&self) -> usize {
        match self {
            BookingRulesInput::CheckHold(req) => req.wire_size(),
            BookingRulesInput::Cancel(req) => req.wire_size(),
            BookingRulesInput::CheckWaitlist(req) => req.wire_size(),
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
        newest_of_three(
            bindings::current::BookingRulesPre::new(pre.clone()).map(Pre::Current),
            || bindings::v0_2::BookingRulesPre::new(pre.clone()).map(Pre::V0_2),
            || bindings::v0_1::BookingRulesPre::new(pre.clone()).map(Pre::V0_1),
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
                BookingRulesInput::CheckWaitlist(req) => {
                    done(runtime.check_waitlist(tenant, component, &req).await)
                }
            })
        })
    }
}

// 0.2 and 0.3 ask `check-hold` the same record.
macro_rules! hold_request {
    ($wit:ident) => {
        impl From<&io::HoldRequest> for $wit::HoldRequest {
            fn from(r: &io::HoldRequest) -> Self {
                Self {
                    show: (&r.show).into(),
                    seats: types::seats(&r.seats),
                    row_seats: r
                        .row_seats
                        .iter()
                        .map(|s| $wit::SeatState {
                            seat: (&s.seat).into(),
                            taken: s.taken,
                        })
                        .collect(),
                    customer: (&r.customer).into(),
                    now_ms: r.now_ms,
                    customer_holds: $wit::CustomerHolds {
                        show_seats: r.customer_holds.show_seats,
                        chain_seats: r.customer_holds.chain_seats,
                    },
                }
            }
        }
    };
}
hold_request!(wit);
hold_request!(wit_v0_2);

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

impl From<&io::CancelRequest> for wit::CancelRequest {
    fn from(r: &io::CancelRequest) -> Self {
        Self {
            show: (&r.show).into(),
            seats: types::seats(&r.seats),
            paid_minor: r.paid_minor,
            confirmed: r.confirmed,
            now_ms: r.now_ms,
            kept_seats: types::seats(&r.kept_seats),
        }
    }
}

/// Before 0.3.0 a cancellation is not told which seats the booking keeps: a component sees
/// the seats being cancelled and what was paid for them, and decides as it always did.
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
cancel_request!(wit_v0_2);
cancel_request!(wit_v0_1);

impl From<&io::WaitlistRequest> for wit::WaitlistRequest {
    fn from(r: &io::WaitlistRequest) -> Self {
        Self {
            show: (&r.show).into(),
            seat_count: r.seat_count,
            seat_class: r.seat_class.map(Into::into),
            customer: (&r.customer).into(),
            customer_entries: r.customer_entries,
            now_ms: r.now_ms,
        }
    }
}

/// What a component of 0.1 or 0.2, which has no `check-waitlist`, decides: a customer may wait
/// for at most this many shows of a chain at once.
pub const DEFAULT_WAITLIST_ENTRIES: u32 = 3;
/// ... and seats offered to them stay held this long.
pub const DEFAULT_OFFER_SECONDS: u32 = 900;

/// The documented decision for components built before `check-waitlist` existed.
pub(crate) fn default_waitlist(req: &io::WaitlistRequest) -> Result<io::WaitlistPolicy, String> {
    if req.customer_entries >= DEFAULT_WAITLIST_ENTRIES {
        Err(format!(
            "you are already on {DEFAULT_WAITLIST_ENTRIES} waiting lists of this cinema"
        ))
    } else {
        Ok(io::WaitlistPolicy {
            offer_seconds: DEFAULT_OFFER_SECONDS,
        })
    }
}

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
                let out = super::at_its_version!(linked, store, [Current => wit, V0_2 => wit_v0_2, V0_1 => wit_v0_1], |instance, w| {
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
                super::at_its_version!(linked, store, [Current => wit, V0_2 => wit_v0_2, V0_1 => wit_v0_1], |instance, w| {
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

    /// Asks a booking-rules component whether a customer may join a waiting list, and how
    /// long an offer lasts. Components of 0.1 and 0.2 have no `check-waitlist`: they get
    /// [`default_waitlist`], without instantiating them.
    pub async fn check_waitlist(
        &self,
        tenant: Tenant,
        component: &LoadedComponent,
        req: &io::WaitlistRequest,
    ) -> Result<Called<io::WaitlistPolicy>, CallError> {
        let bounds = &self.config.bounds;
        self.call(
            tenant,
            component,
            req,
            async |pre, store| {
                let linked = pre.get::<Pre>(BookingRules::HOOK)?;
                let Pre::Current(pre) = linked else {
                    return Ok(default_waitlist(req));
                };
                let instance = pre
                    .instantiate_async(&mut *store)
                    .await
                    .map_err(super::instantiation_failed)?;
                let out = instance
                    .cineflow_plugins_rules()
                    .call_check_waitlist(&mut *store, &wit::WaitlistRequest::from(req))
                    .await?;
                Ok(out.map(|p| io::WaitlistPolicy {
                    offer_seconds: p.offer_seconds,
                }))
            },
            |policy| checks::waitlist_policy(policy, bounds),
        )
        .await
    }
}
