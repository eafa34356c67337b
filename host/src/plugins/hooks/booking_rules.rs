//! Hook `booking-rules`: `check-hold` and `cancel`.

use crate::domain::hook_io as io;
use crate::plugins::bindings::booking_rules::exports::cineflow::plugins::rules as wit;
use crate::plugins::bindings::v0_1::booking_rules::exports::cineflow::plugins::rules as wit_v0_1;
use crate::plugins::{CallError, Called, Hook, LoadedComponent, PluginRuntime, Tenant, checks};

use super::{HookPre, instantiation_failed, types, wrong_hook};

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
                let out = match pre {
                    HookPre::BookingRules(pre) => {
                        let instance = pre
                            .instantiate_async(&mut *store)
                            .await
                            .map_err(instantiation_failed)?;
                        instance
                            .cineflow_plugins_rules()
                            .call_check_hold(&mut *store, &wit::HoldRequest::from(req))
                            .await?
                            .map(|p| p.hold_seconds)
                    }
                    HookPre::BookingRulesV0_1(pre) => {
                        let instance = pre
                            .instantiate_async(&mut *store)
                            .await
                            .map_err(instantiation_failed)?;
                        instance
                            .cineflow_plugins_rules()
                            .call_check_hold(&mut *store, &wit_v0_1::HoldRequest::from(req))
                            .await?
                            .map(|p| p.hold_seconds)
                    }
                    _ => return Err(wrong_hook(Hook::BookingRules)),
                };
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
            async |pre, store| match pre {
                HookPre::BookingRules(pre) => {
                    let instance = pre
                        .instantiate_async(&mut *store)
                        .await
                        .map_err(instantiation_failed)?;
                    instance
                        .cineflow_plugins_rules()
                        .call_cancel(&mut *store, &wit::CancelRequest::from(req))
                        .await
                }
                HookPre::BookingRulesV0_1(pre) => {
                    let instance = pre
                        .instantiate_async(&mut *store)
                        .await
                        .map_err(instantiation_failed)?;
                    instance
                        .cineflow_plugins_rules()
                        .call_cancel(&mut *store, &wit_v0_1::CancelRequest::from(req))
                        .await
                }
                _ => Err(wrong_hook(Hook::BookingRules)),
            },
            |refund| checks::refund(*refund, paid),
        )
        .await
    }
}
