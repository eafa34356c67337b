//! Hook `booking-rules`: `check-hold` and `cancel`.

use crate::domain::hook_io as io;
use crate::plugins::bindings::booking_rules::exports::cineflow::plugins::rules as wit;
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
        }
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
        let arg = wit::HoldRequest::from(req);
        let bounds = &self.config.bounds;
        self.call(
            tenant,
            component,
            req,
            async |pre, store| {
                let HookPre::BookingRules(pre) = pre else {
                    return Err(wrong_hook(Hook::BookingRules));
                };
                let instance = pre
                    .instantiate_async(&mut *store)
                    .await
                    .map_err(instantiation_failed)?;
                let out = instance
                    .cineflow_plugins_rules()
                    .call_check_hold(&mut *store, &arg)
                    .await?;
                Ok(out.map(|p| io::HoldPolicy {
                    hold_seconds: p.hold_seconds,
                }))
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
        let arg = wit::CancelRequest::from(req);
        let paid = req.paid_minor;
        self.call(
            tenant,
            component,
            req,
            async |pre, store| {
                let HookPre::BookingRules(pre) = pre else {
                    return Err(wrong_hook(Hook::BookingRules));
                };
                let instance = pre
                    .instantiate_async(&mut *store)
                    .await
                    .map_err(instantiation_failed)?;
                instance
                    .cineflow_plugins_rules()
                    .call_cancel(&mut *store, &arg)
                    .await
            },
            |refund| checks::refund(*refund, paid),
        )
        .await
    }
}
